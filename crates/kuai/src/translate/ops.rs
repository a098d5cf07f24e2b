//! Operator dispatch: maps each wasm operator to bytecode.
//!
//! Binary integer operators with a constant right operand (or, when commutative or
//! mirrorable, a constant left operand) use the `…Imm` instruction forms; conversions that
//! do not change the bits (`i64.extend_i32_u`, reinterpretations) emit nothing.

use super::{Entry, Operand, Translator};
use crate::error::{CompileError, CompileErrorKind};
use crate::ir::{Instr, Slot};
use wasmparser::Operator as Op;

type RR = fn(Slot, Slot, Slot) -> Instr;
type RI = fn(Slot, Slot, i32) -> Instr;

/// How a binary operator may take an immediate operand.
#[derive(Clone, Copy)]
enum Imm {
    /// No immediate form.
    None,
    /// `a op imm`; `commutes` when `imm op a` may use the same form.
    Rhs { form: RI, commutes: bool },
    /// `a op imm`, and `imm op a` is `a mirror imm`.
    Mirror { form: RI, mirror: RI },
    /// `a - imm` becomes `a + (-imm)`.
    Sub { add: RI },
}

macro_rules! rr {
    ($v:ident) => {
        (|dst, a, b| Instr::$v { dst, a, b }) as RR
    };
}
macro_rules! ri {
    ($v:ident) => {
        (|dst, a, imm| Instr::$v { dst, a, imm }) as RI
    };
}

fn unsupported(what: &str) -> CompileError {
    CompileError::new(CompileErrorKind::Unsupported, format!("unsupported operator: {what}"), None)
}

