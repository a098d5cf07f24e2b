//! Handlers of the control instructions ([spec: control instructions]): branches (plain,
//! conditional, fused with a comparison, tables), calls and returns, `select`, traps, and
//! the fuel and epoch checks.
//!
//! [spec: control instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#control-instructions

use std::sync::OnceLock;

use super::super::Exit;
use super::{Acc, Cx, Done, Ip, Mem, Pushed, Sp, enter, exit, push_local, trap};
use crate::exec::InterpFunc;
use crate::ir::Instr;
use crate::trap::Trap;
use crate::vm::FuncKind;

/// Jumps to `$target` (relative to the op) if `$cond`, else continues.
macro_rules! branch {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident, $cond:expr, $target:expr) => {{
        if $cond {
            // SAFETY: `ir::verify` proved the absolute target within the code and `lower`
            // made it relative to this op.
            let to = unsafe { $ip.offset($target as i32 as isize) };
            dispatch!(to, $sp, $mem, $len, $cx, $acc)
        }
        next!($ip, $sp, $mem, $len, $cx, $acc, 1)
    }};
}

/// Calls function index `$func` of the running instance (or store function `$target`
/// for `call_indirect`): when it is defined by the instance and already translated, pushes
/// its frame here and jumps to its first op; otherwise goes through `enter` (`call!`).
macro_rules! call_fast {
    ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $local:expr, $target:expr, $args:expr, $metered:expr) => {{
        if let Some((code, def)) = $local {
            // SAFETY: a call is a straight-line op, so the op after it exists.
            let resume = unsafe { $ip.add(1) };
            match push_local($cx, code, $target, def, $args, resume, $metered) {
                Pushed::Frame(sp) => {
                    dispatch!(code.code.as_ptr(), sp, $mem, $len, $cx, crate::exec::threaded::Acc::ZERO)
                }
                Pushed::Refused => {}
                Pushed::Trapped => return Done::Stop,
            }
        }
        // SAFETY: the `Handler` contract holds for this op; `call_slow` handles calls.
        return unsafe { call_slow($ip, $sp, $mem, $len, $cx, crate::exec::threaded::Acc::ZERO) };
    }};
}

/// The general call: imported, host, cross-instance or not yet translated callees.
/// Kept out of the call handlers so that their fast path needs few registers.
///
/// # Safety
/// The `Handler` contract, for a call op.
#[inline(never)]
unsafe fn call_slow(ip: Ip, sp: Sp, _mem: Mem, _len: usize, cx: &mut Cx<'_>, _acc: Acc) -> Done {
    // SAFETY: `ip` points to a live op.
    let instr = unsafe { *ip }.instr;
    let metered = matches!(instr, Instr::CallMetered { .. } | Instr::CallIndirectMetered { .. });
    let (target, args) = match instr {
        Instr::Call { func, args } | Instr::CallMetered { func, args } => (direct_target(cx, func), args),
        Instr::CallIndirect { index, site, args } | Instr::CallIndirectMetered { index, site, args } => {
            let Some(target) = indirect_target(cx, site, get!(sp, index) as u32) else { return Done::Stop };
            (target, args)
        }
        Instr::CallIndirect0 { index, type_id, args } => {
            let Some(target) = indirect_target0(cx, type_id, get!(sp, index) as u32) else { return Done::Stop };
            (target, args)
        }
        _ => return trap(cx, Trap::Unreachable),
    };
    // SAFETY: a call is a straight-line op, so the op after it exists (`ir::verify`).
    let resume = unsafe { ip.add(1) };
    if !enter(cx, target, args, resume, metered) {
        return Done::Stop;
    }
    let (ip, sp) = cx.top_frame();
    dispatch!(ip, sp, cx.mem, cx.len, cx, Acc::ZERO)
}

/// The translation and defined-function index of the running instance's function
/// `func`, if the instance defines it and it has been translated.
#[inline(always)]
fn local_code<'a>(cx: &Cx<'a>, func: u32) -> Option<(&'a InterpFunc, u32)> {
    let def = func.checked_sub(cx.imported)?;
    let compiled: &'a [OnceLock<InterpFunc>] = cx.compiled;
    Some((compiled.get(def as usize)?.get()?, def))
}

