//! Constants used inside loops that no instruction takes as an immediate (floats, wide
//! `i64`s, divisors) get frame slots of their own, set once when the function is entered
//! (`translate::loop_constants`): instructions read them from there instead of
//! materialising the constant on every iteration. The values must be exactly the
//! constants' bits, in every frame, whatever else shares those bits, and a division by a
//! constant must still trap as it did.

use kuai::{Config, Engine, Instance, Module, Store, WasmParams, WasmResults};

/// Calls `name` in `wat`; with `fuel`, the store starts with 1,000,000 units.
fn call<P: WasmParams, R: WasmResults>(engine: &Engine, fuel: bool, wat: &str, name: &str, args: P) -> (R, Store<()>) {
    let module = Module::new(engine, wat).expect("module compiles");
    let mut store = Store::new(engine, ());
    if fuel {
        store.set_fuel(1_000_000).unwrap();
    }
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<P, R>(&store, name).expect("exported");
    let result = f.call(&mut store, args).expect("runs");
    (result, store)
}

fn run<P: WasmParams, R: WasmResults>(wat: &str, name: &str, args: P) -> R {
    call(&Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret)), false, wat, name, args).0
}

/// Calls `name` in `wat` and returns the error it traps with.
fn trap<P: WasmParams>(wat: &str, name: &str, args: P) -> String {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<P, i64>(&store, name).expect("exported");
    f.call(&mut store, args).expect_err("traps").to_string()
}

const INTEGERS: &str = r#"(module (memory 1)
  (func (export "digits") (param $x i32) (result i64) (local $n i64)
    (loop $l
      (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 0x100000001b3))
                             (i64.extend_i32_u (i32.rem_u (local.get $x) (i32.const 10)))))
      (local.set $x (i32.div_u (local.get $x) (i32.const 10)))
      (br_if $l (local.get $x)))
    (local.get $n))
  (func (export "stored") (param $n i32) (result i64) (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (i32.const 0x17a))
      (i64.store32 offset=100 (i32.shl (local.get $i) (i32.const 2)) (i64.const 0x1_2345_6789))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (i64.load8_u (i32.const 2)) (i64.load32_u offset=108 (i32.const 0))))
  (func (export "by_zero") (param $x i32) (result i64) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.const 1)))
      (local.set $x (i32.div_s (local.get $x) (i32.const 0)))
      (br_if $l (local.get $x)))
    (local.get $s))
  (func (export "overflow") (param $x i64) (result i64)
    (loop $l
      (local.set $x (i64.div_s (local.get $x) (i64.const -1)))
      (br_if $l (i64.gt_s (local.get $x) (i64.const 0))))
    (local.get $x)))"#;

#[test]
fn wide_constants_and_divisors_in_loops_keep_their_values() {
    let mut x = 9_876_543u32;
    let mut n = 0u64;
    loop {
        n = n.wrapping_mul(0x100_0000_01b3).wrapping_add(u64::from(x % 10));
        x /= 10;
        if x == 0 {
            break;
        }
    }
    assert_eq!(run::<i32, i64>(INTEGERS, "digits", 9_876_543), n as i64);
    // 5 → -5, which ends the loop.
    assert_eq!(run::<i64, i64>(INTEGERS, "overflow", 5), -5);
    // Stores keep the low bits: 0x7a and 0x2345_6789.
    assert_eq!(run::<i32, i64>(INTEGERS, "stored", 4), 0x7a + 0x2345_6789);
}

#[test]
fn dividing_by_a_constant_still_traps() {
    assert!(trap(INTEGERS, "by_zero", 7).contains("integer divide by zero"));
    assert!(trap(INTEGERS, "overflow", i64::MIN).contains("integer overflow"));
}

const POLY: &str = r#"(module
  (func (export "poly") (param $n i32) (param $x f64) (result f64) (local $i i32) (local $acc f64)
    (loop $l
      (local.set $acc (f64.add
        (f64.add (f64.mul (local.get $acc) (f64.const 0.5)) (f64.mul (local.get $x) (f64.const -0.0)))
        (f64.const 1.25)))
      (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (f32.const 2.0) (f32.const 0.25)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func (export "same_bits") (param $n i32) (result i64) (local $i i32) (local $s i64) (local $f f64)
    (loop $l
      (local.set $f (f64.add (local.get $f) (f64.const 1.25)))
      (local.set $s (i64.add (local.get $s) (i64.const 0x3ff4000000000000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $s) (i64.trunc_f64_s (local.get $f))))
  (func $nested (export "nested") (param $d i32) (result f64) (local $i i32) (local $acc f64)
    (if (i32.eqz (local.get $d)) (then (return (f64.const 0))))
    (loop $l
      (local.set $acc (f64.add (local.get $acc) (f64.const 0.75)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (f64.add (local.get $acc) (call $nested (i32.sub (local.get $d) (i32.const 1))))))"#;

#[test]
fn loop_constants_keep_their_values_and_signs() {
    let (n, x) = (7, 3.0f64);
    let mut acc = 0.0f64;
    for _ in 0..n {
        acc = acc * 0.5 + x * -0.0 + 1.25;
        acc += f64::from(2.0f32 * 0.25f32);
    }
    let got: f64 = run(POLY, "poly", (n, x));
    assert_eq!(got.to_bits(), acc.to_bits());
}

#[test]
fn an_integer_with_a_constants_bits_reads_the_same_value() {
    let n = 5i64;
    let expected = n.wrapping_mul(0x3ff4_0000_0000_0000) + (1.25 * n as f64) as i64;
    assert_eq!(run::<i32, i64>(POLY, "same_bits", n as i32), expected);
}

#[test]
fn every_frame_sets_its_own_constants() {
    assert_eq!(run::<i32, f64>(POLY, "nested", 4), 6.0);
}

#[test]
fn constants_beyond_the_slot_limit_are_still_right() {
    // 24 distinct constants in one loop body: the first ones get slots, the rest do not.
    let terms: String = (0..24).map(|k| format!("(f64.const {k}.5) f64.add ")).collect();
    let wat = format!(
        r#"(module (func (export "f") (param $n i32) (result f64) (local $i i32) (local $acc f64)
            (loop $l
              (local.set $acc (local.get $acc) {terms})
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $acc)))"#
    );
    let per_iteration: f64 = (0..24).map(|k| k as f64 + 0.5).sum();
    assert_eq!(run::<i32, f64>(&wat, "f", 3), 3.0 * per_iteration);
}

#[test]
fn setting_the_constants_costs_no_fuel() {
    // 12 fuel per iteration (4 wasm operators per line), 1 for the result.
    let wat = r#"(module (func (export "f") (param $n i32) (result f64) (local $i i32) (local $x f64)
        (loop $l
          (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $x)))"#;
    let mut config = Config::new();
    config.consume_fuel(true);
    let (result, store) = call::<i32, f64>(&Engine::new(&config), true, wat, "f", 10);
    assert_eq!(result, 5.0);
    assert_eq!(store.get_fuel().unwrap(), 1_000_000 - (12 * 10 + 1));
}
