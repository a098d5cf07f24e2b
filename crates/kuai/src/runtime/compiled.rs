//! Running compiled code from the runtime: calls from the host into compiled functions,
//! and the runtime's entries compiled code calls back into — host functions, `memory.grow`
//! and bulk memory operations — each monomorphized for the store's host state `T` and
//! reached through the store's `VmStoreContext`.
//!
//! While compiled code runs, the store is reached only through the `*mut Store<T>` in
//! `VmStoreContext::host_data`: the `&mut Store<T>` the call started from is not used until
//! the call returns, so each entry may turn the pointer back into a `&mut Store<T>` for its
//! duration (nothing else touches the store meanwhile: compiled code is suspended in it).

use super::call::check_host_results;
use super::func::Caller;
use super::store::Store;
use super::values::Val;
use crate::compile::{CompiledModule, STATUS_MEMORY, STATUS_TABLE};
use crate::error::Error;
use crate::trap::{Backtrace, FrameInfo, Trap, TrapError};
use crate::vm::FuncKind;
use crate::vm::traps::{CaughtTrap, EntryCall, TrapSite};
use crate::vm::vmctx::{Code, LazyRecord, NativeCode, VmContext};
use std::collections::HashMap;
use std::sync::Arc;

/// A module's machine code, shared by its instances in every store: made with the module
/// (`Strategy::Compile`), or when one of its functions first runs hot (`Strategy::Tiered`:
/// a module that never does costs no compiler at all, not even its trampolines).
pub(crate) struct SharedCode(std::sync::OnceLock<Option<Arc<CompiledModule>>>);

impl SharedCode {
    /// Code made already.
    pub(crate) fn ready(code: Arc<CompiledModule>) -> SharedCode {
        SharedCode(std::sync::OnceLock::from(Some(code)))
    }

    /// Code to be made on first use.
    pub(crate) fn later() -> SharedCode {
        SharedCode(std::sync::OnceLock::new())
    }

    /// The code, if it was made.
    pub(crate) fn get(&self) -> Option<&Arc<CompiledModule>> {
        self.0.get().and_then(Option::as_ref)
    }

    /// The code, made now if it was not (`None` if the compiler failed, which it then
    /// never tries again).
    fn get_or_make(&self, module: &crate::module::ModuleInner) -> Option<&Arc<CompiledModule>> {
        let made = self
            .0
            .get_or_init(|| crate::compile::compile_module(module, crate::compile::Mode::Tiered).ok().map(Arc::new));
        made.as_ref()
    }
}

/// The compiled tier's state in a store.
#[derive(Default)]
pub(crate) struct CompiledState {
    /// Each instance's compiled module, if it has one yet (same index as the store's
    /// instances).
    pub modules: Vec<Option<Arc<CompiledModule>>>,
    /// Each instance's module's shared code (made or not).
    pub shared: Vec<Option<Arc<SharedCode>>>,
    /// Why the last call into the runtime from compiled code failed.
    pending: Option<Pending>,
    /// Tiered: how often interpreted frames were replaced by compiled code.
    pub transfers: Transfers,
}

/// Counts of tier transfers (`runtime/tier.rs`), for tests.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Transfers {
    /// At a function's entry.
    pub calls: u64,
    /// At a loop head (on-stack replacement).
    pub loops: u64,
}

/// A failure of a runtime entry, waiting for the trap it causes to reach the host.
pub(crate) enum Pending {
    Error(Error),
    /// The error of a function the interpreter ran for compiled code (tiered).
    Nested(Error),
    Panic(Box<dyn std::any::Any + Send>),
}

/// Where machine code is, for `vmctx::refresh_all`.
struct Native<'a> {
    modules: &'a [Option<Arc<CompiledModule>>],
    /// Each instance's module.
    wasm: Vec<Arc<crate::module::ModuleInner>>,
    host: HashMap<u32, usize>,
}

