//! Which slot's value each accumulator holds when an op starts: a forward data-flow
//! analysis over a translated function, from which [`super::lower`] picks the handler
//! variants that take an operand from a register instead of the frame.
//!
//! An op that passes its result (`Passes`) leaves slot `dst`'s new value in `acc.i`,
//! `acc.f` or both; ops that neither pass a result nor touch the accumulators (stores,
//! branches, `global.set`, copies) leave them as they were, except that writing a slot
//! makes an accumulator holding that slot's old value stale. Every other op — calls,
//! returns, `br_table`, exits to the driver — and the function's entry leave nothing
//! known. Where paths meet (branch targets, the op after a conditional branch), an
//! accumulator is known only if every incoming path agrees on it; loops are handled by
//! iterating to the fixed point.

use super::Passes;
use crate::ir::{Instr, Slot};

/// The slots whose values the accumulators hold: `i` in `acc.i`, `f` in `acc.f`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct AccState {
    pub(super) i: Option<Slot>,
    pub(super) f: Option<Slot>,
}

impl AccState {
    /// What is known on every one of two paths.
    fn meet(self, other: AccState) -> AccState {
        AccState { i: self.i.filter(|&s| other.i == Some(s)), f: self.f.filter(|&s| other.f == Some(s)) }
    }

    /// Forgets an accumulator that holds `slot`'s value (the slot is being overwritten).
    fn clobber(&mut self, slot: Slot) {
        if self.i == Some(slot) {
            self.i = None;
        }
        if self.f == Some(slot) {
            self.f = None;
        }
    }
}

/// The accumulator state at the start of each op of `code` (unreached ops and data
/// words: nothing known). `passes[pc]` is where op `pc` leaves its result.
pub(super) fn acc_states(code: &[Instr], passes: &[Option<Passes>]) -> Vec<AccState> {
    let mut state: Vec<Option<AccState>> = vec![None; code.len()];
    let mut queued = vec![false; code.len()];
    let mut work = Vec::new();
    if !code.is_empty() {
        state[0] = Some(AccState::default());
        queued[0] = true;
        work.push(0);
    }
    while let Some(pc) = work.pop() {
        queued[pc] = false;
        let Some(before) = state[pc] else { continue };
        let after = transfer(&code[pc], passes[pc], before);
        successors(code, pc, after, |to, incoming| {
            let Some(slot) = state.get_mut(to) else { return };
            let merged = slot.map_or(incoming, |old| old.meet(incoming));
            if *slot != Some(merged) {
                *slot = Some(merged);
                if !queued[to] {
                    queued[to] = true;
                    work.push(to);
                }
            }
        });
    }
    state.into_iter().map(Option::unwrap_or_default).collect()
}

/// The state after `instr` runs, given the state before it.
fn transfer(instr: &Instr, passes: Option<Passes>, mut state: AccState) -> AccState {
    use Instr::*;
    if let Some(passes) = passes {
        let Some(&mut dst) = instr.clone().result_slot_mut() else { return AccState::default() };
        if instr.is_wide() {
            return AccState::default();
        }
        state.clobber(dst);
        match passes {
            Passes::Int => state.i = Some(dst),
            Passes::Float => state.f = Some(dst),
            Passes::Both => (state.i, state.f) = (Some(dst), Some(dst)),
        }
        return state;
    }
    match *instr {
        // Handlers that pass both accumulators on unchanged and write no slot.
        Store8 { .. } | Store16 { .. } | Store32 { .. } | Store64 { .. } | V128Store { .. } | V128StoreLane { .. } => {}
        F64AddStore { .. } | F64SubStore { .. } | F64MulStore { .. } => {}
        GlobalSet { .. } => {}
        // Handlers that pass both on unchanged and write the slots named.
        CopyBr { dst, .. } => state.clobber(dst),
        Copy2 { d1, d2, .. } | Copy2Br { d1, d2, .. } => {
            state.clobber(Slot::from(d1));
            state.clobber(Slot::from(d2));
        }
        // Branches (their handlers pass `acc` to both continuations).
        ref branch if branch.clone().target_mut().is_some() => {}
        _ => return AccState::default(),
    }
    state
}

