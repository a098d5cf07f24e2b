//! SIMD operators (`v128`) → Cranelift vector instructions.
//!
//! WebAssembly has one vector type; Cranelift types vectors by lanes. A `v128` on the
//! operand stack is always an `i8x16` (so block parameters, locals, globals and calls see one
//! type); an operator views its operands in its own lane type through a `bitcast`, which
//! costs nothing on x86 (both are the same register), and a value that was just bitcast
//! to `i8x16` is viewed through its original instead of a second bitcast. Most operators
//! map one to one; the widening and pairwise ones are built from Cranelift's widen and
//! pairwise-add instructions, which the x86 backend matches to single instructions
//! (`pmaddwd`, `pmovsx…`).

use super::CompileError;
use super::func::{Translator, heap};
use super::memory::memory_index;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F32X4, F64, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64, I64X2};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Opcode, Type, Value, ValueDef};
use wasmparser::{MemArg, Operator};

/// The flags of a bitcast between vector types: lanes in little-endian order, as wasm's.
fn lanes() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl Translator<'_, '_> {
    /// Pushes vector `v` as an `i8x16`.
    fn push_vector(&mut self, v: Value) {
        let v = self.view(v, I8X16);
        self.push(v);
    }

    /// Pops a vector, viewed as `ty`.
    fn pop_vector(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.view(v, ty)
    }

    /// Vector `v` viewed as `ty`: `v` itself, the original of a bitcast, or a new bitcast.
    fn view(&mut self, v: Value, ty: Type) -> Value {
        let dfg = &self.b.func.dfg;
        if dfg.value_type(v) == ty {
            return v;
        }
        if let ValueDef::Result(inst, 0) = dfg.value_def(v)
            && dfg.insts[inst].opcode() == Opcode::Bitcast
        {
            let original = dfg.inst_args(inst)[0];
            if dfg.value_type(original) == ty {
                return original;
            }
        }
        self.ins().bitcast(ty, lanes(), v)
    }

    /// The address of a `size`-byte access by `memarg` at the address on the stack top.
    fn vector_address(&mut self, memarg: &MemArg, size: u64) -> Result<(Value, i32), CompileError> {
        let addr = self.pop();
        self.address(memory_index(memarg)?, addr, memarg.offset, size)
    }
}

/// The vector type of a lane type.
fn vector_of(lane: Type) -> Type {
    match lane {
        I8 => I8X16,
        I16 => I16X8,
        I32 => I32X4,
        I64 => I64X2,
        F32 => F32X4,
        _ => F64X2,
    }
}

