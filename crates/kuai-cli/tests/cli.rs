//! End-to-end tests of the `kuai` binary: output, exit status and one-line errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kuai(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_kuai")).args(args).output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run kuai: {e}"),
    }
}

/// A file under `tests/data`.
fn data(name: &str) -> String {
    path(&["tests", "data", name])
}

fn path(parts: &[&str]) -> String {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    p.extend(parts);
    p.display().to_string()
}

fn fib_wat() -> String {
    path(&["..", "..", "examples", "fib.wat"])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command failed with status `code` and exactly one `error:` line on stderr.
fn assert_one_line_error(o: &Output, code: i32) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn run_fib_prints_the_result() {
    let o = kuai(&["run", "--invoke", "fib", &fib_wat(), "10"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "55\n");
    let o = kuai(&["run", "--invoke", "fib_iter", &fib_wat(), "0x5a"]);
    assert_eq!(stdout(&o), "2880067194370816120\n", "stderr: {}", stderr(&o));
}

#[test]
fn run_without_invoke_just_instantiates() {
    let o = kuai(&["run", &fib_wat()]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn missing_file_is_a_one_line_error() {
    let o = kuai(&["run", &data("no-such-file.wasm")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("no-such-file.wasm"));
}

#[test]
fn garbage_files_are_one_line_errors() {
    assert_one_line_error(&kuai(&["run", &data("garbage.wasm")]), 1);
    assert_one_line_error(&kuai(&["run", &data("truncated.wasm")]), 1);
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let o = kuai(&["run", "--invoke", "fib", &fib_wat()]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("takes 1 argument"), "{}", stderr(&o));
    assert_one_line_error(&kuai(&["run", "--invoke", "fib", &fib_wat(), "1", "2"]), 1);
    let o = kuai(&["run", "--invoke", "fib", &fib_wat(), "ten"]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("`ten`"), "{}", stderr(&o));
    assert_one_line_error(&kuai(&["run", "--invoke", "nope", &fib_wat()]), 1);
    // After the module, arguments are the guest's; a module without `_start` ignores them.
    let o = kuai(&["run", &fib_wat(), "5"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""), "stderr: {}", stderr(&o));
}

#[test]
fn negative_and_hex_arguments() {
    let o = kuai(&["run", "--invoke", "div", &data("trap.wat"), "-10", "0x2"]);
    assert_eq!(stdout(&o), "-5\n", "stderr: {}", stderr(&o));
}

#[test]
fn missing_import_is_a_link_error() {
    let o = kuai(&["run", &data("imports.wat")]);
    assert_one_line_error(&o, 1);
    assert!(stderr(&o).contains("env"), "{}", stderr(&o));
}

#[test]
fn trap_exits_like_wasmtime() {
    let o = kuai(&["run", "--invoke", "div", &data("trap.wat"), "1", "0"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(if cfg!(windows) { 3 } else { 134 }), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(err.lines().next().unwrap_or_default().contains("integer divide by zero"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}

#[test]
fn wast_passes_a_good_script() {
    let o = kuai(&["wast", &data("good.wast")]);
    assert!(o.status.success(), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o).lines().last(), Some("12 passed, 0 failed"), "stdout: {}", stdout(&o));
}

#[test]
fn wast_fails_a_wrong_script() {
    let o = kuai(&["wast", &data("good.wast"), &data("wrong.wast")]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("wrong.wast:4:2: assert_return"), "stdout: {out}");
    assert_eq!(out.lines().last(), Some("14 passed, 1 failed"), "stdout: {out}");
}

#[test]
fn wast_reports_unreadable_scripts_and_goes_on() {
    let o = kuai(&["wast", &data("missing.wast"), &data("good.wast")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: cannot read"), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o).lines().last(), Some("12 passed, 1 failed"));
}

#[test]
fn validate_good_and_bad() {
    let o = kuai(&["validate", &fib_wat()]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_one_line_error(&kuai(&["validate", &data("truncated.wasm")]), 1);
    assert_one_line_error(&kuai(&["validate", &data("garbage.wasm")]), 1);
}

#[test]
fn usage_errors_exit_with_1() {
    let o = kuai(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("panicked"));
    assert!(kuai(&["--help"]).status.success());
}
