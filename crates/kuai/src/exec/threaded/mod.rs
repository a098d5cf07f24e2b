//! The interpreter: threaded code, one handler function per instruction.
//!
//! A translated function is lowered ([`lower`]) into a sequence of [`Op`]s — the
//! instruction's operands plus a pointer to its handler. A handler does its instruction's
//! work and ends by calling the handler of the next op with the same arguments, the
//! machine state that must stay in registers:
//!
//! ```text
//! ip   the op being executed          sp   the frame's first slot
//! mem  memory 0's first byte          len  memory 0's length in bytes
//! cx   everything else (the store's objects, the frame stack, the outcome)
//! acc  the previous op's result, in an integer and a float register (`Acc`)
//! ```
//!
//! Those calls are in tail position with identical signatures, which LLVM compiles into
//! plain jumps (sibling calls) in optimised builds: dispatch is one indirect jump per
//! instruction and the state never leaves registers. Stable Rust cannot *require* that
//! (`become` is not stable), so:
//! - debug builds, and builds with the `loop-dispatch` feature, return to a loop after
//!   every instruction instead (same handlers, `next!` stores the state in `cx.resume`);
//! - `tests/tail_calls.rs` runs a long loop of every common instruction kind on a
//!   small thread stack in release builds, which overflows if a handler stops
//!   tail-calling.
//!
//! This is the one part of Kuai that uses `unsafe`: slot and code accesses are unchecked.
//! Their soundness rests on the invariants `ir::verify` proves of every translated
//! function (slot operands within the frame, branch targets and data words within the
//! code, no straight-line op at the end) and on `Stack::push` reserving the frame's slots
//! before the frame runs. Linear memory accesses are always bounds-checked against `len`.
//! See docs/RATIONALE.md ("Why threaded code?") for the numbers behind the design.

use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use super::{Exit, Fault, Interp, InterpFunc, ModuleCode, Stack, meter_entry};
use crate::ir::{Instr, Slot};
use crate::trap::Trap;
use crate::vm::{
    FuncData, FuncKind, GlobalData, InstanceData, InstanceSegments, MemoryData, Meter, StoreInner, TableData,
};

/// Points to the op being executed.
pub(crate) type Ip = *const Op;
/// Points to slot 0 of the running frame.
pub(crate) type Sp = *mut u64;
/// Points to the first byte of the selected linear memory.
pub(crate) type Mem = *mut u8;

