//! The [`Engine`] (shared configuration and type registry) and its [`Config`].

use crate::types::FuncType;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Settings shared by every module and store of an [`Engine`].
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) max_call_depth: usize,
    pub(crate) max_stack_slots: usize,
    pub(crate) eager_translation: bool,
    pub(crate) wasm_simd: bool,
    pub(crate) wasm_multi_memory: bool,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) lazy_validation: bool,
    pub(crate) parallel_compilation: bool,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) strategy: Strategy,
    pub(crate) max_wasm_stack: usize,
    pub(crate) tiering_threshold: u32,
    pub(crate) tiering_threads: usize,
    pub(crate) tiering_entry: bool,
    pub(crate) tiering_both_entries: usize,
    pub(crate) allocation: InstanceAllocationStrategy,
}

/// How an engine allocates instances' linear memories (wasmtime's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InstanceAllocationStrategy {
    /// Each memory maps its reservation when it is made and unmaps it when dropped (the
    /// default).
    #[default]
    OnDemand,
    /// Dropped memories' reservations are kept and reused by the next memories of the same
    /// size, their pages discarded in between — for hosts that make many short-lived
    /// instances. Unlike wasmtime's pool, it never limits how many instances live at once.
    Pooling(PoolingAllocationConfig),
}

/// Settings of [`InstanceAllocationStrategy::Pooling`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolingAllocationConfig {
    pub(crate) total_memories: u32,
}

impl Default for PoolingAllocationConfig {
    fn default() -> Self {
        PoolingAllocationConfig { total_memories: 1000 }
    }
}

impl PoolingAllocationConfig {
    /// How many dropped memories' reservations the pool keeps (default 1,000).
    pub fn total_memories(&mut self, count: u32) -> &mut Self {
        self.total_memories = count;
        self
    }
}

/// How an engine runs WebAssembly code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Kuai's interpreter: modules start at once (functions are translated on their
    /// first call); steady-state speed is an interpreter's.
    Interpret,
    /// Machine code from Cranelift: each function is compiled on its first call (with
    /// up to 63 of the functions it calls, so that it calls their code directly), or,
    /// with [`Config::eager_translation`], every function when the module is created, on
    /// all cores. Needs the `compiler` feature (default) on x86_64 Linux.
    Compile,
    /// Both, the default: every function starts in the interpreter, and one that runs hot
    /// (see [`Config::tiering_threshold`]) is compiled by Cranelift on a background
    /// thread and continues as machine code — at its next call, or, for a function that
    /// loops, at a loop head (on-stack replacement). Start-up of the interpreter, speed of
    /// the compiler on the hot code. Needs the `compiler` feature on x86_64 Linux
    /// (elsewhere the default is [`Strategy::Interpret`]).
    Tiered,
}

impl Default for Strategy {
    fn default() -> Strategy {
        if cfg!(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")) {
            Strategy::Tiered
        } else {
            Strategy::Interpret
        }
    }
}

/// See [`Config::tiering_both_entries`]: compiling a function this big costs more than
/// its calls through the adapter that builds a frame (CPython's `check.py`: the
/// on-stack-replacement entries of functions this big took a quarter of the background
/// compiler's time).
const DEFAULT_TIERING_BOTH_ENTRIES: usize = 4096;

