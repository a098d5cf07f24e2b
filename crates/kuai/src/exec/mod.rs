//! Execution ([spec: execution]): Kuai's own call stack and the driver around the
//! interpreter loop.
//!
//! Calls never recurse on the host stack. Every wasm frame lives in [`Stack::frames`], its
//! slots in the shared value stack [`Stack::slots`]; a callee's frame starts at the slot
//! where the caller put the first argument, so arguments are never copied. The
//! interpreter ([`threaded::run`]) returns to [`call`] only to finish, to trap, or to let
//! the driver invoke a host function (which needs the typed `Store<T>`); the driver then
//! resumes it. Exceeding [`Config::max_call_depth`](crate::Config::max_call_depth) or the
//! slot limit traps with "call stack exhausted".
//!
//! [spec: execution]: https://webassembly.github.io/spec/core/exec/index.html

mod numeric;
mod simd;
mod threaded;

pub(crate) use threaded::{Op, lower};

use crate::error::{CompileError, Error};
use crate::ir::CompiledFunc;
use crate::runtime::func::{Caller, FuncData, FuncKind};
use crate::runtime::instance::InstanceData;
use crate::runtime::store::{Store, StoreInner};
use crate::runtime::values::Val;
use crate::trap::{Backtrace, FrameInfo, Trap, TrapError};
use crate::types::FuncType;

/// How many host→wasm re-entries may nest (each costs host stack).
const MAX_REENTRY: u32 = 200;

/// An activation record of a wasm function.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Store function being executed.
    func: u32,
    /// Store instance of that function.
    instance: u32,
    /// Index of the function among its module's defined functions (locates its code).
    def: u32,
    /// Slots the frame occupies.
    frame_size: u32,
    /// Address of the op to resume at (saved across calls); always an op of this
    /// function's lowered code.
    ip: usize,
    /// First slot of the frame in [`Stack::slots`].
    base: usize,
}

/// The value stack and frame stack of a store.
#[derive(Debug)]
pub(crate) struct Stack {
    slots: Vec<u64>,
    frames: Vec<Frame>,
    max_frames: usize,
    max_slots: usize,
    /// Nested activations (host functions calling back into wasm).
    reentry: u32,
    /// Fuel and epoch state, checked here at function entry and by the interpreter.
    pub(crate) meter: Meter,
}

/// A store's fuel and epoch deadline. Function entries are charged and checked by
/// [`Stack::push`] (no instruction needed); runs and loop heads by `ConsumeFuel` and
/// `CheckEpoch` instructions.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// Fuel left (with `Config::consume_fuel`).
    pub fuel: u64,
    /// The engine's epoch counter (with `Config::epoch_interruption`).
    pub epoch: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// The epoch at which running code traps with "interrupt".
    pub epoch_deadline: u64,
}

impl Meter {
    pub(crate) fn new(config: &crate::Config, epoch: &std::sync::Arc<std::sync::atomic::AtomicU64>) -> Meter {
        Meter { fuel: 0, epoch: config.epoch_interruption.then(|| epoch.clone()), epoch_deadline: u64::MAX }
    }

    /// Charges `amount` fuel, or traps (charging nothing) if less is left.
    #[inline]
    pub(crate) fn consume(&mut self, amount: u32) -> Result<(), Trap> {
        self.fuel = self.fuel.checked_sub(amount as u64).ok_or(Trap::OutOfFuel)?;
        Ok(())
    }

    /// Traps with "interrupt" if the epoch has reached the deadline.
    #[inline]
    pub(crate) fn check_epoch(&self) -> Result<(), Trap> {
        match &self.epoch {
            Some(epoch) if epoch.load(std::sync::atomic::Ordering::Relaxed) >= self.epoch_deadline => {
                Err(Trap::Interrupt)
            }
            _ => Ok(()),
        }
    }
}

