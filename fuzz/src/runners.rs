//! One engine behind the [`Runner`] interface the comparison drives: compile,
//! instantiate (no imports), call an export with zero arguments, report the state.

use crate::{Outcome, State, hash, kuai_outcome, kuai_value, wasmi_outcome, wasmi_value};
#[cfg(feature = "wasmtime")]
use crate::{Value, f32_value, f64_value};

/// Kuai's fixed limit on table elements; oracles get the same, so that a `table.grow`
/// both may refuse is refused by both.
const TABLE_ELEMENTS: usize = 10 * 1024 * 1024;

/// An engine running one module.
pub trait Runner: Sized {
    /// Short name for messages.
    const NAME: &'static str;
    /// Compiles `wasm`; `Err` if the engine rejects it.
    fn compile(wasm: &[u8]) -> Result<Self, String>;
    /// Instantiates (segments, start function).
    fn instantiate(&mut self) -> Outcome;
    /// The exported functions' names, sorted.
    fn functions(&self) -> Vec<String>;
    /// Calls export `name` with zero-valued arguments.
    fn call(&mut self, name: &str) -> Outcome;
    /// Exported globals and memories.
    fn state(&mut self) -> State;
}

/// Kuai.
pub struct KuaiRunner {
    store: kuai::Store<()>,
    module: kuai::Module,
    instance: Option<kuai::Instance>,
}

impl Runner for KuaiRunner {
    const NAME: &'static str = "kuai";

    /// Every other module (by a hash of its bytes) runs with fuel metering and epoch
    /// checks compiled in, on unlimited fuel: they must not change any result.
    fn compile(wasm: &[u8]) -> Result<Self, String> {
        let metered = hash(wasm) & 1 == 1;
        let mut config = kuai::Config::new();
        config.strategy(kuai::Strategy::Interpret).consume_fuel(metered).epoch_interruption(metered);
        let engine = kuai::Engine::new(&config);
        let module = kuai::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = kuai::Store::new(&engine, ());
        if metered {
            store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
        }
        Ok(KuaiRunner { store, module, instance: None })
    }

    fn instantiate(&mut self) -> Outcome {
        let engine = self.module.engine().clone();
        let r = kuai::Linker::new(&engine).instantiate(&mut self.store, &self.module);
        kuai_outcome(r.map(|i| self.instance = Some(i)), |()| Vec::new())
    }

    fn functions(&self) -> Vec<String> {
        let Some(instance) = self.instance else { return Vec::new() };
        let mut names: Vec<String> = instance
            .exports(&self.store)
            .into_iter()
            .filter(|(_, e)| matches!(e, kuai::Extern::Func(_)))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
    }

    fn call(&mut self, name: &str) -> Outcome {
        let Some(f) = self.instance.and_then(|i| i.get_func(&self.store, name)) else {
            return Outcome::Error(format!("no function {name}"));
        };
        let ty = f.ty(&self.store);
        let params: Vec<kuai::Val> = ty.params().iter().map(|&t| kuai::Val::default_for(t)).collect();
        let mut results: Vec<kuai::Val> = ty.results().iter().map(|&t| kuai::Val::default_for(t)).collect();
        let r = f.call(&mut self.store, &params, &mut results);
        kuai_outcome(r, |()| results.iter().map(kuai_value).collect())
    }

    fn state(&mut self) -> State {
        let mut s = State::default();
        let Some(instance) = self.instance else { return s };
        for (name, ext) in instance.exports(&self.store) {
            match ext {
                kuai::Extern::Global(g) => s.globals.push((name, kuai_value(&g.get(&self.store)))),
                kuai::Extern::Memory(m) => {
                    let d = m.data(&self.store);
                    s.memories.push((name, hash(d), d.len()));
                }
                _ => {}
            }
        }
        s.sorted()
    }
}

/// Kuai's compiled tier (`Strategy::Compile`), on the same `Runner` as the interpreter.
pub struct KuaiCompiledRunner(KuaiRunner, bool);

impl KuaiCompiledRunner {
    /// Whether `error` (from [`Runner::compile`]) says the compiler refused the module
    /// (an implementation limit), rather than that the module is wrong.
    pub fn unsupported(error: &str) -> bool {
        error.contains("the compiler does not support") || error.contains("the compiled tier does not")
    }
}

