//! Measures how fast Kuai decodes and validates a module, and how fast it translates every
//! function body, on one module file. Used by `scripts/bench.sh` for the start-up figures.
//!
//! ```text
//! cargo run --release -p kuai --example translate_all -- FILE.wasm [RUNS]
//! ```
//!
//! Prints tab-separated medians over RUNS (default 5): the module size in bytes, the time
//! of `Module::new` with lazy translation (decode + validate) and with eager translation
//! (decode + validate + translate every function), in milliseconds.

use kuai::{Config, Engine, Module};
use std::time::{Duration, Instant};

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

fn time_module_new(engine: &Engine, bytes: &[u8], runs: usize) -> Result<f64, kuai::Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let module = Module::new(engine, bytes)?;
        times.push(start.elapsed());
        drop(module);
    }
    Ok(median(times))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: translate_all FILE.wasm [RUNS]")?;
    let runs: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(5).max(1);
    let bytes = std::fs::read(path)?;
    let lazy = time_module_new(&Engine::default(), &bytes, runs)?;
    let mut config = Config::new();
    config.eager_translation(true);
    let eager = time_module_new(&Engine::new(&config), &bytes, runs)?;
    println!("bytes\t{}\nvalidate_ms\t{lazy:.2}\neager_ms\t{eager:.2}", bytes.len());
    Ok(())
}
