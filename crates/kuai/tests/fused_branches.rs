//! The translator fuses a compare followed by `if` or `br_if` into one compare-and-branch
//! instruction. Every fusable compare, on operands that differ only in their upper bits or
//! sign, must branch exactly as the unfused compare's value says.
//!
//! (Found by CPython: `i64.eqz` + `br_if` was fused into a 32-bit test.)

use kuai::{Engine, Instance, Module, Store};

const I64_VALUES: [i64; 8] = [0, 1, -1, 1 << 32, (1 << 32) + 1, i64::MIN, i64::MAX, 0xffff_ffff];
const I32_VALUES: [i32; 6] = [0, 1, -1, i32::MIN, i32::MAX, 0x7fff];

/// A module with, per compare `op` of type `ty`: `value_OP` (the compare's value),
/// `if_OP` (an `if` on it), `brif_OP` (a `br_if` on it), `brifnot_OP` (a `br_if` on its
/// `eqz`), and the same with a constant right operand `C` (`*_imm` variants).
fn module(ty: &str, ops: &[&str], c: i64) -> String {
    let mut m = String::from("(module\n");
    for op in ops {
        let (params, args, arg1) = if *op == "eqz" {
            (format!("(param {ty})"), "(local.get 0)".to_string(), String::new())
        } else {
            (
                format!("(param {ty} {ty})"),
                "(local.get 0) (local.get 1)".to_string(),
                format!("(local.get 0) ({ty}.const {c})"),
            )
        };
        let cmp = format!("({ty}.{op} {args})");
        m += &format!("(func (export \"value_{op}\") {params} (result i32) {cmp})\n");
        m += &format!(
            "(func (export \"if_{op}\") {params} (result i32) (if (result i32) {cmp} (then (i32.const 1)) (else (i32.const 0))))\n"
        );
        m += &format!(
            "(func (export \"brif_{op}\") {params} (result i32) (block (br_if 0 {cmp}) (return (i32.const 0))) (i32.const 1))\n"
        );
        m += &format!(
            "(func (export \"brifnot_{op}\") {params} (result i32) (block (br_if 0 (i32.eqz {cmp})) (return (i32.const 1))) (i32.const 0))\n"
        );
        if !arg1.is_empty() {
            let cmp = format!("({ty}.{op} {arg1})");
            m += &format!("(func (export \"imm_value_{op}\") {params} (result i32) {cmp})\n");
            m += &format!(
                "(func (export \"imm_if_{op}\") {params} (result i32) (if (result i32) {cmp} (then (i32.const 1)) (else (i32.const 0))))\n"
            );
            m += &format!(
                "(func (export \"imm_brifnot_{op}\") {params} (result i32) (block (br_if 0 (i32.eqz {cmp})) (return (i32.const 1))) (i32.const 0))\n"
            );
        }
    }
    m + ")"
}

const OPS: [&str; 11] = ["eqz", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];

fn check<P: kuai::WasmParams + Copy + std::fmt::Debug>(
    store: &mut Store<()>,
    instance: &Instance,
    op: &str,
    args: P,
    imm: bool,
) {
    let prefix = if imm { "imm_" } else { "" };
    let mut call = |name: &str| {
        let f = instance.get_typed_func::<P, i32>(&*store, &format!("{prefix}{name}_{op}")).unwrap();
        f.call(&mut *store, args).unwrap()
    };
    let want = call("value");
    assert_eq!(call("if"), want, "{prefix}if {op} {args:?}");
    assert_eq!(call("brifnot"), want, "{prefix}br_if(eqz) {op} {args:?}");
    if !imm {
        assert_eq!(call("brif"), want, "br_if {op} {args:?}");
    }
}

#[test]
fn fused_i64_branches_agree_with_the_compare() {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let c = 1i64 << 32;
    let module = Module::new(&engine, module("i64", &OPS, c)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for op in OPS {
        for a in I64_VALUES {
            if op == "eqz" {
                check(&mut store, &instance, op, a, false);
                continue;
            }
            for b in I64_VALUES {
                check(&mut store, &instance, op, (a, b), false);
            }
            check(&mut store, &instance, op, (a, 0i64), true);
        }
    }
    // The bug this test was written for: the low 32 bits are zero, the value is not.
    let eqz = instance.get_typed_func::<i64, i32>(&store, "brif_eqz").unwrap();
    assert_eq!(eqz.call(&mut store, 1 << 32).unwrap(), 0);
}

#[test]
fn fused_i32_branches_agree_with_the_compare() {
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    let module = Module::new(&engine, module("i32", &OPS, 0x7fff)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for op in OPS {
        for a in I32_VALUES {
            if op == "eqz" {
                check(&mut store, &instance, op, a, false);
                continue;
            }
            for b in I32_VALUES {
                check(&mut store, &instance, op, (a, b), false);
            }
            check(&mut store, &instance, op, (a, 0i32), true);
        }
    }
}

#[test]
fn fused_i64_branches_on_small_constants_agree_with_the_compare() {
    // Constants that fit an i32 immediate (sign-extended to 64 bits): the `BrI64*Imm` forms.
    let engine = Engine::new(kuai::Config::new().strategy(kuai::Strategy::Interpret));
    for c in [-1i64, 5, i32::MIN as i64] {
        let module = Module::new(&engine, module("i64", &OPS, c)).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        for op in &OPS[1..] {
            for a in I64_VALUES.into_iter().chain([c, c - 1, c + 1, c as u32 as i64]) {
                check(&mut store, &instance, op, (a, 0i64), true);
            }
        }
    }
}
