//! Instantiating many times: `InstancePre` (imports resolved once, instances in any number
//! of stores), copy-on-write memory images and the pooling allocator — every instance starts
//! from the module's initial state, whatever earlier instances wrote or grew, under every
//! strategy.

use kuai::{
    Config, Engine, Error, InstanceAllocationStrategy, LinkError, Linker, Module, PoolingAllocationConfig, Store,
    Strategy,
};

const WAT: &str = r#"(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 2 10)
  (table 2 funcref)
  (elem (i32.const 0) $get)
  (data (i32.const 0) "kuai")
  (data (i32.const 70000) "\01\02\03")
  (data $passive "later")
  (func $get (export "get") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "set") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "init") (memory.init $passive (i32.const 8) (i32.const 0) (i32.const 5)))
  (func (export "sum") (param i32) (result i32)
    (call $add (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)) (i32.const 100))))"#;

fn strategies() -> Vec<Strategy> {
    let mut all = vec![Strategy::Interpret];
    if cfg!(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")) {
        all.extend([Strategy::Compile, Strategy::Tiered]);
    }
    all
}

#[test]
fn every_instance_starts_from_the_initial_state() {
    for strategy in strategies() {
        for pooling in [false, true] {
            let mut config = Config::new();
            config.strategy(strategy);
            if pooling {
                let mut pool = PoolingAllocationConfig::default();
                pool.total_memories(4);
                config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            }
            let engine = Engine::new(&config);
            let module = Module::new(&engine, WAT).unwrap();
            let mut linker = Linker::<()>::new(&engine);
            linker.func_wrap("host", "add", |a: i32, b: i32| a + b).unwrap();
            let pre = linker.instantiate_pre(&module).unwrap();
            let mut kept = Vec::new();
            for n in 0..40 {
                let mut store = Store::new(&engine, ());
                let instance = pre.instantiate(&mut store).unwrap();
                let get = instance.get_typed_func::<i32, i32>(&store, "get").unwrap();
                let set = instance.get_typed_func::<(i32, i32), ()>(&store, "set").unwrap();
                let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
                let size = instance.get_typed_func::<(), i32>(&store, "size").unwrap();
                let init = instance.get_typed_func::<(), ()>(&store, "init").unwrap();
                let sum = instance.get_typed_func::<i32, i32>(&store, "sum").unwrap();
                let what = format!("{strategy:?}, pooling {pooling}, instance {n}");
                assert_eq!(size.call(&mut store, ()).unwrap(), 2, "{what}");
                let memory = instance.get_memory(&store, "memory").unwrap();
                let bytes = memory.data(&store);
                assert_eq!(&bytes[..4], b"kuai", "{what}");
                assert_eq!(&bytes[70000..70003], [1, 2, 3], "{what}");
                assert!(bytes[4..70000].iter().all(|&b| b == 0), "{what}");
                assert!(bytes[70003..].iter().all(|&b| b == 0), "{what}");
                assert_eq!(sum.call(&mut store, 1).unwrap(), i32::from(b'u') + 100, "{what}");
                // Dirty everything a later instance could see.
                set.call(&mut store, (0, 0x55)).unwrap();
                set.call(&mut store, (70001, 0x66)).unwrap();
                set.call(&mut store, (100_000, 0x77)).unwrap();
                init.call(&mut store, ()).unwrap();
                assert_eq!(grow.call(&mut store, 3).unwrap(), 2, "{what}");
                set.call(&mut store, (4 * 65536 + 1, 0x88)).unwrap();
                assert_eq!(get.call(&mut store, 8).unwrap(), i32::from(b'l'), "{what}");
                // Some instances stay alive while others come and go.
                if n % 7 == 0 {
                    kept.push((store, instance));
                }
            }
            for (store, instance) in &kept {
                let memory = instance.get_memory(store, "memory").unwrap();
                assert_eq!(memory.data(store)[0], 0x55);
                assert_eq!(memory.data(store)[4 * 65536 + 1], 0x88);
            }
        }
    }
}

#[test]
fn instance_pre_checks_imports_once() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let linker = Linker::<()>::new(&engine);
    match linker.instantiate_pre(&module) {
        Err(Error::Link(LinkError::UnknownImport { module, name })) => {
            assert_eq!((module.as_str(), name.as_str()), ("host", "add"))
        }
        other => panic!("{other:?}"),
    }
    let mut wrong = Linker::<()>::new(&engine);
    wrong.func_wrap("host", "add", |a: i64| a).unwrap();
    match wrong.instantiate_pre(&module) {
        Err(Error::Link(LinkError::IncompatibleImportType { name, .. })) => assert_eq!(name, "add"),
        other => panic!("{other:?}"),
    }
    let other = Engine::default();
    let mut linker = Linker::<()>::new(&other);
    linker.func_wrap("host", "add", |a: i32, b: i32| a + b).unwrap();
    assert!(matches!(linker.instantiate_pre(&module), Err(Error::Link(LinkError::WrongStore))));
}
