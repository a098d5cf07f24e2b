//! Handlers of the numeric instructions ([spec: numeric instructions]): integer and float
//! arithmetic, comparisons and conversions, on slots and immediates, plus `Copy` and
//! `Const64`.
//!
//! [spec: numeric instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#numeric-instructions

use super::super::numeric;

/// `dst = f(src as $t)`, the expression giving the 64-bit slot value.
macro_rules! un {
    ($sp:ident, $dst:expr, $src:expr, |$x:ident: $t:ty| $e:expr) => {{
        let $x = get!($sp, $src) as $t;
        set!($sp, $dst, $e);
    }};
}
/// `dst = f(a as u32, y)` for 32-bit integer results.
macro_rules! bin32 {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (get!($sp, $a) as u32, $b);
        set!($sp, $dst, ($e) as u64);
    }};
}
/// `dst = f(a, y)` for 64-bit integer results.
macro_rules! bin64 {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (get!($sp, $a), $b);
        set!($sp, $dst, ($e) as u64);
    }};
}
macro_rules! f32op {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (f32::from_bits(get!($sp, $a) as u32), f32::from_bits(get!($sp, $b) as u32));
        set!($sp, $dst, f32::to_bits($e) as u64);
    }};
}
macro_rules! f64op {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (getf!($sp, $a), getf!($sp, $b));
        set!($sp, $dst, f64::to_bits($e));
    }};
}
macro_rules! f32cmp {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (f32::from_bits(get!($sp, $a) as u32), f32::from_bits(get!($sp, $b) as u32));
        set!($sp, $dst, ($e) as u64);
    }};
}
macro_rules! f64cmp {
    ($sp:ident, $dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let ($x, $y) = (getf!($sp, $a), getf!($sp, $b));
        set!($sp, $dst, ($e) as u64);
    }};
}
macro_rules! f32un {
    ($sp:ident, $dst:expr, $src:expr, |$x:ident| $e:expr) => {{
        let $x = f32::from_bits(get!($sp, $src) as u32);
        set!($sp, $dst, f32::to_bits($e) as u64);
    }};
}
macro_rules! f64un {
    ($sp:ident, $dst:expr, $src:expr, |$x:ident| $e:expr) => {{
        let $x = getf!($sp, $src);
        set!($sp, $dst, f64::to_bits($e));
    }};
}
/// Rounding a NaN must give a quiet NaN; libm returns signaling NaNs unchanged.
macro_rules! f32round {
    ($sp:ident, $dst:expr, $src:expr, |$x:ident| $e:expr) => {{
        let bits = get!($sp, $src) as u32;
        let $x = f32::from_bits(bits);
        set!($sp, $dst, if $x.is_nan() { (bits | 0x0040_0000) as u64 } else { f32::to_bits($e) as u64 });
    }};
}
macro_rules! f64round {
    ($sp:ident, $dst:expr, $src:expr, |$x:ident| $e:expr) => {{
        let $x = getf!($sp, $src);
        set!($sp, $dst, if $x.is_nan() { $x.to_bits() | 0x0008_0000_0000_0000 } else { f64::to_bits($e) });
    }};
}