/// See [`Config::tiering_threshold`].
const DEFAULT_TIERING_THRESHOLD: u32 = 100_000;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_call_depth: 100_000,
            max_stack_slots: 16 * 1024 * 1024,
            eager_translation: false,
            wasm_simd: true,
            wasm_multi_memory: false,
            consume_fuel: false,
            epoch_interruption: false,
            lazy_validation: false,
            parallel_compilation: true,
            memory_reservation: 4 << 30,
            memory_guard_size: 32 << 20,
            strategy: Strategy::default(),
            max_wasm_stack: 512 << 10,
            tiering_threshold: DEFAULT_TIERING_THRESHOLD,
            tiering_threads: 1,
            tiering_entry: true,
            tiering_both_entries: DEFAULT_TIERING_BOTH_ENTRIES,
            allocation: InstanceAllocationStrategy::OnDemand,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Config::default()
    }

    /// How instances' memories are allocated (default [`InstanceAllocationStrategy::OnDemand`]).
    pub fn allocation_strategy(&mut self, strategy: InstanceAllocationStrategy) -> &mut Self {
        self.allocation = strategy;
        self
    }

    /// How modules of this engine run (default: [`Strategy::Tiered`] where the compiler
    /// exists, else [`Strategy::Interpret`]).
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        self.strategy = strategy;
        self
    }

    /// With [`Strategy::Tiered`]: how much interpreted work makes a function hot
    /// (default 100,000). Each function has this budget; every call of it spends the size of
    /// its body in bytes (at most 1,000) and every loop iteration the size of the loop body
    /// in instructions (at most 1,000). A function that spent its budget is compiled. `0`
    /// compiles every function at its first call or loop head, synchronously (a test mode:
    /// every call and every loop head then switches tiers).
    pub fn tiering_threshold(&mut self, budget: u32) -> &mut Self {
        self.tiering_threshold = budget;
        self
    }

    /// With [`Strategy::Tiered`]: how many background threads compile hot functions
    /// (default 1; they are shared by all engines of the process and started on first
    /// use). `0` compiles in the thread that runs the function, which then waits for it.
    pub fn tiering_threads(&mut self, threads: usize) -> &mut Self {
        self.tiering_threads = threads;
        self
    }

    /// With [`Strategy::Tiered`]: whether calls switch to compiled code (default: yes).
    /// With `false`, only loop heads do (on-stack replacement), which exercises that path
    /// everywhere it applies — for tests.
    #[doc(hidden)]
    pub fn tiering_entry(&mut self, enable: bool) -> &mut Self {
        self.tiering_entry = enable;
        self
    }

    /// With [`Strategy::Tiered`]: functions whose body has at least this many bytes
    /// (default 4,096) are compiled once for both calls and on-stack replacement; smaller
    /// ones get a second compilation for on-stack replacement if a loop asks for it. `0`
    /// compiles every function so — for tests.
    #[doc(hidden)]
    pub fn tiering_both_entries(&mut self, min_body_size: usize) -> &mut Self {
        self.tiering_both_entries = min_body_size;
        self
    }

    /// The most bytes of native stack compiled code may use (default 512 KiB); deeper
    /// recursion traps with "call stack exhausted". The interpreter keeps its frames off
    /// the native stack and is bounded by [`Config::max_call_depth`] instead.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes.max(16 << 10);
        self
    }

    /// Bytes of address space reserved for each linear memory (default 4 GiB). A memory
    /// whose maximum fits is reserved this much up front and never moves: growing it only
    /// makes more of the reservation accessible, without copying. With the default, every
    /// 32-bit address lands inside a memory's reservation, which lets compiled code rely
    /// on faults instead of bounds checks. A smaller reservation (for hosts with little
    /// address space, or a `ulimit -v`) reserves only what a memory needs and moves it
    /// when it outgrows that; accesses are then always bounds-checked.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Bytes of inaccessible address space after each memory's reservation (default
    /// 32 MiB): an access past the end by less than this faults instead of reaching
    /// another mapping.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }

    /// How memories claim address space under this configuration.
    pub(crate) fn memory_layout(&self) -> crate::vm::MemoryLayout {
        let clamp = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
        crate::vm::MemoryLayout {
            reservation: clamp(self.memory_reservation).min(1 << 40),
            guard: clamp(self.memory_guard_size).min(1 << 40),
        }
    }

    /// The most wasm frames that may be live at once (default 100,000). Exceeding it traps
    /// with "call stack exhausted".
    pub fn max_call_depth(&mut self, frames: usize) -> &mut Self {
        self.max_call_depth = frames.max(1);
        self
    }

    /// The most 64-bit value slots (locals and temporaries of all live frames) the value
    /// stack may hold (default 16 Mi slots, 128 MiB). Exceeding it traps with
    /// "call stack exhausted".
    pub fn max_stack_slots(&mut self, slots: usize) -> &mut Self {
        self.max_stack_slots = slots.max(1024);
        self
    }

    /// Translate (interpreter) or compile (compiled tier) every function when the module
    /// is created instead of on its first call (default: lazy). Eager translation moves all
    /// work to start-up, which suits ahead-of-time set-ups and benchmarks of steady-state
    /// speed; the compiled tier then also calls the module's own functions directly.
    pub fn eager_translation(&mut self, eager: bool) -> &mut Self {
        self.eager_translation = eager;
        self
    }

    /// Validate each function body just before its first translation instead of in
    /// `Module::new` (default: off). Start-up of big modules then costs decoding only, but
    /// a module with an invalid function body is accepted, and calling that function fails
    /// with the compile error — not what the spec prescribes, hence off by default. With
    /// [`eager_translation`](Config::eager_translation) everything is validated up front.
    pub fn lazy_validation(&mut self, lazy: bool) -> &mut Self {
        self.lazy_validation = lazy;
        self
    }

    /// Validate function bodies on all available cores in `Module::new` (default: on).
    /// The result, and which error an invalid module reports, does not depend on it.
    pub fn parallel_compilation(&mut self, parallel: bool) -> &mut Self {
        self.parallel_compilation = parallel;
        self
    }

    /// Meter execution with fuel (default: off). Every wasm instruction costs one unit
    /// except `nop`, `drop`, `block`, `loop`, `else` and `end`, which cost none; the cost of
    /// a straight-line run is charged when the run starts. A store starts with no fuel:
    /// give it some with [`Store::set_fuel`](crate::Store::set_fuel). Running out traps
    /// with "all fuel consumed by WebAssembly", at the same instruction every time.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Check the engine's epoch against the store's deadline at every function entry
    /// and loop head (default: off), so that [`Engine::increment_epoch`] from another
    /// thread can stop a running guest with the trap "interrupt". See
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline).
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }
}

