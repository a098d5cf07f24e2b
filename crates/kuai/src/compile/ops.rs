//! Numeric operators → Cranelift instructions. Cranelift's integer division, remainder and
//! float-to-int conversions trap exactly where WebAssembly's do (division by zero,
//! `INT_MIN / -1`, NaN and out-of-range conversions), and its `fmin`/`fmax`/`nearest`
//! follow WebAssembly's NaN and signed-zero rules, so most operators map one to one.

use super::func::Translator;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, Value, types};
use wasmparser::Operator;

/// Translates numeric operator `op`; `false` if it is not one.
pub(super) fn numeric(t: &mut Translator<'_, '_>, op: &Operator<'_>) -> bool {
    use Operator as O;
    use types::{F32, F64, I32, I64};
    macro_rules! unary {
        ($f:ident) => {{
            let a = t.pop_value();
            let v = t.ins().$f(a);
            t.push_value(v);
        }};
        ($f:ident, $ty:expr) => {{
            let a = t.pop_value();
            let v = t.ins().$f($ty, a);
            t.push_value(v);
        }};
    }
    macro_rules! binary {
        ($f:ident) => {{
            let b = t.pop_value();
            let a = t.pop_value();
            let v = t.ins().$f(a, b);
            t.push_value(v);
        }};
    }
    macro_rules! icmp {
        ($cc:expr) => {{
            let b = t.pop_value();
            let a = t.pop_value();
            let c = t.ins().icmp($cc, a, b);
            let v = t.ins().uextend(I32, c);
            t.push_value(v);
        }};
    }
    macro_rules! fcmp {
        ($cc:expr) => {{
            let b = t.pop_value();
            let a = t.pop_value();
            let c = t.ins().fcmp($cc, a, b);
            let v = t.ins().uextend(I32, c);
            t.push_value(v);
        }};
    }
    macro_rules! eqz {
        () => {{
            let a = t.pop_value();
            let c = t.ins().icmp_imm_s(IntCC::Equal, a, 0);
            let v = t.ins().uextend(I32, c);
            t.push_value(v);
        }};
    }
    match op {
        O::I32Eqz | O::I64Eqz => eqz!(),
        O::I32Eq | O::I64Eq => icmp!(IntCC::Equal),
        O::I32Ne | O::I64Ne => icmp!(IntCC::NotEqual),
        O::I32LtS | O::I64LtS => icmp!(IntCC::SignedLessThan),
        O::I32LtU | O::I64LtU => icmp!(IntCC::UnsignedLessThan),
        O::I32GtS | O::I64GtS => icmp!(IntCC::SignedGreaterThan),
        O::I32GtU | O::I64GtU => icmp!(IntCC::UnsignedGreaterThan),
        O::I32LeS | O::I64LeS => icmp!(IntCC::SignedLessThanOrEqual),
        O::I32LeU | O::I64LeU => icmp!(IntCC::UnsignedLessThanOrEqual),
        O::I32GeS | O::I64GeS => icmp!(IntCC::SignedGreaterThanOrEqual),
        O::I32GeU | O::I64GeU => icmp!(IntCC::UnsignedGreaterThanOrEqual),
        O::F32Eq | O::F64Eq => fcmp!(FloatCC::Equal),
        O::F32Ne | O::F64Ne => fcmp!(FloatCC::NotEqual),
        O::F32Lt | O::F64Lt => fcmp!(FloatCC::LessThan),
        O::F32Gt | O::F64Gt => fcmp!(FloatCC::GreaterThan),
        O::F32Le | O::F64Le => fcmp!(FloatCC::LessThanOrEqual),
        O::F32Ge | O::F64Ge => fcmp!(FloatCC::GreaterThanOrEqual),

        O::I32Clz | O::I64Clz => unary!(clz),
        O::I32Ctz | O::I64Ctz => unary!(ctz),
        O::I32Popcnt | O::I64Popcnt => unary!(popcnt),
        O::I32Add | O::I64Add => binary!(iadd),
        O::I32Sub | O::I64Sub => binary!(isub),
        O::I32Mul | O::I64Mul => binary!(imul),
        O::I32DivS | O::I64DivS => binary!(sdiv),
        O::I32DivU | O::I64DivU => binary!(udiv),
        O::I32RemS | O::I64RemS => binary!(srem),
        O::I32RemU | O::I64RemU => binary!(urem),
        O::I32And | O::I64And => binary!(band),
        O::I32Or | O::I64Or => binary!(bor),
        O::I32Xor | O::I64Xor => binary!(bxor),
        O::I32Shl | O::I64Shl => binary!(ishl),
        O::I32ShrS | O::I64ShrS => binary!(sshr),
        O::I32ShrU | O::I64ShrU => binary!(ushr),
        O::I32Rotl | O::I64Rotl => binary!(rotl),
        O::I32Rotr | O::I64Rotr => binary!(rotr),

        O::F32Abs | O::F64Abs => unary!(fabs),
        O::F32Neg | O::F64Neg => unary!(fneg),
        O::F32Ceil | O::F64Ceil => unary!(ceil),
        O::F32Floor | O::F64Floor => unary!(floor),
        O::F32Trunc | O::F64Trunc => unary!(trunc),
        O::F32Nearest | O::F64Nearest => unary!(nearest),
        O::F32Sqrt | O::F64Sqrt => unary!(sqrt),
        O::F32Add | O::F64Add => binary!(fadd),
        O::F32Sub | O::F64Sub => binary!(fsub),
        O::F32Mul | O::F64Mul => binary!(fmul),
        O::F32Div | O::F64Div => binary!(fdiv),
        O::F32Min | O::F64Min => binary!(fmin),
        O::F32Max | O::F64Max => binary!(fmax),
        O::F32Copysign | O::F64Copysign => binary!(fcopysign),

        O::I32WrapI64 => unary!(ireduce, I32),
        O::I64ExtendI32S => unary!(sextend, I64),
        O::I64ExtendI32U => unary!(uextend, I64),
        O::I32TruncF32S | O::I32TruncF64S => unary!(fcvt_to_sint, I32),
        O::I32TruncF32U | O::I32TruncF64U => unary!(fcvt_to_uint, I32),
        O::I64TruncF32S | O::I64TruncF64S => unary!(fcvt_to_sint, I64),
        O::I64TruncF32U | O::I64TruncF64U => unary!(fcvt_to_uint, I64),
        O::I32TruncSatF32S | O::I32TruncSatF64S => unary!(fcvt_to_sint_sat, I32),
        O::I32TruncSatF32U | O::I32TruncSatF64U => unary!(fcvt_to_uint_sat, I32),
        O::I64TruncSatF32S | O::I64TruncSatF64S => unary!(fcvt_to_sint_sat, I64),
        O::I64TruncSatF32U | O::I64TruncSatF64U => unary!(fcvt_to_uint_sat, I64),
        O::F32ConvertI32S | O::F32ConvertI64S => unary!(fcvt_from_sint, F32),
        O::F32ConvertI32U | O::F32ConvertI64U => unary!(fcvt_from_uint, F32),
        O::F64ConvertI32S | O::F64ConvertI64S => unary!(fcvt_from_sint, F64),
        O::F64ConvertI32U | O::F64ConvertI64U => unary!(fcvt_from_uint, F64),
        O::F32DemoteF64 => unary!(fdemote, F32),
        O::F64PromoteF32 => unary!(fpromote, F64),
        O::I32ReinterpretF32 => bitcast(t, I32),
        O::I64ReinterpretF64 => bitcast(t, I64),
        O::F32ReinterpretI32 => bitcast(t, F32),
        O::F64ReinterpretI64 => bitcast(t, F64),

        O::I32Extend8S => extend_in_place(t, I32, types::I8),
        O::I32Extend16S => extend_in_place(t, I32, types::I16),
        O::I64Extend8S => extend_in_place(t, I64, types::I8),
        O::I64Extend16S => extend_in_place(t, I64, types::I16),
        O::I64Extend32S => extend_in_place(t, I64, I32),
        _ => return false,
    }
    true
}

fn bitcast(t: &mut Translator<'_, '_>, to: types::Type) {
    let a = t.pop_value();
    let v = t.ins().bitcast(to, cranelift_codegen::ir::MemFlagsData::new(), a);
    t.push_value(v);
}

/// Sign-extends the low `from` bits of a `ty` value in place.
fn extend_in_place(t: &mut Translator<'_, '_>, ty: types::Type, from: types::Type) {
    let a: Value = t.pop_value();
    let low = t.ins().ireduce(from, a);
    let v = t.ins().sextend(ty, low);
    t.push_value(v);
}
