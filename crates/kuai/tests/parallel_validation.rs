//! Function bodies of big modules are validated on several threads
//! (`Config::parallel_compilation`); which error an invalid module reports must not depend
//! on it: always the first invalid body's, and before any error in a later section.

use kuai::{CompileErrorKind, Config, Engine, Error, Module};

/// Enough functions of about 400 bytes each to pass the 1 MiB threshold of parallel
/// validation several times over.
const FUNCS: usize = 6000;

/// A module of `FUNCS` functions; `bad(i)` gives function `i`'s body in place of the valid one.
fn module(bad: impl Fn(usize) -> Option<&'static str>, tail: &str) -> Vec<u8> {
    let valid = "(i32.const 1) ".repeat(130) + &"(i32.add) ".repeat(129);
    let mut text = String::from("(module (memory 1)\n");
    for i in 0..FUNCS {
        text += &format!("(func (result i32) {})\n", bad(i).unwrap_or(&valid));
    }
    text += tail;
    text += ")";
    wat::parse_str(&text).expect("the test module is well-formed text")
}

fn compile(bytes: &[u8], parallel: bool) -> Result<Module, Error> {
    let mut config = Config::new();
    config.parallel_compilation(parallel);
    Module::new(&Engine::new(&config), bytes)
}

/// The error's kind, message and offset, with and without parallel validation (which must agree).
fn error_of(bytes: &[u8]) -> (CompileErrorKind, String, Option<u64>) {
    let [serial, parallel] = [false, true].map(|p| match compile(bytes, p) {
        Err(Error::Compile(e)) => (e.kind(), e.message().to_string(), e.offset()),
        Err(other) => panic!("not a compile error: {other}"),
        Ok(_) => panic!("an invalid module was accepted (parallel: {p})"),
    });
    assert_eq!(serial, parallel);
    serial
}

#[test]
fn a_big_valid_module_validates_in_parallel() {
    let bytes = module(|_| None, "");
    assert!(bytes.len() > 2 << 20, "too small to be validated in parallel: {}", bytes.len());
    compile(&bytes, true).unwrap();
    compile(&bytes, false).unwrap();
}

#[test]
fn the_first_invalid_body_is_reported_whichever_thread_finds_it() {
    // Two invalid bodies far apart, in different batches: the thread that finds the first
    // stops, another goes on to find the second, which must not replace the first.
    let bytes = module(
        |i| match i {
            4000 => Some("(i64.const 0)"),
            5990 => Some("(f32.const 0)"),
            _ => None,
        },
        "",
    );
    let (kind, message, offset) = error_of(&bytes);
    assert_eq!(kind, CompileErrorKind::Invalid);
    assert!(message.contains("type mismatch"), "{message}");
    assert!(message.contains("i64"), "the later body's error was reported: {message}");
    let only_later = module(|i| (i == 5990).then_some("(f32.const 0)"), "");
    assert!(offset < error_of(&only_later).2);
}

#[test]
fn a_body_error_comes_before_an_error_in_a_later_section() {
    // An active data segment for a memory the module does not have: the data section,
    // after the code section, is invalid too.
    let bytes = module(|i| (i == 3000).then_some("(i64.const 0)"), "(data (memory 7) (i32.const 0) \"x\")");
    let (kind, message, _) = error_of(&bytes);
    assert_eq!(kind, CompileErrorKind::Invalid);
    assert!(message.contains("type mismatch"), "{message}");
    let later_only = module(|_| None, "(data (memory 7) (i32.const 0) \"x\")");
    let (_, message, _) = error_of(&later_only);
    assert!(message.contains("memory"), "{message}");
}

#[test]
fn a_malformed_body_is_told_from_an_invalid_one() {
    // An alignment exponent of 32 cannot be encoded in a memarg: malformed, not invalid.
    let bytes = module(|i| (i == 2500).then_some("(i32.load align=4294967296 (i32.const 0))"), "");
    let (kind, message, _) = error_of(&bytes);
    assert_eq!(kind, CompileErrorKind::Malformed, "{message}");
}