impl Config {
    /// Accept the 128-bit vector (SIMD) instructions of WebAssembly 2.0 (default: on). With
    /// `false`, modules using them are rejected as invalid.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.wasm_simd = enable;
        self
    }

    /// Accept modules with more than one memory and memory instructions naming a memory
    /// index — the multi-memory proposal, part of WebAssembly 3.0 (default: off, so that
    /// Kuai accepts exactly WebAssembly 2.0 unless asked).
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.wasm_multi_memory = enable;
        self
    }

    /// The WebAssembly features accepted: WebAssembly 2.0, SIMD per [`Config::wasm_simd`],
    /// plus multi-memory per [`Config::wasm_multi_memory`].
    pub(crate) fn wasm_features(&self) -> wasmparser::WasmFeatures {
        use wasmparser::WasmFeatures as F;
        let mut features = F::WASM2;
        features.set(F::SIMD, self.wasm_simd);
        features.set(F::MULTI_MEMORY, self.wasm_multi_memory);
        features
    }
}

/// Assigns every distinct function type an engine-wide id, so that `call_indirect` can
/// compare types across modules with one integer comparison.
#[derive(Debug, Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
}

#[derive(Debug)]
struct EngineInner {
    config: Config,
    types: Mutex<TypeRegistry>,
    /// The epoch counter stores compare their deadlines with (shared with the stores).
    epoch: Arc<AtomicU64>,
    /// With [`InstanceAllocationStrategy::Pooling`]: the kept memory reservations.
    memory_pool: Option<Arc<crate::vm::MemoryPool>>,
}

/// Compilation environment shared by modules and stores. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default())
    }
}

impl Engine {
    /// An engine with the given configuration.
    pub fn new(config: &Config) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: Mutex::default(),
                epoch: Arc::default(),
                memory_pool: match config.allocation {
                    InstanceAllocationStrategy::OnDemand => None,
                    InstanceAllocationStrategy::Pooling(p) => {
                        Some(Arc::new(crate::vm::MemoryPool::new(p.total_memories as usize)))
                    }
                },
            }),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The pooling allocator's memory reservations, if the engine pools.
    pub(crate) fn memory_pool(&self) -> Option<&Arc<crate::vm::MemoryPool>> {
        self.inner.memory_pool.as_ref()
    }

    /// The canonical id of `ty` in this engine.
    pub(crate) fn intern_type(&self, ty: &FuncType) -> u32 {
        // A poisoned lock only means another thread panicked while inserting; the map is
        // still consistent (insertions are single operations).
        let mut reg = self.inner.types.lock().unwrap_or_else(|e| e.into_inner());
        let next = reg.ids.len() as u32;
        *reg.ids.entry(ty.clone()).or_insert(next)
    }

    /// Advances the engine's epoch by one. Safe to call from any thread (a timer thread,
    /// typically); guests in stores whose deadline is reached trap with "interrupt" at
    /// their next function entry or loop head.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The epoch counter (stores keep a handle for their checks).
    pub(crate) fn epoch(&self) -> &Arc<AtomicU64> {
        &self.inner.epoch
    }

    /// What the code this engine compiles is compatible with, to key caches of artifacts
    /// ([`Module::serialize`](crate::Module::serialize)) by, as wasmtime's method of the same
    /// name: two engines hash alike exactly when an artifact of one loads in the other —
    /// the same Kuai, Cranelift, CPU features and code-changing settings.
    pub fn precompile_compatibility_hash(&self) -> impl std::hash::Hash + '_ {
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        let key = crate::compile::compatibility_key(self.config()).map_err(|e| e.to_string());
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        let key: Result<String, String> = Err("no compiler".to_string());
        key
    }

    /// Whether two handles refer to the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ValType;

    #[test]
    fn equal_types_share_an_id() {
        let e = Engine::default();
        let a = e.intern_type(&FuncType::new([ValType::I32], []));
        let b = e.intern_type(&FuncType::new([ValType::I64], []));
        let c = e.intern_type(&FuncType::new([ValType::I32], []));
        assert_eq!(a, c);
        assert_ne!(a, b);
    }
}