/// Why the interpreter stopped.
pub(crate) enum Exit {
    /// The activation's entry frame returned.
    Returned,
    /// The top frame calls host function `func` with arguments at absolute slot `args`.
    Host { func: u32, args: usize },
    /// `memory.grow` of store memory `memory` by `delta` pages; the old size (or -1) goes
    /// to absolute slot `dst`.
    MemoryGrow { memory: u32, delta: u64, dst: usize },
    /// `table.grow` of store table `table` by `delta` elements set to `init`.
    TableGrow { table: u32, delta: u64, init: u64, dst: usize },
}

/// A failure inside the interpreter.
pub(crate) enum Fault {
    Trap(Trap),
    /// Lazy translation failed (only implementation limits can do that after validation).
    /// Boxed: it is rare, and a small `Fault` keeps the interpreter's results in registers.
    Compile(Box<CompileError>),
}

impl From<Trap> for Fault {
    fn from(t: Trap) -> Fault {
        Fault::Trap(t)
    }
}

impl Stack {
    pub(crate) fn new(max_frames: usize, max_slots: usize, meter: Meter) -> Stack {
        Stack { slots: Vec::new(), frames: Vec::new(), max_frames, max_slots, reentry: 0, meter }
    }

    /// First free slot above the live frames.
    fn top(&self) -> usize {
        self.frames.last().map_or(0, |f| f.base + f.frame_size as usize)
    }

    /// Pushes a frame for wasm function `func` whose arguments are at absolute slot
    /// `base`, translating the function on its first call.
    /// With `metered`, also charges the callee's entry fuel and checks the epoch (after
    /// pushing, so the callee is in the backtrace).
    #[inline]
    fn push(
        &mut self,
        funcs: &[FuncData],
        instances: &[InstanceData],
        func: u32,
        base: usize,
        metered: bool,
    ) -> Result<(), Fault> {
        let FuncKind::Wasm { instance, index } = funcs[func as usize].kind else {
            unreachable!("push on a host function")
        };
        if self.frames.len() >= self.max_frames {
            return Err(Fault::Trap(Trap::StackOverflow));
        }
        let module = &instances[instance as usize].module.inner;
        let def = index - module.num_imported_funcs;
        let code = module.compiled(def).map_err(|e| Fault::Compile(Box::new(e)))?;
        self.push_frame(code, func, instance, def, base)?;
        if metered {
            self.meter_entry(code)?;
        }
        Ok(())
    }

    /// Pushes a frame for `code`, store function `func` (function `def` among the defined
    /// functions of store instance `instance`), whose arguments are at absolute slot `base`:
    /// reserves its slots and zeroes its declared locals.
    #[inline(always)]
    fn push_frame(&mut self, code: &CompiledFunc, func: u32, instance: u32, def: u32, base: usize) -> Result<(), Trap> {
        if self.frames.len() >= self.max_frames {
            return Err(Trap::StackOverflow);
        }
        self.reserve(base + code.frame_size as usize)?;
        if code.num_locals > 0 {
            let first = base + code.num_params as usize;
            zero(&mut self.slots[first..first + code.num_locals as usize]);
        }
        let ip = code.ops.as_ptr() as usize;
        self.frames.push(Frame { func, instance, def, frame_size: code.frame_size, ip, base });
        Ok(())
    }