/// An instruction's implementation.
///
/// # Safety
/// `ip` points into the lowered code of a verified function and that op's handler is
/// this function; `sp` points to that function's frame, whose `frame_size` slots exist;
/// `mem`/`len` describe the bytes of the memory the op addresses (memory 0 of the
/// running instance unless a `SelectMemory` op just chose another), and no reference to
/// those bytes or to the stack's slots is alive.
pub(crate) type Handler = unsafe fn(Ip, Sp, Mem, usize, &mut Cx<'_>, Acc) -> Done;

/// The accumulators: the result the previous op computed, passed to the next handler in
/// registers. `i` is a 64-bit slot value (a general register), `f` an `f64` (a float
/// register, so `f64` chains never cross between register files). Which of the two holds
/// the result depends on the producer (`Passes`); the other one holds whatever it held.
#[derive(Clone, Copy)]
pub(crate) struct Acc {
    i: u64,
    f: f64,
}

impl Acc {
    const ZERO: Acc = Acc { i: 0, f: 0.0 };
}

/// An operand of a handler: a slot of the frame, or (in a handler variant that `lower`
/// installs right after the producing op) the accumulator holding that slot's value.
pub(crate) trait Operand: Copy {
    /// The operand's 64-bit value.
    ///
    /// # Safety
    /// For a slot: `sp` points to a frame that contains it (the `Handler` contract).
    unsafe fn bits(self, sp: Sp) -> u64;
    /// The operand as an `f64`.
    ///
    /// # Safety
    /// As for [`Operand::bits`].
    #[inline(always)]
    unsafe fn float(self, sp: Sp) -> f64 {
        // SAFETY: the caller's guarantee, passed on.
        f64::from_bits(unsafe { self.bits(sp) })
    }
}

impl Operand for crate::ir::Slot {
    #[inline(always)]
    unsafe fn bits(self, sp: Sp) -> u64 {
        // SAFETY: the caller guarantees the slot is in the frame at `sp`.
        unsafe { *sp.add(self as usize) }
    }
}

/// The operand is in the integer accumulator.
#[derive(Clone, Copy)]
pub(crate) struct InInt(u64);

impl Operand for InInt {
    #[inline(always)]
    unsafe fn bits(self, _: Sp) -> u64 {
        self.0
    }
}

/// The operand is in the float accumulator.
#[derive(Clone, Copy)]
pub(crate) struct InFloat(f64);

impl Operand for InFloat {
    #[inline(always)]
    unsafe fn bits(self, _: Sp) -> u64 {
        self.0.to_bits()
    }
    #[inline(always)]
    unsafe fn float(self, _: Sp) -> f64 {
        self.0
    }
}

/// Which of a handler's (at most two) `via` operands come from an accumulator: the type
/// parameter of every `handlers!` handler, so each variant is compiled separately.
pub(crate) trait Via {
    type First: Operand;
    type Second: Operand;
    fn first(slot: crate::ir::Slot, acc: Acc) -> Self::First;
    fn second(slot: crate::ir::Slot, acc: Acc) -> Self::Second;
}

/// Both operands in slots.
pub(crate) struct Slots;
/// The first `via` operand in `acc.i`.
pub(crate) struct FirstInt;
/// The second `via` operand in `acc.i`.
pub(crate) struct SecondInt;
/// The first `via` operand in `acc.f`.
pub(crate) struct FirstFloat;
/// The second `via` operand in `acc.f`.
pub(crate) struct SecondFloat;

macro_rules! via_impls {
    ($($name:ident: $first:ty = $f:expr, $second:ty = $s:expr;)*) => {
        $(
            impl Via for $name {
                type First = $first;
                type Second = $second;
                #[inline(always)]
                #[allow(unused_variables)]
                fn first(slot: crate::ir::Slot, acc: Acc) -> $first {
                    $f(slot, acc)
                }
                #[inline(always)]
                #[allow(unused_variables)]
                fn second(slot: crate::ir::Slot, acc: Acc) -> $second {
                    $s(slot, acc)
                }
            }
        )*
    };
}

via_impls! {
    Slots: crate::ir::Slot = |s, _| s, crate::ir::Slot = |s, _| s;
    FirstInt: InInt = |_, a: Acc| InInt(a.i), crate::ir::Slot = |s, _| s;
    SecondInt: crate::ir::Slot = |s, _| s, InInt = |_, a: Acc| InInt(a.i);
    FirstFloat: InFloat = |_, a: Acc| InFloat(a.f), crate::ir::Slot = |s, _| s;
    SecondFloat: crate::ir::Slot = |s, _| s, InFloat = |_, a: Acc| InFloat(a.f);
}

/// Which accumulator an op leaves its result in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Passes {
    /// `acc.i`.
    Int,
    /// `acc.f` (an `f64` result).
    Float,
    /// Both (a 64-bit load or constant, whose type the op does not know).
    Both,
}

impl Passes {
    /// Whether the result ends up in the float accumulator (`float`) or the integer one.
    fn fills(self, float: bool) -> bool {
        match self {
            Passes::Int => !float,
            Passes::Float => float,
            Passes::Both => true,
        }
    }
}

/// Where a handler writes its result.
pub(crate) trait Dest: Operand {
    /// Writes the result.
    ///
    /// # Safety
    /// For a slot: `sp` points to a frame that contains it (the `Handler` contract).
    unsafe fn put(self, sp: Sp, value: u64);
}

impl Dest for crate::ir::Slot {
    #[inline(always)]
    unsafe fn put(self, sp: Sp, value: u64) {
        // SAFETY: the caller guarantees the slot is in the frame at `sp`.
        unsafe { *sp.add(self as usize) = value }
    }
}

/// A result that is not stored: only the accumulator passes it on.
#[derive(Clone, Copy)]
pub(crate) struct Held<'a>(&'a std::cell::Cell<u64>);

impl Operand for Held<'_> {
    #[inline(always)]
    unsafe fn bits(self, _: Sp) -> u64 {
        self.0.get()
    }
}

impl Dest for Held<'_> {
    #[inline(always)]
    unsafe fn put(self, _: Sp, value: u64) {
        self.0.set(value)
    }
}

