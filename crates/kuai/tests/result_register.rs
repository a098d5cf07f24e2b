//! The interpreter hands each result to later instructions in a register (`acc`), and an
//! instruction that reads a slot whose value the register holds takes it from there
//! (`exec::threaded::lower`, with the data-flow analysis of `exec::threaded::acc_flow`).
//! That is only right when the register holds that slot's value on *every* path to the
//! instruction: at a branch target or loop head `acc` holds whatever each arriving path
//! computed last.

use kuai::{Engine, Instance, Module, Store, WasmParams, WasmResults};

/// Calls export `f` of the module `wat` with `arg`.
fn call<P: WasmParams, R: WasmResults>(wat: &str, arg: P) -> R {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<P, R>(&store, "f").expect("exported");
    f.call(&mut store, arg).expect("runs")
}

fn run(wat: &str, arg: i32) -> i32 {
    call(wat, arg)
}

fn run_f64(wat: &str, arg: f64) -> f64 {
    call(wat, arg)
}

#[test]
fn a_branch_target_reads_its_operand_from_the_slot() {
    // `local 1 * 3` follows `local 1 = local 1 + 1`, but the `br_if` also reaches it, right
    // after `local 2 = 77` left 77 in the register.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32)
        (block $b
          (local.set 1 (i32.const 5))
          (local.set 2 (i32.const 77))
          (br_if $b (local.get 0))
          (local.set 1 (i32.add (local.get 1) (i32.const 1))))
        (i32.mul (local.get 1) (i32.const 3))))"#;
    assert_eq!(run(wat, 1), 15);
    assert_eq!(run(wat, 0), 18);
}

#[test]
fn a_result_reaches_past_stores_and_branches() {
    // `local 1 = 3 * x` is read three instructions later, after a store and a branch
    // whose paths meet, neither of which touches the register.
    let wat = r#"(module (memory 1) (func (export "f") (param i32) (result i32) (local i32)
        (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
        (i32.store (i32.const 0) (local.get 0))
        (block $b (br_if $b (i32.eqz (local.get 0))))
        (i32.add (local.get 1) (i32.load (i32.const 0)))))"#;
    assert_eq!(run(wat, 5), 20);
    assert_eq!(run(wat, 0), 0);
}

#[test]
fn paths_that_disagree_read_the_slot() {
    // The `then` arm leaves local 1 in the register, the `else` arm local 2: after the
    // `if`, local 1 must come from its slot.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.const 7))
        (if (local.get 0)
          (then (local.set 1 (i32.add (local.get 0) (i32.const 10))))
          (else (local.set 2 (i32.add (local.get 0) (i32.const 20)))))
        (i32.add (i32.mul (local.get 1) (i32.const 2)) (local.get 2))))"#;
    assert_eq!(run(wat, 1), 22);
    assert_eq!(run(wat, 0), 34);
}

#[test]
fn a_loop_head_knows_only_what_entry_and_back_edge_agree_on() {
    // Entering the loop leaves local 1 in the register; the back edge leaves local 2.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.const 1))
        (loop $l
          (local.set 1 (i32.add (local.get 1) (local.get 1)))
          (local.set 2 (i32.add (local.get 2) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
        (local.get 1)))"#;
    assert_eq!(run(wat, 4), 16);
    assert_eq!(run(wat, 10), 1024);
}

#[test]
fn results_flow_through_chains_of_every_operand_position() {
    // Each instruction consumes the previous result as its first or second operand, as a
    // load address, a stored value, a branch condition and a returned value.
    let wat = r#"(module (memory 1) (func (export "f") (param i32) (result i32) (local i32)
        (local.set 1 (i32.sub (i32.const 100) (i32.mul (local.get 0) (i32.const 7))))
        (i32.store (i32.const 8) (i32.add (local.get 1) (local.get 0)))
        (local.set 1 (i32.load (i32.add (i32.const 4) (i32.const 4))))
        (if (i32.lt_s (local.get 1) (i32.const 90)) (then (local.set 1 (i32.const -1))))
        (i64.store (i32.const 16) (i64.extend_i32_s (local.get 1)))
        (i32.wrap_i64 (i64.shr_u (i64.load (i32.const 16)) (i64.const 1)))))"#;
    // 100 - 21 + 3 = 82 < 90 → -1; as i64 shifted right by one: 0x7fff_ffff_ffff_ffff.
    assert_eq!(run(wat, 3), -1);
    // 100 - 0 + 0 = 100 → 100 >> 1 = 50.
    assert_eq!(run(wat, 0), 50);
}

