//! The interpreter hands each result to the next instruction in a register (`acc`), and an
//! instruction that reads the slot the previous one just wrote takes it from there
//! (`exec::threaded::lower`). That is only right when control arrives from that previous
//! instruction: at a branch target `acc` holds whatever the branching path computed last.

use kuai::{Engine, Instance, Module, Store};

fn run(wat: &str, arg: i32) -> i32 {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance.get_typed_func::<i32, i32>(&store, "f").expect("exported");
    f.call(&mut store, arg).expect("runs")
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
