//! Differential execution of one module in Kuai and in an oracle engine (wasmi; with the
//! `wasmtime` feature, wasmtime breaks ties when the two disagree).
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

/// wasm-smith limited to the features Kuai implements: WebAssembly 2.0 with SIMD.
fn kuai_features() -> wasm_smith::Config {
    wasm_smith::Config {
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
    }
}

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
        ..kuai_features()
    };
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(TERMINATION_FUEL).ok()?;
    Some(module.to_bytes())
}

/// xorshift64*: reproducible inputs from a seed.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any value; zero is avoided).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A module from `bytes` for target (a)'s seeds: any features Kuai offers, including
/// imports and several memories, without termination instrumentation (fuel ends runs).
pub fn generate_any(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(bytes);
    let config = wasm_smith::Config {
        max_memories: 3,
        export_everything: true,
        max_memory32_bytes: 4 * 65536,
        max_table_elements: 1_000,
        ..kuai_features()
    };
    Some(wasm_smith::Module::new(config, &mut u).ok()?.to_bytes())
}

mod bytes;
mod runners;

pub use bytes::{FUEL, Reached, run_bytes, run_bytes_with};

#[cfg(feature = "wasmtime")]
pub use runners::WasmtimeRunner;
pub use runners::{KuaiCompiledRunner, KuaiFuelRunner, KuaiRunner, Runner, WasmiRunner};

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

pub(crate) fn f32_value(bits: u32) -> Value {
    Value::F32(if f32::from_bits(bits).is_nan() { 0x7fc0_0000 } else { bits })
}

pub(crate) fn f64_value(bits: u64) -> Value {
    Value::F64(if f64::from_bits(bits).is_nan() { 0x7ff8_0000_0000_0000 } else { bits })
}

pub(crate) fn kuai_value(v: &kuai::Val) -> Value {
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

pub(crate) fn wasmi_value(v: &wasmi::Val) -> Value {
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
pub(crate) fn kuai_outcome<T>(r: Result<T, kuai::Error>, ok: impl FnOnce(T) -> Vec<Value>) -> Outcome {
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

pub(crate) fn wasmi_outcome<T>(r: Result<T, wasmi::Error>, ok: impl FnOnce(T) -> Vec<Value>) -> Outcome {
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

/// The observable state after a step: exported globals (by name) and, per exported
/// memory, a hash and the length of its bytes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub globals: Vec<(String, Value)>,
    pub memories: Vec<(String, u64, usize)>,
}

impl State {
    pub(crate) fn sorted(mut self) -> State {
        self.globals.sort_by(|a, b| a.0.cmp(&b.0));
        self.memories.sort_by(|a, b| a.0.cmp(&b.0));
        self
    }
}

pub(crate) fn hash(bytes: &[u8]) -> u64 {
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
    /// Kuai's (the first engine's) view.
    pub kuai: String,
    /// The oracle's view.
    pub oracle: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:\n  kuai:   {}\n  oracle: {}", self.step, self.kuai, self.oracle)
    }
}

/// Runs `wasm` in Kuai and in wasmi; `Ok(calls)` when they agree on every step.
pub fn compare(wasm: &[u8]) -> Result<usize, Mismatch> {
    compare_with::<KuaiRunner, WasmiRunner>(wasm)
}

/// Runs `wasm` in Kuai's interpreter and in its compiled tier; `Ok(None)` when the
/// compiler refuses the module (an implementation limit), `Ok(Some(calls))` when
/// the tiers agree on every step.
pub fn compare_tiers(wasm: &[u8]) -> Result<Option<usize>, Mismatch> {
    if let Err(e) = KuaiCompiledRunner::compile(wasm)
        && KuaiCompiledRunner::unsupported(&e)
    {
        return Ok(None);
    }
    compare_with::<KuaiRunner, KuaiCompiledRunner>(wasm).map(Some)
}

/// Runs `wasm` in Kuai's interpreter and tiered (`Strategy::Tiered`, with a tier-up
/// threshold, background compilation or not, and tier switches at calls or only at loop
/// heads, all picked by a hash of the module); `Ok(calls)` when they agree on every step,
/// fuel included.
pub fn compare_tiered(wasm: &[u8]) -> Result<usize, Mismatch> {
    compare_with::<KuaiFuelRunner<false>, KuaiFuelRunner<true>>(wasm)
}

/// Runs `wasm` in engines `A` and `B`: instantiation, then every exported function in name
/// order with zero arguments, comparing each outcome and the state after it.
pub fn compare_with<A: Runner, B: Runner>(wasm: &[u8]) -> Result<usize, Mismatch> {
    let verbose = std::env::var_os("KUAI_FUZZ_VERBOSE").is_some();
    let mismatch = |step: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| Mismatch {
        step: step.to_string(),
        kuai: format!("{a:?}"),
        oracle: format!("{b:?}"),
    };
    let (mut a, mut b) = match (A::compile(wasm), B::compile(wasm)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(_)) => return Err(mismatch("validate (both rejected a wasm-smith module)", &a, &"rejected")),
        (a, b) => return Err(mismatch("validate", &a.map(|_| "ok"), &b.map(|_| "ok"))),
    };
    let (ao, bo) = (a.instantiate(), b.instantiate());
    if ao != bo || ao != Outcome::Values(Vec::new()) {
        return if ao == bo || stack_limited(&ao, &bo) { Ok(0) } else { Err(mismatch("instantiate", &ao, &bo)) };
    }
    let (as_, bs) = (a.state(), b.state());
    if as_ != bs {
        return Err(mismatch("state after instantiation", &as_, &bs));
    }
    let names = a.functions();
    if names != b.functions() {
        return Err(mismatch("exported functions", &names, &b.functions()));
    }
    for name in &names {
        let (ao, bo) = (a.call(name), b.call(name));
        if verbose {
            eprintln!("call {name:?}: {} {ao:?} / {} {bo:?}", A::NAME, B::NAME);
        }
        if ao != bo && stack_limited(&ao, &bo) {
            // The stacks' sizes differ: the states diverge from here; stop comparing.
            break;
        }
        if ao != bo {
            return Err(mismatch(&format!("call {name}"), &ao, &bo));
        }
        let (as_, bs) = (a.state(), b.state());
        if verbose {
            eprintln!("  {} state {as_:?}\n  {} state {bs:?}", A::NAME, B::NAME);
        }
        if as_ != bs {
            return Err(mismatch(&format!("state after call {name}"), &as_, &bs));
        }
    }
    Ok(names.len())
}