impl Runner for KuaiCompiledRunner {
    const NAME: &'static str = "kuai-compile";

    /// Metered like [`KuaiRunner`] (every other module, unlimited fuel), so that the
    /// compiled fuel and epoch checks are exercised too; every other module (by another
    /// bit of the hash) compiled eagerly, the others lazily (the default). Every other
    /// module (a third bit) runs on a pooling engine and is instantiated twice, the first
    /// instance (start function included) dropped: the compared one then starts from the
    /// module's memory images mapped over a reservation the first one dirtied.
    fn compile(wasm: &[u8]) -> Result<Self, String> {
        let metered = hash(wasm) & 1 == 1;
        let eager = hash(wasm) & 2 == 2;
        let pooled = hash(wasm) & 4 == 4;
        let mut config = kuai::Config::new();
        config.strategy(kuai::Strategy::Compile).consume_fuel(metered).epoch_interruption(metered);
        config.eager_translation(eager);
        if pooled {
            config.allocation_strategy(kuai::InstanceAllocationStrategy::Pooling(Default::default()));
        }
        let engine = kuai::Engine::new(&config);
        let module = kuai::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = kuai::Store::new(&engine, ());
        if metered {
            store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
        }
        Ok(KuaiCompiledRunner(KuaiRunner { store, module, instance: None }, pooled))
    }

    fn instantiate(&mut self) -> Outcome {
        if self.1 {
            let engine = self.0.module.engine().clone();
            let mut first = kuai::Store::new(&engine, ());
            if self.0.store.get_fuel().is_ok() {
                let _ = first.set_fuel(u64::MAX);
            }
            let _ = kuai::Linker::new(&engine).instantiate(&mut first, &self.0.module);
        }
        self.0.instantiate()
    }

    fn functions(&self) -> Vec<String> {
        self.0.functions()
    }

    fn call(&mut self, name: &str) -> Outcome {
        self.0.call(name)
    }

    fn state(&mut self) -> State {
        self.0.state()
    }
}

/// The wasmi interpreter.
pub struct WasmiRunner {
    store: wasmi::Store<wasmi::StoreLimits>,
    module: wasmi::Module,
    instance: Option<wasmi::Instance>,
}

impl Runner for WasmiRunner {
    const NAME: &'static str = "wasmi";

    fn compile(wasm: &[u8]) -> Result<Self, String> {
        let mut config = wasmi::Config::default();
        config.wasm_simd(true);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let limits = wasmi::StoreLimitsBuilder::new().table_elements(TABLE_ELEMENTS).build();
        let mut store = wasmi::Store::new(&engine, limits);
        store.limiter(|limits| limits);
        Ok(WasmiRunner { store, module, instance: None })
    }

    fn instantiate(&mut self) -> Outcome {
        let linker = wasmi::Linker::new(self.module.engine());
        let r = linker.instantiate_and_start(&mut self.store, &self.module);
        wasmi_outcome(r.map(|i| self.instance = Some(i)), |()| Vec::new())
    }

    fn functions(&self) -> Vec<String> {
        let Some(instance) = self.instance else { return Vec::new() };
        let mut names: Vec<String> = instance
            .exports(&self.store)
            .filter(|e| e.clone().into_func().is_some())
            .map(|e| e.name().to_string())
            .collect();
        names.sort();
        names
    }

    fn call(&mut self, name: &str) -> Outcome {
        let Some(f) = self.instance.and_then(|i| i.get_func(&self.store, name)) else {
            return Outcome::Error(format!("no function {name}"));
        };
        let ty = f.ty(&self.store);
        let params: Vec<wasmi::Val> = ty.params().iter().map(|&t| wasmi::Val::default_for_ty(t)).collect();
        let mut results: Vec<wasmi::Val> = ty.results().iter().map(|&t| wasmi::Val::default_for_ty(t)).collect();
        let r = f.call(&mut self.store, &params, &mut results);
        wasmi_outcome(r, |()| results.iter().map(wasmi_value).collect())
    }

