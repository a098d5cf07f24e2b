//! Tiered execution's compilations: a function that ran hot in the interpreter, on its
//! own, or an on-stack-replacement entry at the head of one of its loops
//! (`func::translate` with `osr`) together with its entry trampoline. Either runs on the
//! background pool (`background.rs`) or, without background threads, in the thread that
//! asks; each is attempted once per module, whichever store asks first.

use super::func::{self, Calls, Entries};
use super::{CompiledModule, background, finish, isa, lock, place, trampolines, unsupported};
use crate::error::CompileError;
use crate::module::ModuleInner;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where a tier-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tiered {
    /// The code, and the entry trampoline to call it with (for a function, its type's
    /// entry trampoline; for on-stack replacement, its own).
    Ready { code: usize, trampoline: usize },
    /// Queued or being compiled.
    Pending,
    /// The compiler could not handle it (`CompiledModule::tier_failure` says why).
    Failed,
}

/// A module's tier-ups, by `(defined function, whether its on-stack-replacement entry)`.
#[derive(Debug, Default)]
pub(super) struct TierState {
    /// Queued or being compiled, with the job's priority.
    queued: HashMap<(u32, bool), Arc<AtomicU32>>,
    /// On-stack-replacement entries, by defined function.
    osr: HashMap<u32, OsrEntry>,
    failed: HashMap<(u32, bool), String>,
    /// Compilations run so far.
    compilations: usize,
}

/// A function's on-stack-replacement entry: its code, its trampoline, and the loops it can
/// enter.
#[derive(Debug)]
struct OsrEntry {
    code: usize,
    trampoline: usize,
    loops: Vec<u32>,
}

impl CompiledModule {
    /// Defined function `def` compiled (`osr` is `None`) or its on-stack-replacement entry
    /// for loop `osr`: ready, or now queued for the pool of `threads` threads, or, with
    /// none, compiled here first. One entry serves all the loops of a function.
    pub(crate) fn tier(
        self: &Arc<Self>,
        module: &Arc<ModuleInner>,
        def: u32,
        osr: Option<u32>,
        threads: usize,
    ) -> Tiered {
        if let Some(ready) = self.tier_ready(module, def, osr) {
            return ready;
        }
        let key = (def, osr.is_some());
        let queue = {
            let mut state = lock(&self.tiering);
            if state.failed.contains_key(&key) {
                return Tiered::Failed;
            }
            match state.queued.get(&key) {
                // Still waiting, and still running: more urgent.
                Some(priority) => {
                    priority.fetch_add(1, Ordering::Relaxed);
                    None
                }
                None if threads > 0 => {
                    let priority = Arc::new(AtomicU32::new(0));
                    state.queued.insert(key, priority.clone());
                    Some(priority)
                }
                None => None,
            }
        };
        if let Some(priority) = queue {
            let (this, module) = (self.clone(), module.clone());
            background::submit(
                threads,
                background::Job { run: Box::new(move || this.tier_now(&module, key)), priority },
            );
        }
        if threads > 0 {
            return self.tier_ready(module, def, osr).unwrap_or(Tiered::Pending);
        }
        self.tier_now(module, key);
        self.tier_ready(module, def, osr).unwrap_or(Tiered::Failed)
    }

    /// What the compiler could not handle, and why: defined functions, and whether it was
    /// their on-stack-replacement entry, in order.
    pub(crate) fn tier_failures(&self) -> Vec<(u32, bool, String)> {
        let mut failures: Vec<_> =
            lock(&self.tiering).failed.iter().map(|(&(def, osr), why)| (def, osr, why.clone())).collect();
        failures.sort();
        failures
    }

    /// How many tier-up compilations of this module have run.
    #[cfg(test)]
    pub(crate) fn tier_compilations(&self) -> usize {
        lock(&self.tiering).compilations
    }

    fn tier_ready(&self, module: &ModuleInner, def: u32, osr: Option<u32>) -> Option<Tiered> {
        match osr {
            None => self.func(def).map(|code| Tiered::Ready {
                code,
                trampoline: self.entry_trampoline(module.funcs[(module.num_imported_funcs + def) as usize]),
            }),
            Some(k) => lock(&self.tiering).osr.get(&def).map(|e| match e.loops.contains(&k) {
                true => Tiered::Ready { code: e.code, trampoline: e.trampoline },
                // The compiler does not offer that loop (it should: the interpreter did).
                false => Tiered::Failed,
            }),
        }
    }

    /// Compiles what [`CompiledModule::tier`] asked for, recording the outcome.
    fn tier_now(&self, module: &ModuleInner, key: (u32, bool)) {
        let (def, osr) = key;
        let mut later = lock(&self.later);
        let done = if osr { lock(&self.tiering).osr.contains_key(&def) } else { self.func(def).is_some() };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match osr {
            _ if done => Ok(None),
            false if module.bodies[def as usize].len() >= module.engine.config().tiering_both_entries => {
                self.compile_osr(module, def, Entries::Both).map(Some)
            }
            false => self.compile_one(module, def).map(Some),
            true => self.compile_osr(module, def, Entries::Loops).map(Some),
        }));
        let mut state = lock(&self.tiering);
        state.queued.remove(&key);
        state.compilations += usize::from(!done);
        match outcome {
            Ok(Ok(Some(code))) => later.push(code),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                state.failed.insert(key, e.to_string());
            }
            Err(_) => {
                state.failed.insert(key, "internal error: the compiler panicked".into());
            }
        }
    }

    /// Compiles the on-stack-replacement entry of function `def` and its trampoline into
    /// one code memory, and records both addresses. With `Entries::Both` the entry serves
    /// calls too: an adapter that builds its frame joins them and becomes the function's
    /// code.
    fn compile_osr(
        &self,
        module: &ModuleInner,
        def: u32,
        entries: Entries,
    ) -> Result<Arc<crate::vm::code::CodeMemory>, CompileError> {
        module.validate_later(def)?;
        let isa = isa()?;
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
        let compiled = |d: u32| self.func(d);
        let calls = Calls::Lazy { compiled: &compiled };
        let loops = func::translate(module, def, isa, &mut ctx.func, &mut fctx, calls, entries)?;
        let func_index = module.num_imported_funcs + def;
        let body = finish(isa, &mut ctx, Some(func_index))?;
        if !body.calls.is_empty() {
            return Err(unsupported("internal error: direct call from an on-stack-replacement entry".into()));
        }
        let ty = module.func_type(func_index);
        ctx.clear();
        trampolines::entry(ty, true, isa, &mut ctx.func, &mut fctx)?;
        let mut pieces = vec![body, finish(isa, &mut ctx, None)?];
        if entries == Entries::Both {
            ctx.clear();
            trampolines::osr_adapter(ty, func::local_slots(module, def)?, isa, &mut ctx.func, &mut fctx)?;
            pieces.push(finish(isa, &mut ctx, None)?);
        }
        let (code, offsets) = place(&pieces)?;
        let entry = OsrEntry { code: code.addr(offsets[0]), trampoline: code.addr(offsets[1]), loops };
        lock(&self.tiering).osr.insert(def, entry);
        if let Some(&adapter) = offsets.get(2) {
            self.funcs[def as usize].store(code.addr(adapter), Ordering::Release);
        }
        Ok(code)
    }
}
