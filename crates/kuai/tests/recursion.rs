//! Deep recursion in the interpreter runs on Kuai's own stack: 50,000 frames work by
//! default, infinite recursion traps with "call stack exhausted" quickly, and the store
//! stays usable. (Compiled code — and so tiered code once it is compiled — has a native
//! stack of `Config::max_wasm_stack` instead: `tests/compiled.rs`.)

use kuai::{Config, Engine, Instance, Module, Store, Strategy, Trap};
use std::time::{Duration, Instant};

const WAT: &str = r#"
(module
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $count (i64.sub (local.get 0) (i64.const 1)))))))
  (func $forever (export "forever") (param i32) (result i32)
    (i32.add (call $forever (local.get 0)) (i32.const 1)))
  (func $mutual_a (param i32) (result i32) (call $mutual_b (local.get 0)))
  (func $mutual_b (param i32) (result i32) (call $mutual_a (local.get 0)))
  (func (export "mutual") (param i32) (result i32) (call $mutual_a (local.get 0))))
"#;

/// An engine that only interprets.
fn interpreter() -> Engine {
    Engine::new(Config::new().strategy(Strategy::Interpret))
}

fn setup(engine: &Engine) -> (Store<()>, Instance) {
    let module = Module::new(engine, WAT).expect("module compiles");
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    (store, instance)
}

#[test]
fn recursion_50_000_deep_returns() {
    let engine = interpreter();
    let (mut store, instance) = setup(&engine);
    let count = instance.get_typed_func::<i64, i64>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 50_000).unwrap(), 50_000);
}

#[test]
fn infinite_recursion_exhausts_quickly_and_the_store_survives() {
    let engine = interpreter();
    let (mut store, instance) = setup(&engine);
    let forever = instance.get_typed_func::<i32, i32>(&store, "forever").unwrap();
    let mutual = instance.get_typed_func::<i32, i32>(&store, "mutual").unwrap();
    let count = instance.get_typed_func::<i64, i64>(&store, "count").unwrap();
    for f in [forever, mutual] {
        let start = Instant::now();
        let err = f.call(&mut store, 1).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
        assert_eq!(err.as_trap(), Some(Trap::StackOverflow));
        assert_eq!(err.to_string(), "call stack exhausted");
        let frames = err.as_trap_error().unwrap().backtrace().frames().len();
        assert!(frames >= 50_000, "backtrace has {frames} frames");
        // The next call on the same store works.
        assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    }
}

#[test]
fn call_depth_limit_is_configurable() {
    let engine = Engine::new(Config::new().strategy(Strategy::Interpret).max_call_depth(100));
    let (mut store, instance) = setup(&engine);
    let count = instance.get_typed_func::<i64, i64>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 98).unwrap(), 98);
    let err = count.call(&mut store, 1000).unwrap_err();
    assert_eq!(err.as_trap(), Some(Trap::StackOverflow));
}

#[test]
fn traps_carry_a_backtrace_with_names() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $m
             (func $inner (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
             (func $outer (export "run") (result i32) (call $inner)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance.get_typed_func::<(), i32>(&store, "run").unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(err.to_string(), "integer divide by zero");
    let bt = err.as_trap_error().unwrap().backtrace();
    let names: Vec<_> = bt.frames().iter().map(|f| f.func_name.clone().unwrap_or_default()).collect();
    assert_eq!(names, ["inner", "outer"]);
    assert_eq!(bt.frames()[0].func_index, 0);
    assert_eq!(bt.frames()[0].module_name.as_deref(), Some("m"));
}
