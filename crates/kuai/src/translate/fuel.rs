//! Fuel metering and epoch checks: where the translator charges fuel and what it costs.
//!
//! The cost model: every wasm operator costs one unit of fuel except `nop`, `drop`,
//! `block`, `loop`, `else` and `end`, which cost none. The cost of a *straight-line run* —
//! the operators from one entry point to the next — is charged by one `ConsumeFuel` at
//! the run's start. Runs start at the function entry, at a loop head, at the start of an
//! `if`'s arms, after a block's `end` that branches reach, and after a `br_if` (its
//! fall-through). Calls do not split runs: the callee charges its own. The entry run's
//! charge is made by the call itself (`Function::entry_fuel`, charged in
//! `Stack::push`, which also does the entry's epoch check), saving a dispatch per call; a
//! loop head with both fuel and epochs on gets one `CheckEpochConsumeFuel`. So the same
//! program with the same fuel always stops at the same run, however it was translated
//! (eagerly or lazily) and whatever Kuai's own instruction selection does.

use super::Translator;
use crate::ir::{Instr, Target};

/// Fuel an operator costs.
pub(super) fn cost(op: &wasmparser::Operator<'_>) -> u32 {
    use wasmparser::Operator as Op;
    match op {
        Op::Nop | Op::Drop | Op::Block { .. } | Op::Loop { .. } | Op::Else | Op::End => 0,
        _ => 1,
    }
}

impl Translator<'_> {
    /// Starts a straight-line run: the next operators' costs go to a new `ConsumeFuel`.
    pub(super) fn start_segment(&mut self) {
        if self.consume_fuel {
            self.fuel_segment = Some(self.emit(Instr::ConsumeFuel { amount: 0 }));
        }
    }

    /// Adds `op`'s cost to the current run's charge.
    pub(super) fn charge(&mut self, op: &wasmparser::Operator<'_>) {
        if let Some(at) = self.fuel_segment
            && let Instr::ConsumeFuel { amount } | Instr::CheckEpochConsumeFuel { amount } = &mut self.code[at]
        {
            *amount = amount.saturating_add(cost(op));
        }
    }

    /// Emits a loop head's epoch check and starts its run (one instruction for both).
    pub(super) fn loop_head_checks(&mut self) {
        match (self.check_epoch, self.consume_fuel) {
            (true, true) => self.fuel_segment = Some(self.emit(Instr::CheckEpochConsumeFuel { amount: 0 })),
            (true, false) => {
                self.emit(Instr::CheckEpoch {});
            }
            (false, _) => self.start_segment(),
        }
    }
}

/// Turns the charge at the entry into the function's `entry_fuel` (leaving a free charge
/// that [`remove_free_charges`] drops).
pub(super) fn take_entry_charge(code: &mut [Instr]) -> u32 {
    match code.first_mut() {
        Some(Instr::ConsumeFuel { amount }) => std::mem::take(amount),
        _ => 0,
    }
}

/// Removes the `ConsumeFuel`s that charge nothing (runs of free operators) and retargets
/// jumps; a jump to a removed charge goes to the instruction after it.
pub(super) fn remove_free_charges(code: &mut Vec<Instr>) {
    if !code.iter().any(|i| matches!(i, Instr::ConsumeFuel { amount: 0 })) {
        return;
    }
    let mut new_index = Vec::with_capacity(code.len() + 1);
    let mut next = 0;
    for instr in code.iter() {
        new_index.push(next as Target);
        if !matches!(instr, Instr::ConsumeFuel { amount: 0 }) {
            next += 1;
        }
    }
    new_index.push(next as Target);
    code.retain(|i| !matches!(i, Instr::ConsumeFuel { amount: 0 }));
    for instr in code.iter_mut() {
        if let Some(target) = instr.target_mut() {
            *target = new_index[*target as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_charges_go_and_jumps_follow() {
        let mut code = vec![
            Instr::ConsumeFuel { amount: 0 },
            Instr::ConsumeFuel { amount: 2 },
            Instr::Br { target: 3 },
            Instr::ConsumeFuel { amount: 0 },
            Instr::Return {},
        ];
        remove_free_charges(&mut code);
        assert_eq!(code, [Instr::ConsumeFuel { amount: 2 }, Instr::Br { target: 2 }, Instr::Return {}]);
    }
}