/// Whether a result handler stores its result in its `dst` slot (`Stored`) or only hands
/// it to the next op (`Elided`; `lower` chooses it when the next op reads the value from
/// the accumulator and then overwrites the slot, so no one can read the store). The second
/// type parameter of every `handlers!` handler.
pub(crate) trait Keep {
    type Dest<'a>: Dest;
    fn dest(slot: crate::ir::Slot, held: &std::cell::Cell<u64>) -> Self::Dest<'_>;
}

/// The result goes to its slot.
pub(crate) struct Stored;
/// The result only goes to the accumulator.
pub(crate) struct Elided;

impl Keep for Stored {
    type Dest<'a> = crate::ir::Slot;
    #[inline(always)]
    fn dest(slot: crate::ir::Slot, _: &std::cell::Cell<u64>) -> crate::ir::Slot {
        slot
    }
}

impl Keep for Elided {
    type Dest<'a> = Held<'a>;
    #[inline(always)]
    fn dest(_: crate::ir::Slot, held: &std::cell::Cell<u64>) -> Held<'_> {
        Held(held)
    }
}

/// One op of threaded code: the handler to run and the operands it reads.
///
/// Branch targets in `instr` are relative to the op (`ip + target`), unlike the
/// absolute targets of the translator's code.
#[derive(Clone, Copy)]
pub(crate) struct Op {
    handler: Handler,
    instr: Instr,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.instr.fmt(f)
    }
}

/// What a handler returns: `Stop` when execution leaves the interpreter (the outcome is
/// in `cx.outcome`); `Continue` only in loop dispatch, with the next state in `cx.resume`.
pub(crate) enum Done {
    Continue,
    Stop,
}

/// Whether handlers call the next handler directly (optimised builds) or return to the
/// dispatch loop (debug builds, where nothing turns those calls into jumps).
const THREADED: bool = cfg!(not(any(debug_assertions, feature = "loop-dispatch")));

/// The interpreter state that does not travel in registers.
pub(crate) struct Cx<'a> {
    funcs: &'a [FuncData],
    instances: &'a [InstanceData],
    segments: &'a mut [InstanceSegments],
    memories: &'a mut [MemoryData],
    tables: &'a mut [TableData],
    globals: &'a mut [GlobalData],
    stack: &'a mut Stack,
    meter: &'a mut Meter,
    /// The interpreter's code of each store instance.
    code: &'a [Arc<ModuleCode>],
    /// Tiered execution: each instance's hotness budgets (`Interp::budgets`).
    budgets: &'a mut [Box<[i32]>],
    /// The frame count at which the activation is finished.
    depth: usize,
    /// The running frame's instance and its index in the store.
    inst: &'a InstanceData,
    inst_id: u32,
    /// The store index of `inst`'s table 0 (`usize::MAX` if it has none).
    table0: usize,
    /// `inst`'s translations of its defined functions; function index `imported + i` is
    /// defined function `i`.
    compiled: &'a [OnceLock<InterpFunc>],
    imported: u32,
    /// Memory 0 of `inst`.
    mem: Mem,
    len: usize,
    /// Why the interpreter stopped.
    outcome: Option<Result<Exit, Fault>>,
    /// The next state, in loop dispatch.
    resume: (Ip, Sp, Mem, usize, Acc),
}

impl<'a> Cx<'a> {
    /// The first byte and length of the running instance's memory `index`.
    fn memory(&mut self, index: u32) -> (Mem, usize) {
        match self.inst.memories.get(index as usize) {
            Some(&m) => self.memories[m as usize].base_and_len(),
            None => (NonNull::dangling().as_ptr(), 0),
        }
    }

    /// Makes the top frame's instance the running one (after a call or return crossed
    /// instances, or on entry).
    #[cold]
    #[inline(never)]
    fn switch_instance(&mut self, id: u32) {
        self.inst = &self.instances[id as usize];
        self.inst_id = id;
        self.table0 = self.inst.tables.first().map_or(usize::MAX, |&t| t as usize);
        self.compiled = &self.code[id as usize].funcs;
        self.imported = self.inst.module.num_imported_funcs;
        (self.mem, self.len) = self.memory(0);
    }

    /// The resume point and slot window of the top frame, after switching to its
    /// instance if needed.
    #[inline(always)]
    fn top_frame(&mut self) -> (Ip, Sp) {
        let Some(frame) = self.stack.frames.last() else {
            return (std::ptr::null(), std::ptr::null_mut());
        };
        let (ip, base, instance) = (frame.ip as Ip, frame.base, frame.instance);
        if instance != self.inst_id {
            self.switch_instance(instance);
        }
        (ip, self.stack.slots.as_mut_ptr().wrapping_add(base))
    }

