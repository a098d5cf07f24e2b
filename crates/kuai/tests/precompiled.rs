//! AOT artifacts: `Module::serialize` and `Module::deserialize` round trips run like the
//! module itself (results, traps with backtraces, host calls, memory and tables), in a
//! fresh engine; an artifact for another configuration, a truncated one, or bytes that are
//! not one are refused with a one-line error.

#![cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]

use kuai::{Config, Engine, Func, Instance, Module, Store, Strategy, Trap};

const WAT: &str = r#"(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $fib $boom)
  (data (i32.const 16) "hello")
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $boom (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 1) (local.get 0)))
  (func (export "host") (param i32) (result i32) (call $twice (i32.add (local.get 0) (i32.load8_u (i32.const 16))))))"#;

fn run(module: &Module) -> (i32, i32, i32, Trap, usize) {
    let engine = module.engine().clone();
    let mut store = Store::new(&engine, ());
    let twice = Func::wrap(&mut store, |x: i32| x * 2);
    let instance = Instance::new(&mut store, module, &[twice.into()]).unwrap();
    let fib = instance.get_typed_func::<i32, i32>(&store, "fib").unwrap();
    let indirect = instance.get_typed_func::<(i32, i32), i32>(&store, "indirect").unwrap();
    let host = instance.get_typed_func::<i32, i32>(&store, "host").unwrap();
    let err = indirect.call(&mut store, (1, 7)).unwrap_err();
    let trap = err.as_trap_error().unwrap();
    (
        fib.call(&mut store, 20).unwrap(),
        indirect.call(&mut store, (0, 10)).unwrap(),
        host.call(&mut store, 1).unwrap(),
        trap.trap(),
        trap.backtrace().frames().len(),
    )
}

#[test]
fn an_artifact_runs_like_its_module() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let expected = run(&module);
    assert_eq!(expected, (6765, 55, 2 * (1 + 104), Trap::IntegerDivideByZero, 2));
    let artifact = module.serialize().unwrap();
    assert!(Module::is_precompiled(&artifact));
    for strategy in [Strategy::Tiered, Strategy::Interpret, Strategy::Compile] {
        let mut config = Config::new();
        config.strategy(strategy);
        let engine = Engine::new(&config);
        // SAFETY: the artifact was just written by `serialize`.
        let loaded = unsafe { Module::deserialize(&engine, &artifact) }.unwrap();
        assert_eq!(run(&loaded), expected, "{strategy:?}");
        assert_eq!(loaded.imports().len(), 1);
    }
    let path = std::env::temp_dir().join(format!("kuai-precompiled-{}.kwasm", std::process::id()));
    std::fs::write(&path, &artifact).unwrap();
    // SAFETY: as above.
    let loaded = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(run(&loaded), expected);
}

#[test]
fn foreign_truncated_and_mismatched_artifacts_are_refused() {
    let engine = Engine::default();
    let artifact = Module::new(&engine, WAT).unwrap().serialize().unwrap();
    let refused = |engine: &Engine, bytes: &[u8]| {
        // SAFETY: refused before anything is mapped (the test's point); none of these
        // bytes are run.
        let err = unsafe { Module::deserialize(engine, bytes) }.unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
        err
    };
    for len in [0, 4, 12, 40, artifact.len() / 2, artifact.len() - 1] {
        let err = refused(&engine, &artifact[..len]);
        assert!(err.contains("truncated") || err.contains("not a Kuai artifact"), "{len}: {err}");
    }
    let wasm = wat::parse_str(WAT).unwrap();
    assert!(refused(&engine, &wasm).contains("not a Kuai artifact"));
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    let err = refused(&Engine::new(&fuel), &artifact);
    assert!(err.contains("`fuel false` → `fuel true`"), "{err}");
    let mut small = Config::new();
    small.memory_reservation(0);
    assert!(refused(&Engine::new(&small), &artifact).contains("bounds: explicit checks"));
    let mut longer = artifact.clone();
    longer.push(0);
    assert!(refused(&engine, &longer).contains("after its code"));
}
