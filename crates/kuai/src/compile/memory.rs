//! Linear memory and table accesses in compiled code: loads and stores inline, with the
//! bounds check the reservation cannot make implicit; growth and bulk operations through
//! the runtime's entries.

use super::func::{Translator, heap, trusted};
use super::{CompileError, STATUS_MEMORY, STATUS_TABLE, codes, unsupported};
use crate::vm::vmctx::{VmContext, VmMemory, VmStoreContext};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, Signature, TrapCode, Value, types};
use cranelift_codegen::isa::CallConv;
use std::mem::offset_of;
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// The address of memory `mem`'s byte 0.
    fn memory_base(&mut self, mem: u32) -> Value {
        if mem == 0 {
            // With the guard, the memory never moves (instantiation refuses a memory without
            // its reservation): its base is constant for the whole call, so the load may be
            // hoisted out of loops and shared.
            let flags = if self.guarded { trusted().with_readonly().with_can_move() } else { trusted() };
            return self.b.ins().load(types::I64, flags, self.vmctx, offset_of!(VmContext, memory_base) as i32);
        }
        let at = mem as i32 * std::mem::size_of::<VmMemory>() as i32;
        self.memory_field(at + offset_of!(VmMemory, base) as i32)
    }

    /// The length in bytes (`i64`) of memory `mem`. Loaded only where needed: an unused
    /// load is not removed.
    pub(super) fn memory_len(&mut self, mem: u32) -> Value {
        if mem == 0 {
            return self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, memory_len) as i32);
        }
        let at = mem as i32 * std::mem::size_of::<VmMemory>() as i32;
        self.memory_field(at + offset_of!(VmMemory, len) as i32)
    }

    /// The word at `offset` in the instance's array of memories.
    fn memory_field(&mut self, offset: i32) -> Value {
        let array = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, memories) as i32);
        self.b.ins().load(types::I64, trusted(), array, offset)
    }

    /// The address of an access of `size` bytes at wasm address `addr` (`i32`) + `offset`,
    /// checked against the memory's length unless the guard region makes it fault.
    pub(super) fn address(
        &mut self,
        mem: u32,
        addr: Value,
        offset: u64,
        size: u64,
    ) -> Result<(Value, i32), CompileError> {
        let addr = self.b.ins().uextend(types::I64, addr);
        if !(self.guarded && offset + size <= self.guard) {
            let len = self.memory_len(mem);
            let end = self.b.ins().iadd_imm_s(addr, (offset + size) as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let base = self.memory_base(mem);
        let at = self.b.ins().iadd(base, addr);
        // An offset that fits goes into the access's displacement.
        Ok(match i32::try_from(offset) {
            Ok(offset) => (at, offset),
            Err(_) => (self.b.ins().iadd_imm_s(at, offset as i64), 0),
        })
    }

    /// Loads and stores; `None` if `op` is none.
    pub(super) fn memory_op(&mut self, op: &Operator<'_>) -> Result<Option<()>, CompileError> {
        use Operator as O;
        use types::{F32, F64, I32, I64};
        // (result type, bytes, signed extension?) for loads.
        let load = match op {
            O::I32Load { memarg } => Some((memarg, I32, 4, None)),
            O::I64Load { memarg } => Some((memarg, I64, 8, None)),
            O::F32Load { memarg } => Some((memarg, F32, 4, None)),
            O::F64Load { memarg } => Some((memarg, F64, 8, None)),
            O::I32Load8S { memarg } => Some((memarg, I32, 1, Some(true))),
            O::I32Load8U { memarg } => Some((memarg, I32, 1, Some(false))),
            O::I32Load16S { memarg } => Some((memarg, I32, 2, Some(true))),
            O::I32Load16U { memarg } => Some((memarg, I32, 2, Some(false))),
            O::I64Load8S { memarg } => Some((memarg, I64, 1, Some(true))),
            O::I64Load8U { memarg } => Some((memarg, I64, 1, Some(false))),
            O::I64Load16S { memarg } => Some((memarg, I64, 2, Some(true))),
            O::I64Load16U { memarg } => Some((memarg, I64, 2, Some(false))),
            O::I64Load32S { memarg } => Some((memarg, I64, 4, Some(true))),
            O::I64Load32U { memarg } => Some((memarg, I64, 4, Some(false))),
            _ => None,
        };
        if let Some((memarg, ty, size, ext)) = load {
            let addr = self.pop();
            let (p, d) = self.address(memory_index(memarg)?, addr, memarg.offset, size)?;
            let v = match (ext, size) {
                (None, _) => self.b.ins().load(ty, heap(), p, d),
                (Some(true), 1) => self.b.ins().sload8(ty, heap(), p, d),
                (Some(false), 1) => self.b.ins().uload8(ty, heap(), p, d),
                (Some(true), 2) => self.b.ins().sload16(ty, heap(), p, d),
                (Some(false), 2) => self.b.ins().uload16(ty, heap(), p, d),
                (Some(true), _) => self.b.ins().sload32(heap(), p, d),
                (Some(false), _) => self.b.ins().uload32(heap(), p, d),
            };
            self.push(v);
            return Ok(Some(()));
        }
        let store = match op {
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => Some((memarg, 4)),
            O::I64Store { memarg } | O::F64Store { memarg } => Some((memarg, 8)),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => Some((memarg, 1)),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => Some((memarg, 2)),
            _ => None,
        };
        let Some((memarg, size)) = store else { return Ok(None) };
        let (addr, v) = self.pop2();
        let (p, d) = self.address(memory_index(memarg)?, addr, memarg.offset, size)?;
        let wide = self.b.func.dfg.value_type(v).bytes() as u64 > size;
        match (wide, size) {
            (false, _) => self.b.ins().store(heap(), v, p, d),
            (true, 1) => self.b.ins().istore8(heap(), v, p, d),
            (true, 2) => self.b.ins().istore16(heap(), v, p, d),
            (true, _) => self.b.ins().istore32(heap(), v, p, d),
        };
        Ok(Some(()))
    }

    /// Traps with "out of bounds memory access" unless `[at, at + n)` (`i32` operands)
    /// lies in memory `mem`; returns the address of byte `at`.
    fn checked_range(&mut self, mem: u32, at: Value, n: Value) -> Value {
        let len = self.memory_len(mem);
        let at = self.b.ins().uextend(types::I64, at);
        let end = self.b.ins().iadd(at, n);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        let base = self.memory_base(mem);
        self.b.ins().iadd(base, at)
    }

    /// Calls the C library function at `entry` in the store context with `args`.
    fn libc_call(&mut self, entry: usize, args: &[Value]) {
        let store = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, store) as i32);
        let f = self.b.ins().load(types::I64, trusted(), store, entry as i32);
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.extend(args.iter().map(|&a| AbiParam::new(self.b.func.dfg.value_type(a))));
        let sig = self.b.import_signature(sig);
        self.b.ins().call_indirect(sig, f, args);
    }

    /// `memory.copy` within memory `mem`: both ranges checked (before anything is
    /// written), then `memmove`.
    pub(super) fn memory_copy(&mut self, mem: u32, d: Value, s: Value, n: Value) {
        let n = self.b.ins().uextend(types::I64, n);
        let to = self.checked_range(mem, d, n);
        let from = self.checked_range(mem, s, n);
        self.libc_call(offset_of!(VmStoreContext, memmove), &[to, from, n]);
    }

    /// `memory.fill`: the range checked, then `memset`.
    pub(super) fn memory_fill(&mut self, mem: u32, d: Value, v: Value, n: Value) {
        let n = self.b.ins().uextend(types::I64, n);
        let to = self.checked_range(mem, d, n);
        self.libc_call(offset_of!(VmStoreContext, memset), &[to, v, n]);
    }

    /// Calls the runtime entry at `entry` in the store context, `fn(host_data, instance,
    /// a, b) -> ret` in the host's convention; returns the call.
    fn runtime_entry(&mut self, entry: usize, ret: types::Type, a: Value, b: Value) -> ir::Inst {
        let store = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, store) as i32);
        let f = self.b.ins().load(types::I64, trusted(), store, entry as i32);
        let data = self.b.ins().load(types::I64, trusted(), store, offset_of!(VmStoreContext, host_data) as i32);
        let instance = self.b.ins().uload32(trusted(), self.vmctx, offset_of!(VmContext, instance) as i32);
        let sig = self.b.import_signature(super::host_signature(4, Some(ret)));
        self.b.ins().call_indirect(sig, f, &[data, instance, a, b])
    }

    /// `memory.grow` through the runtime: the old size in pages (or -1).
    pub(super) fn memory_grow(&mut self, mem: u32, delta: Value) -> Result<Value, CompileError> {
        let mem = self.b.ins().iconst(types::I64, mem as i64);
        let call = self.runtime_entry(offset_of!(VmStoreContext, memory_grow), types::I64, mem, delta);
        let old = self.b.inst_results(call)[0];
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, old, -2);
        self.b.ins().trapnz(failed, codes::HOST);
        Ok(old)
    }

    /// A bulk operation through the runtime's `bulk` entry: `op` with immediates `imms`
    /// and operands `vals` in an argument array; traps if it reports a failure. Returns the
    /// array (whose first word holds a result).
    pub(super) fn bulk(&mut self, op: Bulk, imms: &[u32], vals: &[Value]) -> ir::StackSlot {
        let slot = self.b.create_sized_stack_slot(ir::StackSlotData::new(ir::StackSlotKind::ExplicitSlot, 40, 3));
        for (i, &imm) in imms.iter().enumerate() {
            let v = self.b.ins().iconst(types::I64, imm as i64);
            self.b.ins().stack_store(types::I64, v, slot, i as i32 * 8);
        }
        for (i, &v) in vals.iter().enumerate() {
            let v = if self.b.func.dfg.value_type(v) == types::I32 { self.b.ins().uextend(types::I64, v) } else { v };
            self.b.ins().stack_store(types::I64, v, slot, (imms.len() + i) as i32 * 8);
        }
        let argv = self.b.ins().stack_addr(types::I64, slot, 0);
        let op = self.b.ins().iconst(types::I64, op.code());
        let call = self.runtime_entry(offset_of!(VmStoreContext, bulk), types::I32, op, argv);
        let status = self.b.inst_results(call)[0];
        let memory = self.b.ins().icmp_imm_s(IntCC::Equal, status, STATUS_MEMORY as i64);
        self.b.ins().trapnz(memory, TrapCode::HEAP_OUT_OF_BOUNDS);
        let table = self.b.ins().icmp_imm_s(IntCC::Equal, status, STATUS_TABLE as i64);
        self.b.ins().trapnz(table, codes::TABLE_OUT_OF_BOUNDS);
        self.b.ins().trapnz(status, codes::HOST);
        slot
    }

    /// [`Translator::bulk`] for an operation with a result of type `ty`.
    pub(super) fn bulk_result(&mut self, op: Bulk, imms: &[u32], vals: &[Value], ty: ir::Type) -> Value {
        let slot = self.bulk(op, imms, vals);
        let word = self.b.ins().stack_load(types::I64, types::I64, slot, 0);
        if ty == types::I64 { word } else { self.b.ins().ireduce(ty, word) }
    }
}