    /// The running function's translation (for its call_indirect sites).
    fn running_code(&self) -> Option<&'a InterpFunc> {
        let frame = self.stack.frames.last()?;
        let compiled: &'a [OnceLock<InterpFunc>] = self.compiled;
        compiled.get(frame.def as usize)?.get()
    }

    /// Records `ip` as the running frame's resume point.
    #[inline(always)]
    fn save_ip(&mut self, ip: Ip) {
        if let Some(frame) = self.stack.frames.last_mut() {
            frame.ip = ip as usize;
        }
    }

    /// The absolute stack index of the running frame's slot `slot`.
    #[inline(always)]
    fn absolute(&self, slot: u32) -> usize {
        self.stack.frames.last().map_or(0, |f| f.base) + slot as usize
    }
}

/// Stops with a trap or another fault.
#[cold]
#[inline(never)]
fn fault(cx: &mut Cx<'_>, fault: Fault) -> Done {
    cx.outcome = Some(Err(fault));
    Done::Stop
}

/// Stops with a trap.
#[cold]
#[inline(never)]
fn trap(cx: &mut Cx<'_>, trap: Trap) -> Done {
    cx.outcome = Some(Err(Fault::Trap(trap)));
    Done::Stop
}

/// Stops to let the driver do something (a host call, growth) and resume at `resume`.
#[cold]
#[inline(never)]
fn exit(cx: &mut Cx<'_>, exit: Exit, resume: Ip) -> Done {
    cx.save_ip(resume);
    cx.outcome = Some(Ok(exit));
    Done::Stop
}

/// Operand `$s` (a slot, or an accumulator in a `via` variant) as a 64-bit value.
macro_rules! get {
    ($sp:ident, $s:expr) => {{
        // SAFETY: a slot operand (or operand + 1 for the high half of a v128) of a verified
        // function is `< frame_size` (`ir::verify`), and `sp` points to that function's
        // frame of `frame_size` reserved slots (the `Handler` contract).
        unsafe { crate::exec::threaded::Operand::bits($s, $sp) }
    }};
}

/// Operand `$s` as an `f64` (see `get!`).
macro_rules! getf {
    ($sp:ident, $s:expr) => {{
        // SAFETY: as for `get!`.
        unsafe { crate::exec::threaded::Operand::float($s, $sp) }
    }};
}

/// Writes `$v` to result `$s`: a slot of the frame at `$sp`, or the local that stands in
/// for it in an `Elided` variant.
macro_rules! set {
    ($sp:ident, $s:expr, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: as for `get!`: a verified slot operand within the reserved frame.
        unsafe { crate::exec::threaded::Dest::put($s, $sp, v) }
    }};
}

/// The v128 operand at slots `$s`, `$s + 1`.
macro_rules! get128 {
    ($sp:ident, $s:expr) => {{
        let s = $s;
        get!($sp, s) as u128 | (get!($sp, s + 1) as u128) << 64
    }};
}

/// Writes a v128 result to slots `$s`, `$s + 1`.
macro_rules! set128 {
    ($sp:ident, $s:expr, $v:expr) => {{
        let (s, v): (u32, u128) = ($s, $v);
        set!($sp, s, v as u64);
        set!($sp, s + 1, (v >> 64) as u64);
    }};
}

/// Unwraps a `Result`, stopping with its error.
macro_rules! tr {
    ($cx:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return crate::exec::threaded::fault($cx, e.into()),
        }
    };
}

/// Runs the op at `$ip` with the given state.
macro_rules! dispatch {
    ($ip:expr, $sp:expr, $mem:expr, $len:expr, $cx:ident, $acc:expr) => {{
        let (ip, sp, mem, len, acc): (
            crate::exec::threaded::Ip,
            crate::exec::threaded::Sp,
            crate::exec::threaded::Mem,
            usize,
            crate::exec::threaded::Acc,
        ) = ($ip, $sp, $mem, $len, $acc);
        if crate::exec::threaded::THREADED {
            // Every caller passes the state of a verified op: `ip` within the code (see
            // each `next!`/branch), `sp`, `mem`, `len` unchanged or reloaded for the frame
            // `ip` belongs to, and `acc` the previous op's result when `lower` chose a
            // handler that reads it.
            // SAFETY: so that state satisfies the `Handler` contract.
            return unsafe { ((*ip).handler)(ip, sp, mem, len, $cx, acc) };
        }
        $cx.resume = (ip, sp, mem, len, acc);
        return crate::exec::threaded::Done::Continue;
    }};
}

