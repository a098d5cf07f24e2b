//! Guards the threaded interpreter's dispatch: in optimised builds every handler must
//! end in a jump to the next handler, not a call (see `exec/threaded`). A handler that
//! stops tail-calling grows the host stack by a frame per executed instruction, so a loop
//! that runs each instruction kind 100,000 times overflows the 256 KiB thread this test
//! runs it on (the process dies with a stack overflow and the test fails). In debug
//! builds the interpreter returns to a dispatch loop after each instruction, so the test
//! passes there trivially (with fewer iterations).

use kuai::{Config, Engine, Instance, Module, Store};

const ITERATIONS: i32 = if cfg!(debug_assertions) { 200 } else { 100_000 };

/// One statement per instruction kind the translator emits for ordinary code: every
/// numeric operator on locals and on constants, conversions, loads and stores, bulk
/// memory, globals, `select`, calls, `call_indirect`, `br_table`, and compare-and-branch.
fn body() -> String {
    let mut s = String::new();
    let int_bin = [
        "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl",
        "rotr",
    ];
    let int_cmp = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
    for t in ["i32", "i64"] {
        for op in int_bin {
            s += &format!("(local.set $s{t} ({t}.{op} (local.get $x{t}) (local.get $y{t})))\n");
            s += &format!("(local.set $s{t} ({t}.{op} (local.get $x{t}) ({t}.const 3)))\n");
        }
        for op in int_cmp {
            s += &format!("(local.set $si32 ({t}.{op} (local.get $x{t}) (local.get $y{t})))\n");
            s += &format!("(local.set $si32 ({t}.{op} (local.get $x{t}) ({t}.const 3)))\n");
        }
        for op in ["clz", "ctz", "popcnt", "extend8_s", "extend16_s"] {
            s += &format!("(local.set $s{t} ({t}.{op} (local.get $x{t})))\n");
        }
        s += &format!("(local.set $si32 ({t}.eqz (local.get $x{t})))\n");
        for cmp in int_cmp {
            s += &format!("(block $b (br_if $b ({t}.{cmp} (local.get $x{t}) (local.get $y{t}))))\n");
            s += &format!("(block $b (br_if $b ({t}.{cmp} (local.get $x{t}) ({t}.const 3))))\n");
        }
        s += &format!("(block $b (br_if $b ({t}.eqz (local.get $x{t}))))\n");
    }
    s += "(local.set $si64 (i64.extend32_s (local.get $xi64)))\n";
    s += "(local.set $si32 (i32.wrap_i64 (i64.extend_i32_s (i32.wrap_i64 (i64.extend_i32_u (local.get $xi32))))))\n";
    for t in ["f32", "f64"] {
        for op in ["add", "sub", "mul", "div", "min", "max", "copysign"] {
            s += &format!("(local.set $s{t} ({t}.{op} (local.get $x{t}) (local.get $y{t})))\n");
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            s += &format!("(local.set $si32 ({t}.{op} (local.get $x{t}) (local.get $y{t})))\n");
        }
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"] {
            s += &format!("(local.set $s{t} ({t}.{op} (local.get $x{t})))\n");
        }
        for i in ["i32", "i64"] {
            for sign in ["s", "u"] {
                s += &format!("(local.set $s{i} ({i}.trunc_{t}_{sign} (local.get $x{t})))\n");
                s += &format!("(local.set $s{i} ({i}.trunc_sat_{t}_{sign} (local.get $x{t})))\n");
                s += &format!("(local.set $s{t} ({t}.convert_{i}_{sign} (local.get $x{i})))\n");
            }
        }
    }
    s += "(local.set $sf32 (f32.demote_f64 (local.get $xf64)))\n";
    s += "(local.set $sf64 (f64.promote_f32 (local.get $xf32)))\n";
    s += "(local.set $si32 (i32.reinterpret_f32 (local.get $xf32)))\n";
    for (ty, ops) in [
        ("i32", &["load", "load8_s", "load8_u", "load16_s", "load16_u"][..]),
        ("i64", &["load", "load8_s", "load8_u", "load16_s", "load16_u", "load32_s", "load32_u"][..]),
    ] {
        for op in ops {
            s += &format!("(local.set $s{ty} ({ty}.{op} offset=8 (local.get $addr)))\n");
        }
    }
    for (ty, ops) in
        [("i32", &["store", "store8", "store16"][..]), ("i64", &["store", "store8", "store16", "store32"][..])]
    {
        for op in ops {
            s += &format!("({ty}.{op} offset=16 (local.get $addr) (local.get $x{ty}))\n");
        }
    }
    s += "(f32.store (local.get $addr) (local.get $xf32)) (local.set $sf32 (f32.load (local.get $addr)))\n";
    s += "(f64.store (local.get $addr) (local.get $xf64)) (local.set $sf64 (f64.load (local.get $addr)))\n";
    s += "(v128.store (local.get $addr) (i32x4.add (v128.load (local.get $addr)) (i32x4.splat (local.get $xi32))))\n";
    s += "(local.set $si32 (i32x4.extract_lane 1 (v128.load offset=16 (local.get $addr))))\n";
    s += "(memory.fill (local.get $addr) (local.get $xi32) (i32.const 8))\n";
    s += "(memory.copy (i32.const 64) (local.get $addr) (i32.const 8))\n";
    s += "(local.set $si32 (memory.size))\n";
    s += "(block $b (local.set $si32 (local.get $xi32)) (br $b))\n";
    s += "(global.set $g (i32.add (global.get $g) (i32.const 1)))\n";
    s += "(local.set $si32 (select (local.get $xi32) (local.get $yi32) (local.get $i)))\n";
    s += "(local.set $si32 (call $callee (local.get $xi32)))\n";
    s += "(local.set $si32 (call_indirect (type $t) (local.get $xi32) (i32.and (local.get $i) (i32.const 1))))\n";
    s += "(block $b2 (block $b1 (block $b0 (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))))\n";
    s += "(if (i32.and (local.get $i) (i32.const 1)) (then (local.set $si32 (i32.const 1))) (else (local.set $si32 (i32.const 2))))\n";
    s
}

fn module_text() -> String {
    format!(
        r#"(module
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $callee $early)
  (func $callee (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $early (type $t) (if (local.get 0) (then (return (i32.const 7)))) (i32.const 8))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $addr i32)
    (local $xi32 i32) (local $yi32 i32) (local $si32 i32)
    (local $xi64 i64) (local $yi64 i64) (local $si64 i64)
    (local $xf32 f32) (local $yf32 f32) (local $sf32 f32)
    (local $xf64 f64) (local $yf64 f64) (local $sf64 f64)
    (local.set $addr (i32.const 128))
    (local.set $xi32 (i32.const 1000)) (local.set $yi32 (i32.const 7))
    (local.set $xi64 (i64.const 1000)) (local.set $yi64 (i64.const 7))
    (local.set $xf32 (f32.const 1.5)) (local.set $yf32 (f32.const 2.5))
    (local.set $xf64 (f64.const 1.5)) (local.set $yf64 (f64.const 2.5))
    (loop $again
{}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (global.get $g)))"#,
        body()
    )
}

#[test]
fn every_handler_tail_calls() {
    let mut config = Config::new();
    config.wasm_simd(true).strategy(kuai::Strategy::Interpret);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, module_text()).expect("module compiles");
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
            let run = instance.get_typed_func::<i32, i32>(&store, "run").expect("exported");
            run.call(&mut store, ITERATIONS).expect("runs")
        })
        .expect("thread starts")
        .join()
        .expect("no panic");
    assert_eq!(result, ITERATIONS);
}
