//! Fuzz target (a) without libFuzzer (stable Rust): bytes → decode → validate →
//! instantiate → run, in Kuai alone (see `kuai_fuzz::run_bytes`). Must never panic,
//! abort or hang.
//!
//! ```text
//! cargo run --release --bin run_bytes -- [--seed N] [--iterations N] [--seconds S] [--out DIR]
//! cargo run --release --bin run_bytes -- --replay FILE
//! cargo run --release --bin run_bytes -- --write-seeds DIR N   # wasm-smith modules for libFuzzer
//! cargo run --release --bin run_bytes -- --compile [--seed N] ...  # under Strategy::Compile
//! ```
//!
//! Inputs: valid modules from `wasm-smith` (imports, several memories, SIMD), then
//! mutated copies of the latest one (bytes flipped, overwritten, inserted, removed,
//! truncated, LEB128 lengths bumped) and now and then plain random bytes. A panic saves the
//! input as `DIR/panic-SEED-I.wasm`; an input running longer than [`HANG_SECONDS`] is
//! saved as `hang-SEED-I.wasm` and stops the run. Exit status 1 if there was a finding.

use kuai_fuzz::{Reached, Rng, generate_any, run_bytes_with};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// An input taking longer than this is a hang.
const HANG_SECONDS: u64 = 10;

/// Where the last panic happened, recorded by the panic hook.
static PANIC_AT: Mutex<String> = Mutex::new(String::new());
/// The input being run, for the watchdog.
static CURRENT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Milliseconds since the start at which the current input started (0: idle).
static STARTED_MS: AtomicU64 = AtomicU64::new(0);

/// A mutated copy of `seed`.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.next_u64() % 4 {
        if out.is_empty() {
            out = rng.bytes(16);
        }
        let at = (rng.next_u64() % out.len() as u64) as usize;
        match rng.next_u64() % 6 {
            0 => out[at] ^= 1 << (rng.next_u64() % 8),
            1 => out[at] = rng.next_u64() as u8,
            2 => out.insert(at, rng.next_u64() as u8),
            3 => {
                out.remove(at);
            }
            4 => out.truncate(at.max(8)),
            // Section and vector lengths are LEB128: nudging a byte's low bits changes
            // a count or size while keeping the rest decodable for longer.
            _ => out[at] = out[at].wrapping_add(1 + (rng.next_u64() % 3) as u8),
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let strategy = match args.iter().any(|a| a == "--compile") {
        true => kuai::Strategy::Compile,
        false => kuai::Strategy::Interpret,
    };
    let run_bytes = |bytes: &[u8]| run_bytes_with(bytes, strategy);
    if let Some(file) = opt("--replay") {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        println!("{file}: {:?}", run_bytes(&bytes));
        return;
    }
    if let Some(dir) = opt("--write-seeds") {
        let n: usize = args.last().and_then(|s| s.parse().ok()).unwrap_or(100);
        let _ = std::fs::create_dir_all(&dir);
        let mut rng = Rng::new(1);
        let mut written = 0;
        while written < n {
            let len = 64 + (rng.next_u64() % 4096) as usize;
            if let Some(wasm) = generate_any(&rng.bytes(len)) {
                let _ = std::fs::write(format!("{dir}/seed-{written}.wasm"), wasm);
                written += 1;
            }
        }
        println!("wrote {n} seeds to {dir}");
        return;
    }
    let seed: u64 = opt("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let iterations: u64 = opt("--iterations").and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let seconds: u64 = opt("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
    let out = opt("--out").unwrap_or_else(|| "findings".to_string());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut p) = PANIC_AT.lock() {
            *p = format!("{at}: {}", info.payload_as_str().unwrap_or(""));
        }
    }));
    {
        let out = out.clone();
        std::thread::spawn(move || watchdog(start, seed, &out));
    }
    let mut rng = Rng::new(seed);
    let (mut execs, mut rejected, mut compiled, mut ran, mut calls, mut panics) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut base: Vec<u8> = Vec::new();
    let mut slowest = Duration::ZERO;
    while execs < iterations && Instant::now() < deadline {
        let input = match rng.next_u64() % 64 {
            0 => {
                let len = 64 + (rng.next_u64() % 4096) as usize;
                match generate_any(&rng.bytes(len)) {
                    Some(wasm) => {
                        base = wasm.clone();
                        wasm
                    }
                    None => continue,
                }
            }
            1 => {
                let len = (rng.next_u64() % 256) as usize;
                rng.bytes(len)
            }
            _ if base.is_empty() => continue,
            _ => mutate(&mut rng, &base),
        };
        execs += 1;
        if let Ok(mut c) = CURRENT.lock() {
            c.clone_from(&input);
        }
        let began = Instant::now();
        STARTED_MS.store(began.duration_since(start).as_millis() as u64 + 1, Ordering::Relaxed);
        let result = std::panic::catch_unwind(|| run_bytes(&input));
        STARTED_MS.store(0, Ordering::Relaxed);
        slowest = slowest.max(began.elapsed());
        match result {
            Ok(Reached::Rejected) => rejected += 1,
            Ok(Reached::Compiled) => compiled += 1,
            Ok(Reached::Ran { calls: n }) => {
                ran += 1;
                calls += n as u64;
            }
            Err(_) => {
                panics += 1;
                let _ = std::fs::create_dir_all(&out);
                let path = format!("{out}/panic-{seed}-{execs}.wasm");
                let _ = std::fs::write(&path, &input);
                let at = PANIC_AT.lock().map(|p| p.clone()).unwrap_or_default();
                println!("panic {panics} ({path}): {at}");
            }
        }
    }
    println!(
        "seed {seed}: {execs} executions in {:.0} s ({rejected} rejected, {compiled} compiled only, \
         {ran} instantiated and run, {calls} calls), {panics} panics, slowest input {:.1} ms",
        start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3
    );
    if panics > 0 {
        std::process::exit(1);
    }
}

/// Saves the current input and stops the process if it runs longer than [`HANG_SECONDS`].
fn watchdog(start: Instant, seed: u64, out: &str) {
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let began = STARTED_MS.load(Ordering::Relaxed);
        let now = start.elapsed().as_millis() as u64 + 1;
        if began != 0 && now.saturating_sub(began) > HANG_SECONDS * 1000 {
            let _ = std::fs::create_dir_all(out);
            let path = format!("{out}/hang-{seed}-{began}.wasm");
            if let Ok(input) = CURRENT.lock() {
                let _ = std::fs::write(&path, &*input);
            }
            println!("hang: an input ran for more than {HANG_SECONDS} s ({path})");
            std::process::exit(1);
        }
    }
}
