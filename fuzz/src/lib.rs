//! Differential execution of one module in Kuai and in an oracle engine (wasmi).
//!
//! [`generate`] turns random bytes into a valid module with `wasm-smith`, limited to the
//! features Kuai implements (WebAssembly 2.0 with SIMD) and instrumented so that every
//! loop and call spends a fuel global: every run ends. [`compare`] instantiates it in both
//! engines and calls every exported function (with zero arguments), comparing after each
//! call the results (NaNs compare equal), whether and how it trapped, the exported
//! globals and the bytes of the exported memories.

use arbitrary::Unstructured;

/// Fuel each generated module gets: loop iterations plus calls before it traps.
const TERMINATION_FUEL: u32 = 500;

/// A module from `bytes`, or `None` if the bytes did not suffice.
pub fn generate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(bytes);
    let config = wasm_smith::Config {
        max_imports: 0,
        max_memories: 1,
        max_tables: 2,
        max_memory32_bytes: 16 * 65536,
        max_table_elements: 1_000,
        export_everything: true,
        canonicalize_nans: true,
        allow_start_export: true,
        min_funcs: 1,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        simd_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        ..wasm_smith::Config::default()
    };
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(TERMINATION_FUEL).ok()?;
    Some(module.to_bytes())
}

/// What one step (instantiation or a call) produced, engine-neutral.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Results, as comparable values.
    Values(Vec<Value>),
    /// A trap of this kind.
    Trap(&'static str),
    /// Another error (text).
    Error(String),
}

/// A value with NaNs made equal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// Null or not.
    Ref(bool),
}

fn f32_value(bits: u32) -> Value {
    Value::F32(if f32::from_bits(bits).is_nan() { 0x7fc0_0000 } else { bits })
}

fn f64_value(bits: u64) -> Value {
    Value::F64(if f64::from_bits(bits).is_nan() { 0x7ff8_0000_0000_0000 } else { bits })
}

fn kuai_value(v: &kuai::Val) -> Value {
    match *v {
        kuai::Val::I32(x) => Value::I32(x),
        kuai::Val::I64(x) => Value::I64(x),
        kuai::Val::F32(b) => f32_value(b),
        kuai::Val::F64(b) => f64_value(b),
        kuai::Val::V128(x) => Value::V128(x),
        kuai::Val::FuncRef(f) => Value::Ref(f.is_none()),
        kuai::Val::ExternRef(r) => Value::Ref(r.is_none()),
    }
}

fn wasmi_value(v: &wasmi::Val) -> Value {
    match v {
        wasmi::Val::I32(x) => Value::I32(*x),
        wasmi::Val::I64(x) => Value::I64(*x),
        wasmi::Val::F32(x) => f32_value(x.to_bits()),
        wasmi::Val::F64(x) => f64_value(x.to_bits()),
        wasmi::Val::V128(x) => Value::V128(x.as_u128()),
        wasmi::Val::FuncRef(f) => Value::Ref(f.is_null()),
        wasmi::Val::ExternRef(r) => Value::Ref(r.is_null()),
    }
}

/// The trap kinds both engines distinguish, by Kuai's (spec) names.
fn kuai_outcome<T>(r: Result<T, kuai::Error>, ok: impl FnOnce(T) -> Vec<Value>) -> Outcome {
    use kuai::Trap;
    match r {
        Ok(v) => Outcome::Values(ok(v)),
        Err(e) => match e.as_trap() {
            Some(Trap::Unreachable) => Outcome::Trap("unreachable"),
            Some(Trap::MemoryOutOfBounds) => Outcome::Trap("memory"),
            // wasmi reports an index past a table's end in `call_indirect` as out of bounds.
            Some(Trap::TableOutOfBounds | Trap::UndefinedElement) => Outcome::Trap("table"),
            Some(Trap::UninitializedElement) => Outcome::Trap("null element"),
            Some(Trap::IndirectCallTypeMismatch) => Outcome::Trap("signature"),
            Some(Trap::IntegerDivideByZero) => Outcome::Trap("divide by zero"),
            Some(Trap::IntegerOverflow) => Outcome::Trap("overflow"),
            Some(Trap::InvalidConversionToInteger) => Outcome::Trap("conversion"),
            Some(Trap::StackOverflow) => Outcome::Trap("stack"),
            Some(other) => Outcome::Error(format!("trap {other}")),
            None => Outcome::Error(e.to_string()),
        },
    }
}

