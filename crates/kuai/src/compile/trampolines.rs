//! Trampolines between the host's calling convention and compiled wasm code, one pair per
//! function type. Values cross in arrays of 16-byte cells (room for a `v128`), argument `i`
//! and later result `i` in cell `i`.

use super::{CompileError, clif_type, codes, entry_block, host_signature, osr_signature, wasm_signature};
use crate::types::FuncType;
use crate::vm::vmctx::{LazyRecord, VmContext, VmStoreContext};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::mem::offset_of;

/// Bytes per value cell.
const CELL: i32 = 16;

/// Loads and stores of the trampolines' own data: aligned, never trapping.
fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// The entry trampoline for functions of type `ty`, in the host's (System V) convention:
/// `(callee_vmctx, caller_vmctx, code, values)` — loads the arguments from `values`, calls
/// `code` and stores the results into `values`. With `osr`, for the type's
/// on-stack-replacement entries (`func::translate`) instead: passes `values`, which holds
/// the interpreter frame's locals, for the code to load them.
pub(super) fn entry(
    ty: &FuncType,
    osr: bool,
    isa: &dyn TargetIsa,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    func.signature = host_signature(4, None);
    let code_sig = if osr { osr_signature(ty)? } else { wasm_signature(ty)? };
    let mut b = FunctionBuilder::new(func, fctx);
    let [callee_vmctx, caller_vmctx, code, values] = entry_block(&mut b)[..] else { unreachable!("four parameters") };
    let mut args = vec![callee_vmctx, caller_vmctx];
    if osr {
        args.push(values);
    } else {
        for (i, &p) in ty.params().iter().enumerate() {
            let t = clif_type(p);
            args.push(b.ins().load(t, trusted(), values, i as i32 * CELL));
        }
    }
    let sig_ref = b.import_signature(code_sig);
    let call = b.ins().call_indirect(sig_ref, code, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(trusted(), r, values, i as i32 * CELL);
    }
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}

/// The call entry of a function compiled with both entries (`func::Entries::Both`): a
/// wasm function of type `ty` that lays out an on-stack-replacement frame on its stack —
/// loop number `u32::MAX` (the function's start), the arguments, `slots - params` zeroed
/// slots for the other locals — and calls the code, which is piece 0 of the same placement
/// (a direct call that placing patches).
pub(super) fn osr_adapter(
    ty: &FuncType,
    slots: u32,
    isa: &dyn TargetIsa,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    func.signature = wasm_signature(ty)?;
    super::func::check_stack_limit(func)?;
    let code_sig = osr_signature(ty)?;
    let mut b = FunctionBuilder::new(func, fctx);
    let params = entry_block(&mut b);
    let bytes = 16 + slots * 8;
    let frame = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 4));
    let start = b.ins().iconst(types::I32, i64::from(u32::MAX));
    b.ins().stack_store(types::I64, start, frame, 0);
    let mut slot = 0u32;
    for (&arg, &p) in params[2..].iter().zip(ty.params()) {
        b.ins().stack_store(types::I64, arg, frame, 16 + slot as i32 * 8);
        slot += p.slots();
    }
    let zero = b.ins().iconst(types::I64, 0);
    let rest = slots.saturating_sub(slot);
    if rest <= 16 {
        for k in slot..slots {
            b.ins().stack_store(types::I64, zero, frame, 16 + k as i32 * 8);
        }
    } else {
        // A loop for many locals: for (p = first; p != end; p += 8) *p = 0.
        let first = b.ins().stack_addr(types::I64, frame, 16 + slot as i32 * 8);
        let end = b.ins().stack_addr(types::I64, frame, bytes as i32);
        let body = b.create_block();
        let ptr = b.append_block_param(body, types::I64);
        let done = b.create_block();
        b.ins().jump(body, &[first.into()]);
        b.switch_to_block(body);
        b.ins().store(trusted(), zero, ptr, 0);
        let next = b.ins().iadd_imm_s(ptr, 8);
        let more = b.ins().icmp(ir::condcodes::IntCC::NotEqual, next, end);
        b.ins().brif(more, body, &[next.into()], done, &[]);
        b.switch_to_block(done);
    }
    let frame_addr = b.ins().stack_addr(types::I64, frame, 0);
    let sig = b.import_signature(code_sig);
    let name = b.func.declare_imported_user_function(ir::UserExternalName::new(0, 0));
    let code = b.import_function(ir::ExtFuncData {
        name: ir::ExternalName::User(name),
        signature: sig,
        colocated: true,
        patchable: false,
    });
    let call = b.ins().call(code, &[params[0], params[1], frame_addr]);
    let results = b.inst_results(call).to_vec();
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}