impl Translator<'_> {
    fn unary(&mut self, make: fn(Slot, Slot) -> Instr) {
        let src = self.pop_slot();
        let dst = self.push_temp();
        self.emit_result(make(dst, src));
    }

    /// The immediate for `entry` if it is a constant that fits (`wide`: a 64-bit operand,
    /// sign-extended).
    fn imm_of(entry: Entry, wide: bool) -> Option<i32> {
        match entry.op {
            Operand::Const(v) if !wide => Some(v as u32 as i32),
            Operand::Const(v) if (v as i64) == (v as i32) as i64 => Some(v as i32),
            _ => None,
        }
    }

    fn binary(&mut self, make: RR, imm: Imm, wide: bool) {
        let b = self.pop();
        let a = self.pop();
        let with_imm = match imm {
            Imm::None => None,
            Imm::Rhs { form, commutes } => match (Self::imm_of(b, wide), Self::imm_of(a, wide)) {
                (Some(i), _) => Some((form, a, i)),
                (None, Some(i)) if commutes => Some((form, b, i)),
                _ => None,
            },
            Imm::Mirror { form, mirror } => match (Self::imm_of(b, wide), Self::imm_of(a, wide)) {
                (Some(i), _) => Some((form, a, i)),
                (None, Some(i)) => Some((mirror, b, i)),
                _ => None,
            },
            Imm::Sub { add } => match Self::imm_of(b, wide) {
                Some(i) if i != i32::MIN || !wide => Some((add, a, i.wrapping_neg())),
                _ => None,
            },
        };
        if let Some((form, x, i)) = with_imm {
            let x = self.slot_of(x);
            let dst = self.push_temp();
            self.emit_result(form(dst, x, i));
            return;
        }
        let (a_entry, b_entry) = (a, b);
        let a = self.slot_of(a);
        let b = self.slot_of(b);
        let dst = self.push_temp();
        let instr = make(dst, a, b);
        // A shift by a constant or a load computed just before into a temporary consumed
        // only here.
        if let Some(i) = self.last_result {
            let (other, loaded_is_b) = match (a_entry.op, b_entry.op, self.code[i].clone().result_slot_mut().copied()) {
                (_, Operand::Temp(s), Some(t)) if s == t => (Some(a), true),
                (Operand::Temp(s), _, Some(t)) if s == t => (Some(b), false),
                _ => (None, false),
            };
            let fused = other.and_then(|other| {
                fuse_shift(instr, self.code[i], other).or_else(|| fuse_load(instr, self.code[i], other, loaded_is_b))
            });
            if let Some(fused) = fused {
                self.code[i] = fused;
                return;
            }
        }
        self.emit_result(instr);
    }

    fn load(&mut self, make: fn(Slot, Slot, u32) -> Instr, memarg: wasmparser::MemArg) -> Result<(), CompileError> {
        let offset = u32::try_from(memarg.offset).map_err(|_| unsupported("64-bit memory offset"))?;
        let addr = self.pop();
        // An address computed by the `i32.add` just before: one fused instruction (the
        // add's temporary and the load's result share their home slot).
        if let (Operand::Temp(s), Some(i), Ok(offset)) = (addr.op, self.last_result, u16::try_from(offset))
            && s == addr.home
            && let Some(fused) = fuse_address(self.code[i], s, make(s, s, 0), offset)
        {
            let dst = self.push_temp();
            debug_assert_eq!(dst, s);
            self.code[i] = fused;
            return Ok(());
        }
        let addr = self.slot_of(addr);
        let dst = self.push_temp();
        self.emit_result(make(dst, addr, offset));
        Ok(())
    }

    fn store(&mut self, make: fn(Slot, Slot, u32) -> Instr, memarg: wasmparser::MemArg) -> Result<(), CompileError> {
        let offset = u32::try_from(memarg.offset).map_err(|_| unsupported("64-bit memory offset"))?;
        let value = self.pop();
        let addr = self.pop();
        // A float result computed just before into a temporary only this store consumes
        // (the address already in a slot, so nothing is emitted in between).
        if let (Operand::Temp(s), Operand::Local(at) | Operand::Temp(at), Some(i), Ok(offset)) =
            (value.op, addr.op, self.last_result, u16::try_from(offset))
            && let Some(fused) = fuse_store(self.code[i], s, make(0, 0, 0), at, offset)
        {
            self.code[i] = fused;
            self.last_result = None;
            return Ok(());
        }
        let value = self.slot_of(value);
        let addr = self.slot_of(addr);
        self.emit(make(addr, value, offset));
        Ok(())
    }

    fn global_is_v128(&self, global: u32) -> bool {
        self.module.globals[global as usize].content() == crate::ValType::V128
    }

    /// Pops three operands (pushed as `x y z`) into slots.
    fn pop3(&mut self) -> (Slot, Slot, Slot) {
        let z = self.pop_slot();
        let y = self.pop_slot();
        let x = self.pop_slot();
        (x, y, z)
    }

    /// Translates one operator.
    pub(super) fn operator(&mut self, op: Op<'_>) -> Result<(), CompileError> {
        if let Op::Loop { .. } = op {
            // Loops are numbered in body order, dead ones too (as the compiler numbers them
            // for on-stack replacement).
            self.loops += 1;
        }
        if !self.reachable {
            match op {
                Op::Block { .. } | Op::Loop { .. } | Op::If { .. } => self.dead_depth += 1,
                Op::Else if self.dead_depth == 0 => self.else_(),
                Op::End if self.dead_depth == 0 => self.end(),
                Op::End => self.dead_depth -= 1,
                _ => {}
            }
            return Ok(());
        }
        self.charge(&op);
        // Multi-memory: an operator on a memory other than 0 is bracketed by selections.
        let memory = memory_index(&op);
        if memory == 0 {
            return self.live_operator(op);
        }
        self.emit(Instr::SelectMemory { index: memory });
        self.live_operator(op)?;
        self.emit(Instr::SelectMemory { index: 0 });
        Ok(())
    }

    /// Translates one operator of reachable code.
    fn live_operator(&mut self, op: Op<'_>) -> Result<(), CompileError> {
        let wide = true;
        let narrow = false;
        match op {
            Op::Unreachable => {
                self.emit(Instr::Unreachable {});
                self.unreachable_rest();
            }
            Op::Nop => {}
            Op::Block { blockty } => self.block(blockty),
            Op::Loop { blockty } => self.loop_(blockty),
            Op::If { blockty } => self.if_(blockty),
            Op::Else => self.else_(),
            Op::End => self.end(),
            Op::Br { relative_depth } => self.br(relative_depth)?,
            Op::BrIf { relative_depth } => self.br_if(relative_depth)?,
            Op::BrTable { targets } => self.br_table(&targets)?,
            Op::Return => self.return_(),
            Op::Call { function_index } => self.call(function_index),
            Op::CallIndirect { type_index, table_index } => self.call_indirect(type_index, table_index),
            Op::Drop => {
                self.pop();
            }
            Op::Select | Op::TypedSelect { .. } | Op::TypedSelectMulti { .. } => {
                let cond = self.pop();
                let b = self.pop();
                let a = self.pop();
                let width = a.width;
                let a = self.slot_of(a);
                let b = self.slot_of(b);
                let cond = self.slot_of(cond);
                let dst = self.push_temp_wide(width);
                if width == 2 {
                    self.emit(Instr::Select128 { dst, cond, a });
                    self.emit(Instr::Data { a: b, b: 0, c: 0 });
                } else {
                    let at = self.emit(Instr::Select { dst, cond, a });
                    self.emit(Instr::Data { a: b, b: 0, c: 0 });
                    // Reads all operands before writing `dst`: a `local.set` may retarget it.
                    self.last_result = Some(at);
                }
            }
            Op::LocalGet { local_index } => self.local_get(local_index),
            Op::LocalSet { local_index } => self.local_set(local_index, false),
            Op::LocalTee { local_index } => self.local_set(local_index, true),
            Op::GlobalGet { global_index } => {
                if self.global_is_v128(global_index) {
                    let dst = self.push_temp_wide(2);
                    self.emit_result(Instr::GlobalGet128 { dst, global: global_index });
                } else {
                    let dst = self.push_temp();
                    self.emit_result(Instr::GlobalGet { dst, global: global_index });
                }
            }
            Op::GlobalSet { global_index } => {
                let src = self.pop_slot();
                if self.global_is_v128(global_index) {
                    self.emit(Instr::GlobalSet128 { global: global_index, src });
                } else {
                    self.emit(Instr::GlobalSet { global: global_index, src });
                }
            }

            Op::V128Const { value } => {
                let dst = self.push_temp_wide(2);
                let bits = value.i128() as u128;
                self.emit(Instr::Const64 { dst, value: bits as u64 });
                self.emit(Instr::Const64 { dst: dst + 1, value: (bits >> 64) as u64 });
            }
            Op::V128Load { memarg } => {
                let offset = u32::try_from(memarg.offset).map_err(|_| unsupported("64-bit memory offset"))?;
                let addr = self.pop();
                // As for scalar loads: an address the `i32.add` just before computed into
                // the temporary that becomes the vector's first slot.
                if let (Operand::Temp(s), Some(i), Ok(offset)) = (addr.op, self.last_result, u16::try_from(offset))
                    && s == addr.home
                {
                    let fused = match self.code[i] {
                        Instr::I32Add { dst, a, b } if dst == s => {
                            Some(Instr::V128LoadAdd { dst, base: a, index: b, offset })
                        }
                        Instr::I32AddImm { dst, a, imm } if dst == s => {
                            Some(Instr::V128LoadAddImm { dst, base: a, imm, offset })
                        }
                        _ => None,
                    };
                    if let Some(fused) = fused {
                        let dst = self.push_temp_wide(2);
                        debug_assert_eq!(dst, s);
                        self.code[i] = fused;
                        return Ok(());
                    }
                }
                let addr = self.slot_of(addr);
                let dst = self.push_temp_wide(2);
                self.emit_result(Instr::V128Load { dst, addr, offset });
            }
            Op::V128Store { memarg } => {
                self.store(|addr, value, offset| Instr::V128Store { addr, value, offset }, memarg)?
            }

            Op::I32Load { memarg } | Op::F32Load { memarg } | Op::I64Load32U { memarg } => {
                self.load(|dst, addr, offset| Instr::Load32 { dst, addr, offset }, memarg)?
            }
            Op::I64Load { memarg } | Op::F64Load { memarg } => {
                self.load(|dst, addr, offset| Instr::Load64 { dst, addr, offset }, memarg)?
            }
            Op::I32Load8U { memarg } | Op::I64Load8U { memarg } => {
                self.load(|dst, addr, offset| Instr::Load8U { dst, addr, offset }, memarg)?
            }
            Op::I32Load16U { memarg } | Op::I64Load16U { memarg } => {
                self.load(|dst, addr, offset| Instr::Load16U { dst, addr, offset }, memarg)?
            }
            Op::I32Load8S { memarg } => self.load(|dst, addr, offset| Instr::Load8S32 { dst, addr, offset }, memarg)?,
            Op::I32Load16S { memarg } => {
                self.load(|dst, addr, offset| Instr::Load16S32 { dst, addr, offset }, memarg)?
            }
            Op::I64Load8S { memarg } => self.load(|dst, addr, offset| Instr::Load8S64 { dst, addr, offset }, memarg)?,
            Op::I64Load16S { memarg } => {
                self.load(|dst, addr, offset| Instr::Load16S64 { dst, addr, offset }, memarg)?
            }
            Op::I64Load32S { memarg } => {
                self.load(|dst, addr, offset| Instr::Load32S64 { dst, addr, offset }, memarg)?
            }
            Op::I32Store8 { memarg } | Op::I64Store8 { memarg } => {
                self.store(|addr, value, offset| Instr::Store8 { addr, value, offset }, memarg)?
            }
            Op::I32Store16 { memarg } | Op::I64Store16 { memarg } => {
                self.store(|addr, value, offset| Instr::Store16 { addr, value, offset }, memarg)?
            }
            Op::I32Store { memarg } | Op::F32Store { memarg } | Op::I64Store32 { memarg } => {
                self.store(|addr, value, offset| Instr::Store32 { addr, value, offset }, memarg)?
            }
            Op::I64Store { memarg } | Op::F64Store { memarg } => {
                self.store(|addr, value, offset| Instr::Store64 { addr, value, offset }, memarg)?
            }
            Op::MemorySize { .. } => {
                let dst = self.push_temp();
                self.emit_result(Instr::MemorySize { dst });
            }
            Op::MemoryGrow { mem } => {
                let delta = self.pop_slot();
                let dst = self.push_temp();
                self.emit_result(Instr::MemoryGrow { dst, delta, memory: mem });
            }
            Op::MemoryFill { .. } => {
                let (dst, value, len) = self.pop3();
                self.emit(Instr::MemoryFill { dst, value, len });
            }
            Op::MemoryCopy { dst_mem, src_mem } if dst_mem != src_mem => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::MemoryCopyAcross { dst, src, len });
                self.emit(Instr::Data { a: dst_mem, b: src_mem, c: 0 });
            }
            Op::MemoryCopy { .. } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::MemoryCopy { dst, src, len });
            }
            Op::MemoryInit { data_index, .. } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::MemoryInit { dst, src, len });
                self.emit(Instr::Data { a: data_index, b: 0, c: 0 });
            }
            Op::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { segment: data_index });
            }

            Op::I32Const { value } => self.push_const(value as u32 as u64),
            Op::I64Const { value } => self.push_const(value as u64),
            Op::F32Const { value } => self.push_const(value.bits() as u64),
            Op::F64Const { value } => self.push_const(value.bits()),

            Op::RefNull { .. } => self.push_const(0),
            Op::RefIsNull => self.unary(|dst, src| Instr::I64Eqz { dst, src }),
            Op::RefFunc { function_index } => {
                let dst = self.push_temp();
                self.emit_result(Instr::RefFunc { dst, func: function_index });
            }
            Op::TableGet { table } => {
                let index = self.pop_slot();
                let dst = self.push_temp();
                self.emit_result(Instr::TableGet { dst, table, index });
            }
            Op::TableSet { table } => {
                let value = self.pop_slot();
                let index = self.pop_slot();
                self.emit(Instr::TableSet { table, index, value });
            }
            Op::TableSize { table } => {
                let dst = self.push_temp();
                self.emit_result(Instr::TableSize { dst, table });
            }
            Op::TableGrow { table } => {
                let delta = self.pop_slot();
                let init = self.pop_slot();
                let dst = self.push_temp();
                self.emit(Instr::TableGrow { dst, init, delta });
                self.emit(Instr::Data { a: table, b: 0, c: 0 });
            }
            Op::TableFill { table } => {
                let (index, value, len) = self.pop3();
                self.emit(Instr::TableFill { index, value, len });
                self.emit(Instr::Data { a: table, b: 0, c: 0 });
            }
            Op::TableCopy { dst_table, src_table } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::TableCopy { dst, src, len });
                self.emit(Instr::Data { a: dst_table, b: src_table, c: 0 });
            }
            Op::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::TableInit { dst, src, len });
                self.emit(Instr::Data { a: table, b: elem_index, c: 0 });
            }
            Op::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { segment: elem_index });
            }

            // i32 comparisons and arithmetic.
            Op::I32Eqz => self.unary(|dst, src| Instr::I32Eqz { dst, src }),
            Op::I32Eq => self.binary(rr!(I32Eq), Imm::Rhs { form: ri!(I32EqImm), commutes: true }, narrow),
            Op::I32Ne => self.binary(rr!(I32Ne), Imm::Rhs { form: ri!(I32NeImm), commutes: true }, narrow),
            Op::I32LtS => {
                self.binary(rr!(I32LtS), Imm::Mirror { form: ri!(I32LtSImm), mirror: ri!(I32GtSImm) }, narrow)
            }
            Op::I32LtU => {
                self.binary(rr!(I32LtU), Imm::Mirror { form: ri!(I32LtUImm), mirror: ri!(I32GtUImm) }, narrow)
            }
            Op::I32GtS => {
                self.binary(rr!(I32GtS), Imm::Mirror { form: ri!(I32GtSImm), mirror: ri!(I32LtSImm) }, narrow)
            }
            Op::I32GtU => {
                self.binary(rr!(I32GtU), Imm::Mirror { form: ri!(I32GtUImm), mirror: ri!(I32LtUImm) }, narrow)
            }
            Op::I32LeS => {
                self.binary(rr!(I32LeS), Imm::Mirror { form: ri!(I32LeSImm), mirror: ri!(I32GeSImm) }, narrow)
            }
            Op::I32LeU => {
                self.binary(rr!(I32LeU), Imm::Mirror { form: ri!(I32LeUImm), mirror: ri!(I32GeUImm) }, narrow)
            }
            Op::I32GeS => {
                self.binary(rr!(I32GeS), Imm::Mirror { form: ri!(I32GeSImm), mirror: ri!(I32LeSImm) }, narrow)
            }
            Op::I32GeU => {
                self.binary(rr!(I32GeU), Imm::Mirror { form: ri!(I32GeUImm), mirror: ri!(I32LeUImm) }, narrow)
            }
            Op::I32Clz => self.unary(|dst, src| Instr::I32Clz { dst, src }),
            Op::I32Ctz => self.unary(|dst, src| Instr::I32Ctz { dst, src }),
            Op::I32Popcnt => self.unary(|dst, src| Instr::I32Popcnt { dst, src }),
            Op::I32Add => self.binary(rr!(I32Add), Imm::Rhs { form: ri!(I32AddImm), commutes: true }, narrow),
            Op::I32Sub => self.binary(rr!(I32Sub), Imm::Sub { add: ri!(I32AddImm) }, narrow),
            Op::I32Mul => self.binary(rr!(I32Mul), Imm::Rhs { form: ri!(I32MulImm), commutes: true }, narrow),
            Op::I32DivS => self.binary(rr!(I32DivS), Imm::None, narrow),
            Op::I32DivU => self.binary(rr!(I32DivU), Imm::None, narrow),
            Op::I32RemS => self.binary(rr!(I32RemS), Imm::None, narrow),
            Op::I32RemU => self.binary(rr!(I32RemU), Imm::None, narrow),
            Op::I32And => self.binary(rr!(I32And), Imm::Rhs { form: ri!(I32AndImm), commutes: true }, narrow),
            Op::I32Or => self.binary(rr!(I32Or), Imm::Rhs { form: ri!(I32OrImm), commutes: true }, narrow),
            Op::I32Xor => self.binary(rr!(I32Xor), Imm::Rhs { form: ri!(I32XorImm), commutes: true }, narrow),
            Op::I32Shl => self.binary(rr!(I32Shl), Imm::Rhs { form: ri!(I32ShlImm), commutes: false }, narrow),
            Op::I32ShrS => self.binary(rr!(I32ShrS), Imm::Rhs { form: ri!(I32ShrSImm), commutes: false }, narrow),
            Op::I32ShrU => self.binary(rr!(I32ShrU), Imm::Rhs { form: ri!(I32ShrUImm), commutes: false }, narrow),
            Op::I32Rotl => self.binary(rr!(I32Rotl), Imm::Rhs { form: ri!(I32RotlImm), commutes: false }, narrow),
            Op::I32Rotr => self.binary(rr!(I32Rotr), Imm::Rhs { form: ri!(I32RotrImm), commutes: false }, narrow),

            // i64 comparisons and arithmetic.
            Op::I64Eqz => self.unary(|dst, src| Instr::I64Eqz { dst, src }),
            Op::I64Eq => self.binary(rr!(I64Eq), Imm::Rhs { form: ri!(I64EqImm), commutes: true }, wide),
            Op::I64Ne => self.binary(rr!(I64Ne), Imm::Rhs { form: ri!(I64NeImm), commutes: true }, wide),
            Op::I64LtS => self.binary(rr!(I64LtS), Imm::Mirror { form: ri!(I64LtSImm), mirror: ri!(I64GtSImm) }, wide),
            Op::I64LtU => self.binary(rr!(I64LtU), Imm::Mirror { form: ri!(I64LtUImm), mirror: ri!(I64GtUImm) }, wide),
            Op::I64GtS => self.binary(rr!(I64GtS), Imm::Mirror { form: ri!(I64GtSImm), mirror: ri!(I64LtSImm) }, wide),
            Op::I64GtU => self.binary(rr!(I64GtU), Imm::Mirror { form: ri!(I64GtUImm), mirror: ri!(I64LtUImm) }, wide),
            Op::I64LeS => self.binary(rr!(I64LeS), Imm::Mirror { form: ri!(I64LeSImm), mirror: ri!(I64GeSImm) }, wide),
            Op::I64LeU => self.binary(rr!(I64LeU), Imm::Mirror { form: ri!(I64LeUImm), mirror: ri!(I64GeUImm) }, wide),
            Op::I64GeS => self.binary(rr!(I64GeS), Imm::Mirror { form: ri!(I64GeSImm), mirror: ri!(I64LeSImm) }, wide),
            Op::I64GeU => self.binary(rr!(I64GeU), Imm::Mirror { form: ri!(I64GeUImm), mirror: ri!(I64LeUImm) }, wide),
            Op::I64Clz => self.unary(|dst, src| Instr::I64Clz { dst, src }),
            Op::I64Ctz => self.unary(|dst, src| Instr::I64Ctz { dst, src }),
            Op::I64Popcnt => self.unary(|dst, src| Instr::I64Popcnt { dst, src }),
            Op::I64Add => self.binary(rr!(I64Add), Imm::Rhs { form: ri!(I64AddImm), commutes: true }, wide),
            Op::I64Sub => self.binary(rr!(I64Sub), Imm::Sub { add: ri!(I64AddImm) }, wide),
            Op::I64Mul => self.binary(rr!(I64Mul), Imm::Rhs { form: ri!(I64MulImm), commutes: true }, wide),
            Op::I64DivS => self.binary(rr!(I64DivS), Imm::None, wide),
            Op::I64DivU => self.binary(rr!(I64DivU), Imm::None, wide),
            Op::I64RemS => self.binary(rr!(I64RemS), Imm::None, wide),
            Op::I64RemU => self.binary(rr!(I64RemU), Imm::None, wide),
            Op::I64And => self.binary(rr!(I64And), Imm::Rhs { form: ri!(I64AndImm), commutes: true }, wide),
            Op::I64Or => self.binary(rr!(I64Or), Imm::Rhs { form: ri!(I64OrImm), commutes: true }, wide),
            Op::I64Xor => self.binary(rr!(I64Xor), Imm::Rhs { form: ri!(I64XorImm), commutes: true }, wide),
            Op::I64Shl => self.binary(rr!(I64Shl), Imm::Rhs { form: ri!(I64ShlImm), commutes: false }, wide),
            Op::I64ShrS => self.binary(rr!(I64ShrS), Imm::Rhs { form: ri!(I64ShrSImm), commutes: false }, wide),
            Op::I64ShrU => self.binary(rr!(I64ShrU), Imm::Rhs { form: ri!(I64ShrUImm), commutes: false }, wide),
            Op::I64Rotl => self.binary(rr!(I64Rotl), Imm::Rhs { form: ri!(I64RotlImm), commutes: false }, wide),
            Op::I64Rotr => self.binary(rr!(I64Rotr), Imm::Rhs { form: ri!(I64RotrImm), commutes: false }, wide),

            // Floats.
            Op::F32Eq => self.binary(rr!(F32Eq), Imm::None, narrow),
            Op::F32Ne => self.binary(rr!(F32Ne), Imm::None, narrow),
            Op::F32Lt => self.binary(rr!(F32Lt), Imm::None, narrow),
            Op::F32Gt => self.binary(rr!(F32Gt), Imm::None, narrow),
            Op::F32Le => self.binary(rr!(F32Le), Imm::None, narrow),
            Op::F32Ge => self.binary(rr!(F32Ge), Imm::None, narrow),
            Op::F64Eq => self.binary(rr!(F64Eq), Imm::None, wide),
            Op::F64Ne => self.binary(rr!(F64Ne), Imm::None, wide),
            Op::F64Lt => self.binary(rr!(F64Lt), Imm::None, wide),
            Op::F64Gt => self.binary(rr!(F64Gt), Imm::None, wide),
            Op::F64Le => self.binary(rr!(F64Le), Imm::None, wide),
            Op::F64Ge => self.binary(rr!(F64Ge), Imm::None, wide),
            Op::F32Abs => self.unary(|dst, src| Instr::F32Abs { dst, src }),
            Op::F32Neg => self.unary(|dst, src| Instr::F32Neg { dst, src }),
            Op::F32Ceil => self.unary(|dst, src| Instr::F32Ceil { dst, src }),
            Op::F32Floor => self.unary(|dst, src| Instr::F32Floor { dst, src }),
            Op::F32Trunc => self.unary(|dst, src| Instr::F32Trunc { dst, src }),
            Op::F32Nearest => self.unary(|dst, src| Instr::F32Nearest { dst, src }),
            Op::F32Sqrt => self.unary(|dst, src| Instr::F32Sqrt { dst, src }),
            Op::F32Add => self.binary(rr!(F32Add), Imm::None, narrow),
            Op::F32Sub => self.binary(rr!(F32Sub), Imm::None, narrow),
            Op::F32Mul => self.binary(rr!(F32Mul), Imm::None, narrow),
            Op::F32Div => self.binary(rr!(F32Div), Imm::None, narrow),
            Op::F32Min => self.binary(rr!(F32Min), Imm::None, narrow),
            Op::F32Max => self.binary(rr!(F32Max), Imm::None, narrow),
            Op::F32Copysign => self.binary(rr!(F32Copysign), Imm::None, narrow),
            Op::F64Abs => self.unary(|dst, src| Instr::F64Abs { dst, src }),
            Op::F64Neg => self.unary(|dst, src| Instr::F64Neg { dst, src }),
            Op::F64Ceil => self.unary(|dst, src| Instr::F64Ceil { dst, src }),
            Op::F64Floor => self.unary(|dst, src| Instr::F64Floor { dst, src }),
            Op::F64Trunc => self.unary(|dst, src| Instr::F64Trunc { dst, src }),
            Op::F64Nearest => self.unary(|dst, src| Instr::F64Nearest { dst, src }),
            Op::F64Sqrt => self.unary(|dst, src| Instr::F64Sqrt { dst, src }),
            Op::F64Add => self.binary(rr!(F64Add), Imm::None, wide),
            Op::F64Sub => self.binary(rr!(F64Sub), Imm::None, wide),
            Op::F64Mul => self.binary(rr!(F64Mul), Imm::None, wide),
            Op::F64Div => self.binary(rr!(F64Div), Imm::None, wide),
            Op::F64Min => self.binary(rr!(F64Min), Imm::None, wide),
            Op::F64Max => self.binary(rr!(F64Max), Imm::None, wide),
            Op::F64Copysign => self.binary(rr!(F64Copysign), Imm::None, wide),

            // Conversions. Bit-preserving ones emit nothing.
            Op::I64ExtendI32U
            | Op::I32ReinterpretF32
            | Op::F32ReinterpretI32
            | Op::I64ReinterpretF64
            | Op::F64ReinterpretI64 => {}
            Op::I32WrapI64 => self.unary(|dst, src| Instr::I32WrapI64 { dst, src }),
            Op::I64ExtendI32S => self.unary(|dst, src| Instr::I64ExtendI32S { dst, src }),
            Op::I32Extend8S => self.unary(|dst, src| Instr::I32Extend8S { dst, src }),
            Op::I32Extend16S => self.unary(|dst, src| Instr::I32Extend16S { dst, src }),
            Op::I64Extend8S => self.unary(|dst, src| Instr::I64Extend8S { dst, src }),
            Op::I64Extend16S => self.unary(|dst, src| Instr::I64Extend16S { dst, src }),
            Op::I64Extend32S => self.unary(|dst, src| Instr::I64Extend32S { dst, src }),
            Op::I32TruncF32S => self.unary(|dst, src| Instr::I32TruncF32S { dst, src }),
            Op::I32TruncF32U => self.unary(|dst, src| Instr::I32TruncF32U { dst, src }),
            Op::I32TruncF64S => self.unary(|dst, src| Instr::I32TruncF64S { dst, src }),
            Op::I32TruncF64U => self.unary(|dst, src| Instr::I32TruncF64U { dst, src }),
            Op::I64TruncF32S => self.unary(|dst, src| Instr::I64TruncF32S { dst, src }),
            Op::I64TruncF32U => self.unary(|dst, src| Instr::I64TruncF32U { dst, src }),
            Op::I64TruncF64S => self.unary(|dst, src| Instr::I64TruncF64S { dst, src }),
            Op::I64TruncF64U => self.unary(|dst, src| Instr::I64TruncF64U { dst, src }),
            Op::I32TruncSatF32S => self.unary(|dst, src| Instr::I32TruncSatF32S { dst, src }),
            Op::I32TruncSatF32U => self.unary(|dst, src| Instr::I32TruncSatF32U { dst, src }),
            Op::I32TruncSatF64S => self.unary(|dst, src| Instr::I32TruncSatF64S { dst, src }),
            Op::I32TruncSatF64U => self.unary(|dst, src| Instr::I32TruncSatF64U { dst, src }),
            Op::I64TruncSatF32S => self.unary(|dst, src| Instr::I64TruncSatF32S { dst, src }),
            Op::I64TruncSatF32U => self.unary(|dst, src| Instr::I64TruncSatF32U { dst, src }),
            Op::I64TruncSatF64S => self.unary(|dst, src| Instr::I64TruncSatF64S { dst, src }),
            Op::I64TruncSatF64U => self.unary(|dst, src| Instr::I64TruncSatF64U { dst, src }),
            Op::F32ConvertI32S => self.unary(|dst, src| Instr::F32ConvertI32S { dst, src }),
            Op::F32ConvertI32U => self.unary(|dst, src| Instr::F32ConvertI32U { dst, src }),
            Op::F32ConvertI64S => self.unary(|dst, src| Instr::F32ConvertI64S { dst, src }),
            Op::F32ConvertI64U => self.unary(|dst, src| Instr::F32ConvertI64U { dst, src }),
            Op::F32DemoteF64 => self.unary(|dst, src| Instr::F32DemoteF64 { dst, src }),
            Op::F64ConvertI32S => self.unary(|dst, src| Instr::F64ConvertI32S { dst, src }),
            Op::F64ConvertI32U => self.unary(|dst, src| Instr::F64ConvertI32U { dst, src }),
            Op::F64ConvertI64S => self.unary(|dst, src| Instr::F64ConvertI64S { dst, src }),
            Op::F64ConvertI64U => self.unary(|dst, src| Instr::F64ConvertI64U { dst, src }),
            Op::F64PromoteF32 => self.unary(|dst, src| Instr::F64PromoteF32 { dst, src }),

            other => {
                if !self.simd_operator(&other)? {
                    return Err(unsupported(&format!("{other:?}")));
                }
            }
        }
        Ok(())
    }
}

