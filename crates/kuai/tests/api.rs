//! Embedding-API guarantees: thread-safety of the main types, and type checks at the
//! host boundary.

use kuai::{Engine, Instance, Module, Store};

#[test]
fn runtime_types_can_move_between_threads() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Store<()>>();
    send::<Engine>();
    sync::<Engine>();
    send::<Module>();
    sync::<Module>();
    send::<kuai::Error>();
}

#[test]
fn host_results_of_the_wrong_type_are_an_error() {
    use kuai::{Error, Func, FuncType, Val, ValType};
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([], [ValType::I32]);
    let liar = Func::new(&mut store, ty, |_, _, results| {
        results[0] = Val::I64(7);
        Ok(())
    });
    let mut out = [Val::I32(0)];
    assert!(matches!(liar.call(&mut store, &[], &mut out), Err(Error::TypeMismatch(_))));
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f (result i32)))
        (func (export "g") (result i32) (call $f)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[liar.into()]).unwrap();
    let g = instance.get_typed_func::<(), i32>(&store, "g").unwrap();
    assert!(matches!(g.call(&mut store, ()), Err(Error::TypeMismatch(_))));
}
