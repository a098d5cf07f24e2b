//! Structured control flow, branches, returns and calls.
//!
//! Every block's values live in fixed slots: a block records the slot where its
//! params/results start (`base`), and the widths of those values. A branch copies the carried values
//! there and jumps; forward jumps are recorded as fix-ups and patched when the block's
//! `end` binds its label. Conditional branches whose condition was computed by the
//! instruction just before are fused into one compare-and-branch instruction.

use super::{Entry, Operand, Translator};
use crate::error::CompileError;
use crate::ir::{IndirectSite, Instr, Slot, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ControlKind {
    /// The function body itself.
    Function,
    Block,
    /// A loop; branches go back to `head`.
    Loop {
        head: Target,
    },
    /// An `if`; `else_jump` is the conditional jump taken when the condition is false.
    If {
        else_jump: usize,
    },
    /// The `else` arm of an `if`.
    Else,
}

#[derive(Debug)]
pub(super) struct Control {
    kind: ControlKind,
    /// Operand-stack height (entries) where the block's params/results start.
    height: usize,
    /// Slot where the block's params/results start.
    base: Slot,
    /// Slot widths of the params and of the results.
    params: Vec<u32>,
    results: Vec<u32>,
    /// Jumps to patch with the address of the block's end.
    fixups: Vec<usize>,
}

impl Control {
    pub(super) fn function(results: Vec<u32>) -> Control {
        Control { kind: ControlKind::Function, height: 0, base: 0, params: Vec::new(), results, fixups: Vec::new() }
    }

    /// Widths of the values a branch to this label carries.
    fn carried(&self) -> &[u32] {
        match self.kind {
            ControlKind::Loop { .. } => &self.params,
            _ => &self.results,
        }
    }
}

/// Patches the target of a jump instruction.
fn set_target(instr: &mut Instr, to: Target) {
    match instr.target_mut() {
        Some(target) => *target = to,
        None => unreachable!("not a jump: {instr:?}"),
    }
}

/// The fused branch for a compare instruction: taken when the comparison is `when`.
fn fuse_compare(cmp: Instr, when: bool, target: Target) -> Option<Instr> {
    use Instr::*;
    // For `when == false` use the negated comparison (exact for integers).
    Some(match (cmp, when) {
        (I32Eqz { src, .. }, true) => BrIfEqz { cond: src, target },
        (I32Eqz { src, .. }, false) => BrIfNez { cond: src, target },
        // `BrIfEqz`/`BrIfNez` test 32 bits: an `i64` needs its own forms.
        (I64Eqz { src, .. }, true) => BrI64Eqz { cond: src, target },
        (I64Eqz { src, .. }, false) => BrI64Nez { cond: src, target },
        (I32Eq { a, b, .. }, true) | (I32Ne { a, b, .. }, false) => BrI32Eq { a, b, target },
        (I32Ne { a, b, .. }, true) | (I32Eq { a, b, .. }, false) => BrI32Ne { a, b, target },
        (I32LtS { a, b, .. }, true) | (I32GeS { a, b, .. }, false) => BrI32LtS { a, b, target },
        (I32LtU { a, b, .. }, true) | (I32GeU { a, b, .. }, false) => BrI32LtU { a, b, target },
        (I32GtS { a, b, .. }, true) | (I32LeS { a, b, .. }, false) => BrI32GtS { a, b, target },
        (I32GtU { a, b, .. }, true) | (I32LeU { a, b, .. }, false) => BrI32GtU { a, b, target },
        (I32LeS { a, b, .. }, true) | (I32GtS { a, b, .. }, false) => BrI32LeS { a, b, target },
        (I32LeU { a, b, .. }, true) | (I32GtU { a, b, .. }, false) => BrI32LeU { a, b, target },
        (I32GeS { a, b, .. }, true) | (I32LtS { a, b, .. }, false) => BrI32GeS { a, b, target },
        (I32GeU { a, b, .. }, true) | (I32LtU { a, b, .. }, false) => BrI32GeU { a, b, target },
        (I32EqImm { a, imm, .. }, true) | (I32NeImm { a, imm, .. }, false) => BrI32EqImm { a, imm, target },
        (I32NeImm { a, imm, .. }, true) | (I32EqImm { a, imm, .. }, false) => BrI32NeImm { a, imm, target },
        (I32LtSImm { a, imm, .. }, true) | (I32GeSImm { a, imm, .. }, false) => BrI32LtSImm { a, imm, target },
        (I32LtUImm { a, imm, .. }, true) | (I32GeUImm { a, imm, .. }, false) => BrI32LtUImm { a, imm, target },
        (I32GtSImm { a, imm, .. }, true) | (I32LeSImm { a, imm, .. }, false) => BrI32GtSImm { a, imm, target },
        (I32GtUImm { a, imm, .. }, true) | (I32LeUImm { a, imm, .. }, false) => BrI32GtUImm { a, imm, target },
        (I32LeSImm { a, imm, .. }, true) | (I32GtSImm { a, imm, .. }, false) => BrI32LeSImm { a, imm, target },
        (I32LeUImm { a, imm, .. }, true) | (I32GtUImm { a, imm, .. }, false) => BrI32LeUImm { a, imm, target },
        (I32GeSImm { a, imm, .. }, true) | (I32LtSImm { a, imm, .. }, false) => BrI32GeSImm { a, imm, target },
        (I32GeUImm { a, imm, .. }, true) | (I32LtUImm { a, imm, .. }, false) => BrI32GeUImm { a, imm, target },
        (I64Eq { a, b, .. }, true) | (I64Ne { a, b, .. }, false) => BrI64Eq { a, b, target },
        (I64Ne { a, b, .. }, true) | (I64Eq { a, b, .. }, false) => BrI64Ne { a, b, target },
        (I64LtS { a, b, .. }, true) | (I64GeS { a, b, .. }, false) => BrI64LtS { a, b, target },
        (I64LtU { a, b, .. }, true) | (I64GeU { a, b, .. }, false) => BrI64LtU { a, b, target },
        (I64GtS { a, b, .. }, true) | (I64LeS { a, b, .. }, false) => BrI64GtS { a, b, target },
        (I64GtU { a, b, .. }, true) | (I64LeU { a, b, .. }, false) => BrI64GtU { a, b, target },
        (I64LeS { a, b, .. }, true) | (I64GtS { a, b, .. }, false) => BrI64LeS { a, b, target },
        (I64LeU { a, b, .. }, true) | (I64GtU { a, b, .. }, false) => BrI64LeU { a, b, target },
        (I64GeS { a, b, .. }, true) | (I64LtS { a, b, .. }, false) => BrI64GeS { a, b, target },
        (I64GeU { a, b, .. }, true) | (I64LtU { a, b, .. }, false) => BrI64GeU { a, b, target },
        (I64EqImm { a, imm, .. }, true) | (I64NeImm { a, imm, .. }, false) => BrI64EqImm { a, imm, target },
        (I64NeImm { a, imm, .. }, true) | (I64EqImm { a, imm, .. }, false) => BrI64NeImm { a, imm, target },
        (I64LtSImm { a, imm, .. }, true) | (I64GeSImm { a, imm, .. }, false) => BrI64LtSImm { a, imm, target },
        (I64LtUImm { a, imm, .. }, true) | (I64GeUImm { a, imm, .. }, false) => BrI64LtUImm { a, imm, target },
        (I64GtSImm { a, imm, .. }, true) | (I64LeSImm { a, imm, .. }, false) => BrI64GtSImm { a, imm, target },
        (I64GtUImm { a, imm, .. }, true) | (I64LeUImm { a, imm, .. }, false) => BrI64GtUImm { a, imm, target },
        (I64LeSImm { a, imm, .. }, true) | (I64GtSImm { a, imm, .. }, false) => BrI64LeSImm { a, imm, target },
        (I64LeUImm { a, imm, .. }, true) | (I64GtUImm { a, imm, .. }, false) => BrI64LeUImm { a, imm, target },
        (I64GeSImm { a, imm, .. }, true) | (I64LtSImm { a, imm, .. }, false) => BrI64GeSImm { a, imm, target },
        (I64GeUImm { a, imm, .. }, true) | (I64LtUImm { a, imm, .. }, false) => BrI64GeUImm { a, imm, target },
        _ => return None,
    })
}

impl Translator<'_> {
    /// Slot widths of a block type's params and results.
    pub(super) fn block_arity(&self, ty: wasmparser::BlockType) -> (Vec<u32>, Vec<u32>) {
        match ty {
            wasmparser::BlockType::Empty => (Vec::new(), Vec::new()),
            wasmparser::BlockType::Type(t) => (Vec::new(), vec![super::wasm_slots(t)]),
            wasmparser::BlockType::FuncType(idx) => {
                let ft = &self.module.types[idx as usize];
                (ft.params().iter().map(|t| t.slots()).collect(), ft.results().iter().map(|t| t.slots()).collect())
            }
        }
    }

    /// Enters a block, loop or if (whose condition was already consumed).
    fn enter(&mut self, kind: ControlKind, ty: wasmparser::BlockType) {
        let (params, results) = self.block_arity(ty);
        let height = self.stack.len() - params.len();
        let base = self.stack.get(height).map_or_else(|| self.next_home(), |e| e.home);
        self.frames.push(Control { kind, height, base, params, results, fixups: Vec::new() });
    }

    /// Prepares the stack for a block entry: params in their slots, no pending local reads.
    fn prepare_entry(&mut self, ty: wasmparser::BlockType) {
        let (params, _) = self.block_arity(ty);
        self.materialize_locals(None);
        self.materialize_top(params.len());
    }

    pub(super) fn block(&mut self, ty: wasmparser::BlockType) {
        self.prepare_entry(ty);
        self.enter(ControlKind::Block, ty);
    }

    pub(super) fn loop_(&mut self, ty: wasmparser::BlockType) {
        self.prepare_entry(ty);
        let head = self.here();
        // On-stack replacement is offered where the locals are the whole state: no values
        // below the loop and none carried into it.
        if self.tiered && self.stack.is_empty() && self.block_arity(ty).0.is_empty() {
            self.emit(Instr::TierLoop { def: self.def, index: self.loops - 1, weight: 1 });
        }
        self.loop_head_checks();
        self.enter(ControlKind::Loop { head }, ty);
    }

    pub(super) fn if_(&mut self, ty: wasmparser::BlockType) {
        let cond = self.pop();
        self.prepare_entry(ty);
        let else_jump = self.branch_if(cond, false, 0);
        self.start_segment();
        self.enter(ControlKind::If { else_jump }, ty);
    }

    /// Emits a jump taken when `cond` is `when` (fusing a preceding compare); returns its
    /// index for patching.
    fn branch_if(&mut self, cond: Entry, when: bool, target: Target) -> usize {
        if let (Operand::Temp(s), Some(i)) = (cond.op, self.last_result) {
            let cmp = self.code[i];
            let writes_cond = matches!(cmp.clone().result_slot_mut(), Some(d) if *d == s);
            if writes_cond && let Some(fused) = fuse_compare(cmp, when, target) {
                self.code[i] = fused;
                self.last_result = None;
                return i;
            }
        }
        let cond = self.slot_of(cond);
        if when { self.emit(Instr::BrIfNez { cond, target }) } else { self.emit(Instr::BrIfEqz { cond, target }) }
    }

    pub(super) fn else_(&mut self) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        let ControlKind::If { else_jump } = frame.kind else {
            return;
        };
        frame.kind = ControlKind::Else;
        let (height, params, results) = (frame.height, frame.params.clone(), frame.results.len());
        if self.reachable {
            self.materialize_top(results);
            let jump = self.emit(Instr::Br { target: 0 });
            if let Some(frame) = self.frames.last_mut() {
                frame.fixups.push(jump);
            }
        }
        let here = self.here();
        set_target(&mut self.code[else_jump], here);
        self.start_segment();
        self.stack.truncate(height);
        for width in params {
            self.push_temp_wide(width);
        }
        self.reachable = true;
    }

    pub(super) fn end(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.kind == ControlKind::Function {
            if self.reachable {
                self.return_();
            }
            return;
        }
        if self.reachable {
            self.materialize_top(frame.results.len());
        }
        let len = self.code.len();
        if let ControlKind::Loop { head } = frame.kind
            && let Some(Instr::TierLoop { weight, .. }) = self.code.get_mut(head as usize)
        {
            // The loop body's size: what one iteration costs, roughly.
            *weight = (len - head as usize).clamp(1, 1000) as u32;
        }
        let here = self.here();
        for fixup in &frame.fixups {
            set_target(&mut self.code[*fixup], here);
        }
        if let ControlKind::If { else_jump } = frame.kind {
            // No else arm: the false path falls through to here with params == results.
            set_target(&mut self.code[else_jump], here);
        }
        // Control arrives here other than by falling through: a new straight-line run.
        let joined = !frame.fixups.is_empty() || matches!(frame.kind, ControlKind::If { .. } | ControlKind::Else);
        if joined || !self.reachable {
            self.start_segment();
        }
        self.stack.truncate(frame.height);
        for &width in &frame.results {
            self.push_temp_wide(width);
        }
        self.reachable = true;
    }

    /// The carried values of a branch to `depth` and the slots they go to.
    fn branch_moves(&self, depth: u32) -> Vec<(Slot, Entry)> {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let arity = frame.carried().len();
        let mut dst = frame.base;
        self.stack[self.stack.len() - arity..]
            .iter()
            .map(|e| {
                let to = dst;
                dst += e.width;
                (to, *e)
            })
            .collect()
    }

    /// Copies the carried values into the slots of the label `depth` levels up. Targets
    /// never lie above their sources, so in-order copies are safe.
    fn copy_branch_values(&mut self, depth: u32) -> Result<(), CompileError> {
        for (dst, entry) in self.branch_moves(depth) {
            self.copy_to(dst, entry);
        }
        Ok(())
    }

    /// Whether branching to `depth` needs no copies.
    fn values_in_place(&self, depth: u32) -> bool {
        self.branch_moves(depth).iter().all(|(dst, e)| e.op == Operand::Temp(*dst))
    }

    /// Emits an unconditional jump to label `depth` (values already in place).
    fn jump_to(&mut self, depth: u32) {
        let idx = self.frames.len() - 1 - depth as usize;
        match self.frames[idx].kind {
            ControlKind::Function => {
                self.emit(Instr::Return {});
            }
            ControlKind::Loop { head } => {
                self.emit_br(head);
            }
            _ => {
                let jump = self.emit_br(0);
                self.frames[idx].fixups.push(jump);
            }
        }
    }

    /// Emits `Br { target }`; a `Copy` or `Copy2` just before it (where no jump lands in
    /// between) becomes one `CopyBr` or `Copy2Br` — the phi moves before a loop's back edge. Returns the jump's
    /// index for patching.
    fn emit_br(&mut self, target: Target) -> usize {
        let n = self.code.len();
        if n > self.last_label {
            match self.code.last() {
                Some(&Instr::Copy { dst, src }) => {
                    self.code[n - 1] = Instr::CopyBr { dst, src, target };
                    self.last_result = None;
                    return n - 1;
                }
                Some(&Instr::Copy2 { d1, s1, d2, s2 }) => {
                    self.code[n - 1] = Instr::Copy2Br { d1, s1, d2, s2, target };
                    self.last_result = None;
                    return n - 1;
                }
                _ => {}
            }
        }
        self.emit(Instr::Br { target })
    }

    /// Records that the jump at `at` goes to label `depth`.
    fn link_jump(&mut self, at: usize, depth: u32) {
        let idx = self.frames.len() - 1 - depth as usize;
        match self.frames[idx].kind {
            ControlKind::Loop { head } => set_target(&mut self.code[at], head),
            _ => self.frames[idx].fixups.push(at),
        }
    }

    fn is_function_label(&self, depth: u32) -> bool {
        depth as usize == self.frames.len() - 1
    }

    pub(super) fn br(&mut self, depth: u32) -> Result<(), CompileError> {
        if self.is_function_label(depth) {
            self.return_();
            return Ok(());
        }
        self.copy_branch_values(depth)?;
        self.jump_to(depth);
        self.unreachable_rest();
        Ok(())
    }

    pub(super) fn br_if(&mut self, depth: u32) -> Result<(), CompileError> {
        let cond = self.pop();
        if !self.is_function_label(depth) && self.values_in_place(depth) {
            let at = self.branch_if(cond, true, 0);
            self.link_jump(at, depth);
            self.start_segment();
            return Ok(());
        }
        // Skip over the value copies when the condition is false.
        let skip = self.branch_if(cond, false, 0);
        // Moving the values may materialize stack entries (record them as temporaries in
        // their homes); those copies run only when the branch is taken, so the
        // fall-through path must keep the stack as it was.
        let fall_through = self.stack.clone();
        if self.is_function_label(depth) {
            self.emit_return_values();
        } else {
            self.copy_branch_values(depth)?;
            self.jump_to(depth);
        }
        self.stack = fall_through;
        let here = self.here();
        set_target(&mut self.code[skip], here);
        self.start_segment();
        Ok(())
    }

    pub(super) fn br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<(), CompileError> {
        let index = self.pop_slot();
        let mut depths = Vec::with_capacity(targets.len() as usize + 1);
        for t in targets.targets() {
            depths.push(t.map_err(|e| CompileError::new(crate::CompileErrorKind::Malformed, e.message(), None))?);
        }
        depths.push(targets.default());
        self.emit(Instr::BrTable { index, len: targets.len() });
        let table_start = self.code.len();
        for _ in &depths {
            self.emit(Instr::Br { target: 0 });
        }
        // Each stub starts from the stack as it is at the `br_table`: one stub's
        // materializations are not executed on the way to another.
        let at_branch = self.stack.clone();
        for (i, &depth) in depths.iter().enumerate() {
            let entry = table_start + i;
            self.stack.clone_from(&at_branch);
            if !self.is_function_label(depth) && self.values_in_place(depth) {
                self.link_jump(entry, depth);
            } else {
                // A stub that moves the values, then jumps.
                let stub = self.here();
                set_target(&mut self.code[entry], stub);
                if self.is_function_label(depth) {
                    self.emit_return_values();
                } else {
                    self.copy_branch_values(depth)?;
                    self.jump_to(depth);
                }
            }
        }
        self.unreachable_rest();
        Ok(())
    }

    /// Moves the function's results into slots `0..` and returns.
    fn emit_return_values(&mut self) {
        let n = self.result_widths.len();
        let len = self.stack.len();
        if n == 1 && self.result_widths[0] == 1 {
            match self.stack[len - 1].op {
                Operand::Local(s) | Operand::Temp(s) => {
                    self.emit(Instr::ReturnSlot { src: s });
                }
                Operand::Const(value) => {
                    self.emit(Instr::Const64 { dst: 0, value });
                    self.emit(Instr::Return {});
                }
            }
            return;
        }
        // Targets may overlap locals that are also sources: move such locals to their
        // homes (temporaries, above every local) first, so that the in-order copies below
        // never read a clobbered slot.
        let total: u32 = self.result_widths.iter().sum();
        let mut target = 0;
        for i in 0..n {
            let entry = self.stack[len - n + i];
            if let Operand::Local(s) = entry.op
                && s < total
                && s != target
            {
                self.materialize(len - n + i);
            }
            target += entry.width;
        }
        let mut target = 0;
        for i in 0..n {
            let entry = self.stack[len - n + i];
            self.copy_to(target, entry);
            target += entry.width;
        }
        self.emit(Instr::Return {});
    }

    pub(super) fn return_(&mut self) {
        self.emit_return_values();
        self.unreachable_rest();
    }

    /// Marks the rest of the current block as dead code.
    pub(super) fn unreachable_rest(&mut self) {
        self.reachable = false;
        let height = self.frames.last().map_or(0, |f| f.height);
        self.stack.truncate(height);
    }

    /// Puts the top `params` values in consecutive temporaries and returns the first slot.
    fn call_args(&mut self, params: usize) -> Slot {
        self.materialize_top(params);
        let first = self.stack.len() - params;
        let args = self.stack.get(first).map_or_else(|| self.next_home(), |e| e.home);
        self.stack.truncate(first);
        args
    }

    fn call_results(&mut self, results: &[crate::ValType]) {
        for r in results {
            self.push_temp_wide(r.slots());
        }
    }

    pub(super) fn call(&mut self, func: u32) {
        let ty = self.module.func_type(func).clone();
        let args = self.call_args(ty.params().len());
        match self.consume_fuel || self.check_epoch {
            true => self.emit(Instr::CallMetered { func, args }),
            false => self.emit(Instr::Call { func, args }),
        };
        self.call_results(ty.results());
    }

    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32) {
        let index = self.pop_slot();
        let ty = self.module.types[type_index as usize].clone();
        let args = self.call_args(ty.params().len());
        let type_id = self.module.type_ids[type_index as usize];
        let metered = self.consume_fuel || self.check_epoch;
        if table == 0 && !metered {
            self.emit(Instr::CallIndirect0 { type_id, args, index });
        } else {
            let site = self.indirect.len() as u32;
            self.indirect.push(IndirectSite { table, type_id });
            match metered {
                true => self.emit(Instr::CallIndirectMetered { site, args, index }),
                false => self.emit(Instr::CallIndirect { site, args, index }),
            };
        }
        self.call_results(ty.results());
    }
}