/// The memory an operator accesses (0 for operators on none, and for a `memory.copy`
/// between two different memories, which names both itself).
fn memory_index(op: &Op<'_>) -> u32 {
    match *op {
        Op::MemorySize { mem } | Op::MemoryGrow { mem } | Op::MemoryFill { mem } | Op::MemoryInit { mem, .. } => mem,
        Op::MemoryCopy { dst_mem, src_mem } if dst_mem == src_mem => dst_mem,
        _ => crate::module::scalar_memarg(op).or_else(|| super::simd::simd_memarg(op)).map_or(0, |m| memory_of(&m)),
    }
}

/// The memory index of a memory argument (validation rejects the GC proposal's arrays).
fn memory_of(memarg: &wasmparser::MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(index) => index,
        wasmparser::MemArgTarget::Array(_) => 0,
    }
}

/// The binary op `op` (only its kind and `dst` matter) whose other operand is `other` and
/// whose remaining one is the result of `shift`, a shift by a constant just before it, as
/// one instruction: an add of a shifted value, or the xor of a value with its own shift.
fn fuse_shift(op: Instr, shift: Instr, other: Slot) -> Option<Instr> {
    Some(match (op, shift) {
        (Instr::I32Add { dst, .. }, Instr::I32ShlImm { a: x, imm, .. }) => {
            Instr::I32AddShl { dst, a: other, b: x, shift: (imm & 31) as u8 }
        }
        (Instr::I32Xor { dst, .. }, Instr::I32ShlImm { a: x, imm, .. }) if other == x => {
            Instr::I32XorShl { dst, a: x, shift: (imm & 31) as u8 }
        }
        (Instr::I32Xor { dst, .. }, Instr::I32ShrUImm { a: x, imm, .. }) if other == x => {
            Instr::I32XorShrU { dst, a: x, shift: (imm & 31) as u8 }
        }
        (Instr::I64Xor { dst, .. }, Instr::I64ShlImm { a: x, imm, .. }) if other == x => {
            Instr::I64XorShl { dst, a: x, shift: (imm & 63) as u8 }
        }
        (Instr::I64Xor { dst, .. }, Instr::I64ShrUImm { a: x, imm, .. }) if other == x => {
            Instr::I64XorShrU { dst, a: x, shift: (imm & 63) as u8 }
        }
        _ => return None,
    })
}