/// Like [`local_code`], for store function `target` (a `call_indirect` target).
#[inline(always)]
fn local_code_of<'a>(cx: &Cx<'a>, target: u32) -> Option<(&'a InterpFunc, u32)> {
    match cx.funcs.get(target as usize)?.kind {
        FuncKind::Wasm { instance, index } if instance == cx.inst_id => local_code(cx, index),
        _ => None,
    }
}

/// Pops the frame and continues in the caller (or stops at the activation's end).
macro_rules! ret {
    ($cx:ident) => {{
        $cx.stack.frames.pop();
        let caller = $cx.stack.frames.last().map(|f| (f.ip, f.base, f.instance));
        match caller {
            // The common case, kept free of calls so the handler needs no saved registers.
            Some((ip, base, instance)) if $cx.stack.frames.len() > $cx.depth && instance == $cx.inst_id => {
                let sp = $cx.stack.slots.as_mut_ptr().wrapping_add(base);
                dispatch!(ip as Ip, sp, $cx.mem, $cx.len, $cx, crate::exec::threaded::Acc::ZERO)
            }
            _ => return return_slow($cx),
        }
    }};
}

/// The rest of a return: the activation is finished, or the caller runs in another
/// instance.
#[cold]
#[inline(never)]
fn return_slow(cx: &mut Cx<'_>) -> Done {
    if cx.stack.frames.len() <= cx.depth {
        cx.outcome = Some(Ok(Exit::Returned));
        return Done::Stop;
    }
    let (ip, sp) = cx.top_frame();
    dispatch!(ip, sp, cx.mem, cx.len, cx, Acc::ZERO)
}

/// The store function a `call_indirect` through `site` with table index `index` calls,
/// or `None` after recording the trap.
#[inline(always)]
fn indirect_target(cx: &mut Cx<'_>, site: u32, index: u32) -> Option<u32> {
    let resolved = resolve_indirect(cx, site, index);
    or_trap(cx, resolved)
}

/// The target, or `None` after recording the trap.
#[inline(always)]
fn or_trap(cx: &mut Cx<'_>, resolved: Result<u32, Trap>) -> Option<u32> {
    match resolved {
        Ok(target) => Some(target),
        Err(t) => {
            trap(cx, t);
            None
        }
    }
}

/// See [`indirect_target`].
#[inline(always)]
fn resolve_indirect(cx: &Cx<'_>, site: u32, index: u32) -> Result<u32, Trap> {
    let code = cx.running_code().ok_or(Trap::Unreachable)?;
    let site = *code.indirect.get(site as usize).ok_or(Trap::Unreachable)?;
    let table = cx.inst.tables.get(site.table as usize).ok_or(Trap::Unreachable)?;
    table_target(cx, *table as usize, index, site.type_id)
}

/// The store function at element `index` of store table `table`, if it has type `type_id`.
#[inline(always)]
fn table_target(cx: &Cx<'_>, table: usize, index: u32, type_id: u32) -> Result<u32, Trap> {
    let table = cx.tables.get(table).ok_or(Trap::Unreachable)?;
    let elem = *table.elems.get(index as usize).ok_or(Trap::UndefinedElement)?;
    let target = elem.checked_sub(1).ok_or(Trap::UninitializedElement)? as u32;
    if cx.funcs[target as usize].type_id != type_id {
        return Err(Trap::IndirectCallTypeMismatch);
    }
    Ok(target)
}

/// Like [`indirect_target`] for `CallIndirect0`: table 0 of the running instance, whose
/// store index `Cx::table0` keeps at hand, and the expected type's id in the op.
#[inline(always)]
fn indirect_target0(cx: &mut Cx<'_>, type_id: u32, index: u32) -> Option<u32> {
    let resolved = table_target(cx, cx.table0, index, type_id);
    or_trap(cx, resolved)
}

/// Spends `weight` of defined function `def`'s hotness budget (running instance);
/// whether it is used up.
#[inline(always)]
fn spend(cx: &mut Cx<'_>, def: u32, weight: u32) -> bool {
    let Some(budget) = cx.budgets.get_mut(cx.inst_id as usize).and_then(|b| b.get_mut(def as usize)) else {
        return false;
    };
    *budget = budget.saturating_sub(weight as i32);
    *budget < 0
}