    /// [`Stack::push_frame`] for the common case only — the frame stack has spare
    /// capacity, the slots exist, at most 16 locals — so that it makes no calls (a call
    /// would make every wasm call spill registers); returns `false`, changing nothing,
    /// otherwise. Locals are zeroed with a fixed-size store of 4 or 16 slots, which may
    /// also clear temporaries or free slots above the frame (both hold garbage).
    #[inline(always)]
    fn push_frame_fast(&mut self, code: &CompiledFunc, func: u32, instance: u32, def: u32, base: usize) -> bool {
        let frames = self.frames.len();
        if frames >= self.max_frames || frames == self.frames.capacity() {
            return false;
        }
        if base + code.frame_size as usize > self.slots.len() {
            return false;
        }
        let first = base + code.num_params as usize;
        let cleared = match code.num_locals {
            0 => true,
            1..=4 => self.slots.get_mut(first..first + 4).map(|s| s.copy_from_slice(&[0; 4])).is_some(),
            5..=16 => self.slots.get_mut(first..first + 16).map(|s| s.copy_from_slice(&[0; 16])).is_some(),
            _ => false,
        };
        if !cleared {
            return false;
        }
        let ip = code.ops.as_ptr() as usize;
        self.frames.push(Frame { func, instance, def, frame_size: code.frame_size, ip, base });
        true
    }

    /// Checks the epoch and charges the entry fuel of the frame just pushed for `code`
    /// (after pushing, so the callee is in the backtrace).
    #[inline(always)]
    fn meter_entry(&mut self, code: &CompiledFunc) -> Result<(), Trap> {
        self.meter.check_epoch()?;
        self.meter.consume(code.entry_fuel)
    }

    /// Makes sure slots `..end` exist.
    #[inline]
    fn reserve(&mut self, end: usize) -> Result<(), Trap> {
        if end > self.slots.len() {
            return self.grow_slots(end);
        }
        Ok(())
    }

    /// Grows the value stack to hold slots `..end` (rare: out of line, so that calls stay
    /// small). A host that cannot allocate the stack gets the trap, not an abort.
    #[cold]
    #[inline(never)]
    fn grow_slots(&mut self, end: usize) -> Result<(), Trap> {
        if end > self.max_slots {
            return Err(Trap::StackOverflow);
        }
        let new_len = end.max(self.slots.len() * 2).max(1024).min(self.max_slots);
        self.slots.try_reserve_exact(new_len - self.slots.len()).map_err(|_| Trap::StackOverflow)?;
        self.slots.resize(new_len, 0);
        Ok(())
    }
}

/// Zeroes a frame's declared locals: a few stores for the usual handful (a `memset`
/// call would make every call spill registers), `fill` beyond.
#[inline(always)]
fn zero(locals: &mut [u64]) {
    match locals {
        [a] => *a = 0,
        [a, b] => [*a, *b] = [0; 2],
        [a, b, c] => [*a, *b, *c] = [0; 3],
        [a, b, c, d] => [*a, *b, *c, *d] = [0; 4],
        _ => zero_many(locals),
    }
}

/// [`zero`] for frames with many locals (out of line: it calls `memset`).
#[cold]
#[inline(never)]
fn zero_many(locals: &mut [u64]) {
    locals.fill(0);
}

/// The wasm frames above `depth`, innermost first.
fn backtrace(store: &StoreInner, depth: usize) -> Backtrace {
    let frames = store.stack.frames[depth..]
        .iter()
        .rev()
        .map(|f| {
            let module = &store.instances[f.instance as usize].module.inner;
            let func_index = match store.funcs[f.func as usize].kind {
                FuncKind::Wasm { index, .. } => index,
                FuncKind::Host { .. } => 0,
            };
            FrameInfo {
                func_index,
                func_name: module.names.funcs.get(&func_index).cloned(),
                module_name: module.names.module.clone(),
            }
        })
        .collect();
    Backtrace::new(frames)
}

