//! Multi-memory (`Config::wasm_multi_memory`): off by default, and when on, every memory
//! instruction reaches the memory it names — including a `memory.copy` between two
//! indices that an instance imported from the same memory.

use kuai::{Config, Engine, Error, Instance, Memory, MemoryType, Module, Store};

const TWO_MEMORIES: &str = r#"(module
    (memory $a 1)
    (memory $b (export "b") 1 2)
    (data (memory $b) (i32.const 8) "\2a")
    (func (export "load_b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
    (func (export "store_b") (param i32 i32) (i32.store8 $b (local.get 0) (local.get 1)))
    (func (export "load_a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
    (func (export "grow_b") (result i32) (memory.grow $b (i32.const 1)))
    (func (export "sizes") (result i32 i32) (memory.size $a) (memory.size $b))
    (func (export "copy_b_to_a") (param i32 i32 i32) (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
)"#;

fn multi_memory_engine() -> Engine {
    let mut config = Config::new();
    config.wasm_multi_memory(true);
    Engine::new(&config)
}

#[test]
fn two_memories_are_invalid_by_default() {
    let err = Module::new(&Engine::default(), "(module (memory 1) (memory 1))").unwrap_err();
    assert!(matches!(err, Error::Compile(_)), "{err}");
    assert!(err.to_string().contains("multiple memories"), "{err}");
    // A memory index in a memory instruction is an encoding only multi-memory defines.
    assert!(matches!(Module::new(&Engine::default(), TWO_MEMORIES), Err(Error::Compile(_))));
}

#[test]
fn memory_instructions_use_the_memory_they_name() {
    let engine = multi_memory_engine();
    let module = Module::new(&engine, TWO_MEMORIES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let load_b = instance.get_typed_func::<i32, i32>(&store, "load_b").unwrap();
    let load_a = instance.get_typed_func::<i32, i32>(&store, "load_a").unwrap();
    let store_b = instance.get_typed_func::<(i32, i32), ()>(&store, "store_b").unwrap();
    let grow_b = instance.get_typed_func::<(), i32>(&store, "grow_b").unwrap();
    let sizes = instance.get_typed_func::<(), (i32, i32)>(&store, "sizes").unwrap();
    let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&store, "copy_b_to_a").unwrap();

    assert_eq!(load_b.call(&mut store, 8).unwrap(), 42, "the data segment went to memory $b");
    assert_eq!(load_a.call(&mut store, 8).unwrap(), 0);
    store_b.call(&mut store, (100, 7)).unwrap();
    assert_eq!(load_b.call(&mut store, 100).unwrap(), 7);
    assert_eq!(load_a.call(&mut store, 100).unwrap(), 0);

    assert_eq!(grow_b.call(&mut store, ()).unwrap(), 1);
    assert_eq!(grow_b.call(&mut store, ()).unwrap(), -1, "memory $b has a maximum of 2 pages");
    assert_eq!(sizes.call(&mut store, ()).unwrap(), (1, 2));
    // The first memory-1 instruction of a function must not leave memory 1 selected.
    store_b.call(&mut store, (65536 + 5, 9)).unwrap();
    assert_eq!(load_b.call(&mut store, 65536 + 5).unwrap(), 9);
    assert!(matches!(load_a.call(&mut store, 65536 + 5), Err(Error::Trap(_))));

    copy.call(&mut store, (0, 99, 3)).unwrap();
    assert_eq!((0..3).map(|i| load_a.call(&mut store, i).unwrap()).collect::<Vec<_>>(), [0, 7, 0]);
    // Out of bounds in the source memory traps and copies nothing.
    assert!(matches!(copy.call(&mut store, (0, 2 * 65536 - 1, 2)), Err(Error::Trap(_))));
    assert_eq!(load_a.call(&mut store, 1).unwrap(), 7);

    let b = instance.get_memory(&store, "b").unwrap();
    assert_eq!(b.data(&store)[100], 7);
}

#[test]
fn copy_between_two_imports_of_one_memory_overlaps_correctly() {
    let engine = multi_memory_engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "m" (memory $x 1))
            (import "" "m" (memory $y 1))
            (func (export "copy") (param i32 i32 i32) (memory.copy $x $y (local.get 0) (local.get 1) (local.get 2))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    memory.data_mut(&mut store)[..4].copy_from_slice(&[1, 2, 3, 4]);
    let instance = Instance::new(&mut store, &module, &[memory.into(), memory.into()]).unwrap();
    let copy = instance.get_typed_func::<(i32, i32, i32), ()>(&store, "copy").unwrap();
    copy.call(&mut store, (1, 0, 3)).unwrap();
    assert_eq!(&memory.data(&store)[..4], &[1, 1, 2, 3]);
}