/// Calls `f(pc, state)` for each op control can reach right after op `pc`, with the
/// state it arrives with (`after`, or nothing known where the handler does not pass
/// the accumulators on).
fn successors(code: &[Instr], pc: usize, after: AccState, mut f: impl FnMut(usize, AccState)) {
    use Instr::*;
    let instr = &code[pc];
    match *instr {
        Data { .. } | Return { .. } | ReturnSlot { .. } | Unreachable { .. } => {}
        // The entries are `Br`s jumped to with the accumulators passed on unchanged, but
        // nothing is tracked through the table.
        BrTable { len, .. } => {
            for entry in pc + 1..=pc + 1 + len as usize {
                f(entry, AccState::default());
            }
        }
        _ => {
            if let Some(&mut target) = instr.clone().target_mut() {
                f(target as usize, after);
                if matches!(instr, Br { .. } | CopyBr { .. } | Copy2Br { .. }) {
                    return;
                }
            }
            f(pc + 1 + usize::from(instr.has_data()), after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(code: &[Instr]) -> Vec<AccState> {
        let passes: Vec<_> = code.iter().map(super::super::passes_result).collect();
        acc_states(code, &passes)
    }

    const fn held(i: Option<Slot>, f: Option<Slot>) -> AccState {
        AccState { i, f }
    }

    #[test]
    fn a_result_survives_stores_and_branches() {
        let code = [
            Instr::I32AddImm { dst: 3, a: 0, imm: 1 },
            Instr::Store32 { addr: 1, value: 2, offset: 0 },
            Instr::BrIfNez { cond: 2, target: 4 },
            Instr::I32Add { dst: 4, a: 3, b: 3 },
            Instr::Return {},
        ];
        let s = states(&code);
        assert_eq!(s[1], held(Some(3), None));
        assert_eq!(s[2], held(Some(3), None));
        assert_eq!(s[3], held(Some(3), None));
        // Reached from the branch (slot 3) and from the add (slot 4): they disagree.
        assert_eq!(s[4], held(None, None));
    }

    #[test]
    fn writing_the_held_slot_forgets_it() {
        let code = [
            Instr::F64Add { dst: 3, a: 0, b: 1 },
            Instr::I32AddImm { dst: 3, a: 0, imm: 1 },
            Instr::Copy2 { d1: 5, s1: 0, d2: 3, s2: 1 },
            Instr::Return {},
        ];
        let s = states(&code);
        assert_eq!(s[1], held(None, Some(3)));
        // The integer add wrote slot 3: the float accumulator's copy is stale.
        assert_eq!(s[2], held(Some(3), None));
        assert_eq!(s[3], held(None, None));
    }

    #[test]
    fn loops_keep_only_what_every_path_agrees_on() {
        // 0: x = x + 1 (slot 2); 1: loop back while x != 0; the head is also entered
        // from the function's start, where nothing is known.
        let code = [
            Instr::I32AddImm { dst: 2, a: 2, imm: 1 },
            Instr::BrIfNez { cond: 2, target: 0 },
            Instr::Call { func: 0, args: 4 },
            Instr::I32AddImm { dst: 2, a: 2, imm: 1 },
            Instr::Return {},
        ];
        let s = states(&code);
        assert_eq!(s[0], held(None, None));
        assert_eq!(s[1], held(Some(2), None));
        assert_eq!(s[2], held(Some(2), None));
        // A call passes nothing on.
        assert_eq!(s[3], held(None, None));
    }

    #[test]
    fn table_entries_and_data_words_know_nothing() {
        let code = [
            Instr::I32AddImm { dst: 2, a: 0, imm: 1 },
            Instr::BrTable { index: 2, len: 0 },
            Instr::Br { target: 3 },
            Instr::Select { dst: 2, cond: 0, a: 1 },
            Instr::Data { a: 0, b: 0, c: 0 },
            Instr::Return {},
        ];
        let s = states(&code);
        assert_eq!(s[1], held(Some(2), None));
        assert_eq!(s[2], held(None, None));
        assert_eq!(s[3], held(None, None));
        assert_eq!(s[4], held(None, None));
        assert_eq!(s[5], held(Some(2), None));
    }
}