/// Translates SIMD operator `op`; `false` if it is not one.
pub(super) fn simd(t: &mut Translator<'_, '_>, op: &Operator<'_>) -> Result<bool, CompileError> {
    if memory(t, op)? {
        return Ok(true);
    }
    use Operator as O;
    macro_rules! unary {
        ($ty:expr, $f:ident) => {{
            let a = t.pop_vector($ty);
            let v = t.ins().$f(a);
            t.push_vector(v);
        }};
    }
    macro_rules! binary {
        ($ty:expr, $f:ident) => {{
            let b = t.pop_vector($ty);
            let a = t.pop_vector($ty);
            let v = t.ins().$f(a, b);
            t.push_vector(v);
        }};
    }
    macro_rules! icmp {
        ($ty:expr, $cc:ident) => {{
            let b = t.pop_vector($ty);
            let a = t.pop_vector($ty);
            let v = t.ins().icmp(IntCC::$cc, a, b);
            t.push_vector(v);
        }};
    }
    macro_rules! fcmp {
        ($ty:expr, $cc:ident) => {{
            let b = t.pop_vector($ty);
            let a = t.pop_vector($ty);
            let v = t.ins().fcmp(FloatCC::$cc, a, b);
            t.push_vector(v);
        }};
    }
    macro_rules! shift {
        ($ty:expr, $f:ident) => {{
            // Cranelift takes the shift amount modulo the lane width, as wasm does.
            let amount = t.pop();
            let a = t.pop_vector($ty);
            let v = t.ins().$f(a, amount);
            t.push_vector(v);
        }};
    }
    macro_rules! to_scalar {
        ($ty:expr, $f:ident) => {{
            let a = t.pop_vector($ty);
            let r = t.ins().$f(a);
            let v = t.ins().uextend(I32, r);
            t.push(v);
        }};
    }
    macro_rules! widen {
        ($ty:expr, $f:ident) => {{
            let a = t.pop_vector($ty);
            let v = t.ins().$f(a);
            t.push_vector(v);
        }};
    }
    /// `op(widen(a), widen(b))` for both halves' widening `$w`.
    macro_rules! ext_mul {
        ($ty:expr, $w:ident) => {{
            let b = t.pop_vector($ty);
            let a = t.pop_vector($ty);
            let a = t.ins().$w(a);
            let b = t.ins().$w(b);
            let v = t.ins().imul(a, b);
            t.push_vector(v);
        }};
    }
    macro_rules! ext_add_pairwise {
        ($ty:expr, $low:ident, $high:ident) => {{
            let a = t.pop_vector($ty);
            let low = t.ins().$low(a);
            let high = t.ins().$high(a);
            let v = t.ins().iadd_pairwise(low, high);
            t.push_vector(v);
        }};
    }
    match *op {
        O::V128Const { value } => {
            let bytes = t.b.func.dfg.constants.insert(value.bytes().to_vec().into());
            let v = t.ins().vconst(I8X16, bytes);
            t.push_vector(v);
        }
        O::I8x16Shuffle { lanes } => {
            let b = t.pop_vector(I8X16);
            let a = t.pop_vector(I8X16);
            let mask = t.b.func.dfg.immediates.push(lanes.to_vec().into());
            let v = t.ins().shuffle(a, b, mask);
            t.push_vector(v);
        }
        O::I8x16Swizzle => binary!(I8X16, swizzle),
        O::I8x16Splat => splat(t, I8),
        O::I16x8Splat => splat(t, I16),
        O::I32x4Splat => splat(t, I32),
        O::I64x2Splat => splat(t, I64),
        O::F32x4Splat => splat(t, F32),
        O::F64x2Splat => splat(t, F64),
        O::I8x16ExtractLaneS { lane } => extract(t, I8X16, lane, Some(true)),
        O::I8x16ExtractLaneU { lane } => extract(t, I8X16, lane, Some(false)),
        O::I16x8ExtractLaneS { lane } => extract(t, I16X8, lane, Some(true)),
        O::I16x8ExtractLaneU { lane } => extract(t, I16X8, lane, Some(false)),
        O::I32x4ExtractLane { lane } => extract(t, I32X4, lane, None),
        O::I64x2ExtractLane { lane } => extract(t, I64X2, lane, None),
        O::F32x4ExtractLane { lane } => extract(t, F32X4, lane, None),
        O::F64x2ExtractLane { lane } => extract(t, F64X2, lane, None),
        O::I8x16ReplaceLane { lane } => replace(t, I8X16, lane),
        O::I16x8ReplaceLane { lane } => replace(t, I16X8, lane),
        O::I32x4ReplaceLane { lane } => replace(t, I32X4, lane),
        O::I64x2ReplaceLane { lane } => replace(t, I64X2, lane),
        O::F32x4ReplaceLane { lane } => replace(t, F32X4, lane),
        O::F64x2ReplaceLane { lane } => replace(t, F64X2, lane),

        O::I8x16Eq => icmp!(I8X16, Equal),
        O::I8x16Ne => icmp!(I8X16, NotEqual),
        O::I8x16LtS => icmp!(I8X16, SignedLessThan),
        O::I8x16LtU => icmp!(I8X16, UnsignedLessThan),
        O::I8x16GtS => icmp!(I8X16, SignedGreaterThan),
        O::I8x16GtU => icmp!(I8X16, UnsignedGreaterThan),
        O::I8x16LeS => icmp!(I8X16, SignedLessThanOrEqual),
        O::I8x16LeU => icmp!(I8X16, UnsignedLessThanOrEqual),
        O::I8x16GeS => icmp!(I8X16, SignedGreaterThanOrEqual),
        O::I8x16GeU => icmp!(I8X16, UnsignedGreaterThanOrEqual),
        O::I16x8Eq => icmp!(I16X8, Equal),
        O::I16x8Ne => icmp!(I16X8, NotEqual),
        O::I16x8LtS => icmp!(I16X8, SignedLessThan),
        O::I16x8LtU => icmp!(I16X8, UnsignedLessThan),
        O::I16x8GtS => icmp!(I16X8, SignedGreaterThan),
        O::I16x8GtU => icmp!(I16X8, UnsignedGreaterThan),
        O::I16x8LeS => icmp!(I16X8, SignedLessThanOrEqual),
        O::I16x8LeU => icmp!(I16X8, UnsignedLessThanOrEqual),
        O::I16x8GeS => icmp!(I16X8, SignedGreaterThanOrEqual),
        O::I16x8GeU => icmp!(I16X8, UnsignedGreaterThanOrEqual),
        O::I32x4Eq => icmp!(I32X4, Equal),
        O::I32x4Ne => icmp!(I32X4, NotEqual),
        O::I32x4LtS => icmp!(I32X4, SignedLessThan),
        O::I32x4LtU => icmp!(I32X4, UnsignedLessThan),
        O::I32x4GtS => icmp!(I32X4, SignedGreaterThan),
        O::I32x4GtU => icmp!(I32X4, UnsignedGreaterThan),
        O::I32x4LeS => icmp!(I32X4, SignedLessThanOrEqual),
        O::I32x4LeU => icmp!(I32X4, UnsignedLessThanOrEqual),
        O::I32x4GeS => icmp!(I32X4, SignedGreaterThanOrEqual),
        O::I32x4GeU => icmp!(I32X4, UnsignedGreaterThanOrEqual),
        O::I64x2Eq => icmp!(I64X2, Equal),
        O::I64x2Ne => icmp!(I64X2, NotEqual),
        O::I64x2LtS => icmp!(I64X2, SignedLessThan),
        O::I64x2GtS => icmp!(I64X2, SignedGreaterThan),
        O::I64x2LeS => icmp!(I64X2, SignedLessThanOrEqual),
        O::I64x2GeS => icmp!(I64X2, SignedGreaterThanOrEqual),
        O::F32x4Eq => fcmp!(F32X4, Equal),
        O::F32x4Ne => fcmp!(F32X4, NotEqual),
        O::F32x4Lt => fcmp!(F32X4, LessThan),
        O::F32x4Gt => fcmp!(F32X4, GreaterThan),
        O::F32x4Le => fcmp!(F32X4, LessThanOrEqual),
        O::F32x4Ge => fcmp!(F32X4, GreaterThanOrEqual),
        O::F64x2Eq => fcmp!(F64X2, Equal),
        O::F64x2Ne => fcmp!(F64X2, NotEqual),
        O::F64x2Lt => fcmp!(F64X2, LessThan),
        O::F64x2Gt => fcmp!(F64X2, GreaterThan),
        O::F64x2Le => fcmp!(F64X2, LessThanOrEqual),
        O::F64x2Ge => fcmp!(F64X2, GreaterThanOrEqual),

        O::V128Not => unary!(I8X16, bnot),
        O::V128And => binary!(I8X16, band),
        O::V128AndNot => binary!(I8X16, band_not),
        O::V128Or => binary!(I8X16, bor),
        O::V128Xor => binary!(I8X16, bxor),
        O::V128Bitselect => {
            let c = t.pop_vector(I8X16);
            let b = t.pop_vector(I8X16);
            let a = t.pop_vector(I8X16);
            let v = t.ins().bitselect(c, a, b);
            t.push_vector(v);
        }
        O::V128AnyTrue => to_scalar!(I8X16, vany_true),
        O::I8x16AllTrue => to_scalar!(I8X16, vall_true),
        O::I16x8AllTrue => to_scalar!(I16X8, vall_true),
        O::I32x4AllTrue => to_scalar!(I32X4, vall_true),
        O::I64x2AllTrue => to_scalar!(I64X2, vall_true),
        O::I8x16Bitmask => bitmask(t, I8X16),
        O::I16x8Bitmask => bitmask(t, I16X8),
        O::I32x4Bitmask => bitmask(t, I32X4),
        O::I64x2Bitmask => bitmask(t, I64X2),

        O::I8x16Abs => unary!(I8X16, iabs),
        O::I16x8Abs => unary!(I16X8, iabs),
        O::I32x4Abs => unary!(I32X4, iabs),
        O::I64x2Abs => unary!(I64X2, iabs),
        O::I8x16Neg => unary!(I8X16, ineg),
        O::I16x8Neg => unary!(I16X8, ineg),
        O::I32x4Neg => unary!(I32X4, ineg),
        O::I64x2Neg => unary!(I64X2, ineg),
        O::I8x16Popcnt => unary!(I8X16, popcnt),
        O::I8x16NarrowI16x8S => binary!(I16X8, snarrow),
        O::I8x16NarrowI16x8U => binary!(I16X8, unarrow),
        O::I16x8NarrowI32x4S => binary!(I32X4, snarrow),
        O::I16x8NarrowI32x4U => binary!(I32X4, unarrow),
        O::I8x16Shl => shift!(I8X16, ishl),
        O::I8x16ShrS => shift!(I8X16, sshr),
        O::I8x16ShrU => shift!(I8X16, ushr),
        O::I16x8Shl => shift!(I16X8, ishl),
        O::I16x8ShrS => shift!(I16X8, sshr),
        O::I16x8ShrU => shift!(I16X8, ushr),
        O::I32x4Shl => shift!(I32X4, ishl),
        O::I32x4ShrS => shift!(I32X4, sshr),
        O::I32x4ShrU => shift!(I32X4, ushr),
        O::I64x2Shl => shift!(I64X2, ishl),
        O::I64x2ShrS => shift!(I64X2, sshr),
        O::I64x2ShrU => shift!(I64X2, ushr),
        O::I8x16Add => binary!(I8X16, iadd),
        O::I16x8Add => binary!(I16X8, iadd),
        O::I32x4Add => binary!(I32X4, iadd),
        O::I64x2Add => binary!(I64X2, iadd),
        O::I8x16Sub => binary!(I8X16, isub),
        O::I16x8Sub => binary!(I16X8, isub),
        O::I32x4Sub => binary!(I32X4, isub),
        O::I64x2Sub => binary!(I64X2, isub),
        O::I16x8Mul => binary!(I16X8, imul),
        O::I32x4Mul => binary!(I32X4, imul),
        O::I64x2Mul => binary!(I64X2, imul),
        O::I8x16AddSatS => binary!(I8X16, sadd_sat),
        O::I8x16AddSatU => binary!(I8X16, uadd_sat),
        O::I16x8AddSatS => binary!(I16X8, sadd_sat),
        O::I16x8AddSatU => binary!(I16X8, uadd_sat),
        O::I8x16SubSatS => binary!(I8X16, ssub_sat),
        O::I8x16SubSatU => binary!(I8X16, usub_sat),
        O::I16x8SubSatS => binary!(I16X8, ssub_sat),
        O::I16x8SubSatU => binary!(I16X8, usub_sat),
        O::I8x16MinS => binary!(I8X16, smin),
        O::I8x16MinU => binary!(I8X16, umin),
        O::I8x16MaxS => binary!(I8X16, smax),
        O::I8x16MaxU => binary!(I8X16, umax),
        O::I16x8MinS => binary!(I16X8, smin),
        O::I16x8MinU => binary!(I16X8, umin),
        O::I16x8MaxS => binary!(I16X8, smax),
        O::I16x8MaxU => binary!(I16X8, umax),
        O::I32x4MinS => binary!(I32X4, smin),
        O::I32x4MinU => binary!(I32X4, umin),
        O::I32x4MaxS => binary!(I32X4, smax),
        O::I32x4MaxU => binary!(I32X4, umax),
        O::I8x16AvgrU => binary!(I8X16, avg_round),
        O::I16x8AvgrU => binary!(I16X8, avg_round),
        O::I16x8Q15MulrSatS => binary!(I16X8, sqmul_round_sat),

        O::I16x8ExtendLowI8x16S => widen!(I8X16, swiden_low),
        O::I16x8ExtendHighI8x16S => widen!(I8X16, swiden_high),
        O::I16x8ExtendLowI8x16U => widen!(I8X16, uwiden_low),
        O::I16x8ExtendHighI8x16U => widen!(I8X16, uwiden_high),
        O::I32x4ExtendLowI16x8S => widen!(I16X8, swiden_low),
        O::I32x4ExtendHighI16x8S => widen!(I16X8, swiden_high),
        O::I32x4ExtendLowI16x8U => widen!(I16X8, uwiden_low),
        O::I32x4ExtendHighI16x8U => widen!(I16X8, uwiden_high),
        O::I64x2ExtendLowI32x4S => widen!(I32X4, swiden_low),
        O::I64x2ExtendHighI32x4S => widen!(I32X4, swiden_high),
        O::I64x2ExtendLowI32x4U => widen!(I32X4, uwiden_low),
        O::I64x2ExtendHighI32x4U => widen!(I32X4, uwiden_high),
        O::I16x8ExtMulLowI8x16S => ext_mul!(I8X16, swiden_low),
        O::I16x8ExtMulHighI8x16S => ext_mul!(I8X16, swiden_high),
        O::I16x8ExtMulLowI8x16U => ext_mul!(I8X16, uwiden_low),
        O::I16x8ExtMulHighI8x16U => ext_mul!(I8X16, uwiden_high),
        O::I32x4ExtMulLowI16x8S => ext_mul!(I16X8, swiden_low),
        O::I32x4ExtMulHighI16x8S => ext_mul!(I16X8, swiden_high),
        O::I32x4ExtMulLowI16x8U => ext_mul!(I16X8, uwiden_low),
        O::I32x4ExtMulHighI16x8U => ext_mul!(I16X8, uwiden_high),
        O::I64x2ExtMulLowI32x4S => ext_mul!(I32X4, swiden_low),
        O::I64x2ExtMulHighI32x4S => ext_mul!(I32X4, swiden_high),
        O::I64x2ExtMulLowI32x4U => ext_mul!(I32X4, uwiden_low),
        O::I64x2ExtMulHighI32x4U => ext_mul!(I32X4, uwiden_high),
        O::I16x8ExtAddPairwiseI8x16S => ext_add_pairwise!(I8X16, swiden_low, swiden_high),
        O::I16x8ExtAddPairwiseI8x16U => ext_add_pairwise!(I8X16, uwiden_low, uwiden_high),
        O::I32x4ExtAddPairwiseI16x8S => ext_add_pairwise!(I16X8, swiden_low, swiden_high),
        O::I32x4ExtAddPairwiseI16x8U => ext_add_pairwise!(I16X8, uwiden_low, uwiden_high),
        O::I32x4DotI16x8S => {
            // Lane i: a[2i]·b[2i] + a[2i+1]·b[2i+1], the products widened to 32 bits.
            let b = t.pop_vector(I16X8);
            let a = t.pop_vector(I16X8);
            let (al, bl) = (t.ins().swiden_low(a), t.ins().swiden_low(b));
            let low = t.ins().imul(al, bl);
            let (ah, bh) = (t.ins().swiden_high(a), t.ins().swiden_high(b));
            let high = t.ins().imul(ah, bh);
            let v = t.ins().iadd_pairwise(low, high);
            t.push_vector(v);
        }

        O::F32x4Abs => unary!(F32X4, fabs),
        O::F64x2Abs => unary!(F64X2, fabs),
        O::F32x4Neg => unary!(F32X4, fneg),
        O::F64x2Neg => unary!(F64X2, fneg),
        O::F32x4Sqrt => unary!(F32X4, sqrt),
        O::F64x2Sqrt => unary!(F64X2, sqrt),
        O::F32x4Ceil => unary!(F32X4, ceil),
        O::F64x2Ceil => unary!(F64X2, ceil),
        O::F32x4Floor => unary!(F32X4, floor),
        O::F64x2Floor => unary!(F64X2, floor),
        O::F32x4Trunc => unary!(F32X4, trunc),
        O::F64x2Trunc => unary!(F64X2, trunc),
        O::F32x4Nearest => unary!(F32X4, nearest),
        O::F64x2Nearest => unary!(F64X2, nearest),
        O::F32x4Add => binary!(F32X4, fadd),
        O::F64x2Add => binary!(F64X2, fadd),
        O::F32x4Sub => binary!(F32X4, fsub),
        O::F64x2Sub => binary!(F64X2, fsub),
        O::F32x4Mul => binary!(F32X4, fmul),
        O::F64x2Mul => binary!(F64X2, fmul),
        O::F32x4Div => binary!(F32X4, fdiv),
        O::F64x2Div => binary!(F64X2, fdiv),
        O::F32x4Min => binary!(F32X4, fmin),
        O::F64x2Min => binary!(F64X2, fmin),
        O::F32x4Max => binary!(F32X4, fmax),
        O::F64x2Max => binary!(F64X2, fmax),
        O::F32x4PMin => pseudo_min_max(t, F32X4, true),
        O::F64x2PMin => pseudo_min_max(t, F64X2, true),
        O::F32x4PMax => pseudo_min_max(t, F32X4, false),
        O::F64x2PMax => pseudo_min_max(t, F64X2, false),

        O::I32x4TruncSatF32x4S => convert(t, F32X4, |t, a| t.ins().fcvt_to_sint_sat(I32X4, a)),
        O::I32x4TruncSatF32x4U => convert(t, F32X4, |t, a| t.ins().fcvt_to_uint_sat(I32X4, a)),
        O::F32x4ConvertI32x4S => convert(t, I32X4, |t, a| t.ins().fcvt_from_sint(F32X4, a)),
        O::F32x4ConvertI32x4U => convert(t, I32X4, |t, a| t.ins().fcvt_from_uint(F32X4, a)),
        O::I32x4TruncSatF64x2SZero => convert(t, F64X2, |t, a| {
            let wide = t.ins().fcvt_to_sint_sat(I64X2, a);
            let zero = zeros(t, I64X2);
            t.ins().snarrow(wide, zero)
        }),
        O::I32x4TruncSatF64x2UZero => convert(t, F64X2, |t, a| {
            let wide = t.ins().fcvt_to_uint_sat(I64X2, a);
            let zero = zeros(t, I64X2);
            t.ins().uunarrow(wide, zero)
        }),
        O::F64x2ConvertLowI32x4S => convert(t, I32X4, |t, a| {
            let wide = t.ins().swiden_low(a);
            t.ins().fcvt_from_sint(F64X2, wide)
        }),
        O::F64x2ConvertLowI32x4U => convert(t, I32X4, |t, a| {
            let wide = t.ins().uwiden_low(a);
            t.ins().fcvt_from_uint(F64X2, wide)
        }),
        O::F32x4DemoteF64x2Zero => unary!(F64X2, fvdemote),
        O::F64x2PromoteLowF32x4 => unary!(F32X4, fvpromote_low),
        _ => return Ok(false),
    }
    Ok(true)
}

