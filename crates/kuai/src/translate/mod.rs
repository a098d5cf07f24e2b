//! Translation of validated function bodies into Kuai's register bytecode ([`crate::ir`]).
//!
//! The translator walks the wasm operators once, simulating the operand stack at compile
//! time. Each simulated entry is an [`Operand`]: a local's slot, a constant, or a
//! temporary slot. Temporaries are assigned by stack height (`temp_base + height`), so a
//! value's slot is known from its position alone and block results always land in the
//! same slots on every path. Reads of locals and constants are folded into the operands of
//! the instruction that consumes them instead of being copied; a `local.set` right after
//! an instruction retargets that instruction's result slot to the local.
//!
//! Files: this one holds the driver and the operand-stack model; `control.rs` structured
//! control flow, branches and calls; `ops.rs` the numeric, memory and table operators.

mod control;
mod ops;

use crate::error::{CompileError, CompileErrorKind};
use crate::ir::{CompiledFunc, IndirectSite, Instr, Slot};
use crate::module::ModuleInner;
use control::Control;

/// A compile-time operand-stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// The current value of a local (its slot).
    Local(Slot),
    /// A constant (its 64-bit pattern; 32-bit values zero-extended).
    Const(u64),
    /// A temporary in its canonical slot.
    Temp(Slot),
}

pub(crate) struct Translator<'m> {
    module: &'m ModuleInner,
    code: Vec<Instr>,
    stack: Vec<Operand>,
    frames: Vec<Control>,
    /// First temporary slot (= number of params and locals).
    temp_base: u32,
    /// Highest operand-stack height seen, to size the frame.
    max_height: u32,
    /// False after an unconditional transfer until the end of the enclosing block.
    reachable: bool,
    /// Nesting depth of blocks opened inside dead code (skipped entirely).
    dead_depth: u32,
    /// Index of the last instruction if it only computed the top-of-stack temporary.
    last_result: Option<usize>,
    indirect: Vec<IndirectSite>,
    num_results: u32,
}

fn limit(what: &str) -> CompileError {
    CompileError::new(CompileErrorKind::Unsupported, format!("implementation limit exceeded: {what}"), None)
}

/// Translates defined function `def` of `module`.
pub(crate) fn translate(module: &ModuleInner, def: u32) -> Result<CompiledFunc, CompileError> {
    let range = module.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&module.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let bad = |e: wasmparser::BinaryReaderError| {
        CompileError::new(CompileErrorKind::Malformed, e.message(), Some(e.offset()))
    };

    let ty = module.func_type(module.num_imported_funcs + def);
    let num_params = ty.params().len() as u32;
    let mut num_locals: u32 = 0;
    for local in body.get_locals_reader().map_err(bad)? {
        let (count, _) = local.map_err(bad)?;
        num_locals = num_locals.checked_add(count).ok_or_else(|| limit("locals"))?;
    }
    let temp_base = num_params.checked_add(num_locals).ok_or_else(|| limit("locals"))?;

    let mut t = Translator {
        module,
        code: Vec::new(),
        stack: Vec::new(),
        frames: Vec::new(),
        temp_base,
        max_height: 0,
        reachable: true,
        dead_depth: 0,
        last_result: None,
        indirect: Vec::new(),
        num_results: ty.results().len() as u32,
    };
    t.frames.push(Control::function(t.num_results));

    let mut ops = body.get_operators_reader().map_err(bad)?;
    while !ops.eof() {
        let op = ops.read().map_err(bad)?;
        t.operator(op)?;
    }
    let frame_size = temp_base.checked_add(t.max_height).ok_or_else(|| limit("frame size"))?;
    let func = CompiledFunc {
        code: t.code.into_boxed_slice(),
        frame_size,
        num_params,
        num_locals,
        indirect: t.indirect.into_boxed_slice(),
    };
    // The interpreter's unchecked slot and code accesses rely on these invariants.
    func.verify().map_err(|e| {
        CompileError::new(CompileErrorKind::Unsupported, format!("internal error: bad translation: {e}"), None)
    })?;
    Ok(func)
}

