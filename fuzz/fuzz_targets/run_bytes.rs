//! libFuzzer target (a): arbitrary bytes → decode, validate, instantiate, run with fuel.
//! `cargo +nightly fuzz run run_bytes --features libfuzzer` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kuai_fuzz::run_bytes(data);
});