/// The `f64` arithmetic `op` (only its kind and `dst` matter) whose other operand is
/// `other` and whose remaining one (`b` if `loaded_is_b`) is the result of `load`, a
/// 64-bit load just before it, as one instruction.
fn fuse_load(op: Instr, load: Instr, other: Slot, loaded_is_b: bool) -> Option<Instr> {
    let Instr::Load64 { addr, offset, .. } = load else { return None };
    let offset = u16::try_from(offset).ok()?;
    Some(match op {
        Instr::F64Add { dst, .. } => Instr::F64AddLoad { dst, a: other, addr, offset },
        Instr::F64Mul { dst, .. } => Instr::F64MulLoad { dst, a: other, addr, offset },
        Instr::F64Sub { dst, .. } if loaded_is_b => Instr::F64SubLoad { dst, a: other, addr, offset },
        _ => return None,
    })
}

/// The store `store` (only its kind matters) of the result of `op`, which wrote temporary
/// `s`, at `addr + offset`, as one instruction.
fn fuse_store(op: Instr, s: Slot, store: Instr, addr: Slot, offset: u16) -> Option<Instr> {
    if !matches!(store, Instr::Store64 { .. }) || op.clone().result_slot_mut() != Some(&mut { s }) {
        return None;
    }
    Some(match op {
        Instr::F64Add { a, b, .. } => Instr::F64AddStore { addr, a, b, offset },
        Instr::F64Sub { a, b, .. } => Instr::F64SubStore { addr, a, b, offset },
        Instr::F64Mul { a, b, .. } => Instr::F64MulStore { addr, a, b, offset },
        _ => return None,
    })
}