impl Translator<'_> {
    /// Appends an instruction that is not a plain result computation.
    fn emit(&mut self, instr: Instr) -> usize {
        self.last_result = None;
        self.code.push(instr);
        self.code.len() - 1
    }

    /// Appends an instruction whose only effect is writing the current top-of-stack temp.
    fn emit_result(&mut self, instr: Instr) {
        self.code.push(instr);
        self.last_result = Some(self.code.len() - 1);
    }

    /// The position the next instruction will have; binding it as a label ends folding.
    fn here(&mut self) -> u32 {
        self.last_result = None;
        self.code.len() as u32
    }

    fn temp_slot(&self, height: usize) -> Slot {
        self.temp_base + height as u32
    }

    /// Pushes a fresh temporary and returns its slot.
    fn push_temp(&mut self) -> Slot {
        let height = self.stack.len();
        let slot = self.temp_slot(height);
        self.stack.push(Operand::Temp(slot));
        self.max_height = self.max_height.max(height as u32 + 1);
        slot
    }

    fn push(&mut self, op: Operand) {
        self.stack.push(op);
        self.max_height = self.max_height.max(self.stack.len() as u32);
    }

    fn pop(&mut self) -> Operand {
        // Validation guarantees the stack is deep enough in reachable code.
        self.stack.pop().unwrap_or(Operand::Const(0))
    }

    /// Pops an operand and returns a slot holding its value, materializing a constant
    /// into the operand's own temporary slot if needed.
    fn pop_slot(&mut self) -> Slot {
        let op = self.pop();
        let height = self.stack.len();
        self.slot_of(op, height)
    }

    fn slot_of(&mut self, op: Operand, height: usize) -> Slot {
        match op {
            Operand::Local(s) | Operand::Temp(s) => s,
            Operand::Const(value) => {
                let dst = self.temp_slot(height);
                self.emit(Instr::Const64 { dst, value });
                dst
            }
        }
    }

    /// Writes `op` into `dst` (a no-op if it is already there).
    fn copy_to(&mut self, dst: Slot, op: Operand) {
        match op {
            Operand::Local(s) | Operand::Temp(s) if s == dst => {}
            Operand::Local(src) | Operand::Temp(src) => {
                self.emit(Instr::Copy { dst, src });
            }
            Operand::Const(value) => {
                self.emit(Instr::Const64 { dst, value });
            }
        }
    }

    /// Makes the stack entry at `height` a temporary in its canonical slot.
    fn materialize(&mut self, height: usize) {
        let op = self.stack[height];
        if !matches!(op, Operand::Temp(_)) {
            let dst = self.temp_slot(height);
            self.copy_to(dst, op);
            self.stack[height] = Operand::Temp(dst);
        }
    }

    /// Materializes the top `n` entries.
    fn materialize_top(&mut self, n: usize) {
        let len = self.stack.len();
        for h in len - n.min(len)..len {
            self.materialize(h);
        }
    }

    /// Materializes every entry that reads a local, so later writes to locals cannot
    /// change values already on the stack. Done at block entries and before writes.
    fn materialize_locals(&mut self, only: Option<Slot>) {
        for h in 0..self.stack.len() {
            if let Operand::Local(s) = self.stack[h]
                && only.is_none_or(|o| o == s)
            {
                self.materialize(h);
            }
        }
    }

    fn local_get(&mut self, index: u32) {
        self.push(Operand::Local(index));
    }

    fn local_set(&mut self, index: u32, tee: bool) {
        let value = self.pop();
        let aliased = self.stack.contains(&Operand::Local(index));
        if aliased {
            self.materialize_locals(Some(index));
        }
        match (value, self.last_result) {
            (Operand::Temp(s), Some(i)) if !aliased && self.code[i].result_slot_mut().is_some_and(|d| *d == s) => {
                if let Some(d) = self.code[i].result_slot_mut() {
                    *d = index;
                }
                self.last_result = None;
            }
            _ => self.copy_to(index, value),
        }
        if tee {
            self.push(Operand::Local(index));
        }
    }
}