    fn state(&mut self) -> State {
        let mut s = State::default();
        let Some(instance) = self.instance else { return s };
        for export in instance.exports(&self.store) {
            let name = export.name().to_string();
            match export.into_extern() {
                wasmi::Extern::Global(g) => s.globals.push((name, wasmi_value(&g.get(&self.store)))),
                wasmi::Extern::Memory(m) => {
                    let d = m.data(&self.store);
                    s.memories.push((name, hash(d), d.len()));
                }
                _ => {}
            }
        }
        s.sorted()
    }
}

/// wasmtime (Cranelift), the tie-breaker.
#[cfg(feature = "wasmtime")]
pub struct WasmtimeRunner {
    store: wasmtime::Store<wasmtime::StoreLimits>,
    module: wasmtime::Module,
    instance: Option<wasmtime::Instance>,
}

#[cfg(feature = "wasmtime")]
fn wasmtime_value(v: &wasmtime::Val) -> Value {
    match v {
        wasmtime::Val::I32(x) => Value::I32(*x),
        wasmtime::Val::I64(x) => Value::I64(*x),
        wasmtime::Val::F32(b) => f32_value(*b),
        wasmtime::Val::F64(b) => f64_value(*b),
        wasmtime::Val::V128(x) => Value::V128(x.as_u128()),
        wasmtime::Val::FuncRef(f) => Value::Ref(f.is_none()),
        wasmtime::Val::ExternRef(r) => Value::Ref(r.is_none()),
        _ => Value::Ref(false),
    }
}

#[cfg(feature = "wasmtime")]
fn wasmtime_outcome<T>(r: wasmtime::Result<T>, ok: impl FnOnce(T) -> Vec<Value>) -> Outcome {
    use wasmtime::Trap as T;
    match r {
        Ok(v) => Outcome::Values(ok(v)),
        Err(e) => match e.downcast_ref::<wasmtime::Trap>() {
            Some(T::UnreachableCodeReached) => Outcome::Trap("unreachable"),
            Some(T::MemoryOutOfBounds) => Outcome::Trap("memory"),
            Some(T::TableOutOfBounds) => Outcome::Trap("table"),
            Some(T::IndirectCallToNull) => Outcome::Trap("null element"),
            Some(T::BadSignature) => Outcome::Trap("signature"),
            Some(T::IntegerDivisionByZero) => Outcome::Trap("divide by zero"),
            Some(T::IntegerOverflow) => Outcome::Trap("overflow"),
            Some(T::BadConversionToInteger) => Outcome::Trap("conversion"),
            Some(T::StackOverflow) => Outcome::Trap("stack"),
            Some(other) => Outcome::Error(format!("trap {other:?}")),
            None => Outcome::Error(format!("{e:#}")),
        },
    }
}

#[cfg(feature = "wasmtime")]
impl Runner for WasmtimeRunner {
    const NAME: &'static str = "wasmtime";

    fn compile(wasm: &[u8]) -> Result<Self, String> {
        let mut config = wasmtime::Config::new();
        config.wasm_simd(true).wasm_relaxed_simd(false).cranelift_nan_canonicalization(false);
        let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
        let module = wasmtime::Module::new(&engine, wasm).map_err(|e| format!("{e:#}"))?;
        let limits = wasmtime::StoreLimitsBuilder::new().table_elements(TABLE_ELEMENTS).build();
        let mut store = wasmtime::Store::new(&engine, limits);
        store.limiter(|limits| limits);
        Ok(WasmtimeRunner { store, module, instance: None })
    }

    fn instantiate(&mut self) -> Outcome {
        let r = wasmtime::Instance::new(&mut self.store, &self.module, &[]);
        wasmtime_outcome(r.map(|i| self.instance = Some(i)), |()| Vec::new())
    }

    fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .module
            .exports()
            .filter(|e| matches!(e.ty(), wasmtime::ExternType::Func(_)))
            .map(|e| e.name().to_string())
            .collect();
        if self.instance.is_none() {
            names.clear();
        }
        names.sort();
        names
    }

    fn call(&mut self, name: &str) -> Outcome {
        let Some(f) = self.instance.and_then(|i| i.get_func(&mut self.store, name)) else {
            return Outcome::Error(format!("no function {name}"));
        };
        let ty = f.ty(&self.store);
        let params: Vec<wasmtime::Val> =
            ty.params().map(|t| wasmtime::Val::default_for_ty(&t).unwrap_or(wasmtime::Val::I32(0))).collect();
        let mut results: Vec<wasmtime::Val> =
            ty.results().map(|t| wasmtime::Val::default_for_ty(&t).unwrap_or(wasmtime::Val::I32(0))).collect();
        let r = f.call(&mut self.store, &params, &mut results);
        wasmtime_outcome(r, |()| results.iter().map(wasmtime_value).collect())
    }

    fn state(&mut self) -> State {
        let mut s = State::default();
        let Some(instance) = self.instance else { return s };
        let names: Vec<String> = self.module.exports().map(|e| e.name().to_string()).collect();
        for name in names {
            if let Some(g) = instance.get_global(&mut self.store, &name) {
                s.globals.push((name, wasmtime_value(&g.get(&mut self.store))));
            } else if let Some(m) = instance.get_memory(&mut self.store, &name) {
                let d = m.data(&self.store);
                s.memories.push((name, hash(d), d.len()));
            }
        }
        s.sorted()
    }
}

/// Kuai under one strategy, for comparing Kuai's tiers with each other: every other module
/// (by a hash of its bytes) metered with a finite fuel budget (also from the hash), whose
/// remainder after each step is part of the state, so that the tiers must agree on fuel to
/// the unit — and on where it runs out.
pub struct KuaiFuelRunner<const TIERED: bool> {
    kuai: KuaiRunner,
    metered: bool,
}

impl<const TIERED: bool> KuaiFuelRunner<TIERED> {
    /// The tiering settings the hash of a module picks: (threshold, background threads,
    /// whether calls switch tiers, the body size from which a function is compiled once for
    /// calls and on-stack replacement).
    pub fn tiering(wasm: &[u8]) -> (u32, usize, bool, usize) {
        let h = hash(wasm) >> 8;
        let threshold = [0, 1, 7, 50, 300, 2_000, 20_000][(h % 7) as usize];
        // Mostly in the calling thread (reproducible), sometimes in the background.
        let threads = usize::from((h / 7).is_multiple_of(8));
        let entry = !(h / 56).is_multiple_of(4);
        let both_entries = [0, 64, 4096][((h / 224) % 3) as usize];
        (threshold, threads, entry, both_entries)
    }
}

impl<const TIERED: bool> Runner for KuaiFuelRunner<TIERED> {
    const NAME: &'static str = if TIERED { "kuai-tiered" } else { "kuai" };

    fn compile(wasm: &[u8]) -> Result<Self, String> {
        let h = hash(wasm);
        let metered = h & 1 == 1;
        let mut config = kuai::Config::new();
        config.strategy(kuai::Strategy::Interpret).consume_fuel(metered).epoch_interruption(metered);
        if TIERED {
            let (threshold, threads, entry, both_entries) = Self::tiering(wasm);
            config.strategy(kuai::Strategy::Tiered).tiering_threshold(threshold).tiering_threads(threads);
            config.tiering_entry(entry).tiering_both_entries(both_entries);
        }
        let engine = kuai::Engine::new(&config);
        let module = kuai::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = kuai::Store::new(&engine, ());
        if metered {
            store.set_fuel(1_000 + (h >> 16) % 5_000_000).map_err(|e| e.to_string())?;
        }
        Ok(KuaiFuelRunner { kuai: KuaiRunner { store, module, instance: None }, metered })
    }

    fn instantiate(&mut self) -> Outcome {
        self.kuai.instantiate()
    }

    fn functions(&self) -> Vec<String> {
        self.kuai.functions()
    }

    fn call(&mut self, name: &str) -> Outcome {
        self.kuai.call(name)
    }

    fn state(&mut self) -> State {
        let mut state = self.kuai.state();
        if self.metered {
            let fuel = self.kuai.store.get_fuel().unwrap_or(u64::MAX);
            state.globals.push(("(fuel left)".into(), crate::Value::I64(fuel as i64)));
        }
        state.sorted()
    }
}