/// Continues with the op `$n` after `$ip`.
macro_rules! next {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:expr, $n:expr) => {{
        // SAFETY: the op at `ip` is a straight-line op (or one followed by its data word,
        // `$n == 2`); `ir::verify` proves such ops are never last, so `ip + n` is in the code.
        let ip = unsafe { $ip.add($n) };
        dispatch!(ip, $sp, $mem, $len, $cx, $acc)
    }};
}

/// The data word after the op at `$ip`: `(a, b, c)`.
macro_rules! data {
    ($ip:ident, $cx:ident) => {{
        // SAFETY: ops with a data word are followed by it (`ir::verify`).
        match unsafe { (*$ip.add(1)).instr } {
            crate::ir::Instr::Data { a, b, c } => (a, b, c),
            _ => return crate::exec::threaded::trap($cx, crate::trap::Trap::Unreachable),
        }
    }};
}

/// Defines handlers and three functions `lower` uses: `$lookup` maps an instruction to
/// its handler, `lookup_via` to the variant that takes the operand in slot `s` from an
/// accumulator, and `passes_result` tells which accumulator, if any, the handler leaves
/// its result in for the next op.
///
/// Each entry is `Variant { fields } => kind { body }`, where kind is `next` (continue
/// with the following op after the body), `next2` (skip a data word too), `jump` (the
/// body dispatches or stops itself), or `result(dst)` / `result2(dst)` / `resultf(dst)` /
/// `resultb(dst)`: `next` (`next2` for `result2`) passing slot `dst`, just written by the
/// body, on in `acc.i`, `acc.i`, `acc.f` (an `f64` result) or both. A `via(x, y)` after
/// the kind lists the operand fields that may come from an accumulator instead: every
/// handler is generic over a [`Via`] type that rebinds those fields, so in a variant the
/// body's `get!`/`getf!` of the field reads the register, with neither a load nor a store.
/// That is correct only where the accumulator holds that slot's value on every path to
/// the op, which `lower` establishes (`acc_flow`).
macro_rules! handlers {
    (
        $lookup:ident ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident)
        $( $name:ident { $($f:ident),* } => $kind:ident $(($out:ident))? $(via($($via:ident),+))? $body:block )*
    ) => {
        $(
            #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments, clippy::unnecessary_cast)]
            unsafe fn $name<V: crate::exec::threaded::Via, K: crate::exec::threaded::Keep>(
                $ip: crate::exec::threaded::Ip,
                $sp: crate::exec::threaded::Sp,
                mut $mem: crate::exec::threaded::Mem,
                mut $len: usize,
                $cx: &mut crate::exec::threaded::Cx<'_>,
                $acc: crate::exec::threaded::Acc,
            ) -> crate::exec::threaded::Done {
                // SAFETY: `ip` points to a live op (the `Handler` contract).
                let crate::ir::Instr::$name { $($f,)* .. } = (unsafe { *$ip }).instr else {
                    // SAFETY: `$lookup` installs this handler only for `Instr::$name`.
                    unsafe { std::hint::unreachable_unchecked() }
                };
                handlers!(@via V, $acc, $($($via),+)?);
                let held = std::cell::Cell::new(0u64);
                $( let $out = <K as crate::exec::threaded::Keep>::dest($out, &held); )?
                handlers!(@run $kind $(($out))? $body, $ip, $sp, $mem, $len, $cx, $acc)
            }
        )*

        /// The handler of `instr`, if it is one of this module's; `elide`: the variant
        /// that does not store its result (for instructions with one).
        pub(in crate::exec::threaded) fn $lookup(instr: &crate::ir::Instr, elide: bool) -> Option<crate::exec::threaded::Handler> {
            Some(match instr {
                $( crate::ir::Instr::$name { .. } => if elide {
                    $name::<crate::exec::threaded::Slots, handlers!(@keep $kind)>
                } else {
                    $name::<crate::exec::threaded::Slots, crate::exec::threaded::Stored>
                }, )*
                #[allow(unreachable_patterns)]
                _ => return None,
            })
        }

        /// The variant of `instr`'s handler that reads its operand in `slot` from `acc.f`
        /// (`float`) or `acc.i`; `elide` as for `$lookup`.
        #[allow(unused_variables)]
        pub(in crate::exec::threaded) fn lookup_via(
            instr: &crate::ir::Instr,
            slot: crate::ir::Slot,
            float: bool,
            elide: bool,
        ) -> Option<crate::exec::threaded::Handler> {
            match *instr {
                $( $( crate::ir::Instr::$name { $($via,)+ .. } => if elide {
                    handlers!(@pick $name, handlers!(@keep $kind), slot, float, $($via),+)
                } else {
                    handlers!(@pick $name, crate::exec::threaded::Stored, slot, float, $($via),+)
                }, )? )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }

        /// Which accumulator `instr`'s handler leaves its result in, if any.
        pub(in crate::exec::threaded) fn passes_result(instr: &crate::ir::Instr) -> Option<crate::exec::threaded::Passes> {
            match instr {
                $( crate::ir::Instr::$name { .. } => handlers!(@passes $kind), )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
    (@via $v:ident, $acc:ident, ) => {};
    (@via $v:ident, $acc:ident, $first:ident) => {
        let $first = <$v as crate::exec::threaded::Via>::first($first, $acc);
    };
    (@via $v:ident, $acc:ident, $first:ident, $second:ident) => {
        let $first = <$v as crate::exec::threaded::Via>::first($first, $acc);
        let $second = <$v as crate::exec::threaded::Via>::second($second, $acc);
    };
    (@pick $name:ident, $k:ty, $slot:ident, $float:ident, $first:ident) => {
        if $first != $slot {
            None
        } else if $float {
            Some($name::<crate::exec::threaded::FirstFloat, $k> as crate::exec::threaded::Handler)
        } else {
            Some($name::<crate::exec::threaded::FirstInt, $k> as crate::exec::threaded::Handler)
        }
    };
    (@pick $name:ident, $k:ty, $slot:ident, $float:ident, $first:ident, $second:ident) => {
        if $first != $slot && $second != $slot {
            None
        } else if $first == $slot {
            handlers!(@pick $name, $k, $slot, $float, $first)
        } else if $float {
            Some($name::<crate::exec::threaded::SecondFloat, $k> as crate::exec::threaded::Handler)
        } else {
            Some($name::<crate::exec::threaded::SecondInt, $k> as crate::exec::threaded::Handler)
        }
    };
    (@keep next) => { crate::exec::threaded::Stored };
    (@keep next2) => { crate::exec::threaded::Stored };
    (@keep jump) => { crate::exec::threaded::Stored };
    (@keep $result:ident) => { crate::exec::threaded::Elided };
    (@passes result) => { Some(crate::exec::threaded::Passes::Int) };
    (@passes result2) => { Some(crate::exec::threaded::Passes::Int) };
    (@passes resultf) => { Some(crate::exec::threaded::Passes::Float) };
    (@passes resultb) => { Some(crate::exec::threaded::Passes::Both) };
    (@passes $other:ident) => { None };
    (@run next $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        next!($ip, $sp, $mem, $len, $cx, $acc, 1)
    }};
    (@run next2 $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        next!($ip, $sp, $mem, $len, $cx, $acc, 2)
    }};
    (@run result($out:ident) $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        next!($ip, $sp, $mem, $len, $cx, crate::exec::threaded::Acc { i: get!($sp, $out), f: $acc.f }, 1)
    }};
    (@run result2($out:ident) $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        next!($ip, $sp, $mem, $len, $cx, crate::exec::threaded::Acc { i: get!($sp, $out), f: $acc.f }, 2)
    }};
    (@run resultf($out:ident) $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        next!($ip, $sp, $mem, $len, $cx, crate::exec::threaded::Acc { i: $acc.i, f: getf!($sp, $out) }, 1)
    }};
    (@run resultb($out:ident) $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {{
        $body
        let bits = get!($sp, $out);
        next!($ip, $sp, $mem, $len, $cx, crate::exec::threaded::Acc { i: bits, f: f64::from_bits(bits) }, 1)
    }};
    (@run jump $body:block, $ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident) => {
        $body
    };
}