/// An all-zero vector of type `ty`.
fn zeros(t: &mut Translator<'_, '_>, ty: Type) -> Value {
    let bytes = t.b.func.dfg.constants.insert(vec![0u8; 16].into());
    t.ins().vconst(ty, bytes)
}

/// A conversion `f` of the stack top viewed as `from`.
fn convert(t: &mut Translator<'_, '_>, from: Type, f: impl FnOnce(&mut Translator<'_, '_>, Value) -> Value) {
    let a = t.pop_vector(from);
    let v = f(t, a);
    t.push_vector(v);
}

fn splat(t: &mut Translator<'_, '_>, lane: Type) {
    let x = t.pop();
    // i8 and i16 lanes take the low bits of an i32 operand.
    let x = if lane == I8 || lane == I16 { t.ins().ireduce(lane, x) } else { x };
    let v = t.ins().splat(vector_of(lane), x);
    t.push_vector(v);
}

/// `extract_lane`: the lane as a scalar, i8 and i16 lanes extended (signed or not) to i32.
fn extract(t: &mut Translator<'_, '_>, ty: Type, lane: u8, signed: Option<bool>) {
    let a = t.pop_vector(ty);
    let x = t.ins().extractlane(a, lane);
    let v = match signed {
        Some(true) => t.ins().sextend(I32, x),
        Some(false) => t.ins().uextend(I32, x),
        None => x,
    };
    t.push(v);
}

