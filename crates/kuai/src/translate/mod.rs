//! Translation of validated function bodies into Kuai's register bytecode ([`crate::ir`]).
//!
//! The translator walks the wasm operators once, simulating the operand stack at compile
//! time. Each simulated entry is an [`Operand`] — a local's slot, a constant, or a
//! temporary — together with its *home*: the slot its stack position owns. Homes are laid
//! out from `temp_base` upwards by the widths of the entries below (one slot per value, two
//! for a `v128`), so a value's slot follows from its position alone and block results land
//! in the same slots on every path. Reads of locals and constants are folded into the operands of
//! the instruction that consumes them instead of being copied; a `local.set` right after
//! an instruction retargets that instruction's result slot to the local.
//!
//! Files: this one holds the driver and the operand-stack model; `control.rs` structured
//! control flow, branches and calls; `ops.rs` the numeric, memory and table operators;
//! `fuel.rs` where fuel is charged.

mod control;
mod fuel;
mod ops;
mod simd;

use crate::error::{CompileError, CompileErrorKind};
use crate::ir::{Function, IndirectSite, Instr, Slot};
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

/// A compile-time stack entry: where the value is, which slot its position owns, and how
/// many slots it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    op: Operand,
    home: Slot,
    width: u32,
}

pub(crate) struct Translator<'m> {
    module: &'m ModuleInner,
    code: Vec<Instr>,
    stack: Vec<Entry>,
    frames: Vec<Control>,
    /// First slot of each local (parameters first).
    local_slots: Vec<Slot>,
    /// Slots each local spans.
    local_widths: Vec<u32>,
    /// First temporary slot (= slots of params and locals).
    temp_base: u32,
    /// Most temporary slots in use at once, to size the frame.
    max_temps: u32,
    /// False after an unconditional transfer until the end of the enclosing block.
    reachable: bool,
    /// Nesting depth of blocks opened inside dead code (skipped entirely).
    dead_depth: u32,
    /// Index of the last instruction if it only computed the top-of-stack temporary.
    last_result: Option<usize>,
    /// The position most recently bound as a label (jumps may land there).
    last_label: usize,
    indirect: Vec<IndirectSite>,
    /// Slots of each of the function's results.
    result_widths: Vec<u32>,
    /// Emit `ConsumeFuel` at the start of every straight-line run (`Config::consume_fuel`).
    consume_fuel: bool,
    /// Emit `CheckEpoch` at function entry and loop heads (`Config::epoch_interruption`).
    check_epoch: bool,
    /// The `ConsumeFuel` of the current straight-line run, which later operators add to.
    fuel_segment: Option<usize>,
    /// Tiered execution: emit `TierEntry` at the entry and `TierLoop` at loop heads.
    tiered: bool,
    /// The function (defined-function index), for the tiering instructions.
    def: u32,
    /// Loops seen so far in body order (the current one's number is `loops - 1`).
    loops: u32,
    /// Constants used inside loops that no instruction can take as an immediate, each
    /// with the slot that holds it (set once at entry), so an instruction reading one names
    /// the slot instead of a `Const64` first.
    const_slots: Vec<(u64, Slot)>,
}

/// The most constants that get a slot of their own.
const MAX_CONST_SLOTS: usize = 16;

