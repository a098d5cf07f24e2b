//! The benchmark kernels (`bench/kernels/*.wasm`, WASI commands) at a small scale under
//! both strategies with fuel: the same output and the same fuel consumed; and with too
//! little fuel, both stop with "all fuel consumed by WebAssembly" having the same fuel
//! left (none that the next run could use).

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use kuai::{Config, Engine, Linker, Module, Store, Strategy};
use kuai_wasi::WasiCtx;
use std::sync::{Arc, Mutex};

/// Output captured from the guest's stdout.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `wasm` with arguments `[name, "1"]` and `fuel`: (stdout, outcome text, fuel left).
fn run(wasm: &[u8], name: &str, strategy: Strategy, fuel: u64) -> (String, String, u64) {
    let mut config = Config::new();
    config.strategy(strategy).consume_fuel(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).unwrap();
    let out = Captured::default();
    let ctx = WasiCtx::builder().args([name, "1"]).stdout(out.clone()).build();
    let mut linker = Linker::new(&engine);
    kuai_wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx).unwrap();
    let mut store = Store::new(&engine, ctx);
    store.set_fuel(fuel).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let outcome = match start.call(&mut store, ()) {
        Ok(()) => "returned".to_string(),
        Err(e) => e.to_string(),
    };
    let stdout = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    (stdout, outcome, store.get_fuel().unwrap())
}

#[test]
fn both_tiers_consume_the_same_fuel_on_the_benchmark_kernels() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/kernels");
    let mut kernels: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    kernels.sort();
    assert!(kernels.len() >= 14, "kernels not found in {dir}");
    for path in kernels {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let wasm = std::fs::read(&path).unwrap();
        let plenty = 1 << 40;
        let interp = run(&wasm, &name, Strategy::Interpret, plenty);
        let compiled = run(&wasm, &name, Strategy::Compile, plenty);
        assert_eq!(interp, compiled, "{name}");
        assert!(interp.0.starts_with(&name), "{name}: {interp:?}");
        // A budget that runs out two thirds of the way: both stop at the same run.
        let used = plenty - interp.2;
        let short = used * 2 / 3;
        let interp = run(&wasm, &name, Strategy::Interpret, short);
        let compiled = run(&wasm, &name, Strategy::Compile, short);
        assert_eq!(interp, compiled, "{name} with {short} of {used} fuel");
        assert!(interp.1.contains("all fuel consumed"), "{name}: {interp:?}");
    }
}