fn wasmi_outcome<T>(r: Result<T, wasmi::Error>, ok: impl FnOnce(T) -> Vec<Value>) -> Outcome {
    use wasmi::TrapCode as C;
    match r {
        Ok(v) => Outcome::Values(ok(v)),
        Err(e) => match e.as_trap_code() {
            Some(C::UnreachableCodeReached) => Outcome::Trap("unreachable"),
            Some(C::MemoryOutOfBounds) => Outcome::Trap("memory"),
            Some(C::TableOutOfBounds) => Outcome::Trap("table"),
            Some(C::IndirectCallToNull) => Outcome::Trap("null element"),
            Some(C::BadSignature) => Outcome::Trap("signature"),
            Some(C::IntegerDivisionByZero) => Outcome::Trap("divide by zero"),
            Some(C::IntegerOverflow) => Outcome::Trap("overflow"),
            Some(C::BadConversionToInteger) => Outcome::Trap("conversion"),
            Some(C::StackOverflow) => Outcome::Trap("stack"),
            Some(other) => Outcome::Error(format!("trap {other:?}")),
            // wasmi reports out-of-bounds segment initialisation as a plain error.
            None if e.to_string().contains("out of bounds table access") => Outcome::Trap("table"),
            None if e.to_string().contains("out of bounds memory access") => Outcome::Trap("memory"),
            None => Outcome::Error(e.to_string()),
        },
    }
}

/// Whether a disagreement is only about where the engines' call-stack limits lie.
fn stack_limited(a: &Outcome, b: &Outcome) -> bool {
    matches!(a, Outcome::Trap("stack")) || matches!(b, Outcome::Trap("stack"))
}

/// The observable state after a step: exported globals and memory contents.
#[derive(Debug, Clone, PartialEq)]
struct State {
    globals: Vec<(String, Value)>,
    memories: Vec<(String, u64, usize)>,
}

fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Why two engines disagreed.
#[derive(Debug)]
pub struct Mismatch {
    /// The step: `validate`, `instantiate`, or `call NAME`.
    pub step: String,
    /// Kuai's view.
    pub kuai: String,
    /// The oracle's view.
    pub oracle: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:\n  kuai:   {}\n  oracle: {}", self.step, self.kuai, self.oracle)
    }
}