fn replace(t: &mut Translator<'_, '_>, ty: Type, lane: u8) {
    let x = t.pop();
    let a = t.pop_vector(ty);
    let x = if ty == I8X16 || ty == I16X8 { t.ins().ireduce(ty.lane_type(), x) } else { x };
    let v = t.ins().insertlane(a, x, lane);
    t.push_vector(v);
}

fn bitmask(t: &mut Translator<'_, '_>, ty: Type) {
    let a = t.pop_vector(ty);
    let v = t.ins().vhigh_bits(I32, a);
    t.push(v);
}

/// `pmin` (`b < a ? b : a`) and `pmax` (`a < b ? b : a`), lane by lane: a comparison mask
/// selects, which the x86 backend matches to `minps`/`maxps` (whose operand order gives
/// exactly these NaN and signed-zero results).
fn pseudo_min_max(t: &mut Translator<'_, '_>, ty: Type, min: bool) {
    let b = t.pop_vector(ty);
    let a = t.pop_vector(ty);
    let mask = if min { t.ins().fcmp(FloatCC::LessThan, b, a) } else { t.ins().fcmp(FloatCC::LessThan, a, b) };
    let mask = t.ins().bitcast(ty, lanes(), mask);
    let v = t.ins().bitselect(mask, b, a);
    t.push_vector(v);
}

