//! The driver around the interpreter: calls from the host into wasm, and the interpreter's
//! exits that need the typed store — host functions (with a [`Caller`]) and growth of
//! memories and tables (through the store's limiter).

use super::func::Caller;
use super::store::Store;
use super::values::Val;
use crate::error::Error;
use crate::exec::Exit;
use crate::trap::Trap;
use crate::types::{FuncType, ValType};
use crate::vm::{FuncKind, StoreInner};

/// How many host→wasm re-entries may nest (each costs host stack).
const MAX_REENTRY: u32 = 200;

/// Calls store function `func`. Argument and result types were checked by the caller.
pub(crate) fn call<T>(store: &mut Store<T>, func: u32, params: &[Val], results: &mut [Val]) -> Result<(), Error> {
    let data = store.inner.funcs[func as usize].clone();
    if let FuncKind::Host { host } = data.kind {
        let host = store.host_funcs[host as usize].clone();
        host(Caller { store: &mut *store, instance: None }, params, results)?;
        return check_host_results(&store.inner, &data.ty, results);
    }
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    if let FuncKind::Wasm { instance, index } = data.kind
        && super::tier::runs_compiled(store, instance, index)
    {
        return super::compiled::call(store, instance, index, params, results);
    }
    let base = interpret(store, func, &data.ty, |slots| {
        let mut at = 0;
        for p in params {
            p.write_slots(&mut slots[at..]);
            at += p.ty().slots() as usize;
        }
    })?;
    let mut at = base;
    for (r, ty) in results.iter_mut().zip(data.ty.results()) {
        *r = Val::read_slots(&store.interp.stack.slots[at..], *ty, &store.inner);
        at += ty.slots() as usize;
    }
    Ok(())
}

/// Runs wasm function `func`, of type `ty`, in the interpreter as an activation of its
/// own on top of the interpreter's stack: `args` writes the arguments into the slots at
/// its base, which it returns — the results are there.
pub(crate) fn interpret<T>(
    store: &mut Store<T>,
    func: u32,
    ty: &FuncType,
    args: impl FnOnce(&mut [u64]),
) -> Result<usize, Error> {
    let stack = &mut store.interp.stack;
    if stack.reentry >= MAX_REENTRY {
        return Err(Trap::StackOverflow.into());
    }
    let depth = stack.frames.len();
    let base = stack.top();
    let slots = |tys: &[ValType]| tys.iter().map(|t| t.slots() as usize).sum::<usize>();
    stack.reserve(base + slots(ty.params()).max(slots(ty.results())))?;
    args(&mut stack.slots[base..]);
    stack.reentry += 1;
    let outcome = run_activation(store, func, base, depth);
    let stack = &mut store.interp.stack;
    stack.reentry -= 1;
    stack.frames.truncate(depth);
    outcome.map(|()| base)
}

/// Runs function `func` (arguments at `base`) until its frame returns.
fn run_activation<T>(store: &mut Store<T>, func: u32, base: usize, depth: usize) -> Result<(), Error> {
    let fault = match store.interp.push_entry(&mut store.inner, func, base) {
        Ok(()) => loop {
            match crate::exec::run(&mut store.inner, &mut store.interp, depth) {
                Ok(Exit::Returned) => return Ok(()),
                Ok(Exit::Host { func, args }) => call_host_from_wasm(store, func, args)?,
                Ok(Exit::MemoryGrow { memory, delta, dst }) => {
                    let old = store.grow_memory(memory, delta)?;
                    store.interp.stack.slots[dst] = old.map_or(u32::MAX as u64, |old| old as u32 as u64);
                }
                Ok(Exit::TableGrow { table, delta, init, dst }) => {
                    let old = store.grow_table(table, delta, init)?;
                    store.interp.stack.slots[dst] = old.map_or(u32::MAX as u64, |old| old as u32 as u64);
                }
                Ok(Exit::Tier { osr }) => {
                    if super::tier::tier_up(store, osr, depth)? {
                        return Ok(());
                    }
                }
                Err(fault) => break fault,
            }
        },
        Err(fault) => fault,
    };
    Err(store.interp.error(&store.inner, fault, depth))
}

/// Invokes host function `func` for the wasm frame on top, with arguments at slot `args`.
fn call_host_from_wasm<T>(store: &mut Store<T>, func: u32, args: usize) -> Result<(), Error> {
    let data = store.inner.funcs[func as usize].clone();
    let FuncKind::Host { host } = data.kind else { unreachable!("host exit for a wasm function") };
    let host = store.host_funcs[host as usize].clone();
    let instance = store.interp.stack.running_instance();
    let ty = &data.ty;
    let mut at = args;
    let mut params = Vec::with_capacity(ty.params().len());
    for t in ty.params() {
        params.push(Val::read_slots(&store.interp.stack.slots[at..], *t, &store.inner));
        at += t.slots() as usize;
    }
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    host(Caller { store: &mut *store, instance }, &params, &mut results)?;
    check_host_results(&store.inner, ty, &results)?;
    let mut at = args;
    for r in &results {
        r.write_slots(&mut store.interp.stack.slots[at..]);
        at += r.ty().slots() as usize;
    }
    Ok(())
}

/// A host function must return values of its declared result types, from this store.
pub(crate) fn check_host_results(store: &StoreInner, ty: &FuncType, results: &[Val]) -> Result<(), Error> {
    for (r, t) in results.iter().zip(ty.results()) {
        if r.ty() != *t || r.foreign(store.id) {
            return Err(Error::TypeMismatch(format!("host function returned {} for {t}", r.ty())));
        }
    }
    Ok(())
}
