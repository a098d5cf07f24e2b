//! Branches that carry values: the copies a taken `br_if` or a `br_table` stub makes must
//! not change what the translator believes about the stack on other paths.
//!
//! (Found by differential fuzzing against wasmi: a `br_if` to the function's label moved a
//! parameter to a temporary only on the taken path, and the fall-through read that
//! temporary.)

use kuai::{Engine, Instance, Module, Store};

fn instance(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn br_if_to_the_function_label_leaves_the_fall_through_intact() {
    let (mut store, instance) = instance(
        r#"(module (func (export "f") (param i32 i32) (result i32 i32)
            i32.const 7
            local.get 0
            local.get 1
            br_if 0
            i32.add
            i32.const 0))"#,
    );
    let f = instance.get_typed_func::<(i32, i32), (i32, i32)>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, (5, 0)).unwrap(), (12, 0), "not taken");
    assert_eq!(f.call(&mut store, (5, 1)).unwrap(), (7, 5), "taken");
    assert_eq!(f.call(&mut store, (6, 0)).unwrap(), (13, 0), "not taken");
}

#[test]
fn br_if_to_a_block_leaves_the_fall_through_intact() {
    let (mut store, instance) = instance(
        r#"(module
            (type $two (func (result i32 i32)))
            (func (export "f") (param i32 i32) (result i32 i32)
              (block (type $two)
                i32.const 7
                local.get 0
                local.get 1
                br_if 0
                local.set 0
                local.get 0
                i32.add
                local.get 0)))"#,
    );
    let f = instance.get_typed_func::<(i32, i32), (i32, i32)>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, (5, 0)).unwrap(), (12, 5), "not taken");
    assert_eq!(f.call(&mut store, (5, 1)).unwrap(), (7, 5), "taken");
}

#[test]
fn every_br_table_stub_moves_its_own_values() {
    let (mut store, instance) = instance(
        r#"(module (func (export "f") (param i32 i32) (result i32 i32)
            i32.const 7
            local.get 0
            local.get 1
            br_table 0 0 0))"#,
    );
    let f = instance.get_typed_func::<(i32, i32), (i32, i32)>(&store, "f").unwrap();
    // Different values each call, so that a slot left over from an earlier call cannot
    // stand in for one this call should have written.
    for (index, value) in [(1, 11), (2, 22), (0, 33), (3, 44), (1, 55)] {
        assert_eq!(f.call(&mut store, (value, index)).unwrap(), (7, value), "br_table index {index}");
    }
}
