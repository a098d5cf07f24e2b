//! Differential testing without libFuzzer (stable Rust): random bytes → `wasm-smith`
//! module → run in Kuai and in wasmi → compare (see the library docs).
//!
//! ```text
//! cargo run --release --bin differential -- [--seed N] [--iterations N] [--seconds S] [--out DIR]
//! cargo run --release --bin differential -- --replay FILE.wasm [--tiered]
//! cargo run --release --bin differential -- --tiers [--seed N] ...   # interpreter vs compiled
//! cargo run --release --bin differential -- --tiered [--seed N] ...  # interpreter vs tiered
//! ```
//!
//! With `--tiered`, each module runs in Kuai's interpreter and tiered (`Strategy::Tiered`
//! with a tier-up threshold, background compilation or not, and tier switches at calls or
//! only at loop heads picked by a hash of the module), metered modules with a finite fuel
//! budget whose remainder must agree after every step.
//!
//! With `--tiers`, each module runs in Kuai's interpreter and in its compiled tier
//! (`Strategy::Compile`) instead of Kuai and wasmi; modules the compiler refuses (an
//! implementation limit; none are known) are counted and skipped; with `--features wasmtime`, a
//! disagreement is also run against wasmtime, to tell which tier is wrong.
//!
//! Each disagreement is printed and its module saved as `DIR/diff-SEED-I.wasm`
//! (default `findings/`), a panic in Kuai as `panic-SEED-I.wasm`; the exit status is 1 if
//! there was any. A panic inside the oracle is counted and saved as
//! `oracle-panic-SEED-I.wasm`, not as a finding.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the last panic happened, recorded by the panic hook.
static PANIC_AT: Mutex<String> = Mutex::new(String::new());

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if let Some(file) = opt("--replay") {
        let wasm = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        if args.iter().any(|a| a == "--tiered") {
            match kuai_fuzz::compare_tiered(&wasm) {
                Ok(calls) => println!("{file}: interpreter and tiered agree ({calls} calls)"),
                Err(m) => {
                    println!("{file}: {m}");
                    std::process::exit(1);
                }
            }
            return;
        }
        match kuai_fuzz::compare(&wasm) {
            Ok(calls) => println!("{file}: agree ({calls} calls)"),
            Err(m) => {
                println!("{file}: {m}");
                #[cfg(feature = "wasmtime")]
                match kuai_fuzz::compare_with::<kuai_fuzz::KuaiRunner, kuai_fuzz::WasmtimeRunner>(&wasm) {
                    Ok(_) => println!("{file}: wasmtime agrees with kuai: wasmi's disagreement"),
                    Err(m) => println!("{file}: wasmtime also disagrees with kuai: {m}"),
                }
                std::process::exit(1);
            }
        }
        return;
    }
    let tiers = args.iter().any(|a| a == "--tiers");
    let tiered = args.iter().any(|a| a == "--tiered");
    let seed: u64 = opt("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let iterations: u64 = opt("--iterations").and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let seconds: u64 = opt("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let out = opt("--out").unwrap_or_else(|| "findings".to_string());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rng = kuai_fuzz::Rng::new(seed);
    let (mut modules, mut calls, mut findings, mut oracle_panics) = (0u64, 0usize, 0usize, 0usize);
    #[allow(unused_mut)]
    let mut oracle_disagreements = 0usize;
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut p) = PANIC_AT.lock() {
            *p = format!("{at}: {}", info.payload_as_str().unwrap_or(""));
        }
    }));
    let mut skipped = 0u64;
    let mut i = 0u64;
    while i < iterations && Instant::now() < deadline {
        i += 1;
        let len = 64 + (rng.next_u64() % 8192) as usize;
        let bytes = rng.bytes(len);
        let Some(wasm) = kuai_fuzz::generate(&bytes) else { continue };
        modules += 1;
        let outcome = std::panic::catch_unwind(|| match (tiers, tiered) {
            (_, true) => kuai_fuzz::compare_tiered(&wasm).map(Ok),
            (true, false) => kuai_fuzz::compare_tiers(&wasm).map(|calls| calls.ok_or(())),
            (false, false) => kuai_fuzz::compare(&wasm).map(Ok),
        });
        let outcome = match outcome {
            Ok(Ok(Err(()))) => {
                skipped += 1;
                continue;
            }
            Ok(Ok(Ok(calls))) => Ok(Ok(calls)),
            Ok(Err(m)) => Ok(Err(m)),
            Err(e) => Err(e),
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(_) => {
                let at = PANIC_AT.lock().map(|p| p.clone()).unwrap_or_default();
                let _ = std::fs::create_dir_all(&out);
                if at.contains("/wasmi") {
                    // The oracle crashed: not Kuai's finding, but keep the module.
                    oracle_panics += 1;
                    let path = format!("{out}/oracle-panic-{seed}-{i}.wasm");
                    let _ = std::fs::write(&path, &wasm);
                    println!("oracle panicked at {at} ({path})");
                    continue;
                }
                let path = format!("{out}/panic-{seed}-{i}.wasm");
                let _ = std::fs::write(&path, &wasm);
                Err(kuai_fuzz::Mismatch { step: "panic".into(), kuai: at, oracle: String::new() })
            }
        };
        // A disagreement with wasmi that wasmtime resolves in Kuai's favour is wasmi's.
        #[cfg(feature = "wasmtime")]
        let outcome = match outcome {
            Err(m) if tiered => Err(m),
            Err(m) if tiers => {
                let interp_right =
                    kuai_fuzz::compare_with::<kuai_fuzz::KuaiRunner, kuai_fuzz::WasmtimeRunner>(&wasm).is_ok();
                println!(
                    "tiers disagree; wasmtime agrees with the {}",
                    if interp_right { "interpreter" } else { "compiled tier (or neither)" }
                );
                Err(m)
            }
            Err(m) if kuai_fuzz::compare_with::<kuai_fuzz::KuaiRunner, kuai_fuzz::WasmtimeRunner>(&wasm).is_ok() => {
                oracle_disagreements += 1;
                let _ = std::fs::create_dir_all(&out);
                let path = format!("{out}/oracle-diff-{seed}-{i}.wasm");
                let _ = std::fs::write(&path, &wasm);
                println!("wasmi alone disagrees, wasmtime agrees with kuai ({path}): {}", m.step);
                continue;
            }
            other => other,
        };
        match outcome {
            Ok(n) => calls += n,
            Err(m) => {
                findings += 1;
                let _ = std::fs::create_dir_all(&out);
                let path = format!("{out}/diff-{seed}-{i}.wasm");
                let _ = std::fs::write(&path, &wasm);
                println!("finding {findings} ({path}): {m}");
            }
        }
    }
    let vs = match (tiers, tiered) {
        (_, true) => "interpreter vs tiered",
        (true, false) => "interpreter vs compiled",
        (false, false) => "kuai vs wasmi",
    };
    println!(
        "seed {seed} ({vs}): {modules} modules, {skipped} refused by the compiler, {calls} calls \
         compared, {findings} disagreements, {oracle_disagreements} wasmi-only disagreements, {oracle_panics} oracle panics"
    );
    if findings > 0 {
        std::process::exit(1);
    }
}
