//! Execution ([spec: execution]): the interpreter — Kuai's own call stack, the
//! interpreter's code cache, and the threaded-code interpreter itself.
//!
//! Calls never recurse on the host stack. Every wasm frame lives in [`Stack::frames`], its
//! slots in the shared value stack [`Stack::slots`]; a callee's frame starts at the slot
//! where the caller put the first argument, so arguments are never copied. The
//! interpreter ([`run`]) returns to its driver (`runtime::call`) only to finish, to trap,
//! or to let the driver invoke a host function or grow a memory or table (which need the
//! typed `Store<T>` and its limiter); the driver then resumes it. Exceeding
//! [`Config::max_call_depth`](crate::Config::max_call_depth) or the slot limit traps with
//! "call stack exhausted".
//!
//! [spec: execution]: https://webassembly.github.io/spec/core/exec/index.html

mod code;
mod numeric;
mod simd;
mod threaded;

pub(crate) use code::{InterpFunc, ModuleCode};
pub(crate) use threaded::run;

use crate::error::{CompileError, Error};
use crate::trap::{Backtrace, FrameInfo, Trap, TrapError};
use crate::vm::{FuncData, FuncKind, Meter, StoreInner};
use std::sync::Arc;

/// The interpreter's state in a store: its stacks, and the code of each instance.
pub(crate) struct Interp {
    pub stack: Stack,
    /// The interpreter's code of each instance's module (same index as the store's
    /// instances).
    pub code: Vec<Arc<ModuleCode>>,
    /// Tiered execution: the hotness budget left of each instance's defined functions
    /// (same index as `code`; `TierEntry` and `TierLoop` spend it).
    pub budgets: Vec<Box<[i32]>>,
}

impl Interp {
    pub(crate) fn new(config: &crate::Config) -> Interp {
        Interp {
            stack: Stack::new(config.max_call_depth, config.max_stack_slots),
            code: Vec::new(),
            budgets: Vec::new(),
        }
    }

    /// Adds an instance running `code`, each function with hotness budget `budget`.
    pub(crate) fn add_instance(&mut self, code: Arc<ModuleCode>, budget: u32) {
        let budget = i32::try_from(budget).unwrap_or(i32::MAX);
        self.budgets.push(vec![budget; code.funcs.len()].into_boxed_slice());
        self.code.push(code);
    }

    /// Pushes the entry frame of an activation: wasm function `func`, whose arguments
    /// are at absolute slot `base`, charging its entry fuel (with metering on).
    pub(crate) fn push_entry(&mut self, store: &mut StoreInner, func: u32, base: usize) -> Result<(), Fault> {
        let config = store.engine.config();
        let metered = config.consume_fuel || config.epoch_interruption;
        self.stack.push(&store.funcs, &self.code, &mut store.meter, func, base, metered)
    }

    /// The error a fault of the activation whose frames begin at `depth` becomes.
    pub(crate) fn error(&self, store: &StoreInner, fault: Fault, depth: usize) -> Error {
        match fault {
            Fault::Trap(trap) => Error::Trap(TrapError::new(trap, self.backtrace(store, depth))),
            Fault::Compile(e) => Error::Compile(*e),
        }
    }