/// The host-call trampoline for functions of type `ty`: a wasm function (same signature
/// as compiled ones) whose `callee_vmctx` is the store function index. It stores the
/// arguments into a stack array, calls the runtime's host-call entry (found through the
/// caller's store context), traps if that failed, and returns the results from the array.
pub(super) fn host(
    ty: &FuncType,
    isa: &dyn TargetIsa,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    func.signature = wasm_signature(ty)?;
    let host_sig = host_signature(4, Some(types::I32));
    let mut b = FunctionBuilder::new(func, fctx);
    let params = entry_block(&mut b);
    let (store_func, caller_vmctx) = (params[0], params[1]);
    let cells = ty.params().len().max(ty.results().len()).max(1) as u32;
    let slot = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, cells * CELL as u32, 4));
    for (i, &arg) in params[2..].iter().enumerate() {
        b.ins().stack_store(types::I64, arg, slot, i as i32 * CELL);
    }
    let values = b.ins().stack_addr(types::I64, slot, 0);
    let store_ctx = b.ins().load(types::I64, trusted(), caller_vmctx, offset_of!(VmContext, store) as i32);
    let host_call = b.ins().load(types::I64, trusted(), store_ctx, offset_of!(VmStoreContext, host_call) as i32);
    let host_data = b.ins().load(types::I64, trusted(), store_ctx, offset_of!(VmStoreContext, host_data) as i32);
    let sig_ref = b.import_signature(host_sig);
    let call = b.ins().call_indirect(sig_ref, host_call, &[host_data, caller_vmctx, store_func, values]);
    let status = b.inst_results(call)[0];
    b.ins().trapnz(status, codes::HOST);
    let mut results = Vec::with_capacity(ty.results().len());
    for (i, &r) in ty.results().iter().enumerate() {
        let t = clif_type(r);
        results.push(b.ins().stack_load(types::I64, t, slot, i as i32 * CELL));
    }
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}

/// The lazy stub for functions of type `ty`: a wasm function (same signature as compiled
/// ones) whose `callee_vmctx` is the [`LazyRecord`] of a function not compiled yet. It
/// calls the runtime's lazy-compilation entry with the record, traps if that failed, and
/// calls the code it returns with the instance's context and its own arguments.
pub(super) fn lazy(
    ty: &FuncType,
    isa: &dyn TargetIsa,
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), CompileError> {
    let wasm_sig = wasm_signature(ty)?;
    func.signature = wasm_sig.clone();
    let compile_sig = host_signature(2, Some(types::I64));
    let mut b = FunctionBuilder::new(func, fctx);
    let mut args = entry_block(&mut b);
    let record = args[0];
    let vmctx = b.ins().load(types::I64, trusted(), record, offset_of!(LazyRecord, vmctx) as i32);
    let store_ctx = b.ins().load(types::I64, trusted(), vmctx, offset_of!(VmContext, store) as i32);
    let compile = b.ins().load(types::I64, trusted(), store_ctx, offset_of!(VmStoreContext, lazy_compile) as i32);
    let host_data = b.ins().load(types::I64, trusted(), store_ctx, offset_of!(VmStoreContext, host_data) as i32);
    let compile_sig = b.import_signature(compile_sig);
    let call = b.ins().call_indirect(compile_sig, compile, &[host_data, record]);
    let code = b.inst_results(call)[0];
    b.ins().trapz(code, codes::HOST);
    args[0] = vmctx;
    let wasm_sig = b.import_signature(wasm_sig);
    let call = b.ins().call_indirect(wasm_sig, code, &args);
    let results = b.inst_results(call).to_vec();
    b.ins().return_(&results);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    Ok(())
}
