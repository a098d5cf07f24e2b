//! Tiered execution's compilations: a function that ran hot in the interpreter, on its
//! own, or an on-stack-replacement entry at the head of one of its loops
//! (`func::translate` with `osr`) together with its entry trampoline. Either runs on the
//! background pool (`background.rs`) or, without background threads, in the thread that
//! asks; each is attempted once per module, whichever store asks first.

use super::func::{self, Calls};
use super::{CompiledModule, Piece, background, finish, isa, lock, place, trampolines, unsupported};
use crate::error::CompileError;
use crate::module::ModuleInner;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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

/// A module's tier-ups: `(defined function, loop)` — no loop for the function itself.
#[derive(Debug, Default)]
pub(super) struct TierState {
    queued: HashSet<(u32, Option<u32>)>,
    /// On-stack-replacement entries: code and trampoline.
    osr: HashMap<(u32, u32), (usize, usize)>,
    failed: HashMap<(u32, Option<u32>), String>,
}

impl CompiledModule {
    /// Defined function `def` compiled (`osr` is `None`) or its on-stack-replacement entry
    /// at loop `osr`: ready, or now queued for the pool of `threads` threads, or, with
    /// none, compiled here first.
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
        let queue = {
            let mut state = lock(&self.tiering);
            if state.failed.contains_key(&(def, osr)) {
                return Tiered::Failed;
            }
            threads > 0 && state.queued.insert((def, osr))
        };
        if queue {
            let (this, module) = (self.clone(), module.clone());
            background::submit(threads, Box::new(move || this.tier_now(&module, def, osr)));
        }
        if threads > 0 {
            return self.tier_ready(module, def, osr).unwrap_or(Tiered::Pending);
        }
        self.tier_now(module, def, osr);
        self.tier_ready(module, def, osr).unwrap_or(Tiered::Failed)
    }

    /// What the compiler could not handle, and why: defined functions, or (with a loop
    /// number) on-stack-replacement entries, in order.
    pub(crate) fn tier_failures(&self) -> Vec<(u32, Option<u32>, String)> {
        let mut failures: Vec<_> =
            lock(&self.tiering).failed.iter().map(|(&(def, osr), why)| (def, osr, why.clone())).collect();
        failures.sort();
        failures
    }

    fn tier_ready(&self, module: &ModuleInner, def: u32, osr: Option<u32>) -> Option<Tiered> {
        match osr {
            None => self.func(def).map(|code| Tiered::Ready {
                code,
                trampoline: self.entry_trampoline(module.funcs[(module.num_imported_funcs + def) as usize]),
            }),
            Some(k) => {
                lock(&self.tiering).osr.get(&(def, k)).map(|&(code, trampoline)| Tiered::Ready { code, trampoline })
            }
        }
    }

    /// Compiles what [`CompiledModule::tier`] asked for, recording the outcome.
    fn tier_now(&self, module: &ModuleInner, def: u32, osr: Option<u32>) {
        let mut later = lock(&self.later);
        let done = self.func(def).is_some() && osr.is_none();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match osr {
            _ if done => Ok(None),
            None => self.compile_one(module, def).map(Some),
            Some(k) => self.compile_osr(module, def, k).map(Some),
        }));
        let mut state = lock(&self.tiering);
        state.queued.remove(&(def, osr));
        match outcome {
            Ok(Ok(Some(code))) => later.push(code),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                state.failed.insert((def, osr), e.to_string());
            }
            Err(_) => {
                state.failed.insert((def, osr), "internal error: the compiler panicked".into());
            }
        }
    }

    /// Compiles the on-stack-replacement entry of function `def` at loop `k` and its
    /// trampoline into one code memory, and records both addresses.
    fn compile_osr(
        &self,
        module: &ModuleInner,
        def: u32,
        k: u32,
    ) -> Result<Arc<crate::vm::code::CodeMemory>, CompileError> {
        module.validate_later(def)?;
        let isa = isa()?;
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
        let compiled = |d: u32| self.func(d);
        func::translate(module, def, isa, &mut ctx.func, &mut fctx, Calls::Lazy { compiled: &compiled }, Some(k))?;
        let func_index = module.num_imported_funcs + def;
        let body = finish(isa, &mut ctx, Some(func_index))?;
        if !body.calls.is_empty() {
            return Err(unsupported("internal error: direct call from an on-stack-replacement entry".into()));
        }
        ctx.clear();
        trampolines::entry(module.func_type(func_index), true, isa, &mut ctx.func, &mut fctx)?;
        let trampoline: Piece = finish(isa, &mut ctx, None)?;
        let (code, offsets) = place(&[body, trampoline])?;
        let entry = (code.addr(offsets[0]), code.addr(offsets[1]));
        lock(&self.tiering).osr.insert((def, k), entry);
        Ok(code)
    }
}
