// Sandbox controls: fuel metering, epoch interruption and resource limits; included by
// `tests/sandbox.rs` (the interpreter) and `tests/sandbox_compiled.rs` (the compiled tier),
// which define `STRATEGY`.

use kuai::{
    Caller, Config, Engine, Error, Instance, Linker, Memory, MemoryType, Module, ResourceLimiter, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
};
use std::time::{Duration, Instant};

/// A loop of 8 fuel per iteration, then 1 for the result: `count(n)` costs `8n + 1`.
const COUNT: &str = r#"(module
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))"#;

/// Counts iterations in an exported global, with a call and an `if` in the body.
const PROGRESS: &str = r#"(module
  (global $g (export "g") (mut i32) (i32.const 0))
  (func $bump (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func (export "run") (param $n i32)
    (loop $l
      (call $bump)
      (if (i32.and (global.get $g) (i32.const 1))
        (then (nop))
        (else (drop (i32.const 7))))
      (br_if $l (i32.lt_u (global.get $g) (local.get $n))))))"#;

fn fuel_engine(eager: bool) -> Engine {
    let mut config = Config::new();
    config.strategy(STRATEGY).consume_fuel(true).eager_translation(eager);
    Engine::new(&config)
}

#[test]
fn fuel_follows_the_cost_model() {
    let engine = fuel_engine(false);
    let module = Module::new(&engine, COUNT).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let count = instance.get_typed_func::<i32, i32>(&store, "count").unwrap();
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    assert_eq!(store.get_fuel().unwrap(), 1_000 - (8 * 10 + 1));
}

/// Runs PROGRESS with `fuel` and reports how far it got and the fuel left.
fn run_out_of_fuel(eager: bool, fuel: u64) -> (i32, u64) {
    let engine = fuel_engine(eager);
    let module = Module::new(&engine, PROGRESS).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(fuel).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance.get_typed_func::<i32, ()>(&store, "run").unwrap();
    let err = run.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(err.as_trap(), Some(Trap::OutOfFuel));
    assert!(err.to_string().contains("all fuel consumed by WebAssembly"), "{err}");
    let g = instance.get_global(&store, "g").unwrap().get(&store).i32().unwrap();
    (g, store.get_fuel().unwrap())
}

#[test]
fn fuel_exhaustion_is_deterministic() {
    for fuel in [0, 1, 17, 1_000, 123_457] {
        let first = run_out_of_fuel(false, fuel);
        assert_eq!(first, run_out_of_fuel(false, fuel), "lazy twice, fuel {fuel}");
        assert_eq!(first, run_out_of_fuel(true, fuel), "eager vs lazy, fuel {fuel}");
    }
    let (done_small, _) = run_out_of_fuel(false, 1_000);
    let (done_big, _) = run_out_of_fuel(false, 100_000);
    assert!(done_small > 0 && done_big > 50 * done_small, "{done_small} {done_big}");
}

#[test]
fn fuel_needs_the_config() {
    let mut store = Store::new(&plain_engine(), ());
    assert!(matches!(store.set_fuel(1), Err(Error::NotEnabled(_))));
    assert!(store.get_fuel().is_err());
}

