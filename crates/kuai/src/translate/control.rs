//! Structured control flow, branches, returns and calls.
//!
//! Every block's values live in fixed slots: a block whose operand stack starts at height
//! `h` keeps its params/results at `temp_base + h ..`. A branch copies the carried values
//! there and jumps; forward jumps are recorded as fix-ups and patched when the block's
//! `end` binds its label. Conditional branches whose condition was computed by the
//! instruction just before are fused into one compare-and-branch instruction.

use super::{Operand, Translator};
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
    /// Operand-stack height where the block's params/results start.
    height: usize,
    params: usize,
    results: usize,
    /// Jumps to patch with the address of the block's end.
    fixups: Vec<usize>,
}

impl Control {
    pub(super) fn function(results: u32) -> Control {
        Control { kind: ControlKind::Function, height: 0, params: 0, results: results as usize, fixups: Vec::new() }
    }

    /// How many values a branch to this label carries.
    fn arity(&self) -> usize {
        match self.kind {
            ControlKind::Loop { .. } => self.params,
            _ => self.results,
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
        (I32Eqz { src, .. }, true) | (I64Eqz { src, .. }, true) => BrIfEqz { cond: src, target },
        (I32Eqz { src, .. }, false) | (I64Eqz { src, .. }, false) => BrIfNez { cond: src, target },
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
        _ => return None,
    })
}