/// Runs `wasm` in both engines; `Ok(calls)` when they agree on every step.
pub fn compare(wasm: &[u8]) -> Result<usize, Mismatch> {
    let mismatch = |step: &str, k: &dyn std::fmt::Debug, o: &dyn std::fmt::Debug| Mismatch {
        step: step.to_string(),
        kuai: format!("{k:?}"),
        oracle: format!("{o:?}"),
    };
    // Compile.
    let kengine = kuai::Engine::default();
    let mut wconfig = wasmi::Config::default();
    wconfig.wasm_simd(true);
    let wengine = wasmi::Engine::new(&wconfig);
    let kmodule = kuai::Module::new(&kengine, wasm);
    let wmodule = wasmi::Module::new(&wengine, wasm);
    let (kmodule, wmodule) = match (kmodule, wmodule) {
        (Ok(k), Ok(w)) => (k, w),
        (Err(k), Err(_)) => return Err(mismatch("validate (both rejected a wasm-smith module)", &k, &"rejected")),
        (k, w) => return Err(mismatch("validate", &k.map(|_| "ok"), &w.map(|_| "ok"))),
    };

    // Instantiate (runs segment initialisation and the start function).
    let mut kstore = kuai::Store::new(&kengine, ());
    // The oracle gets Kuai's fixed limit on table sizes (10 Mi elements), so that a
    // `table.grow` both may refuse is refused by both.
    let limits = wasmi::StoreLimitsBuilder::new().table_elements(10 * 1024 * 1024).build();
    let mut wstore = wasmi::Store::new(&wengine, limits);
    wstore.limiter(|limits| limits);
    let kinst = kuai::Linker::new(&kengine).instantiate(&mut kstore, &kmodule);
    let winst = wasmi::Linker::new(&wengine).instantiate_and_start(&mut wstore, &wmodule);
    let (kinst, winst) = match (kinst, winst) {
        (Ok(k), Ok(w)) => (k, w),
        (k, w) => {
            let ko = kuai_outcome(k, |_| Vec::new());
            let wo = wasmi_outcome(w, |_| Vec::new());
            return if ko == wo || stack_limited(&ko, &wo) { Ok(0) } else { Err(mismatch("instantiate", &ko, &wo)) };
        }
    };

    let kstate = |store: &kuai::Store<()>| {
        let mut s = State { globals: Vec::new(), memories: Vec::new() };
        for (name, ext) in kinst.exports(store) {
            match ext {
                kuai::Extern::Global(g) => s.globals.push((name, kuai_value(&g.get(store)))),
                kuai::Extern::Memory(m) => {
                    let d = m.data(store);
                    s.memories.push((name, hash(d), d.len()));
                }
                _ => {}
            }
        }
        s.globals.sort_by(|a, b| a.0.cmp(&b.0));
        s.memories.sort_by(|a, b| a.0.cmp(&b.0));
        s
    };
    let wstate = |store: &wasmi::Store<wasmi::StoreLimits>| {
        let mut s = State { globals: Vec::new(), memories: Vec::new() };
        for export in winst.exports(store) {
            let name = export.name().to_string();
            match export.into_extern() {
                wasmi::Extern::Global(g) => s.globals.push((name, wasmi_value(&g.get(store)))),
                wasmi::Extern::Memory(m) => {
                    let d = m.data(store);
                    s.memories.push((name, hash(d), d.len()));
                }
                _ => {}
            }
        }
        s.globals.sort_by(|a, b| a.0.cmp(&b.0));
        s.memories.sort_by(|a, b| a.0.cmp(&b.0));
        s
    };
    let (ks, ws) = (kstate(&kstore), wstate(&wstore));
    if ks != ws {
        return Err(mismatch("state after instantiation", &ks, &ws));
    }

    let mut names: Vec<String> = kinst
        .exports(&kstore)
        .into_iter()
        .filter(|(_, e)| matches!(e, kuai::Extern::Func(_)))
        .map(|(n, _)| n)
        .collect();
    names.sort();
    for name in &names {
        let (Some(kf), Some(wf)) = (kinst.get_func(&kstore, name), winst.get_func(&wstore, name)) else {
            return Err(mismatch(&format!("export {name}"), &"function", &"missing"));
        };
        let kty = kf.ty(&kstore);
        let kparams: Vec<kuai::Val> = kty.params().iter().map(|&t| kuai::Val::default_for(t)).collect();
        let mut kres: Vec<kuai::Val> = kty.results().iter().map(|&t| kuai::Val::default_for(t)).collect();
        let wty = wf.ty(&wstore);
        let wparams: Vec<wasmi::Val> = wty.params().iter().map(|&t| wasmi::Val::default_for_ty(t)).collect();
        let mut wres: Vec<wasmi::Val> = wty.results().iter().map(|&t| wasmi::Val::default_for_ty(t)).collect();
        let kr = kf.call(&mut kstore, &kparams, &mut kres);
        let ko = kuai_outcome(kr, |()| kres.iter().map(kuai_value).collect());
        let wr = wf.call(&mut wstore, &wparams, &mut wres);
        let wo = wasmi_outcome(wr, |()| wres.iter().map(wasmi_value).collect());
        if std::env::var_os("KUAI_FUZZ_VERBOSE").is_some() {
            eprintln!("call {name:?}: kuai {ko:?} / oracle {wo:?}");
        }
        if ko != wo && stack_limited(&ko, &wo) {
            // The stacks' sizes differ: the states diverge from here; stop comparing.
            break;
        }
        if ko != wo {
            return Err(mismatch(&format!("call {name}"), &ko, &wo));
        }
        let (ks, ws) = (kstate(&kstore), wstate(&wstore));
        if std::env::var_os("KUAI_FUZZ_VERBOSE").is_some() {
            eprintln!("  kuai state {ks:?}\n  oracle state {ws:?}");
        }
        if ks != ws {
            return Err(mismatch(&format!("state after call {name}"), &ks, &ws));
        }
    }
    Ok(names.len())
}