mod acc_flow;
mod alu;
mod control;
mod memory;
mod vector;

/// Lowers verified translator code to threaded code.
///
/// An op that reads a slot whose value an accumulator holds when the op starts (see
/// [`acc_flow`]: the result of an earlier op, on every path to this one) gets the handler
/// variant that takes that operand from the register.
pub(crate) fn lower(code: &[Instr]) -> Result<Box<[Op]>, String> {
    let passes: Vec<Option<Passes>> = code.iter().map(passes_result).collect();
    let states = acc_flow::acc_states(code, &passes);
    let via = |pc: usize, (float, slot): (bool, Slot), elide: bool| {
        let instr = &code[pc];
        alu::lookup_via(instr, slot, float, elide)
            .or_else(|| control::lookup_via(instr, slot, float, elide))
            .or_else(|| memory::lookup_via(instr, slot, float, elide))
            .or_else(|| memory::fused_lookup_via(instr, slot, float, elide))
            .or_else(|| vector::lookup_via(instr, slot, float, elide))
    };
    // The accumulator each op reads an operand from, where there is one: the float one
    // first for an op on `f64`s.
    let reads_acc: Vec<Option<(bool, Slot)>> = (0..code.len())
        .map(|pc| {
            let state = states[pc];
            let (int, float) = ((false, state.i), (true, state.f));
            let order = if reads_f64(&code[pc]) { [float, int] } else { [int, float] };
            order.into_iter().find_map(|(float, slot)| {
                let acc = (float, slot?);
                via(pc, acc, false).map(|_| acc)
            })
        })
        .collect();
    code.iter()
        .enumerate()
        .map(|(pc, &instr)| {
            // The result need not be stored when the next op takes it from the
            // accumulator this op passes it in and then overwrites its slot.
            let elide = match (passes[pc], reads_acc.get(pc + 1)) {
                (Some(passed), Some(&Some((float, slot)))) => {
                    passed.fills(float)
                        && instr.clone().result_slot_mut() == Some(&mut { slot })
                        && passes[pc + 1].is_some()
                        && overwrites(&code[pc + 1], slot)
                }
                _ => false,
            };
            let via = reads_acc[pc].and_then(|acc| via(pc, acc, elide));
            let mut instr = instr;
            if let Some(target) = instr.target_mut() {
                *target = (*target as i64 - pc as i64) as i32 as u32;
            }
            let handler = via
                .or_else(|| alu::lookup(&instr, elide))
                .or_else(|| control::lookup(&instr, elide))
                .or_else(|| memory::lookup(&instr, elide))
                .or_else(|| memory::fused_lookup(&instr, elide))
                .or_else(|| vector::lookup(&instr, elide))
                .or_else(|| vector::per_op_lookup(&instr))
                .ok_or_else(|| format!("no handler for {instr:?}"))?;
            Ok(Op { handler, instr })
        })
        .collect()
}