impl NativeCode for Native<'_> {
    fn wasm(&self, instance: u32, index: u32) -> Code {
        let i = instance as usize;
        let Some(module) = self.wasm.get(i) else { return Code::None };
        // (Tiered, a module none of whose functions ran hot yet: all interpreted.)
        let Some(Some(compiled)) = self.modules.get(i) else { return Code::Interp };
        let Some(def) = index.checked_sub(module.num_imported_funcs) else { return Code::None };
        match compiled.func(def) {
            Some(code) => Code::Ready(code),
            None => compiled.lazy_stub(module.funcs[index as usize]).map_or(Code::Interp, Code::Lazy),
        }
    }
    fn host(&self, type_id: u32) -> usize {
        self.host.get(&type_id).copied().unwrap_or(0)
    }
}

/// Store instance `instance`'s compiled module, made now if its module's code is made on
/// first use (tiered); every instance of the same module in the store gets it.
pub(crate) fn compiled_module<T>(store: &mut Store<T>, instance: u32) -> Option<Arc<CompiledModule>> {
    let i = instance as usize;
    if let Some(Some(compiled)) = store.compiled.modules.get(i) {
        return Some(compiled.clone());
    }
    let shared = store.compiled.shared.get(i)?.clone()?;
    let compiled = shared.get_or_make(&store.inner.instances[i].module)?.clone();
    for (j, other) in store.compiled.shared.iter().enumerate() {
        if other.as_ref().is_some_and(|o| Arc::ptr_eq(o, &shared)) {
            store.compiled.modules[j] = Some(compiled.clone());
        }
    }
    // The function-table entries of its functions change (to the interpreter's trampolines).
    store.inner.vm_dirty = true;
    Some(compiled)
}

/// Brings the store's compiled-code contexts up to date.
fn refresh<T>(store: &mut Store<T>) {
    let modules = &store.compiled.modules;
    let wasm = store.inner.instances.iter().map(|i| i.module.clone()).collect();
    let host = modules.iter().flatten().flat_map(|m| m.host_trampolines()).collect();
    let native = Native { modules, wasm, host };
    crate::vm::vmctx::refresh_all(&mut store.inner, &native);
}

