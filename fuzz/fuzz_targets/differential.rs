//! libFuzzer target (b): bytes → `wasm-smith` module (through `arbitrary`) → Kuai and
//! wasmi → compare results, traps, globals and memories. A disagreement is a crash.
//! `cargo +nightly fuzz run differential --features libfuzzer` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(wasm) = kuai_fuzz::generate(data)
        && let Err(mismatch) = kuai_fuzz::compare(&wasm)
    {
        panic!("kuai and wasmi disagree: {mismatch}");
    }
});