/// The SIMD loads and stores; `false` if `op` is none.
fn memory(t: &mut Translator<'_, '_>, op: &Operator<'_>) -> Result<bool, CompileError> {
    use Operator as O;
    match *op {
        O::V128Load { memarg } => {
            let (p, d) = t.vector_address(&memarg, 16)?;
            let v = t.ins().load(I8X16, heap(), p, d);
            t.push_vector(v);
        }
        O::V128Store { memarg } => {
            let v = t.pop_vector(I8X16);
            let (p, d) = t.vector_address(&memarg, 16)?;
            t.ins().store(heap(), v, p, d);
        }
        O::V128Load8x8S { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().sload8x8(heap(), p, d))?,
        O::V128Load8x8U { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().uload8x8(heap(), p, d))?,
        O::V128Load16x4S { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().sload16x4(heap(), p, d))?,
        O::V128Load16x4U { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().uload16x4(heap(), p, d))?,
        O::V128Load32x2S { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().sload32x2(heap(), p, d))?,
        O::V128Load32x2U { memarg } => load_extend(t, &memarg, |t, p, d| t.ins().uload32x2(heap(), p, d))?,
        O::V128Load8Splat { memarg } => load_splat(t, &memarg, I8)?,
        O::V128Load16Splat { memarg } => load_splat(t, &memarg, I16)?,
        O::V128Load32Splat { memarg } => load_splat(t, &memarg, I32)?,
        O::V128Load64Splat { memarg } => load_splat(t, &memarg, I64)?,
        O::V128Load32Zero { memarg } => load_zero(t, &memarg, I32)?,
        O::V128Load64Zero { memarg } => load_zero(t, &memarg, I64)?,
        O::V128Load8Lane { memarg, lane } => load_lane(t, &memarg, I8, lane)?,
        O::V128Load16Lane { memarg, lane } => load_lane(t, &memarg, I16, lane)?,
        O::V128Load32Lane { memarg, lane } => load_lane(t, &memarg, I32, lane)?,
        O::V128Load64Lane { memarg, lane } => load_lane(t, &memarg, I64, lane)?,
        O::V128Store8Lane { memarg, lane } => store_lane(t, &memarg, I8, lane)?,
        O::V128Store16Lane { memarg, lane } => store_lane(t, &memarg, I16, lane)?,
        O::V128Store32Lane { memarg, lane } => store_lane(t, &memarg, I32, lane)?,
        O::V128Store64Lane { memarg, lane } => store_lane(t, &memarg, I64, lane)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `load8x8_s` and its kin: 8 bytes, each lane widened (`load` emits the access).
fn load_extend(
    t: &mut Translator<'_, '_>,
    memarg: &MemArg,
    load: impl FnOnce(&mut Translator<'_, '_>, Value, i32) -> Value,
) -> Result<(), CompileError> {
    let (p, d) = t.vector_address(memarg, 8)?;
    let v = load(t, p, d);
    t.push_vector(v);
    Ok(())
}

fn load_splat(t: &mut Translator<'_, '_>, memarg: &MemArg, lane: Type) -> Result<(), CompileError> {
    let (p, d) = t.vector_address(memarg, lane.bytes() as u64)?;
    let x = t.ins().load(lane, heap(), p, d);
    let v = t.ins().splat(vector_of(lane), x);
    t.push_vector(v);
    Ok(())
}

/// `load32_zero`/`load64_zero`: the scalar in lane 0, the other lanes zero.
fn load_zero(t: &mut Translator<'_, '_>, memarg: &MemArg, lane: Type) -> Result<(), CompileError> {
    let (p, d) = t.vector_address(memarg, lane.bytes() as u64)?;
    let x = t.ins().load(lane, heap(), p, d);
    let v = t.ins().scalar_to_vector(vector_of(lane), x);
    t.push_vector(v);
    Ok(())
}

fn load_lane(t: &mut Translator<'_, '_>, memarg: &MemArg, lane: Type, index: u8) -> Result<(), CompileError> {
    let a = t.pop_vector(vector_of(lane));
    let (p, d) = t.vector_address(memarg, lane.bytes() as u64)?;
    let x = t.ins().load(lane, heap(), p, d);
    let v = t.ins().insertlane(a, x, index);
    t.push_vector(v);
    Ok(())
}

fn store_lane(t: &mut Translator<'_, '_>, memarg: &MemArg, lane: Type, index: u8) -> Result<(), CompileError> {
    let a = t.pop_vector(vector_of(lane));
    let (p, d) = t.vector_address(memarg, lane.bytes() as u64)?;
    let x = t.ins().extractlane(a, index);
    t.ins().store(heap(), x, p, d);
    Ok(())
}