/// The load `load` (only its kind matters) with its address computed by `add`, which
/// wrote temporary `s`, fused into one instruction writing `s`.
fn fuse_address(add: Instr, s: Slot, load: Instr, offset: u16) -> Option<Instr> {
    macro_rules! fuse {
        ($($load:ident => $add:ident, $imm:ident, $shl:ident;)*) => {
            match (add, load) {
                $(
                    (Instr::I32Add { dst, a, b }, Instr::$load { .. }) if dst == s => {
                        Some(Instr::$add { dst: s, base: a, index: b, offset })
                    }
                    (Instr::I32AddImm { dst, a, imm }, Instr::$load { .. }) if dst == s => {
                        Some(Instr::$imm { dst: s, base: a, imm, offset })
                    }
                    (Instr::I32AddShl { dst, a, b, shift }, Instr::$load { .. })
                        if dst == s && shift < 8 && offset < 8192 =>
                    {
                        Some(Instr::$shl { dst: s, base: a, index: b, scaled: offset << 3 | shift as u16 })
                    }
                )*
                _ => None,
            }
        };
    }
    fuse! {
        Load32 => Load32Add, Load32AddImm, Load32AddShl;
        Load64 => Load64Add, Load64AddImm, Load64AddShl;
        Load8U => Load8UAdd, Load8UAddImm, Load8UAddShl;
        Load16U => Load16UAdd, Load16UAddImm, Load16UAddShl;
        Load8S32 => Load8S32Add, Load8S32AddImm, Load8S32AddShl;
        Load16S32 => Load16S32Add, Load16S32AddImm, Load16S32AddShl;
        Load8S64 => Load8S64Add, Load8S64AddImm, Load8S64AddShl;
        Load16S64 => Load16S64Add, Load16S64AddImm, Load16S64AddShl;
        Load32S64 => Load32S64Add, Load32S64AddImm, Load32S64AddShl;
    }
}