/// The bit patterns of the distinct constants inside loops of `body` that would otherwise
/// cost a `Const64` per iteration (the first [`MAX_CONST_SLOTS`]): every `f32`/`f64`
/// constant, every `i64` constant outside the `i32` range (immediates are 32-bit), integer
/// divisors (`div`/`rem` have no immediate forms) and stored integer values (nor do
/// stores).
fn loop_constants(
    body: &wasmparser::FunctionBody<'_>,
    bytes: &[u8],
) -> Result<Vec<u64>, wasmparser::BinaryReaderError> {
    use wasmparser::Operator as Op;
    // Without the opcode bytes of `loop` and of some constant, there is nothing to find.
    if !bytes.contains(&0x03) || !bytes.iter().any(|b| (0x41..=0x44).contains(b)) {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let mut blocks: Vec<bool> = Vec::new();
    let mut loops = 0usize;
    // The integer constant just read inside a loop, kept if the next operator divides
    // by it or stores it.
    let mut int_const = None;
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() && found.len() < MAX_CONST_SLOTS {
        let op = ops.read()?;
        let pending = int_const.take();
        let bits = match op {
            Op::Block { .. } | Op::If { .. } => {
                blocks.push(false);
                continue;
            }
            Op::Loop { .. } => {
                blocks.push(true);
                loops += 1;
                continue;
            }
            Op::End => {
                if blocks.pop() == Some(true) {
                    loops -= 1;
                }
                continue;
            }
            _ if loops == 0 => continue,
            Op::F32Const { value } => u64::from(value.bits()),
            Op::F64Const { value } => value.bits(),
            Op::I64Const { value } if i32::try_from(value).is_err() => value as u64,
            Op::I32Const { value } => {
                int_const = Some(value as u32 as u64);
                continue;
            }
            Op::I64Const { value } => {
                int_const = Some(value as u64);
                continue;
            }
            Op::I32DivS
            | Op::I32DivU
            | Op::I32RemS
            | Op::I32RemU
            | Op::I64DivS
            | Op::I64DivU
            | Op::I64RemS
            | Op::I64RemU
            | Op::I32Store { .. }
            | Op::I32Store8 { .. }
            | Op::I32Store16 { .. }
            | Op::I64Store { .. }
            | Op::I64Store8 { .. }
            | Op::I64Store16 { .. }
            | Op::I64Store32 { .. } => match pending {
                Some(bits) => bits,
                None => continue,
            },
            _ => continue,
        };
        if !found.contains(&bits) {
            found.push(bits);
        }
    }
    Ok(found)
}

/// Slots a value of a wasm type occupies.
fn wasm_slots(ty: wasmparser::ValType) -> u32 {
    if ty == wasmparser::ValType::V128 { 2 } else { 1 }
}

fn limit(what: &str) -> CompileError {
    CompileError::new(CompileErrorKind::Unsupported, format!("implementation limit exceeded: {what}"), None)
}

/// Translates defined function `def` of `module`.
pub(crate) fn translate(module: &ModuleInner, def: u32) -> Result<Function, CompileError> {
    let range = module.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&module.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let bad = |e: wasmparser::BinaryReaderError| {
        CompileError::new(CompileErrorKind::Malformed, e.message(), Some(e.offset()))
    };

    let ty = module.func_type(module.num_imported_funcs + def);
    // (count, width) runs: each parameter, then the declared locals.
    let mut runs: Vec<(u32, u32)> = ty.params().iter().map(|p| (1, p.slots())).collect();
    let num_param_locals = runs.len();
    for local in body.get_locals_reader().map_err(bad)? {
        let (count, ty) = local.map_err(bad)?;
        runs.push((count, wasm_slots(ty)));
    }
    let mut local_slots = Vec::new();
    let mut local_widths = Vec::new();
    let mut next: u32 = 0;
    let mut num_params = 0;
    for (i, &(count, width)) in runs.iter().enumerate() {
        if i == num_param_locals {
            num_params = next;
        }
        for _ in 0..count {
            local_slots.push(next);
            local_widths.push(width);
            next = next.checked_add(width).ok_or_else(|| limit("locals"))?;
        }
    }
    if runs.len() == num_param_locals {
        num_params = next;
    }
    let constants = loop_constants(&body, &module.bytes[range.clone()]).map_err(bad)?;
    let const_slots: Vec<(u64, Slot)> = constants.into_iter().zip(next..).collect();
    let temp_base = next.checked_add(const_slots.len() as u32).ok_or_else(|| limit("locals"))?;
    let num_locals = temp_base - num_params;

    let mut t = Translator {
        module,
        code: Vec::new(),
        stack: Vec::new(),
        frames: Vec::new(),
        local_slots,
        local_widths,
        temp_base,
        max_temps: 0,
        reachable: true,
        dead_depth: 0,
        last_result: None,
        last_label: 0,
        indirect: Vec::new(),
        result_widths: ty.results().iter().map(|r| r.slots()).collect(),
        consume_fuel: module.engine.config().consume_fuel,
        check_epoch: module.engine.config().epoch_interruption,
        fuel_segment: None,
        tiered: module.engine.config().strategy == crate::Strategy::Tiered,
        def,
        loops: 0,
        const_slots,
    };
    t.frames.push(Control::function(t.result_widths.clone()));
    // The entry run's charge is emitted like any other, then moved into `entry_fuel`
    // (the call charges it; nothing branches to the entry).
    t.start_segment();
    for (value, dst) in t.const_slots.clone() {
        t.emit(Instr::Const64 { dst, value });
    }
    if t.tiered {
        // Weighted by the body's size in bytes: a rough measure of the work of a call.
        let weight = u32::try_from(range.len()).unwrap_or(u32::MAX).clamp(1, 1000);
        t.emit(Instr::TierEntry { def, weight });
    }

    let mut ops = body.get_operators_reader().map_err(bad)?;
    while !ops.eof() {
        let op = ops.read().map_err(bad)?;
        t.operator(op)?;
    }
    let frame_size = temp_base.checked_add(t.max_temps).ok_or_else(|| limit("frame size"))?;
    let entry_fuel = fuel::take_entry_charge(&mut t.code);
    if t.consume_fuel {
        fuel::remove_free_charges(&mut t.code);
    }
    // The interpreter's unchecked slot and code accesses rely on these invariants.
    let internal = |e: String| {
        CompileError::new(CompileErrorKind::Unsupported, format!("internal error: bad translation: {e}"), None)
    };
    crate::ir::verify(&t.code, frame_size, t.indirect.len()).map_err(internal)?;
    let func = Function {
        code: t.code.into_boxed_slice(),
        frame_size,
        num_params,
        num_locals,
        indirect: t.indirect.into_boxed_slice(),
        entry_fuel,
    };
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
        self.last_label = self.code.len();
        self.code.len() as u32
    }

    /// The home of the next value pushed.
    fn next_home(&self) -> Slot {
        self.stack.last().map_or(self.temp_base, |e| e.home + e.width)
    }

    fn push_entry(&mut self, op: Operand, width: u32) -> Slot {
        let home = self.next_home();
        self.stack.push(Entry { op, home, width });
        self.max_temps = self.max_temps.max(home + width - self.temp_base);
        home
    }

    /// Pushes a fresh temporary of `width` slots and returns its slot.
    fn push_temp_wide(&mut self, width: u32) -> Slot {
        let home = self.next_home();
        self.push_entry(Operand::Temp(home), width)
    }

    /// Pushes a fresh one-slot temporary and returns its slot.
    fn push_temp(&mut self) -> Slot {
        self.push_temp_wide(1)
    }

    /// Pushes a one-slot constant.
    fn push_const(&mut self, value: u64) {
        self.push_entry(Operand::Const(value), 1);
    }

    fn pop(&mut self) -> Entry {
        // Validation guarantees the stack is deep enough in reachable code.
        let home = self.temp_base;
        self.stack.pop().unwrap_or(Entry { op: Operand::Const(0), home, width: 1 })
    }

    /// Pops an operand and returns a slot holding its value, materializing a constant
    /// into the operand's own home if needed.
    fn pop_slot(&mut self) -> Slot {
        let entry = self.pop();
        self.slot_of(entry)
    }

    fn slot_of(&mut self, entry: Entry) -> Slot {
        match entry.op {
            Operand::Local(s) | Operand::Temp(s) => s,
            Operand::Const(value) if let Some(&(_, slot)) = self.const_slots.iter().find(|c| c.0 == value) => slot,
            Operand::Const(value) => {
                self.emit(Instr::Const64 { dst: entry.home, value });
                entry.home
            }
        }
    }

    /// Writes `entry`'s value into `dst..dst + width` (a no-op if it is already there).
    /// Callers only copy downwards or between disjoint ranges, so slot-by-slot is safe.
    fn copy_to(&mut self, dst: Slot, entry: Entry) {
        match entry.op {
            Operand::Local(s) | Operand::Temp(s) if s == dst => {}
            Operand::Local(src) | Operand::Temp(src) => {
                for i in 0..entry.width {
                    self.emit_copy(dst + i, src + i);
                }
            }
            Operand::Const(value) => {
                self.emit(Instr::Const64 { dst, value });
            }
        }
    }

    /// Emits `Copy { dst, src }`, or turns a `Copy` just before it (where no jump lands in
    /// between) and this one into a `Copy2` when their slots fit in 16 bits.
    fn emit_copy(&mut self, dst: Slot, src: Slot) {
        let n = self.code.len();
        if n > self.last_label
            && let Some(&Instr::Copy { dst: d1, src: s1 }) = self.code.last()
            && let (Ok(d1), Ok(s1), Ok(d2), Ok(s2)) =
                (u16::try_from(d1), u16::try_from(s1), u16::try_from(dst), u16::try_from(src))
        {
            self.code[n - 1] = Instr::Copy2 { d1, s1, d2, s2 };
            self.last_result = None;
            return;
        }
        self.emit(Instr::Copy { dst, src });
    }

    /// Makes the stack entry at `height` a temporary in its home.
    fn materialize(&mut self, height: usize) {
        let entry = self.stack[height];
        if !matches!(entry.op, Operand::Temp(_)) {
            self.copy_to(entry.home, entry);
            self.stack[height].op = Operand::Temp(entry.home);
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
            if let Operand::Local(s) = self.stack[h].op
                && only.is_none_or(|o| o == s)
            {
                self.materialize(h);
            }
        }
    }

    fn local_get(&mut self, index: u32) {
        let (slot, width) = (self.local_slots[index as usize], self.local_widths[index as usize]);
        self.push_entry(Operand::Local(slot), width);
    }

    fn local_set(&mut self, index: u32, tee: bool) {
        let (slot, width) = (self.local_slots[index as usize], self.local_widths[index as usize]);
        let value = self.pop();
        let aliased = self.stack.iter().any(|e| e.op == Operand::Local(slot));
        if aliased {
            self.materialize_locals(Some(slot));
        }
        match (value.op, self.last_result) {
            (Operand::Temp(s), Some(i)) if !aliased && self.code[i].result_slot_mut().is_some_and(|d| *d == s) => {
                if let Some(d) = self.code[i].result_slot_mut() {
                    *d = slot;
                }
                self.last_result = None;
            }
            _ => self.copy_to(slot, value),
        }
        if tee {
            self.push_entry(Operand::Local(slot), width);
        }
    }
}