/// The memory a load or store accesses.
pub(super) fn memory_index(memarg: &wasmparser::MemArg) -> Result<u32, CompileError> {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => Ok(m),
        wasmparser::MemArgTarget::Array(_) => Err(unsupported("GC array accesses are not supported".into())),
    }
}

/// The operations compiled code leaves to the runtime's `bulk` entry, with their
/// arguments (immediates first, then operands; a result comes back in the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk {
    /// `[dst memory, src memory, dst, src, len]`
    MemoryCopy,
    /// `[memory, segment, dst, src, len]`
    MemoryInit,
    /// `[segment]`
    DataDrop,
    /// `[table, index]` → the element
    TableGet,
    /// `[table, index, value]`
    TableSet,
    /// `[table]` → its size
    TableSize,
    /// `[table, init, delta]` → the old size, or `u32::MAX`
    TableGrow,
    /// `[table, dst, value, len]`
    TableFill,
    /// `[dst table, src table, dst, src, len]`
    TableCopy,
    /// `[table, segment, dst, src, len]`
    TableInit,
    /// `[segment]`
    ElemDrop,
}

impl Bulk {
    const ALL: [Bulk; 11] = [
        Bulk::MemoryCopy,
        Bulk::MemoryInit,
        Bulk::DataDrop,
        Bulk::TableGet,
        Bulk::TableSet,
        Bulk::TableSize,
        Bulk::TableGrow,
        Bulk::TableFill,
        Bulk::TableCopy,
        Bulk::TableInit,
        Bulk::ElemDrop,
    ];

    /// The operation compiled code passes as `code`.
    pub(crate) fn from_code(code: u64) -> Option<Bulk> {
        Bulk::ALL.get(usize::try_from(code).ok()?).copied()
    }

    fn code(self) -> i64 {
        self as i64
    }
}