impl Translator<'_> {
    pub(super) fn block_arity(&self, ty: wasmparser::BlockType) -> (usize, usize) {
        match ty {
            wasmparser::BlockType::Empty => (0, 0),
            wasmparser::BlockType::Type(_) => (0, 1),
            wasmparser::BlockType::FuncType(idx) => {
                let ft = &self.module.types[idx as usize];
                (ft.params().len(), ft.results().len())
            }
        }
    }

    /// Enters a block, loop or if (whose condition was already consumed).
    fn enter(&mut self, kind: ControlKind, ty: wasmparser::BlockType) {
        let (params, results) = self.block_arity(ty);
        let height = self.stack.len() - params;
        self.frames.push(Control { kind, height, params, results, fixups: Vec::new() });
    }

    /// Prepares the stack for a block entry: params in their slots, no pending local reads.
    fn prepare_entry(&mut self, ty: wasmparser::BlockType) {
        let (params, _) = self.block_arity(ty);
        self.materialize_locals(None);
        self.materialize_top(params);
    }

    pub(super) fn block(&mut self, ty: wasmparser::BlockType) {
        self.prepare_entry(ty);
        self.enter(ControlKind::Block, ty);
    }

    pub(super) fn loop_(&mut self, ty: wasmparser::BlockType) {
        self.prepare_entry(ty);
        let head = self.here();
        self.enter(ControlKind::Loop { head }, ty);
    }

    pub(super) fn if_(&mut self, ty: wasmparser::BlockType) {
        let cond = self.pop();
        self.prepare_entry(ty);
        let else_jump = self.branch_if(cond, false, 0);
        self.enter(ControlKind::If { else_jump }, ty);
    }

    /// Emits a jump taken when `cond` is `when` (fusing a preceding compare); returns its
    /// index for patching.
    fn branch_if(&mut self, cond: Operand, when: bool, target: Target) -> usize {
        if let (Operand::Temp(s), Some(i)) = (cond, self.last_result) {
            let cmp = self.code[i];
            let writes_cond = matches!(cmp.clone().result_slot_mut(), Some(d) if *d == s);
            if writes_cond && let Some(fused) = fuse_compare(cmp, when, target) {
                self.code[i] = fused;
                self.last_result = None;
                return i;
            }
        }
        let cond = self.slot_of(cond, self.stack.len());
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
        let (height, params, results) = (frame.height, frame.params, frame.results);
        if self.reachable {
            self.materialize_top(results);
            let jump = self.emit(Instr::Br { target: 0 });
            if let Some(frame) = self.frames.last_mut() {
                frame.fixups.push(jump);
            }
        }
        let here = self.here();
        set_target(&mut self.code[else_jump], here);
        self.stack.truncate(height);
        for _ in 0..params {
            self.push_temp();
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
            self.materialize_top(frame.results);
        }
        let here = self.here();
        for fixup in &frame.fixups {
            set_target(&mut self.code[*fixup], here);
        }
        if let ControlKind::If { else_jump } = frame.kind {
            // No else arm: the false path falls through to here with params == results.
            set_target(&mut self.code[else_jump], here);
        }
        self.stack.truncate(frame.height);
        for _ in 0..frame.results {
            self.push_temp();
        }
        self.reachable = true;
    }

    /// Copies the top `arity` values into the slots of the label `depth` levels up.
    fn copy_branch_values(&mut self, depth: u32) -> Result<(), CompileError> {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let (arity, height) = (frame.arity(), frame.height);
        let len = self.stack.len();
        for i in 0..arity {
            let op = self.stack[len - arity + i];
            let dst = self.temp_slot(height + i);
            self.copy_to(dst, op);
        }
        Ok(())
    }

    /// Whether branching to `depth` needs no copies.
    fn values_in_place(&self, depth: u32) -> bool {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let (arity, height) = (frame.arity(), frame.height);
        let len = self.stack.len();
        (0..arity).all(|i| self.stack[len - arity + i] == Operand::Temp(self.temp_slot(height + i)))
    }

    /// Emits an unconditional jump to label `depth` (values already in place).
    fn jump_to(&mut self, depth: u32) {
        let idx = self.frames.len() - 1 - depth as usize;
        match self.frames[idx].kind {
            ControlKind::Function => {
                self.emit(Instr::Return {});
            }
            ControlKind::Loop { head } => {
                self.emit(Instr::Br { target: head });
            }
            _ => {
                let jump = self.emit(Instr::Br { target: 0 });
                self.frames[idx].fixups.push(jump);
            }
        }
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
            return Ok(());
        }
        // Skip over the value copies when the condition is false.
        let skip = self.branch_if(cond, false, 0);
        if self.is_function_label(depth) {
            self.emit_return_values();
        } else {
            self.copy_branch_values(depth)?;
            self.jump_to(depth);
        }
        let here = self.here();
        set_target(&mut self.code[skip], here);
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
        for (i, &depth) in depths.iter().enumerate() {
            let entry = table_start + i;
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

    /// Moves the function's results into slots `0..n` and returns.
    fn emit_return_values(&mut self) {
        let n = self.num_results as usize;
        let len = self.stack.len();
        if n == 1 {
            match self.stack[len - 1] {
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
        // Targets 0..n may overlap locals that are also sources: move such locals to their
        // temporaries first, so that the in-order copies below never read a clobbered slot.
        for i in 0..n {
            if let Operand::Local(s) = self.stack[len - n + i]
                && (s as usize) < n
                && s as usize != i
            {
                self.materialize(len - n + i);
            }
        }
        for i in 0..n {
            let op = self.stack[len - n + i];
            self.copy_to(i as Slot, op);
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
        self.stack.truncate(first);
        self.temp_slot(first)
    }

    fn call_results(&mut self, results: usize) {
        for _ in 0..results {
            self.push_temp();
        }
    }

    pub(super) fn call(&mut self, func: u32) {
        let ty = self.module.func_type(func).clone();
        let args = self.call_args(ty.params().len());
        self.emit(Instr::Call { func, args });
        self.call_results(ty.results().len());
    }

    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32) {
        let index = self.pop_slot();
        let ty = self.module.types[type_index as usize].clone();
        let args = self.call_args(ty.params().len());
        let site = self.indirect.len() as u32;
        self.indirect.push(IndirectSite { table, type_id: self.module.type_ids[type_index as usize] });
        self.emit(Instr::CallIndirect { site, args, index });
        self.call_results(ty.results().len());
    }
}
