//! `f64` arithmetic fused with memory: an `f64.add`/`f64.sub`/`f64.mul` whose result only
//! an `f64.store` consumes is fused into the store (`translate::ops::fuse_store`), and an
//! `f64.load` whose result only such an operation consumes is fused into it
//! (`translate::ops::fuse_load`), so `x[i] += y * z[i]` is two instructions. The fused
//! forms must compute the same bits, keep the operand order, and trap out of bounds
//! without writing, whatever the address is.

use kuai::{Engine, Instance, Module, Store};

const WAT: &str = r#"(module (memory 2)
    (func (export "add") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store (local.get $p) (f64.add (local.get $x) (local.get $y)))
      (i64.load (local.get $p)))
    (func (export "sub") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store offset=8 (local.get $p) (f64.sub (local.get $x) (local.get $y)))
      (i64.load offset=8 (local.get $p)))
    (func (export "mul_at_sum") (param $p i32) (param $x f64) (param $y f64) (result i64)
      ;; The address is a temporary computed before the value.
      (f64.store (i32.add (local.get $p) (i32.const 16)) (f64.mul (local.get $x) (local.get $y)))
      (i64.load offset=16 (local.get $p)))
    (func (export "accumulate") (param $p i32) (param $x f64) (param $y f64) (result i64)
      ;; x[p] = x[p] + y, twice, then x[p] = x[p] * x
      (f64.store (local.get $p) (local.get $x))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $y)))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $y)))
      (f64.store (local.get $p) (f64.mul (f64.load (local.get $p)) (local.get $x)))
      (i64.load (local.get $p)))
    (func (export "far") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store offset=70000 (local.get $p) (f64.sub (local.get $x) (local.get $y)))
      (i64.load offset=70000 (local.get $p)))
    (func (export "load_add") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.add (local.get $x) (f64.load (local.get $p)))))
    (func (export "load_first_mul") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store offset=8 (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.mul (f64.load offset=8 (local.get $p)) (local.get $x))))
    (func (export "load_sub") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.sub (local.get $x) (f64.load (local.get $p)))))
    (func (export "load_first_sub") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.sub (f64.load (local.get $p)) (local.get $x))))
    (func (export "load_own_address") (param $p i32) (param $x f64) (param $y f64) (result i64)
      ;; The load's address is a temporary in the slot the sum is written to.
      (f64.store (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.add (f64.load (i32.mul (local.get $p) (i32.const 1))) (local.get $x))))
    (func (export "load_far") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store offset=70000 (local.get $p) (local.get $y))
      (i64.reinterpret_f64 (f64.add (local.get $x) (f64.load offset=70000 (local.get $p)))))
    (func (export "load_only") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (i64.reinterpret_f64 (f64.mul (local.get $x) (f64.load offset=4 (local.get $p)))))
    (func (export "fixed") (param $p i32) (param $x f64) (param $y f64) (result i64)
      (f64.store (i32.const 24) (f64.sub (local.get $x) (local.get $y)))
      (i64.load (i32.const 24))))"#;

fn call(name: &str, p: u32, x: f64, y: f64) -> Result<u64, String> {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, WAT).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<(i32, f64, f64), i64>(&store, name).expect("exported");
    f.call(&mut store, (p as i32, x, y)).map(|bits| bits as u64).map_err(|e| e.to_string())
}

fn bits(name: &str, p: u32, x: f64, y: f64) -> u64 {
    call(name, p, x, y).expect("runs")
}

#[test]
fn fused_stores_write_the_operations_bits_in_operand_order() {
    assert_eq!(bits("add", 0, 1.5, 2.25), 3.75f64.to_bits());
    assert_eq!(bits("add", 8, -0.0, -0.0), (-0.0f64).to_bits());
    assert_eq!(bits("sub", 0, 1.0, 3.5), (-2.5f64).to_bits());
    assert_eq!(bits("sub", 0, 0.0, 0.0), 0.0f64.to_bits());
    assert_eq!(bits("mul_at_sum", 32, -3.0, 0.5), (-1.5f64).to_bits());
    assert_eq!(bits("accumulate", 40, 3.0, 0.25), (3.5f64 * 3.0).to_bits());
    assert_eq!(bits("far", 0, 10.0, 0.5), 9.5f64.to_bits());
    assert_eq!(bits("fixed", 0, 2.0, 4.0), (-2.0f64).to_bits());
}

#[test]
fn fused_stores_trap_out_of_bounds() {
    let trap = "out of bounds memory access";
    assert!(call("add", 0x1_fff9, 1.0, 2.0).unwrap_err().contains(trap));
    assert!(call("sub", 0x1_fff1, 1.0, 2.0).unwrap_err().contains(trap));
    assert!(call("mul_at_sum", 0x1_fff0, 1.0, 2.0).unwrap_err().contains(trap));
    assert!(call("far", 0x1_0000, 1.0, 2.0).unwrap_err().contains(trap));
    // The last in-bounds position works.
    assert_eq!(bits("add", 0x1_fff8, 1.0, 2.0), 3.0f64.to_bits());
}

#[test]
fn fused_loads_feed_the_operation_in_operand_order() {
    assert_eq!(bits("load_add", 0, 1.5, 2.25), 3.75f64.to_bits());
    assert_eq!(bits("load_first_mul", 16, -3.0, 0.5), (-1.5f64).to_bits());
    assert_eq!(bits("load_sub", 0, 1.0, 3.5), (-2.5f64).to_bits());
    assert_eq!(bits("load_first_sub", 0, 1.0, 3.5), 2.5f64.to_bits());
    assert_eq!(bits("load_own_address", 24, 1.0, 3.5), 4.5f64.to_bits());
    assert_eq!(bits("load_far", 8, 0.5, 10.0), 10.5f64.to_bits());
    assert_eq!(bits("load_add", 0, -0.0, -0.0), (-0.0f64).to_bits());
}

#[test]
fn fused_loads_trap_out_of_bounds() {
    let trap = "out of bounds memory access";
    assert!(call("load_only", 0x1_fff5, 1.0, 2.0).unwrap_err().contains(trap));
    assert!(call("load_only", 0xffff_fffc, 1.0, 2.0).unwrap_err().contains(trap));
    // The last in-bounds position works (fresh memory holds zeros).
    assert_eq!(bits("load_only", 0x1_fff4, 1.0, 2.0), 0.0f64.to_bits());
}