#[test]
fn a_select_may_write_a_local_it_reads() {
    // `local.set` retargets the select's result to the local; the select reads all its
    // operands (the second value sits in a data word) before writing.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.const 10))
        (local.set 2 (i32.const 20))
        (local.set 1 (select (local.get 2) (local.get 1) (local.get 0)))
        (local.set 2 (select (local.get 1) (local.get 2) (i32.eqz (local.get 0))))
        (i32.add (i32.mul (local.get 1) (i32.const 100)) (local.get 2))))"#;
    assert_eq!(run(wat, 1), 20 * 100 + 20);
    assert_eq!(run(wat, 0), 10 * 100 + 10);
}

#[test]
fn f64_results_flow_through_the_float_register() {
    // f64 results travel in a float register (`acc.f`), integer results in `acc.i`; 64-bit
    // loads and constants fill both. Each line hands a result to the next instruction in a
    // different position and type: first and second operand, f64 op after f64 op, after a
    // load and after a constant, a stored value, a reinterpretation each way, a comparison
    // feeding a branch.
    let wat = r#"(module (memory 1) (func (export "f") (param f64) (result f64) (local f64 i64)
        (local.set 1 (f64.add (f64.const 0.5) (f64.mul (local.get 0) (f64.const 3))))
        (local.set 1 (f64.sub (f64.sqrt (f64.mul (local.get 1) (local.get 1))) (local.get 0)))
        (f64.store (i32.const 8) (f64.div (local.get 1) (f64.const 2)))
        (local.set 1 (f64.add (local.get 0) (f64.load (i32.const 8))))
        (local.set 2 (i64.add (i64.load (i32.const 8)) (i64.const 0)))
        (local.set 1 (f64.mul (f64.reinterpret_i64 (i64.add (local.get 2) (i64.const 0))) (local.get 1)))
        (local.set 2 (i64.xor (i64.reinterpret_f64 (f64.neg (local.get 1))) (i64.const 0)))
        (if (f64.lt (f64.reinterpret_i64 (local.get 2)) (f64.const -1000))
          (then (local.set 1 (f64.const 1000))))
        (f64.add (f64.const 0.25) (local.get 1))))"#;
    let expected = |x: f64| {
        let l = 0.5 + x * 3.0;
        let l = (l * l).sqrt() - x;
        let stored = l / 2.0;
        let l = x + stored;
        let l = stored * l;
        let l = if -l < -1000.0 { 1000.0 } else { l };
        0.25 + l
    };
    for x in [2.0, -7.5, 30.0, 0.0] {
        assert_eq!(run_f64(wat, x), expected(x), "f({x})");
    }
}

#[test]
fn a_branch_target_reads_its_f64_operand_from_the_slot() {
    // As `a_branch_target_reads_its_operand_from_the_slot`, for the float register: when the
    // `br_if` is taken, the last f64 result computed is 77.5, not local 1.
    let wat = r#"(module (func (export "f") (param f64) (result f64) (local f64 f64)
        (block $b
          (local.set 1 (f64.add (local.get 0) (f64.const 5)))
          (local.set 2 (f64.add (local.get 0) (f64.const 77.5)))
          (br_if $b (f64.eq (local.get 0) (f64.const 0)))
          (local.set 1 (f64.add (local.get 1) (f64.const 1))))
        (f64.mul (local.get 1) (f64.const 3))))"#;
    assert_eq!(run_f64(wat, 0.0), 15.0);
    assert_eq!(run_f64(wat, 1.0), 21.0);
}

#[test]
fn a_result_is_stored_unless_the_next_op_overwrites_it_unread() {
    // `lower` drops a result's store when the next op reads the value from the register and
    // then overwrites the slot. Here the next op also reads the slot a second time (x * x),
    // or writes another slot and leaves the first one live: both stores must stay.
    let wat = r#"(module (func (export "f") (param i32) (result i32) (local i32)
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (local.set 0 (i32.mul (local.get 0) (local.get 0)))
        (local.set 0 (i32.add (local.get 0) (i32.const 2)))
        (local.set 1 (i32.mul (local.get 0) (i32.const 3)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 5)))
        (local.set 0 (i32.xor (local.get 0) (i32.const 0x55)))
        (i32.add (local.get 0) (local.get 1))))"#;
    let expected = |x: i32| {
        let a = (x + 1) * (x + 1) + 2;
        let b = a * 3;
        ((a - 5) ^ 0x55) + b
    };
    for x in [0, 3, -9, 1000] {
        assert_eq!(run(wat, x), expected(x), "f({x})");
    }
}
