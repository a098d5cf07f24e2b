//! Fuel and epochs in compiled code, with the interpreter's cost model (`translate/fuel.rs`):
//! every operator costs one unit except `nop`, `drop`, `block`, `loop`, `else` and `end`;
//! the cost of a straight-line run is charged at its start — the function entry, a loop
//! head, the start of an `if`'s arms, a block's end that branches reach, and a `br_if`'s
//! fall-through — and a run whose cost exceeds the fuel left traps before it starts,
//! charging nothing. Epochs are checked at function entries and loop heads, before the
//! run's charge. So both tiers consume the same fuel and stop at the same point.
//!
//! Compiled code reaches the store's fuel and epoch deadline, and the engine's epoch
//! counter, through pointers in the store context (set at each entry from the host).

use super::codes;
use super::func::{Translator, trusted};
use crate::vm::vmctx::{VmContext, VmStoreContext};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};
use std::mem::offset_of;

/// Fuel an operator costs (the interpreter's `translate::fuel::cost`).
pub(super) fn cost(op: &wasmparser::Operator<'_>) -> u64 {
    use wasmparser::Operator as Op;
    match op {
        Op::Nop | Op::Drop | Op::Block { .. } | Op::Loop { .. } | Op::Else | Op::End => 0,
        _ => 1,
    }
}

impl Translator<'_, '_> {
    /// The address `VmStoreContext` field `offset` holds.
    fn store_pointer(&mut self, offset: usize) -> Value {
        let store = self.b.ins().load(types::I64, trusted(), self.vmctx, offset_of!(VmContext, store) as i32);
        self.b.ins().load(types::I64, trusted(), store, offset as i32)
    }

    /// Starts a straight-line run (with fuel on): emits its charge, whose amount the
    /// operators that follow add up ([`Translator::charge`]) until the next run starts.
    pub(super) fn start_run(&mut self) {
        if !self.fuel {
            return;
        }
        self.finish_run();
        let ptr = self.store_pointer(offset_of!(VmStoreContext, fuel));
        let fuel = self.b.ins().load(types::I64, trusted(), ptr, 0);
        let amount = self.b.ins().iconst(types::I64, 0);
        let enough = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, fuel, amount);
        self.b.ins().trapz(enough, codes::OUT_OF_FUEL);
        let left = self.b.ins().isub(fuel, amount);
        self.b.ins().store(trusted(), left, ptr, 0);
        let inst = self.b.func.dfg.value_def(amount).unwrap_inst();
        self.run = Some((inst, 0));
    }

    /// Adds `op`'s cost to the current run.
    pub(super) fn charge(&mut self, op: &wasmparser::Operator<'_>) {
        if let Some((_, amount)) = &mut self.run {
            *amount += cost(op);
        }
    }

    /// Writes the current run's amount into its charge.
    pub(super) fn finish_run(&mut self) {
        if let Some((inst, amount)) = self.run.take() {
            self.b.func.replace(inst).iconst(types::I64, amount as i64);
        }
    }

    /// With epoch interruption, traps with "interrupt" once the engine's epoch has reached
    /// the store's deadline.
    pub(super) fn check_epoch(&mut self) {
        if !self.epoch {
            return;
        }
        let counter = self.store_pointer(offset_of!(VmStoreContext, epoch));
        let deadline = self.store_pointer(offset_of!(VmStoreContext, epoch_deadline));
        // Another thread advances the counter: an atomic load, which no optimisation
        // merges with an earlier one (a plain load in a loop would be read once).
        let now = self.b.ins().atomic_load(types::I64, trusted(), counter);
        let deadline = self.b.ins().load(types::I64, trusted(), deadline, 0);
        let passed = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, now, deadline);
        self.b.ins().trapnz(passed, codes::INTERRUPT);
    }
}