#[test]
fn host_functions_charge_fuel() {
    let engine = fuel_engine(false);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "work", |mut caller: Caller<'_, ()>, units: i64| caller.consume_fuel(units as u64))
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "work" (func $work (param i64)))
             (func (export "go") (param i64) (call $work (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(100).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let go = instance.get_typed_func::<i64, ()>(&store, "go").unwrap();
    go.call(&mut store, 40).unwrap();
    // `local.get` + `call` cost 2; the host charged 40.
    assert_eq!(store.get_fuel().unwrap(), 58);
    let err = go.call(&mut store, 1_000).unwrap_err();
    assert_eq!(err.as_trap(), Some(Trap::OutOfFuel));
    assert_eq!(store.get_fuel().unwrap(), 56, "a refused charge takes nothing");
}

/// An engine of the strategy under test, otherwise default.
fn plain_engine() -> Engine {
    let mut config = Config::new();
    config.strategy(STRATEGY);
    Engine::new(&config)
}

fn epoch_engine() -> Engine {
    let mut config = Config::new();
    config.strategy(STRATEGY);
    config.epoch_interruption(true);
    Engine::new(&config)
}

#[test]
fn an_infinite_loop_is_interrupted_soon_after_the_deadline() {
    let engine = epoch_engine();
    let module = Module::new(&engine, r#"(module (func (export "spin") (loop $l (br $l))))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance.get_typed_func::<(), ()>(&store, "spin").unwrap();
    store.set_epoch_deadline(1);
    let ticker = engine.clone();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let at = Instant::now();
        ticker.increment_epoch();
        at
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    let trapped = Instant::now();
    let deadline = timer.join().unwrap();
    assert_eq!(err.as_trap(), Some(Trap::Interrupt));
    assert!(err.to_string().contains("interrupt"));
    let latency = trapped.saturating_duration_since(deadline);
    assert!(latency < Duration::from_millis(100), "interrupted {latency:?} after the deadline");
}

#[test]
fn epochs_are_checked_at_function_entry() {
    let engine = epoch_engine();
    let module = Module::new(&engine, r#"(module (func (export "f") (result i32) (i32.const 1)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 1, "no deadline by default");
    store.set_epoch_deadline(0);
    assert_eq!(f.call(&mut store, ()).unwrap_err().as_trap(), Some(Trap::Interrupt));
    store.set_epoch_deadline(1);
    assert_eq!(f.call(&mut store, ()).unwrap(), 1);
}

const GROW: &str = r#"(module
  (memory (export "mem") 1)
  (table (export "tab") 1 funcref)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_table") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#;

struct Host {
    limits: StoreLimits,
}

fn limited_store(engine: &Engine, limits: StoreLimits) -> Store<Host> {
    let mut store = Store::new(engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    store
}

#[test]
fn memory_and_table_limits_make_growth_return_minus_one() {
    let engine = plain_engine();
    let module = Module::new(&engine, GROW).unwrap();
    let limits = StoreLimitsBuilder::new().memory_size(3 * 65536).table_elements(5).build();
    let mut store = limited_store(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "4 pages exceed 3");
    assert_eq!(grow.call(&mut store, 0).unwrap(), 3);
    let memory = instance.get_memory(&store, "mem").unwrap();
    assert_eq!(memory.size(&store), 3);
    assert!(memory.grow(&mut store, 1).is_err(), "the host API obeys the limiter too");
    let grow_table = instance.get_typed_func::<i32, i32>(&store, "grow_table").unwrap();
    assert_eq!(grow_table.call(&mut store, 4).unwrap(), 1);
    assert_eq!(grow_table.call(&mut store, 1).unwrap(), -1);
}

#[test]
fn trap_on_grow_failure_turns_refusal_into_an_error() {
    let engine = plain_engine();
    let module = Module::new(&engine, GROW).unwrap();
    let limits = StoreLimitsBuilder::new().memory_size(65536).trap_on_grow_failure(true).build();
    let mut store = limited_store(&engine, limits);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert!(matches!(grow.call(&mut store, 1), Err(Error::Limit(_))));
}

#[test]
fn an_initial_memory_beyond_the_limit_fails_instantiation() {
    let engine = plain_engine();
    let module = Module::new(&engine, r#"(module (memory 10))"#).unwrap();
    let mut store = limited_store(&engine, StoreLimitsBuilder::new().memory_size(9 * 65536).build());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(err.to_string(), "resource limit exceeded: memory minimum size of 10 pages exceeds memory limits");
    let mut roomy = limited_store(&engine, StoreLimitsBuilder::new().memory_size(10 * 65536).build());
    Instance::new(&mut roomy, &module, &[]).unwrap();
}

#[test]
fn instance_memory_and_table_counts_are_limited() {
    let engine = plain_engine();
    let module = Module::new(&engine, GROW).unwrap();
    let mut store = limited_store(&engine, StoreLimitsBuilder::new().instances(2).build());
    Instance::new(&mut store, &module, &[]).unwrap();
    Instance::new(&mut store, &module, &[]).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("instance count too high"), "{err}");

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().memories(1).build());
    Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert!(Instance::new(&mut store, &module, &[]).unwrap_err().to_string().contains("memory count"));

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().tables(0).build());
    assert!(Instance::new(&mut store, &module, &[]).unwrap_err().to_string().contains("table count"));
}

/// A limiter with its own policy: refuses growth after a budget of calls.
struct Budget(u32);

impl ResourceLimiter for Budget {
    fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool, Error> {
        self.0 = self.0.saturating_sub(1);
        Ok(self.0 > 0)
    }
    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool, Error> {
        Ok(true)
    }
}

#[test]
fn a_custom_limiter_sees_every_request() {
    let engine = plain_engine();
    let module = Module::new(&engine, GROW).unwrap();
    let mut store = Store::new(&engine, Budget(3));
    store.limiter(|budget| budget);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    // Creation was request 1; growths 2 and 3.
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(store.data().0, 0);
}
