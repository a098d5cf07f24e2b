//! Translation of the vector (SIMD) operators.
//!
//! Vectors occupy two slots; scalars one. Each operator maps to one of the SIMD shapes
//! of [`Instr`] with its operation code; the operator-to-code tables are generated from
//! the lists in `ir::simd`, so a new operator is added in one place.

use super::Translator;
use crate::error::{CompileError, CompileErrorKind};
use crate::ir::{Instr, SimdBinary, SimdLane, SimdLoad, SimdShift, SimdSplat, SimdTest, SimdUnary, for_each_simd_op};
use wasmparser::Operator as Op;

fn offset_of(memarg: &wasmparser::MemArg) -> Result<u32, CompileError> {
    u32::try_from(memarg.offset)
        .map_err(|_| CompileError::new(CompileErrorKind::Unsupported, "unsupported: 64-bit memory offset", None))
}

macro_rules! simd_dispatch {
    (
        unary { $($u:ident),* $(,)? }
        binary { $($b:ident),* $(,)? }
        test { $($t:ident),* $(,)? }
        shift { $($s:ident),* $(,)? }
        splat { $($p:ident),* $(,)? }
        load { $($l:ident),* $(,)? }
    ) => {
        impl Translator<'_> {
            /// Translates `op` if it is a vector operator; `Ok(false)` if it is not one.
            pub(super) fn simd_operator(&mut self, op: &Op<'_>) -> Result<bool, CompileError> {
                match op {
                    $( Op::$u => self.v128_unary(SimdUnary::$u), )*
                    $( Op::$b => self.v128_binary(SimdBinary::$b), )*
                    $( Op::$t => self.v128_test(SimdTest::$t), )*
                    $( Op::$s => self.v128_shift(SimdShift::$s), )*
                    $( Op::$p => self.v128_splat(SimdSplat::$p), )*
                    $( Op::$l { memarg } => self.v128_load_ext(SimdLoad::$l, offset_of(memarg)?), )*
                    _ => return self.simd_lane_operator(op),
                }
                Ok(true)
            }
        }

        /// The memory argument of a vector operator that accesses memory.
        pub(super) fn simd_memarg(op: &Op<'_>) -> Option<wasmparser::MemArg> {
            match *op {
                $( Op::$l { memarg } )|* => Some(memarg),
                Op::V128Load { memarg } | Op::V128Store { memarg } => Some(memarg),
                Op::V128Load8Lane { memarg, .. }
                | Op::V128Load16Lane { memarg, .. }
                | Op::V128Load32Lane { memarg, .. }
                | Op::V128Load64Lane { memarg, .. }
                | Op::V128Store8Lane { memarg, .. }
                | Op::V128Store16Lane { memarg, .. }
                | Op::V128Store32Lane { memarg, .. }
                | Op::V128Store64Lane { memarg, .. } => Some(memarg),
                _ => None,
            }
        }
    };
}
for_each_simd_op!(simd_dispatch);

