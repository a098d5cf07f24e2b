//! The runner's handling of each directive, on small hand-written scripts.

use kuai_wast::{FailureReason, Location, Stage, WastReport, run_wast};

fn run(src: &str) -> WastReport {
    match run_wast(src, "test.wast") {
        Ok(report) => report,
        Err(e) => panic!("script did not run: {e}"),
    }
}

/// Runs `src` and checks that every directive passed.
fn passes(src: &str) -> WastReport {
    let report = run(src);
    let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    report
}

#[test]
fn values_nans_and_references() {
    let report = passes(
        r#"
        (module
          (func (export "id32") (param f32) (result f32) (local.get 0))
          (func (export "nan64") (result f64) (f64.div (f64.const 0) (f64.const 0)))
          (func (export "ext") (param externref) (result externref) (local.get 0))
          (func (export "null") (result funcref) (ref.null func))
          (func $f (export "fref") (result funcref) (ref.func $f))
          (func (export "multi") (result i32 i64) (i32.const -1) (i64.const 5)))
        (assert_return (invoke "id32" (f32.const -0)) (f32.const -0))
        (assert_return (invoke "id32" (f32.const nan:0x600000)) (f32.const nan:arithmetic))
        (assert_return (invoke "nan64") (f64.const nan:canonical))
        (assert_return (invoke "ext" (ref.extern 7)) (ref.extern 7))
        (assert_return (invoke "ext" (ref.null extern)) (ref.null extern))
        (assert_return (invoke "null") (ref.null func))
        (assert_return (invoke "fref") (ref.func))
        (assert_return (invoke "multi") (i32.const -1) (i64.const 5))
        "#,
    );
    assert_eq!(report.passed, 9);
}

#[test]
fn wrong_values_are_reported() {
    let report = run(r#"
        (module (func (export "f") (param externref) (result externref) (local.get 0)))
        (assert_return (invoke "f" (ref.extern 1)) (ref.extern 2))
        (assert_return (invoke "f" (ref.extern 1)))
        "#);
    assert_eq!((report.passed, report.failed()), (1, 2));
    assert_eq!(report.failures[0].location, Location { line: 3, col: 10 });
    match &report.failures[0].reason {
        FailureReason::WrongResults { expected, actual } => {
            assert_eq!(expected, "[ref.extern 2]");
            assert_eq!(actual, "[ref.extern 1]");
        }
        other => panic!("unexpected reason {other}"),
    }
}

#[test]
fn named_modules_register_and_get() {
    passes(
        r#"
        (module $A (global (export "g") (mut i32) (i32.const 1))
                   (func (export "set") (param i32) (global.set 0 (local.get 0))))
        (register "a" $A)
        (module $B (global (import "a" "g") (mut i32))
                   (func (export "get") (result i32) (global.get 0)))
        (invoke $A "set" (i32.const 42))
        (assert_return (get $A "g") (i32.const 42))
        (assert_return (invoke $B "get") (i32.const 42))
        (assert_return (invoke "get") (i32.const 42))
        (module (func (export "get") (result i32) (i32.const 3)))
        (assert_return (invoke "get") (i32.const 3))
        (assert_return (invoke $B "get") (i32.const 42))
        "#,
    );
}

#[test]
fn spectest_module() {
    passes(
        r#"
        (module
          (import "spectest" "print_i32" (func $p (param i32)))
          (import "spectest" "print_f64_f64" (func (param f64 f64)))
          (import "spectest" "print" (func))
          (import "spectest" "global_i32" (global $g i32))
          (import "spectest" "global_f32" (global $gf f32))
          (import "spectest" "table" (table 10 20 funcref))
          (import "spectest" "memory" (memory 1 2))
          (func (export "g") (result i32) (call $p (global.get $g)) (global.get $g))
          (func (export "gf") (result f32) (global.get $gf))
          (func (export "grow") (result i32) (memory.grow (i32.const 1))))
        (assert_return (invoke "g") (i32.const 666))
        (assert_return (invoke "gf") (f32.const 666.6))
        (assert_return (invoke "grow") (i32.const 1))
        (assert_return (invoke "grow") (i32.const -1))
        "#,
    );
}

#[test]
fn traps_and_exhaustion() {
    passes(
        r#"
        (module
          (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
          (func $loop (export "loop") (call $loop)))
        (assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
        (assert_exhaustion (invoke "loop") "call stack exhausted")
        (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
        "#,
    );
    let report = run(r#"
        (module (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))
        (assert_trap (invoke "div" (i32.const 0)) "integer overflow")
        (assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
        "#);
    assert_eq!(report.failed(), 2);
    assert!(matches!(report.failures[0].reason, FailureReason::WrongTrap { .. }));
    assert!(matches!(report.failures[1].reason, FailureReason::NoTrap { .. }));
}

#[test]
fn rejected_modules() {
    let report = passes(
        r#"
        (assert_malformed (module binary "\00asm\01\00\00") "unexpected end")
        (assert_malformed (module quote "(func (i32.add") "unexpected token")
        (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
        (assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import")
        (assert_unlinkable (module (import "spectest" "print_i32" (func (param i64)))) "incompatible import type")
        "#,
    );
    assert_eq!(report.passed, 5);
    assert_eq!(report.text_rejections, 1);
}

#[test]
fn accepted_modules_fail_rejection_assertions() {
    let report = run(r#"
        (assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")
        (assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")
        (assert_unlinkable (module) "unknown import")
        "#);
    assert_eq!(report.failed(), 3);
    let stages: Vec<Stage> = report
        .failures
        .iter()
        .filter_map(|f| match f.reason {
            FailureReason::Accepted { stage, .. } => Some(stage),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [Stage::Invalid, Stage::Malformed, Stage::Unlinkable]);
}

#[test]
fn message_mismatches_are_counted_not_failed() {
    let report = run(r#"(assert_invalid (module (func (result i32) (i64.const 0))) "no such message")"#);
    assert_eq!((report.passed, report.failed()), (1, 0));
    assert_eq!(report.message_mismatches.len(), 1);
    assert_eq!(report.message_mismatches[0].expected, "no such message");
}

#[test]
fn a_failed_module_is_not_the_current_one() {
    let report = run(r#"
        (module (func (export "f") (result i32) (i32.const 1)))
        (module (import "nowhere" "g" (func)) (func (export "f") (result i32) (i32.const 2)))
        (assert_return (invoke "f") (i32.const 1))
        (assert_return (invoke $missing "f") (i32.const 1))
        (assert_return (invoke "f") (i32.const 1))
        "#);
    assert_eq!(report.passed, 1);
    assert!(matches!(report.failures[0].reason, FailureReason::Instantiate(_)));
    assert!(matches!(report.failures[1].reason, FailureReason::NoCurrentModule));
    assert!(matches!(report.failures[2].reason, FailureReason::UnknownModule(_)));
    assert_eq!(report.failed(), 4);
}

#[test]
fn script_and_directive_errors_do_not_stop_the_run() {
    let report = run(r#"
        (module (func (export "f")))
        (assert_return (invoke "nope"))
        (assert_return (invoke "f" (ref.host 1)))
        (thread $t (invoke "f"))
        (assert_return (invoke "f"))
        "#);
    assert_eq!((report.passed, report.failed()), (2, 3));
    assert!(matches!(report.failures[0].reason, FailureReason::UnknownExport(_)));
    assert!(matches!(report.failures[1].reason, FailureReason::UnsupportedValue(_)));
    assert!(matches!(report.failures[2].reason, FailureReason::UnsupportedDirective(_)));
}