/// Calls store function `func`. Argument and result types were checked by the caller.
pub(crate) fn call<T>(store: &mut Store<T>, func: u32, params: &[Val], results: &mut [Val]) -> Result<(), Error> {
    let data = store.inner.funcs[func as usize].clone();
    if let FuncKind::Host { host } = data.kind {
        let host = store.host_funcs[host as usize].clone();
        host(Caller { store: &mut *store, instance: None }, params, results)?;
        return check_host_results(&store.inner, &data.ty, results);
    }
    if store.inner.stack.reentry >= MAX_REENTRY {
        return Err(Trap::StackOverflow.into());
    }
    let depth = store.inner.stack.frames.len();
    let base = store.inner.stack.top();
    let slots = |tys: &[crate::ValType]| tys.iter().map(|t| t.slots() as usize).sum::<usize>();
    store.inner.stack.reserve(base + slots(data.ty.params()).max(slots(data.ty.results())))?;
    let mut at = base;
    for p in params {
        p.write_slots(&mut store.inner.stack.slots[at..]);
        at += p.ty().slots() as usize;
    }
    store.inner.stack.reentry += 1;
    let outcome = run_activation(store, func, base, depth);
    store.inner.stack.reentry -= 1;
    store.inner.stack.frames.truncate(depth);
    outcome?;
    let mut at = base;
    for (r, ty) in results.iter_mut().zip(data.ty.results()) {
        *r = Val::read_slots(&store.inner.stack.slots[at..], *ty, &store.inner);
        at += ty.slots() as usize;
    }
    Ok(())
}

/// Runs function `func` (arguments at `base`) until its frame returns.
fn run_activation<T>(store: &mut Store<T>, func: u32, base: usize, depth: usize) -> Result<(), Error> {
    let inner = &mut store.inner;
    let metered = inner.engine.config().consume_fuel || inner.engine.config().epoch_interruption;
    let fault = match inner.stack.push(&inner.funcs, &inner.instances, func, base, metered) {
        Ok(()) => loop {
            match threaded::run(&mut store.inner, depth) {
                Ok(Exit::Returned) => return Ok(()),
                Ok(Exit::Host { func, args }) => call_host_from_wasm(store, func, args)?,
                Ok(Exit::MemoryGrow { memory, delta, dst }) => {
                    let old = store.grow_memory(memory, delta)?;
                    store.inner.stack.slots[dst] = old.map_or(u32::MAX as u64, |old| old as u32 as u64);
                }
                Ok(Exit::TableGrow { table, delta, init, dst }) => {
                    let old = store.grow_table(table, delta, init)?;
                    store.inner.stack.slots[dst] = old.map_or(u32::MAX as u64, |old| old as u32 as u64);
                }
                Err(fault) => break fault,
            }
        },
        Err(fault) => fault,
    };
    match fault {
        Fault::Trap(trap) => Err(Error::Trap(TrapError::new(trap, backtrace(&store.inner, depth)))),
        Fault::Compile(e) => Err(Error::Compile(*e)),
    }
}

/// Invokes host function `func` for the wasm frame on top, with arguments at slot `args`.
fn call_host_from_wasm<T>(store: &mut Store<T>, func: u32, args: usize) -> Result<(), Error> {
    let data = store.inner.funcs[func as usize].clone();
    let FuncKind::Host { host } = data.kind else { unreachable!("host exit for a wasm function") };
    let host = store.host_funcs[host as usize].clone();
    let instance = store.inner.stack.frames.last().map(|f| f.instance);
    let ty = &data.ty;
    let mut at = args;
    let mut params = Vec::with_capacity(ty.params().len());
    for t in ty.params() {
        params.push(Val::read_slots(&store.inner.stack.slots[at..], *t, &store.inner));
        at += t.slots() as usize;
    }
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    host(Caller { store: &mut *store, instance }, &params, &mut results)?;
    check_host_results(&store.inner, ty, &results)?;
    let mut at = args;
    for r in &results {
        r.write_slots(&mut store.inner.stack.slots[at..]);
        at += r.ty().slots() as usize;
    }
    Ok(())
}

/// A host function must return values of its declared result types, from this store.
fn check_host_results(store: &StoreInner, ty: &FuncType, results: &[Val]) -> Result<(), Error> {
    for (r, t) in results.iter().zip(ty.results()) {
        if r.ty() != *t || r.foreign(store.id) {
            return Err(Error::TypeMismatch(format!("host function returned {} for {t}", r.ty())));
        }
    }
    Ok(())
}