/// Calls wasm function `index` of compiled store instance `instance` with `params`.
pub(crate) fn call<T>(
    store: &mut Store<T>,
    instance: u32,
    index: u32,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Error> {
    let module = store.inner.instances[instance as usize].module.clone();
    let type_index = module.funcs[index as usize];
    let ty = module.types[type_index as usize].clone();
    let Some(compiled) = store.compiled.modules[instance as usize].clone() else {
        unreachable!("compiled::call on an interpreted instance")
    };
    let mut values = vec![0u128; params.len().max(results.len()).max(1)];
    for (cell, p) in values.iter_mut().zip(params) {
        *cell = p.to_raw();
    }
    let def = index - module.num_imported_funcs;
    let code = match compiled.func(def) {
        Some(code) => code,
        None => {
            let code = compiled.compile_later(&module, def)?;
            let func = store.inner.instances[instance as usize].funcs[index as usize];
            crate::vm::vmctx::set_native(&mut store.inner, func, code);
            code
        }
    };
    enter(store, instance, compiled.entry_trampoline(type_index), code, &mut values)?;
    for ((r, &t), cell) in results.iter_mut().zip(ty.results()).zip(&values) {
        *r = Val::from_raw(*cell, t, &store.inner);
    }
    Ok(())
}

/// Runs compiled `code` of store instance `instance` through the entry trampoline
/// `trampoline` (made for that code's signature), with `values` holding the arguments and
/// receiving the results.
pub(crate) fn enter<T>(
    store: &mut Store<T>,
    instance: u32,
    trampoline: usize,
    code: usize,
    values: &mut [u128],
) -> Result<(), Error> {
    if store.inner.vm_dirty {
        refresh(store);
    }
    let vmctx = &*store.inner.vmctx[instance as usize].ctx as *const VmContext as usize;
    // The runtime's entries and the stack limit, in the store context.
    let outermost = store.inner.vm_store.ctx.stack_limit == 0;
    let max_stack = store.inner.engine.config().max_wasm_stack;
    {
        let ctx = &mut store.inner.vm_store.ctx;
        ctx.host_call = host_call::<T> as *const () as usize;
        ctx.memory_grow = memory_grow::<T> as *const () as usize;
        ctx.bulk = bulk::<T> as *const () as usize;
        ctx.lazy_compile = lazy_compile::<T> as *const () as usize;
        ctx.memmove = libc::memmove as *const () as usize;
        ctx.memset = libc::memset as *const () as usize;
        if outermost {
            ctx.stack_limit = crate::vm::traps::stack_pointer().saturating_sub(max_stack);
        }
    }
    {
        let meter = &store.inner.meter;
        let (fuel, deadline) = (&meter.fuel as *const u64 as usize, &meter.epoch_deadline as *const u64 as usize);
        let epoch = meter.epoch.as_ref().map_or(0, |e| Arc::as_ptr(e) as usize);
        let ctx = &mut store.inner.vm_store.ctx;
        (ctx.fuel, ctx.epoch, ctx.epoch_deadline) = (fuel, epoch, deadline);
    }
    let store_ptr: *mut Store<T> = store;
    store.inner.vm_store.ctx.host_data = store_ptr as usize;
    let call = EntryCall { trampoline, callee_vmctx: vmctx, caller_vmctx: vmctx, code, values: values.as_mut_ptr() };
    // The caller passes an entry trampoline made for `code`'s signature, and code of this
    // instance, whose context was just refreshed; `values` holds the type-checked arguments
    // with room for the results.
    // SAFETY: as just said; meanwhile the store is reached only through `host_data`.
    let outcome = unsafe { crate::vm::traps::catch_traps(&call) };
    // SAFETY: the call is over; `store_ptr` was derived from `store` just above.
    let store = unsafe { &mut *store_ptr };
    if outermost {
        store.inner.vm_store.ctx.stack_limit = 0;
    }
    match outcome {
        Ok(()) => Ok(()),
        Err(CaughtTrap { site: TrapSite::Wasm(trap), frames }) => {
            Err(Error::Trap(TrapError::new(trap, backtrace(store, &frames))))
        }
        Err(CaughtTrap { site: TrapSite::Host, frames }) => match store.compiled.pending.take() {
            // A trap in a function the interpreter ran for compiled code: its frames,
            // then the compiled ones below.
            Some(Pending::Nested(Error::Trap(mut trap))) => {
                trap.extend_backtrace(backtrace(store, &frames));
                Err(Error::Trap(trap))
            }
            Some(Pending::Error(e) | Pending::Nested(e)) => Err(e),
            Some(Pending::Panic(payload)) => std::panic::resume_unwind(payload),
            None => Err(Error::Trap(TrapError::new(Trap::Unreachable, Backtrace::new(Vec::new())))),
        },
    }
}

/// The wasm frames a trap recorded, as a backtrace.
fn backtrace<T>(store: &Store<T>, pcs: &[usize]) -> Backtrace {
    let frames = pcs
        .iter()
        .filter_map(|&pc| {
            let (base, func_index) = crate::vm::code::wasm_func_at(pc)?;
            let instance = store.compiled.modules.iter().position(|m| m.as_ref().is_some_and(|m| m.owns(base)))?;
            let module = &store.inner.instances[instance].module;
            Some(FrameInfo {
                func_index,
                func_name: module.names.funcs.get(&func_index).cloned(),
                module_name: module.names.module.clone(),
            })
        })
        .collect();
    Backtrace::new(frames)
}

/// Records why an entry failed; compiled code then traps with `TrapSite::Host`.
fn fail<T>(store: &mut Store<T>, pending: Pending) {
    store.compiled.pending = Some(pending);
}

/// The runtime's host-call entry (`VmStoreContext::host_call`): calls host function
/// `func` for the instance of `caller_vmctx`, arguments and results in `values`.
unsafe extern "sysv64" fn host_call<T>(data: usize, caller_vmctx: usize, func: u64, values: *mut u128) -> u32 {
    // SAFETY: `data` is the `host_data` `call` stored: the store, not otherwise used
    // while compiled code runs (module docs).
    let store = unsafe { &mut *(data as *mut Store<T>) };
    // SAFETY: compiled code passes its own instance's live context.
    let instance = unsafe { (*(caller_vmctx as *const VmContext)).instance };
    let data = store.inner.funcs[func as usize].clone();
    let ty = &data.ty;
    let cells = ty.params().len().max(ty.results().len()).max(1);
    // SAFETY: the host trampoline passes an array of `cells` value cells for this type.
    let values = unsafe { std::slice::from_raw_parts_mut(values, cells) };
    let host = match data.kind {
        FuncKind::Host { host } => host,
        // Tiered: a wasm function not compiled yet, run by the interpreter.
        FuncKind::Wasm { .. } => return interpret(store, func as u32, ty, values),
    };
    let params: Vec<Val> =
        ty.params().iter().zip(values.iter()).map(|(&t, &v)| Val::from_raw(v, t, &store.inner)).collect();
    let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    let host = store.host_funcs[host as usize].clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        host(Caller { store: &mut *store, instance: Some(instance) }, &params, &mut results)?;
        check_host_results(&store.inner, ty, &results)
    }));
    if store.inner.vm_dirty {
        refresh(store);
    }
    match outcome {
        Ok(Ok(())) => {
            for (cell, r) in values.iter_mut().zip(&results) {
                *cell = r.to_raw();
            }
            0
        }
        Ok(Err(e)) => {
            fail(store, Pending::Error(e));
            1
        }
        Err(payload) => {
            fail(store, Pending::Panic(payload));
            1
        }
    }
}