/// The store function of the running instance's function `func`.
#[inline(always)]
fn direct_target(cx: &Cx<'_>, func: u32) -> u32 {
    // Validation proved `func` a function index of the module, which sizes `funcs`; an
    // out-of-range index would name no function (and trap in `enter`).
    cx.inst.funcs.get(func as usize).copied().unwrap_or(u32::MAX)
}

handlers! { lookup (ip, sp, mem, mem_len, cx, acc)
    CopyBr { dst, src, target } => jump via(src) {
        set!(sp, dst, get!(sp, src));
        branch!(ip, sp, mem, mem_len, cx, acc, true, target)
    }
    Copy2Br { d1, s1, d2, s2, target } => jump {
        set!(sp, u32::from(d1), get!(sp, u32::from(s1)));
        set!(sp, u32::from(d2), get!(sp, u32::from(s2)));
        branch!(ip, sp, mem, mem_len, cx, acc, true, target)
    }
    Br { target } => jump { branch!(ip, sp, mem, mem_len, cx, acc, true, target) }
    BrIfNez { cond, target } => jump via(cond) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, cond) as u32 != 0, target) }
    BrIfEqz { cond, target } => jump via(cond) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, cond) as u32 == 0, target) }
    BrI64Nez { cond, target } => jump via(cond) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, cond) != 0, target) }
    BrI64Eqz { cond, target } => jump via(cond) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, cond) == 0, target) }
    BrI32Eq { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) as u32 == get!(sp, b) as u32, target) }
    BrI32Ne { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) as u32 != get!(sp, b) as u32, target) }
    BrI32LtS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) < (get!(sp, b) as i32), target) }
    BrI32LtU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) < (get!(sp, b) as u32), target) }
    BrI32GtS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) > (get!(sp, b) as i32), target) }
    BrI32GtU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) > (get!(sp, b) as u32), target) }
    BrI32LeS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) <= (get!(sp, b) as i32), target) }
    BrI32LeU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) <= (get!(sp, b) as u32), target) }
    BrI32GeS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) >= (get!(sp, b) as i32), target) }
    BrI32GeU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) >= (get!(sp, b) as u32), target) }
    BrI32EqImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) as u32 == imm as u32, target) }
    BrI32NeImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) as u32 != imm as u32, target) }
    BrI32LtSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) < imm, target) }
    BrI32LtUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) < imm as u32, target) }
    BrI32GtSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) > imm, target) }
    BrI32GtUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) > imm as u32, target) }
    BrI32LeSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) <= imm, target) }
    BrI32LeUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) <= imm as u32, target) }
    BrI32GeSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i32) >= imm, target) }
    BrI32GeUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as u32) >= imm as u32, target) }
    BrI64Eq { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) == get!(sp, b), target) }
    BrI64Ne { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) != get!(sp, b), target) }
    BrI64LtS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) < (get!(sp, b) as i64), target) }
    BrI64LtU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) < get!(sp, b), target) }
    BrI64GtS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) > (get!(sp, b) as i64), target) }
    BrI64GtU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) > get!(sp, b), target) }
    BrI64LeS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) <= (get!(sp, b) as i64), target) }
    BrI64LeU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) <= get!(sp, b), target) }
    BrI64GeS { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) >= (get!(sp, b) as i64), target) }
    BrI64GeU { a, b, target } => jump via(a, b) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) >= get!(sp, b), target) }
    BrI64EqImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) == imm as i64 as u64, target) }
    BrI64NeImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) != imm as i64 as u64, target) }
    BrI64LtSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) < imm as i64, target) }
    BrI64LtUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) < imm as i64 as u64, target) }
    BrI64GtSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) > imm as i64, target) }
    BrI64GtUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) > imm as i64 as u64, target) }
    BrI64LeSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) <= imm as i64, target) }
    BrI64LeUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) <= imm as i64 as u64, target) }
    BrI64GeSImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, (get!(sp, a) as i64) >= imm as i64, target) }
    BrI64GeUImm { a, imm, target } => jump via(a) { branch!(ip, sp, mem, mem_len, cx, acc, get!(sp, a) >= imm as i64 as u64, target) }
    BrTable { index, len } => jump {
        let i = (get!(sp, index) as u32).min(len) as usize;
        // SAFETY: the jump table's `len + 1` entries follow the op (`ir::verify`).
        let entry = unsafe { ip.add(1 + i) };
        // An entry is a `Br`: jump to its target directly, saving a dispatch.
        // SAFETY: `entry` is an op of the code (above).
        if let Instr::Br { target } = unsafe { *entry }.instr {
            // SAFETY: a verified branch target, relative to the entry (`lower`).
            let to = unsafe { entry.offset(target as i32 as isize) };
            dispatch!(to, sp, mem, mem_len, cx, acc)
        }
        dispatch!(entry, sp, mem, mem_len, cx, acc)
    }
    Return {} => jump { ret!(cx) }
    ReturnSlot { src } => jump via(src) {
        set!(sp, 0u32, get!(sp, src));
        ret!(cx)
    }
    Call { func, args } => jump {
        call_fast!(ip, sp, mem, mem_len, cx, local_code(cx, func), direct_target(cx, func), args, false)
    }
    CallMetered { func, args } => jump {
        call_fast!(ip, sp, mem, mem_len, cx, local_code(cx, func), direct_target(cx, func), args, true)
    }
    CallIndirect { index, site, args } => jump {
        let Some(target) = indirect_target(cx, site, get!(sp, index) as u32) else { return Done::Stop };
        call_fast!(ip, sp, mem, mem_len, cx, local_code_of(cx, target), target, args, false)
    }
    CallIndirect0 { index, type_id, args } => jump {
        let Some(target) = indirect_target0(cx, type_id, get!(sp, index) as u32) else { return Done::Stop };
        call_fast!(ip, sp, mem, mem_len, cx, local_code_of(cx, target), target, args, false)
    }
    CallIndirectMetered { index, site, args } => jump {
        let Some(target) = indirect_target(cx, site, get!(sp, index) as u32) else { return Done::Stop };
        call_fast!(ip, sp, mem, mem_len, cx, local_code_of(cx, target), target, args, true)
    }
    Unreachable {} => jump { trap(cx, Trap::Unreachable) }
    Data {} => jump { trap(cx, Trap::Unreachable) }
    ConsumeFuel { amount } => next { tr!(cx, cx.meter.consume(amount)) }
    CheckEpoch {} => next { tr!(cx, cx.meter.check_epoch()) }
    CheckEpochConsumeFuel { amount } => next {
        tr!(cx, cx.meter.check_epoch());
        tr!(cx, cx.meter.consume(amount));
    }
    TierEntry { def, weight } => next {
        if spend(cx, def, weight) {
            // SAFETY: a straight-line op, so the op after it exists (`ir::verify`).
            return exit(cx, Exit::Tier { osr: None }, unsafe { ip.add(1) });
        }
    }
    TierLoop { def, index, weight } => next {
        if spend(cx, def, weight) {
            // SAFETY: as for `TierEntry`.
            return exit(cx, Exit::Tier { osr: Some(index) }, unsafe { ip.add(1) });
        }
    }
    Select { dst, cond, a } => result2(dst) {
        let (b, _, _) = data!(ip, cx);
        // Both values are read and one is kept without a branch: reading the chosen slot
        // would make the load wait for the condition (see docs/RATIONALE.md).
        // (Volatile reads, because LLVM turns a choice between two loaded values back into a
        // load from the chosen address.)
        // SAFETY: `a` and the data word's `b` are slots of the frame (`ir::verify`), which
        // `sp` points to (the `Handler` contract).
        let (x, y) = unsafe { (sp.add(a as usize).read_volatile(), sp.add(b as usize).read_volatile()) };
        set!(sp, dst, std::hint::select_unpredictable(get!(sp, cond) as u32 != 0, x, y));
    }
    Select128 { dst, cond, a } => next2 {
        let (b, _, _) = data!(ip, cx);
        let from = if get!(sp, cond) as u32 != 0 { a } else { b };
        set!(sp, dst, get!(sp, from));
        set!(sp, dst + 1, get!(sp, from + 1));
    }
}