/// Whether `next`, a result op that reads `slot` from the accumulator, then overwrites
/// `slot` and reads it nowhere else — so a store to `slot` just before `next` is dead (a
/// trap in `next` ends the activation, and with it the frame).
fn overwrites(next: &Instr, slot: Slot) -> bool {
    let mut uses = 0;
    next.for_each_slot(|s| uses += usize::from(s == slot));
    next.clone().result_slot_mut() == Some(&mut { slot }) && uses == 2 && !next.has_data() && !next.is_wide()
}

/// Which accumulator `instr`'s handler leaves its result in, if any.
fn passes_result(instr: &Instr) -> Option<Passes> {
    alu::passes_result(instr)
        .or_else(|| control::passes_result(instr))
        .or_else(|| memory::passes_result(instr))
        .or_else(|| memory::fused_passes_result(instr))
        .or_else(|| vector::passes_result(instr))
}

/// Whether `instr` reads its operands as `f64`s (so after an op that passes both
/// accumulators, its variant should read `acc.f`).
fn reads_f64(instr: &Instr) -> bool {
    use Instr::*;
    matches!(
        instr,
        F64Add { .. }
            | F64Sub { .. }
            | F64Mul { .. }
            | F64Div { .. }
            | F64Min { .. }
            | F64Max { .. }
            | F64Eq { .. }
            | F64Ne { .. }
            | F64Lt { .. }
            | F64Gt { .. }
            | F64Le { .. }
            | F64Ge { .. }
            | F64Sqrt { .. }
            | F64Ceil { .. }
            | F64Floor { .. }
            | F64Trunc { .. }
            | F64Nearest { .. }
    )
}