/// [`host_call`] for a wasm function that is not compiled yet (tiered): runs it in the
/// interpreter with the arguments in `values`, and puts its results there.
fn interpret<T>(store: &mut Store<T>, func: u32, ty: &crate::types::FuncType, values: &mut [u128]) -> u32 {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let base = super::call::interpret(store, func, ty, |slots| {
            let mut at = 0;
            for (&cell, &t) in values.iter().zip(ty.params()) {
                super::tier::to_slots(cell, t, &mut slots[at..]);
                at += t.slots() as usize;
            }
        })?;
        let mut at = base;
        for (cell, &t) in values.iter_mut().zip(ty.results()) {
            let slots = &store.interp.stack.slots[at..];
            *cell = match t.slots() {
                2 => u128::from(slots[0]) | u128::from(slots[1]) << 64,
                _ => u128::from(slots[0]),
            };
            at += t.slots() as usize;
        }
        Ok::<(), Error>(())
    }));
    if store.inner.vm_dirty {
        refresh(store);
    }
    match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            fail(store, Pending::Nested(e));
            1
        }
        Err(payload) => {
            fail(store, Pending::Panic(payload));
            1
        }
    }
}

/// The runtime's lazy compilation (`VmStoreContext::lazy_compile`): compiles the function
/// `record` (a [`LazyRecord`]) names, points its function-table entries at the code and
/// returns the code's address; 0 if compilation failed (the reason is pending).
unsafe extern "sysv64" fn lazy_compile<T>(data: usize, record: usize) -> usize {
    // SAFETY: as in `host_call`.
    let store = unsafe { &mut *(data as *mut Store<T>) };
    // SAFETY: lazy stubs pass the record their entry named, which lives as long as the
    // instance's context.
    let LazyRecord { instance, def, .. } = unsafe { *(record as *const LazyRecord) };
    let module = store.inner.instances[instance as usize].module.clone();
    let Some(compiled) = store.compiled.modules[instance as usize].clone() else { return 0 };
    match std::panic::catch_unwind(|| compiled.compile_later(&module, def)) {
        Ok(Ok(code)) => {
            let func = store.inner.instances[instance as usize].funcs[(module.num_imported_funcs + def) as usize];
            crate::vm::vmctx::set_native(&mut store.inner, func, code);
            code
        }
        Ok(Err(e)) => {
            fail(store, Pending::Error(e.into()));
            0
        }
        Err(payload) => {
            fail(store, Pending::Panic(payload));
            0
        }
    }
}

/// The runtime's `memory.grow` (`VmStoreContext::memory_grow`): grows memory `memory` of
/// store instance `instance` by `delta` pages through the store's limiter.
unsafe extern "sysv64" fn memory_grow<T>(data: usize, instance: u64, memory: u64, delta: u64) -> i64 {
    // SAFETY: as in `host_call`.
    let store = unsafe { &mut *(data as *mut Store<T>) };
    let index = store.inner.instances[instance as usize].memories[memory as usize];
    let outcome = store.grow_memory(index, delta);
    refresh(store);
    match outcome {
        Ok(Some(old)) => old as i64,
        Ok(None) => -1,
        Err(e) => {
            fail(store, Pending::Error(e));
            -2
        }
    }
}

