//! Fuzz target (a): arbitrary bytes through decoding, validation, instantiation and
//! execution in Kuai alone. Whatever the bytes, Kuai must return (an error is fine): no
//! panic, no abort, no hang.
//!
//! Every import is satisfied with a dummy of its type (functions return zeros), the store
//! is bounded by [`kuai::StoreLimits`], and all calls share [`FUEL`] units of fuel, so
//! every input ends quickly. Every function is translated eagerly, so the translator sees
//! all the code even when nothing calls it (under the compiler, half the inputs compile
//! lazily instead).

use kuai::{Config, Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, Store, Table, Val};
use kuai::{StoreLimits, StoreLimitsBuilder, Strategy};

/// Fuel for instantiation (start function) plus every call.
pub const FUEL: u64 = 20_000;

/// How far an input got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Decoding or validation rejected it.
    Rejected,
    /// It compiled but could not be instantiated (a limit, a trap in the start function).
    Compiled,
    /// It was instantiated and `calls` exports were called.
    Ran {
        /// Exported functions called.
        calls: usize,
    },
}

fn engine(strategy: Strategy, lazy: bool) -> Engine {
    let mut config = Config::new();
    config.wasm_simd(true).wasm_multi_memory(true).consume_fuel(true).eager_translation(!lazy).max_call_depth(10_000);
    config.strategy(strategy).lazy_validation(lazy);
    Engine::new(&config)
}

/// A stand-in for an import of type `ty`, or `None` if the store refuses to create it.
fn dummy(store: &mut Store<StoreLimits>, ty: &ExternType) -> Option<Extern> {
    Some(match ty {
        ExternType::Func(ft) => Func::new(store, ft.clone(), |_, _, _| Ok(())).into(),
        ExternType::Memory(mt) => Memory::new(store, *mt).ok()?.into(),
        ExternType::Table(tt) => Table::new(store, *tt, Val::default_for(tt.element())).ok()?.into(),
        ExternType::Global(gt) => Global::new(store, *gt, Val::default_for(gt.content())).ok()?.into(),
    })
}

/// Runs `bytes` as a module: compile, instantiate with dummy imports, call every export.
pub fn run_bytes(bytes: &[u8]) -> Reached {
    run_bytes_with(bytes, Strategy::Interpret)
}

/// [`run_bytes`] under `strategy` (the compiled tier: every function compiled by Cranelift,
/// with the same fuel).
///
/// Under the compiler, inputs of odd length compile lazily, with lazy validation: their
/// functions are validated and compiled when first called.
pub fn run_bytes_with(bytes: &[u8], strategy: Strategy) -> Reached {
    let lazy = strategy == Strategy::Compile && bytes.len() % 2 == 1;
    let engine = engine(strategy, lazy);
    let Ok(module) = Module::from_binary(&engine, bytes) else { return Reached::Rejected };
    let limits = StoreLimitsBuilder::new().memory_size(16 << 20).table_elements(100_000).instances(4).build();
    let mut store = Store::new(&engine, limits);
    store.limiter(|limits| limits);
    if store.set_fuel(FUEL).is_err() {
        return Reached::Compiled;
    }
    let mut imports = Vec::new();
    for import in module.imports() {
        match dummy(&mut store, import.ty()) {
            Some(ext) => imports.push(ext),
            None => return Reached::Compiled,
        }
    }
    let Ok(instance) = Instance::new(&mut store, &module, &imports) else { return Reached::Compiled };
    let mut calls = 0;
    for (_, export) in instance.exports(&store) {
        let Extern::Func(f) = export else { continue };
        let ty = f.ty(&store);
        let params: Vec<Val> = ty.params().iter().map(|&t| Val::default_for(t)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        let _ = f.call(&mut store, &params, &mut results);
        calls += 1;
    }
    Reached::Ran { calls }
}
