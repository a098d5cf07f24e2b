//! Instantiation benchmark (issue: fast instantiation for serverless and plugin hosts): how
//! long a host takes to make a fresh store, instantiate a module in it through an
//! `InstancePre`, and call a trivial export — for a module with 1 MiB of data and for one
//! without — under Kuai and under the `wasmtime` crate, both with their pooling allocators
//! and copy-on-write memory images (their fastest setups; Kuai's default strategy),
//! side by side in one process.
//!
//! ```text
//! cd fuzz && cargo run --release --features wasmtime --bin instantiate [-- ITERATIONS ROUNDS]
//! ```
//!
//! Each round runs ITERATIONS instances (default 10,000) per engine and module, engines
//! interleaved; the report is the median over ROUNDS (default 7) of the time per instance,
//! in microseconds, as a markdown table. Lives in the fuzz workspace because the wasmtime
//! crate is built there.

use std::time::Instant;

/// The two modules: `f` reads a byte of the data (so the memory is really set up) and
/// returns it; the data-less module's `f` reads its memory too.
fn modules() -> [(&'static str, String); 2] {
    let mut data = String::with_capacity(3 << 20);
    for i in 0..(1u32 << 20) {
        data.push_str(&format!("\\{:02x}", (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    }
    let with_data = format!(
        r#"(module (memory 17) (data (i32.const 4096) "{data}")
             (func (export "f") (result i32) (i32.load8_u (i32.const 5000))))"#
    );
    let without = r#"(module (memory 17)
             (func (export "f") (result i32) (i32.load8_u (i32.const 5000))))"#;
    [("1 MiB of data", with_data), ("no data", without.to_string())]
}

fn kuai_bench(wat: &str, iterations: u32) -> impl FnMut() -> f64 {
    let mut config = kuai::Config::new();
    config.allocation_strategy(kuai::InstanceAllocationStrategy::Pooling(kuai::PoolingAllocationConfig::default()));
    let engine = kuai::Engine::new(&config);
    let module = kuai::Module::new(&engine, wat).expect("kuai: module");
    let linker = kuai::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&module).expect("kuai: instantiate_pre");
    let expected = run_kuai(&engine, &pre);
    move || {
        let start = Instant::now();
        for _ in 0..iterations {
            assert_eq!(run_kuai(&engine, &pre), expected);
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
    }
}

fn run_kuai(engine: &kuai::Engine, pre: &kuai::InstancePre<()>) -> i32 {
    let mut store = kuai::Store::new(engine, ());
    let instance = pre.instantiate(&mut store).expect("kuai: instantiate");
    let f = instance.get_typed_func::<(), i32>(&store, "f").expect("kuai: f");
    f.call(&mut store, ()).expect("kuai: call")
}

#[cfg(feature = "wasmtime")]
fn wasmtime_bench(wat: &str, iterations: u32) -> impl FnMut() -> f64 {
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(
        wasmtime::PoolingAllocationConfig::default(),
    ));
    config.memory_init_cow(true);
    let engine = wasmtime::Engine::new(&config).expect("wasmtime: engine");
    let bytes = wat::parse_str(wat).expect("wat");
    let module = wasmtime::Module::new(&engine, &bytes).expect("wasmtime: module");
    let linker = wasmtime::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&module).expect("wasmtime: instantiate_pre");
    let run = move |engine: &wasmtime::Engine| {
        let mut store = wasmtime::Store::new(engine, ());
        let instance = pre.instantiate(&mut store).expect("wasmtime: instantiate");
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").expect("wasmtime: f");
        f.call(&mut store, ()).expect("wasmtime: call")
    };
    let expected = run(&engine);
    move || {
        let start = Instant::now();
        for _ in 0..iterations {
            assert_eq!(run(&engine), expected);
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    println!("| module | Kuai (µs per instance) | wasmtime, pooling + copy-on-write (µs) | ratio |");
    println!("|---|---:|---:|---:|");
    for (name, wat) in modules() {
        let mut kuai = kuai_bench(&wat, iterations);
        #[cfg(feature = "wasmtime")]
        let mut wasmtime = wasmtime_bench(&wat, iterations);
        let mut k = Vec::new();
        #[cfg(feature = "wasmtime")]
        let mut w = Vec::new();
        #[cfg(not(feature = "wasmtime"))]
        let w: Vec<f64> = Vec::new();
        for _ in 0..rounds {
            k.push(kuai());
            #[cfg(feature = "wasmtime")]
            w.push(wasmtime());
        }
        let k = median(k);
        if w.is_empty() {
            println!("| {name} | {k:.2} | – | – |");
        } else {
            let w = median(w);
            println!("| {name} | {k:.2} | {w:.2} | {:.2} |", k / w);
        }
    }
}