/// The runtime's bulk memory and table operations (`VmStoreContext::bulk`): `op`
/// (`compile::Bulk`) on store instance `instance` with arguments `args` (up to five; a
/// result replaces the first). Returns 0 when done, [`STATUS_MEMORY`] or [`STATUS_TABLE`]
/// for an out-of-bounds trap (nothing changed), anything else if the operation failed
/// (the reason is pending).
unsafe extern "sysv64" fn bulk<T>(data: usize, instance: u64, op: u64, args: *mut u64) -> u32 {
    use crate::compile::Bulk;
    use crate::vm::bulk;
    // SAFETY: as in `host_call`.
    let store = unsafe { &mut *(data as *mut Store<T>) };
    // SAFETY: compiled code passes an array of five arguments.
    let args = unsafe { std::slice::from_raw_parts_mut(args, 5) };
    let i = instance as usize;
    let inner = &mut store.inner;
    let inst = &inner.instances[i];
    let memory = |k: u64| inst.memories[k as usize] as usize;
    let table = |k: u64| inst.tables[k as usize] as usize;
    let outcome: Result<Option<u64>, Trap> = match Bulk::from_code(op) {
        Some(Bulk::MemoryCopy) => {
            let (to, from) = (memory(args[0]), memory(args[1]));
            bulk::memory_copy(&mut inner.memories, to, from, args[2], args[3], args[4]).map(|()| None)
        }
        Some(Bulk::MemoryInit) => {
            let m = memory(args[0]);
            let data = inst.data_segment(&inner.segments[i], args[1] as u32);
            bulk::memory_init(&mut inner.memories[m], data, args[2], args[3], args[4]).map(|()| None)
        }
        Some(Bulk::DataDrop) => {
            inner.segments[i].data_dropped[args[0] as usize] = true;
            Ok(None)
        }
        Some(Bulk::TableGet) => {
            let t = table(args[0]);
            inner.tables[t].elems.get(args[1] as usize).map(|&e| Some(e)).ok_or(Trap::TableOutOfBounds)
        }
        Some(Bulk::TableSet) => {
            let t = table(args[0]);
            match inner.tables[t].elems.get_mut(args[1] as usize) {
                Some(e) => {
                    *e = args[2];
                    Ok(None)
                }
                None => Err(Trap::TableOutOfBounds),
            }
        }
        Some(Bulk::TableSize) => Ok(Some(inner.tables[table(args[0])].elems.len() as u64)),
        Some(Bulk::TableGrow) => {
            let t = table(args[0]) as u32;
            match store.grow_table(t, args[2], args[1]) {
                Ok(old) => Ok(Some(old.map_or(u32::MAX as u64, |old| old))),
                Err(e) => {
                    fail(store, Pending::Error(e));
                    return 2;
                }
            }
        }
        Some(Bulk::TableFill) => {
            let t = table(args[0]);
            bulk::table_fill(&mut inner.tables[t], args[1], args[2], args[3]).map(|()| None)
        }
        Some(Bulk::TableCopy) => {
            let (to, from) = (table(args[0]), table(args[1]));
            bulk::table_copy(&mut inner.tables, to, from, args[2], args[3], args[4]).map(|()| None)
        }
        Some(Bulk::TableInit) => {
            let t = table(args[0]);
            let items = &inner.segments[i].elems[args[1] as usize];
            bulk::table_init(&mut inner.tables[t], items, args[2], args[3], args[4]).map(|()| None)
        }
        Some(Bulk::ElemDrop) => {
            inner.segments[i].elems[args[0] as usize] = Box::new([]);
            Ok(None)
        }
        None => return 2,
    };
    if store.inner.vm_dirty {
        refresh(store);
    }
    match outcome {
        Ok(result) => {
            if let Some(r) = result {
                args[0] = r;
            }
            0
        }
        Err(Trap::TableOutOfBounds) => STATUS_TABLE,
        Err(_) => STATUS_MEMORY,
    }
}