    /// The wasm frames above `depth`, innermost first.
    pub(crate) fn backtrace(&self, store: &StoreInner, depth: usize) -> Backtrace {
        let frames = self.stack.frames[depth..]
            .iter()
            .rev()
            .map(|f| {
                let module = &store.instances[f.instance as usize].module;
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
}

/// An activation record of a wasm function.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Store function being executed.
    pub func: u32,
    /// Store instance of that function.
    pub instance: u32,
    /// Index of the function among its module's defined functions (locates its code).
    pub def: u32,
    /// Slots the frame occupies.
    frame_size: u32,
    /// Address of the op to resume at (saved across calls); always an op of this
    /// function's lowered code.
    ip: usize,
    /// First slot of the frame in [`Stack::slots`].
    pub base: usize,
}

/// The value stack and frame stack of a store.
#[derive(Debug)]
pub(crate) struct Stack {
    pub slots: Vec<u64>,
    pub frames: Vec<Frame>,
    max_frames: usize,
    max_slots: usize,
    /// Nested activations (host functions calling back into wasm).
    pub reentry: u32,
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
    /// Tiered execution: the top frame's function spent its hotness budget, at its entry
    /// (`osr` is `None`; its entry fuel is charged) or at the head of its loop number
    /// `osr` (before the loop head's checks). The frame resumes after the tiering
    /// instruction unless the driver replaces it with compiled code.
    Tier { osr: Option<u32> },
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
    pub(crate) fn new(max_frames: usize, max_slots: usize) -> Stack {
        Stack { slots: Vec::new(), frames: Vec::new(), max_frames, max_slots, reentry: 0 }
    }

    /// The store instance of the top frame, if any.
    pub(crate) fn running_instance(&self) -> Option<u32> {
        self.frames.last().map(|f| f.instance)
    }

    /// First free slot above the live frames.
    pub(crate) fn top(&self) -> usize {
        self.frames.last().map_or(0, |f| f.base + f.frame_size as usize)
    }

    /// Pushes a frame for wasm function `func` whose arguments are at absolute slot
    /// `base`, translating the function on its first call (`code` holds each store
    /// instance's code). With `metered`, also charges the callee's entry fuel and checks
    /// the epoch (after pushing, so the callee is in the backtrace).
    #[inline]
    fn push(
        &mut self,
        funcs: &[FuncData],
        code: &[Arc<ModuleCode>],
        meter: &mut Meter,
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
        let module = &code[instance as usize];
        let def = index - module.module.num_imported_funcs;
        let code = module.get(def).map_err(|e| Fault::Compile(Box::new(e)))?;
        self.push_frame(code, func, instance, def, base)?;
        if metered {
            meter_entry(meter, code)?;
        }
        Ok(())
    }

    /// Pushes a frame for `code`, store function `func` (function `def` among the defined
    /// functions of store instance `instance`), whose arguments are at absolute slot `base`:
    /// reserves its slots and zeroes its declared locals.
    #[inline(always)]
    fn push_frame(&mut self, code: &InterpFunc, func: u32, instance: u32, def: u32, base: usize) -> Result<(), Trap> {
        if self.frames.len() >= self.max_frames {
            return Err(Trap::StackOverflow);
        }
        self.reserve(base + code.frame_size as usize)?;
        if code.num_locals > 0 {
            let first = base + code.num_params as usize;
            zero(&mut self.slots[first..first + code.num_locals as usize]);
        }
        let ip = code.code.as_ptr() as usize;
        self.frames.push(Frame { func, instance, def, frame_size: code.frame_size, ip, base });
        Ok(())
    }

    /// [`Stack::push_frame`] for the common case only — the frame stack has spare
    /// capacity, the slots exist, at most 16 locals — so that it makes no calls (a call
    /// would make every wasm call spill registers); returns `false`, changing nothing,
    /// otherwise. Locals are zeroed with a fixed-size store of 4 or 16 slots, which may
    /// also clear temporaries or free slots above the frame (both hold garbage).
    #[inline(always)]
    fn push_frame_fast(&mut self, code: &InterpFunc, func: u32, instance: u32, def: u32, base: usize) -> bool {
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
        let ip = code.code.as_ptr() as usize;
        self.frames.push(Frame { func, instance, def, frame_size: code.frame_size, ip, base });
        true
    }

    /// Makes sure slots `..end` exist.
    #[inline]
    pub(crate) fn reserve(&mut self, end: usize) -> Result<(), Trap> {
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

/// Checks the epoch and charges the entry fuel of the frame just pushed for `code`
/// (after pushing, so the callee is in the backtrace).
#[inline(always)]
fn meter_entry(meter: &mut Meter, code: &InterpFunc) -> Result<(), Trap> {
    meter.check_epoch()?;
    meter.consume(code.entry_fuel)
}