impl Translator<'_> {
    fn v128_unary(&mut self, op: SimdUnary) {
        let src = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128Unary { dst, src, op });
    }

    fn v128_binary(&mut self, op: SimdBinary) {
        let b = self.pop_slot();
        let a = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128Binary { dst, a, b, op });
    }

    fn v128_test(&mut self, op: SimdTest) {
        let src = self.pop_slot();
        let dst = self.push_temp();
        self.emit_result(Instr::V128Test { dst, src, op });
    }

    fn v128_shift(&mut self, op: SimdShift) {
        let b = self.pop_slot();
        let a = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128Shift { dst, a, b, op });
    }

    fn v128_splat(&mut self, op: SimdSplat) {
        let src = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128Splat { dst, src, op });
    }

    fn v128_load_ext(&mut self, op: SimdLoad, offset: u32) {
        let addr = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128LoadExt { dst, addr, op, offset });
    }

    fn v128_extract(&mut self, op: SimdLane, lane: u8) {
        let src = self.pop_slot();
        let dst = self.push_temp();
        self.emit_result(Instr::V128Extract { dst, src, op, lane });
    }

    fn v128_replace(&mut self, op: SimdLane, lane: u8) {
        let x = self.pop_slot();
        let src = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit_result(Instr::V128Replace { dst, src, x, op, lane });
    }

    /// Lane access, bitselect and shuffle: the operators with immediates or three operands.
    fn simd_lane_operator(&mut self, op: &Op<'_>) -> Result<bool, CompileError> {
        match *op {
            Op::I8x16ExtractLaneS { lane } => self.v128_extract(SimdLane::I8S, lane),
            Op::I8x16ExtractLaneU { lane } => self.v128_extract(SimdLane::I8U, lane),
            Op::I16x8ExtractLaneS { lane } => self.v128_extract(SimdLane::I16S, lane),
            Op::I16x8ExtractLaneU { lane } => self.v128_extract(SimdLane::I16U, lane),
            Op::I32x4ExtractLane { lane } | Op::F32x4ExtractLane { lane } => self.v128_extract(SimdLane::I32, lane),
            Op::I64x2ExtractLane { lane } | Op::F64x2ExtractLane { lane } => self.v128_extract(SimdLane::I64, lane),
            Op::I8x16ReplaceLane { lane } => self.v128_replace(SimdLane::I8U, lane),
            Op::I16x8ReplaceLane { lane } => self.v128_replace(SimdLane::I16U, lane),
            Op::I32x4ReplaceLane { lane } | Op::F32x4ReplaceLane { lane } => self.v128_replace(SimdLane::I32, lane),
            Op::I64x2ReplaceLane { lane } | Op::F64x2ReplaceLane { lane } => self.v128_replace(SimdLane::I64, lane),
            Op::V128Bitselect => {
                let mask = self.pop_slot();
                let b = self.pop_slot();
                let a = self.pop_slot();
                let dst = self.push_temp_wide(2);
                self.emit(Instr::V128Bitselect { dst, a, b });
                self.emit(Instr::Data { a: mask, b: 0, c: 0 });
            }
            Op::I8x16Shuffle { lanes } => {
                let b = self.pop_slot();
                let a = self.pop_slot();
                let dst = self.push_temp_wide(2);
                let packed = crate::ir::pack_lanes(&lanes);
                self.emit(Instr::I8x16Shuffle { dst, a, b });
                self.emit(Instr::Data { a: packed as u32, b: (packed >> 32) as u32, c: (packed >> 64) as u32 });
            }
            Op::V128Load8Lane { memarg, lane } => self.v128_load_lane(SimdLane::I8U, lane, offset_of(&memarg)?),
            Op::V128Load16Lane { memarg, lane } => self.v128_load_lane(SimdLane::I16U, lane, offset_of(&memarg)?),
            Op::V128Load32Lane { memarg, lane } => self.v128_load_lane(SimdLane::I32, lane, offset_of(&memarg)?),
            Op::V128Load64Lane { memarg, lane } => self.v128_load_lane(SimdLane::I64, lane, offset_of(&memarg)?),
            Op::V128Store8Lane { memarg, lane } => self.v128_store_lane(SimdLane::I8U, lane, offset_of(&memarg)?),
            Op::V128Store16Lane { memarg, lane } => self.v128_store_lane(SimdLane::I16U, lane, offset_of(&memarg)?),
            Op::V128Store32Lane { memarg, lane } => self.v128_store_lane(SimdLane::I32, lane, offset_of(&memarg)?),
            Op::V128Store64Lane { memarg, lane } => self.v128_store_lane(SimdLane::I64, lane, offset_of(&memarg)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn v128_load_lane(&mut self, op: SimdLane, lane: u8, offset: u32) {
        let vector = self.pop_slot();
        let addr = self.pop_slot();
        let dst = self.push_temp_wide(2);
        self.emit(Instr::V128LoadLane { dst, addr, op, lane, offset });
        self.emit(Instr::Data { a: vector, b: 0, c: 0 });
    }

    fn v128_store_lane(&mut self, op: SimdLane, lane: u8, offset: u32) {
        let value = self.pop_slot();
        let addr = self.pop_slot();
        self.emit(Instr::V128StoreLane { addr, value, op, lane, offset });
    }
}
