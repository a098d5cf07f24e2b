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

#[test]
fn host_and_wasm_recursing_through_each_other_trap_instead_of_overflowing() {
    use kuai::{Caller, Linker, Trap};
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "bounce" (func $bounce (param i32) (result i32)))
             (func (export "down") (param i32) (result i32) (call $bounce (local.get 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "bounce", |mut caller: Caller<'_, ()>, n: i32| -> Result<i32, kuai::Error> {
            let down = caller.get_export("down").and_then(|e| e.into_func()).unwrap();
            let down = down.typed::<i32, i32>(&caller)?;
            down.call(&mut caller, n + 1)
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let down = instance.get_typed_func::<i32, i32>(&store, "down").unwrap();
    // Runs on a test thread (2 MiB stack by default): the nesting limit must trip first.
    let err = down.call(&mut store, 0).unwrap_err();
    assert_eq!(err.as_trap(), Some(Trap::StackOverflow));
}

#[test]
fn garbage_bytes_are_a_malformed_binary() {
    use kuai::{CompileErrorKind, Error};
    let engine = Engine::default();
    let err = Module::new(&engine, [0xff, 0x00, 0x13, 0x37]).unwrap_err();
    match err {
        Error::Compile(e) => {
            assert_eq!(e.kind(), CompileErrorKind::Malformed);
            assert!(e.message().contains("magic"), "{e}");
        }
        other => panic!("expected a compile error, got {other}"),
    }
}

#[test]
fn v128_values_cross_the_typed_api_and_host_calls() {
    use kuai::Linker;
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "twice" (func $twice (param v128) (result v128)))
             (func (export "f") (param v128) (result v128)
               (call $twice (i32x4.mul (local.get 0) (v128.const i32x4 1 2 3 4)))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "twice", |v: u128| v << 1).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<u128, u128>(&store, "f").unwrap();
    let lanes = |l: [u32; 4]| l.iter().enumerate().fold(0u128, |acc, (i, &x)| acc | (x as u128) << (32 * i));
    assert_eq!(f.call(&mut store, lanes([5, 5, 5, 5])).unwrap(), lanes([10, 20, 30, 40]));
}

#[test]
fn lazy_validation_defers_body_errors_to_the_first_call() {
    use kuai::{CompileErrorKind, Config, Error};
    // `bad` returns an i64 where it declares an i32: invalid, but well-formed.
    let wat = r#"(module
        (func (export "good") (result i32) (i32.const 7))
        (func (export "bad") (result i32) (i64.const 0)))"#;
    let binary = wat::parse_str(wat).unwrap();
    let eager = Engine::default();
    let err = Module::new(&eager, &binary).unwrap_err();
    assert!(matches!(&err, Error::Compile(e) if e.kind() == CompileErrorKind::Invalid), "{err}");

    let mut config = Config::new();
    config.lazy_validation(true);
    let lazy = Engine::new(&config);
    let module = Module::new(&lazy, &binary).unwrap();
    let mut store = Store::new(&lazy, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let good = instance.get_typed_func::<(), i32>(&store, "good").unwrap();
    assert_eq!(good.call(&mut store, ()).unwrap(), 7);
    let bad = instance.get_typed_func::<(), i32>(&store, "bad").unwrap();
    let err = bad.call(&mut store, ()).unwrap_err();
    assert!(matches!(&err, Error::Compile(e) if e.kind() == CompileErrorKind::Invalid), "{err}");
    // The failure is not cached as success: the second call fails the same way.
    assert!(bad.call(&mut store, ()).is_err());
    // With eager translation, lazy validation still rejects the module up front.
    config.eager_translation(true);
    assert!(Module::new(&Engine::new(&config), &binary).is_err());
}