/// Runs the top frame until the frame at `depth` returns, a host call or growth is
/// needed, or a trap.
pub(crate) fn run(store: &mut StoreInner, interp: &mut Interp, depth: usize) -> Result<Exit, Fault> {
    let StoreInner { funcs, instances, segments, memories, tables, globals, meter, .. } = store;
    let Interp { stack, code, budgets } = interp;
    let Some(frame) = stack.frames.last() else {
        return Ok(Exit::Returned);
    };
    let instances: &[InstanceData] = instances;
    let inst_id = frame.instance;
    let mut cx = Cx {
        funcs,
        instances,
        segments,
        memories,
        tables,
        globals,
        stack,
        meter,
        code,
        budgets,
        depth,
        inst: &instances[inst_id as usize],
        inst_id,
        table0: usize::MAX,
        compiled: &[],
        imported: 0,
        mem: NonNull::dangling().as_ptr(),
        len: 0,
        outcome: None,
        resume: (std::ptr::null(), std::ptr::null_mut(), NonNull::dangling().as_ptr(), 0, Acc::ZERO),
    };
    cx.switch_instance(inst_id);
    let (ip, sp) = cx.top_frame();
    let (mem, len) = (cx.mem, cx.len);
    if THREADED {
        // SAFETY: the top frame's resume point is an op of its function's verified code
        // (`Stack::push` sets it to the first op, handlers to a following op) and its
        // slots were reserved by `Stack::push`; `mem`/`len` were just read from memory 0.
        unsafe { ((*ip).handler)(ip, sp, mem, len, &mut cx, Acc::ZERO) };
    } else {
        let (mut ip, mut sp, mut mem, mut len, mut acc) = (ip, sp, mem, len, Acc::ZERO);
        // SAFETY: as above for the first op; afterwards each handler's `dispatch!` stored a
        // state that satisfies the `Handler` contract.
        while let Done::Continue = unsafe { ((*ip).handler)(ip, sp, mem, len, &mut cx, acc) } {
            (ip, sp, mem, len, acc) = cx.resume;
        }
    }
    cx.outcome.unwrap_or(Err(Fault::Trap(Trap::Unreachable)))
}

/// Calls store function `target` with arguments at the running frame's slot `args`;
/// `resume` is where the caller continues. Returns whether a wasm frame was pushed (else
/// the interpreter stops: a host call, or a fault).
#[inline(never)]
fn enter(cx: &mut Cx<'_>, target: u32, args: u32, resume: Ip, metered: bool) -> bool {
    cx.save_ip(resume);
    let args = cx.absolute(args);
    let Some(data) = cx.funcs.get(target as usize) else {
        trap(cx, Trap::Unreachable);
        return false;
    };
    match data.kind {
        FuncKind::Wasm { .. } => match cx.stack.push(cx.funcs, cx.code, cx.meter, target, args, metered) {
            Ok(()) => true,
            Err(f) => {
                fault(cx, f);
                false
            }
        },
        FuncKind::Host { .. } => {
            cx.outcome = Some(Ok(Exit::Host { func: target, args }));
            false
        }
    }
}

/// What [`push_local`] did.
pub(super) enum Pushed {
    /// The callee's frame is on top; its slots start here.
    Frame(Sp),
    /// Not the common case: the caller must take the general path (nothing changed but
    /// the caller's resume point).
    Refused,
    /// A trap (fuel or epoch) was recorded.
    Trapped,
}

/// Pushes a frame for `code`, the running instance's defined function `def` (store
/// function `func`), with arguments at the running frame's slot `args`, if that needs
/// no allocation; `resume` is where the caller continues.
#[inline(always)]
fn push_local(cx: &mut Cx<'_>, code: &InterpFunc, func: u32, def: u32, args: u32, resume: Ip, metered: bool) -> Pushed {
    let Some(caller) = cx.stack.frames.last_mut() else { return Pushed::Refused };
    caller.ip = resume as usize;
    let base = caller.base + args as usize;
    if !cx.stack.push_frame_fast(code, func, cx.inst_id, def, base) {
        return Pushed::Refused;
    }
    if metered && let Err(t) = meter_entry(cx.meter, code) {
        trap(cx, t);
        return Pushed::Trapped;
    }
    Pushed::Frame(cx.stack.slots.as_mut_ptr().wrapping_add(base))
}