handlers! { lookup (ip, sp, mem, len, cx, acc)
    I32AddShl { dst, a, b, shift } => result(dst) via(a, b) {
        set!(sp, dst, (get!(sp, a) as u32).wrapping_add((get!(sp, b) as u32) << (shift & 31)) as u64)
    }
    I32XorShl { dst, a, shift } => result(dst) via(a) {
        let x = get!(sp, a) as u32;
        set!(sp, dst, (x ^ x.wrapping_shl(u32::from(shift))) as u64)
    }
    I32XorShrU { dst, a, shift } => result(dst) via(a) {
        let x = get!(sp, a) as u32;
        set!(sp, dst, (x ^ x.wrapping_shr(u32::from(shift))) as u64)
    }
    I64XorShl { dst, a, shift } => result(dst) via(a) {
        let x = get!(sp, a);
        set!(sp, dst, x ^ x.wrapping_shl(u32::from(shift)))
    }
    I64XorShrU { dst, a, shift } => result(dst) via(a) {
        let x = get!(sp, a);
        set!(sp, dst, x ^ x.wrapping_shr(u32::from(shift)))
    }
    Const64 { dst, value } => resultb(dst) { set!(sp, dst, value) }
    I32Eqz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| (x == 0) as u64) }
    I32Clz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x.leading_zeros() as u64) }
    I32Ctz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x.trailing_zeros() as u64) }
    I32Popcnt { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x.count_ones() as u64) }
    I32Extend8S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u8| x as i8 as i32 as u32 as u64) }
    I32Extend16S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u16| x as i16 as i32 as u32 as u64) }
    I64Eqz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| (x == 0) as u64) }
    I64Clz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| x.leading_zeros() as u64) }
    I64Ctz { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| x.trailing_zeros() as u64) }
    I64Popcnt { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| x.count_ones() as u64) }
    I64Extend8S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u8| x as i8 as i64 as u64) }
    I64Extend16S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u16| x as i16 as i64 as u64) }
    I64Extend32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x as i32 as i64 as u64) }
    F32Abs { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| (x & 0x7fff_ffff) as u64) }
    F32Neg { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| (x ^ 0x8000_0000) as u64) }
    F32Ceil { dst, src } => result(dst) via(src) { f32round!(sp, dst, src, |x| x.ceil()) }
    F32Floor { dst, src } => result(dst) via(src) { f32round!(sp, dst, src, |x| x.floor()) }
    F32Trunc { dst, src } => result(dst) via(src) { f32round!(sp, dst, src, |x| x.trunc()) }
    F32Nearest { dst, src } => result(dst) via(src) { f32round!(sp, dst, src, |x| x.round_ties_even()) }
    F32Sqrt { dst, src } => result(dst) via(src) { f32un!(sp, dst, src, |x| x.sqrt()) }
    F64Abs { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| x & 0x7fff_ffff_ffff_ffff) }
    F64Neg { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| x ^ 0x8000_0000_0000_0000) }
    F64Ceil { dst, src } => resultf(dst) via(src) { f64round!(sp, dst, src, |x| x.ceil()) }
    F64Floor { dst, src } => resultf(dst) via(src) { f64round!(sp, dst, src, |x| x.floor()) }
    F64Trunc { dst, src } => resultf(dst) via(src) { f64round!(sp, dst, src, |x| x.trunc()) }
    F64Nearest { dst, src } => resultf(dst) via(src) { f64round!(sp, dst, src, |x| x.round_ties_even()) }
    F64Sqrt { dst, src } => resultf(dst) via(src) { f64un!(sp, dst, src, |x| x.sqrt()) }
    I32WrapI64 { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x as u64) }
    I64ExtendI32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| x as i32 as i64 as u64) }
    I32TruncF32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| tr!(cx, numeric::i32_trunc_f32(f32::from_bits(x))) as u32 as u64) }
    I32TruncF32U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| tr!(cx, numeric::u32_trunc_f32(f32::from_bits(x))) as u64) }
    I32TruncF64S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| tr!(cx, numeric::i32_trunc_f64(f64::from_bits(x))) as u32 as u64) }
    I32TruncF64U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| tr!(cx, numeric::u32_trunc_f64(f64::from_bits(x))) as u64) }
    I64TruncF32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| tr!(cx, numeric::i64_trunc_f32(f32::from_bits(x))) as u64) }
    I64TruncF32U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| tr!(cx, numeric::u64_trunc_f32(f32::from_bits(x)))) }
    I64TruncF64S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| tr!(cx, numeric::i64_trunc_f64(f64::from_bits(x))) as u64) }
    I64TruncF64U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| tr!(cx, numeric::u64_trunc_f64(f64::from_bits(x)))) }
    I32TruncSatF32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| f32::from_bits(x) as i32 as u32 as u64) }
    I32TruncSatF32U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| f32::from_bits(x) as u32 as u64) }
    I32TruncSatF64S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| f64::from_bits(x) as i32 as u32 as u64) }
    I32TruncSatF64U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| f64::from_bits(x) as u32 as u64) }
    I64TruncSatF32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| f32::from_bits(x) as i64 as u64) }
    I64TruncSatF32U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| f32::from_bits(x) as u64) }
    I64TruncSatF64S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| f64::from_bits(x) as i64 as u64) }
    I64TruncSatF64U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| f64::from_bits(x) as u64) }
    F32ConvertI32S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| (x as i32 as f32).to_bits() as u64) }
    F32ConvertI32U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u32| (x as f32).to_bits() as u64) }
    F32ConvertI64S { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| (x as i64 as f32).to_bits() as u64) }
    F32ConvertI64U { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| (x as f32).to_bits() as u64) }
    F32DemoteF64 { dst, src } => result(dst) via(src) { un!(sp, dst, src, |x: u64| (f64::from_bits(x) as f32).to_bits() as u64) }
    F64ConvertI32S { dst, src } => resultf(dst) via(src) { un!(sp, dst, src, |x: u32| (x as i32 as f64).to_bits()) }
    F64ConvertI32U { dst, src } => resultf(dst) via(src) { un!(sp, dst, src, |x: u32| (x as f64).to_bits()) }
    F64ConvertI64S { dst, src } => resultf(dst) via(src) { un!(sp, dst, src, |x: u64| (x as i64 as f64).to_bits()) }
    F64ConvertI64U { dst, src } => resultf(dst) via(src) { un!(sp, dst, src, |x: u64| (x as f64).to_bits()) }
    F64PromoteF32 { dst, src } => resultf(dst) via(src) { un!(sp, dst, src, |x: u32| (f32::from_bits(x) as f64).to_bits()) }
    Copy { dst, src } => result(dst) via(src) { set!(sp, dst, get!(sp, src)) }
    Copy2 { d1, s1, d2, s2 } => next {
        set!(sp, u32::from(d1), get!(sp, u32::from(s1)));
        set!(sp, u32::from(d2), get!(sp, u32::from(s2)))
    }
    I32Eq { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x == y) }
    I32Ne { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x != y) }
    I32LtS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x as i32) < (y as i32)) }
    I32LtU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x < y) }
    I32GtS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x as i32) > (y as i32)) }
    I32GtU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x > y) }
    I32LeS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x as i32) <= (y as i32)) }
    I32LeU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x <= y) }
    I32GeS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x as i32) >= (y as i32)) }
    I32GeU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x >= y) }
    I32Add { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.wrapping_add(y)) }
    I32Sub { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.wrapping_sub(y)) }
    I32Mul { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.wrapping_mul(y)) }
    I32DivS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| tr!(cx, numeric::i32_div_s(x as i32, y as i32)) as u32) }
    I32DivU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| tr!(cx, numeric::i32_div_u(x, y))) }
    I32RemS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| tr!(cx, numeric::i32_rem_s(x as i32, y as i32)) as u32) }
    I32RemU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| tr!(cx, numeric::i32_rem_u(x, y))) }
    I32And { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x & y) }
    I32Or { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x | y) }
    I32Xor { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x ^ y) }
    I32Shl { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.wrapping_shl(y)) }
    I32ShrS { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x as i32).wrapping_shr(y) as u32) }
    I32ShrU { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.wrapping_shr(y)) }
    I32Rotl { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.rotate_left(y % 32)) }
    I32Rotr { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| x.rotate_right(y % 32)) }
    I32EqImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x == y) }
    I32NeImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x != y) }
    I32LtSImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm, |x, y| (x as i32) < y) }
    I32LtUImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x < y) }
    I32GtSImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm, |x, y| (x as i32) > y) }
    I32GtUImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x > y) }
    I32LeSImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm, |x, y| (x as i32) <= y) }
    I32LeUImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x <= y) }
    I32GeSImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm, |x, y| (x as i32) >= y) }
    I32GeUImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x >= y) }
    I32AddImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.wrapping_add(y)) }
    I32MulImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.wrapping_mul(y)) }
    I32AndImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x & y) }
    I32OrImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x | y) }
    I32XorImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x ^ y) }
    I32ShlImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.wrapping_shl(y)) }
    I32ShrSImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| (x as i32).wrapping_shr(y) as u32) }
    I32ShrUImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.wrapping_shr(y)) }
    I32RotlImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.rotate_left(y % 32)) }
    I32RotrImm { dst, a, imm } => result(dst) via(a) { bin32!(sp, dst, a, imm as u32, |x, y| x.rotate_right(y % 32)) }
    I64Eq { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x == y) }
    I64Ne { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x != y) }
    I64LtS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x as i64) < (y as i64)) }
    I64LtU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x < y) }
    I64GtS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x as i64) > (y as i64)) }
    I64GtU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x > y) }
    I64LeS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x as i64) <= (y as i64)) }
    I64LeU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x <= y) }
    I64GeS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x as i64) >= (y as i64)) }
    I64GeU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x >= y) }
    I64Add { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.wrapping_add(y)) }
    I64Sub { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.wrapping_sub(y)) }
    I64Mul { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.wrapping_mul(y)) }
    I64DivS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| tr!(cx, numeric::i64_div_s(x as i64, y as i64))) }
    I64DivU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| tr!(cx, numeric::i64_div_u(x, y))) }
    I64RemS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| tr!(cx, numeric::i64_rem_s(x as i64, y as i64))) }
    I64RemU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| tr!(cx, numeric::i64_rem_u(x, y))) }
    I64And { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x & y) }
    I64Or { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x | y) }
    I64Xor { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x ^ y) }
    I64Shl { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.wrapping_shl(y as u32)) }
    I64ShrS { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x as i64).wrapping_shr(y as u32)) }
    I64ShrU { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.wrapping_shr(y as u32)) }
    I64Rotl { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.rotate_left((y % 64) as u32)) }
    I64Rotr { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| x.rotate_right((y % 64) as u32)) }
    I64EqImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x == y) }
    I64NeImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x != y) }
    I64LtSImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64, |x, y| (x as i64) < y) }
    I64LtUImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x < y) }
    I64GtSImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64, |x, y| (x as i64) > y) }
    I64GtUImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x > y) }
    I64LeSImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64, |x, y| (x as i64) <= y) }
    I64LeUImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x <= y) }
    I64GeSImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64, |x, y| (x as i64) >= y) }
    I64GeUImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x >= y) }
    I64AddImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x.wrapping_add(y)) }
    I64MulImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x.wrapping_mul(y)) }
    I64AndImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x & y) }
    I64OrImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x | y) }
    I64XorImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as i64 as u64, |x, y| x ^ y) }
    I64ShlImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as u32, |x, y| x.wrapping_shl(y)) }
    I64ShrSImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as u32, |x, y| (x as i64).wrapping_shr(y)) }
    I64ShrUImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as u32, |x, y| x.wrapping_shr(y)) }
    I64RotlImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as u32, |x, y| x.rotate_left(y % 64)) }
    I64RotrImm { dst, a, imm } => result(dst) via(a) { bin64!(sp, dst, a, imm as u32, |x, y| x.rotate_right(y % 64)) }
    F32Eq { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x == y) }
    F32Ne { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x != y) }
    F32Lt { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x < y) }
    F32Gt { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x > y) }
    F32Le { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x <= y) }
    F32Ge { dst, a, b } => result(dst) via(a, b) { f32cmp!(sp, dst, a, b, |x, y| x >= y) }
    F32Add { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| x + y) }
    F32Sub { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| x - y) }
    F32Mul { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| x * y) }
    F32Div { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| x / y) }
    F32Min { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| numeric::f32_min(x, y)) }
    F32Max { dst, a, b } => result(dst) via(a, b) { f32op!(sp, dst, a, b, |x, y| numeric::f32_max(x, y)) }
    F32Copysign { dst, a, b } => result(dst) via(a, b) { bin32!(sp, dst, a, get!(sp, b) as u32, |x, y| (x & 0x7fff_ffff) | (y & 0x8000_0000)) }
    F64Eq { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x == y) }
    F64Ne { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x != y) }
    F64Lt { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x < y) }
    F64Gt { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x > y) }
    F64Le { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x <= y) }
    F64Ge { dst, a, b } => result(dst) via(a, b) { f64cmp!(sp, dst, a, b, |x, y| x >= y) }
    F64Add { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| x + y) }
    F64Sub { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| x - y) }
    F64Mul { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| x * y) }
    F64Div { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| x / y) }
    F64Min { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| numeric::f64_min(x, y)) }
    F64Max { dst, a, b } => resultf(dst) via(a, b) { f64op!(sp, dst, a, b, |x, y| numeric::f64_max(x, y)) }
    F64Copysign { dst, a, b } => result(dst) via(a, b) { bin64!(sp, dst, a, get!(sp, b), |x, y| (x & 0x7fff_ffff_ffff_ffff) | (y & 0x8000_0000_0000_0000)) }
}
