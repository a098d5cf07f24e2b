//! `v128 × v128 → v128` operations: bitwise, lane arithmetic (wrapping, saturating,
//! min/max, average, Q15 multiply, dot product, extended multiply), comparisons
//! (all-ones lanes for true), narrowing, swizzle and float arithmetic.

use super::{V, from_u8s, from_u16s, from_u32s, from_u64s, mask, swizzle, u8s, u16s, u32s, u64s};
use crate::exec::numeric::{f32_max, f32_min, f64_max, f64_min};
use crate::ir::SimdBinary;
use std::array::from_fn;

macro_rules! zip {
    ($get:ident, $put:ident, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
        let (l, r) = ($get($a), $get($b));
        $put(from_fn(|i| {
            let ($x, $y) = (l[i], r[i]);
            $e
        }))
    }};
}

fn zip_f32(a: V, b: V, f: impl Fn(f32, f32) -> f32) -> V {
    zip!(u32s, from_u32s, a, b, |x, y| f(f32::from_bits(x), f32::from_bits(y)).to_bits())
}

fn zip_f64(a: V, b: V, f: impl Fn(f64, f64) -> f64) -> V {
    zip!(u64s, from_u64s, a, b, |x, y| f(f64::from_bits(x), f64::from_bits(y)).to_bits())
}

fn cmp_f32(a: V, b: V, f: impl Fn(f32, f32) -> bool) -> V {
    zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(f(f32::from_bits(x), f32::from_bits(y))))
}

fn cmp_f64(a: V, b: V, f: impl Fn(f64, f64) -> bool) -> V {
    zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>(f(f64::from_bits(x), f64::from_bits(y))))
}

/// Pseudo-minimum: `b < a ? b : a`, returning the chosen operand's exact bits.
fn pmin_bits<F: PartialOrd>(a: F, b: F, ab: (u64, u64)) -> u64 {
    if b < a { ab.1 } else { ab.0 }
}

/// Applies `op` to `a` and `b`.
// Inlined into each op's own handler (`exec::threaded::vector`), where `op` is a
// constant and the `match` folds away.
#[inline(always)]
pub(in crate::exec) fn binary(op: SimdBinary, a: V, b: V) -> V {
    use SimdBinary as B;
    match op {
        B::I8x16Swizzle => swizzle(a, b),
        B::V128And => a & b,
        B::V128AndNot => a & !b,
        B::V128Or => a | b,
        B::V128Xor => a ^ b,

        B::I8x16Eq => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x == y)),
        B::I8x16Ne => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x != y)),
        B::I8x16LtS => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>((x as i8) < (y as i8))),
        B::I8x16LtU => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x < y)),
        B::I8x16GtS => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>((x as i8) > (y as i8))),
        B::I8x16GtU => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x > y)),
        B::I8x16LeS => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>((x as i8) <= (y as i8))),
        B::I8x16LeU => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x <= y)),
        B::I8x16GeS => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>((x as i8) >= (y as i8))),
        B::I8x16GeU => zip!(u8s, from_u8s, a, b, |x, y| mask::<u8>(x >= y)),
        B::I16x8Eq => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x == y)),
        B::I16x8Ne => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x != y)),
        B::I16x8LtS => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>((x as i16) < (y as i16))),
        B::I16x8LtU => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x < y)),
        B::I16x8GtS => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>((x as i16) > (y as i16))),
        B::I16x8GtU => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x > y)),
        B::I16x8LeS => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>((x as i16) <= (y as i16))),
        B::I16x8LeU => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x <= y)),
        B::I16x8GeS => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>((x as i16) >= (y as i16))),
        B::I16x8GeU => zip!(u16s, from_u16s, a, b, |x, y| mask::<u16>(x >= y)),
        B::I32x4Eq => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x == y)),
        B::I32x4Ne => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x != y)),
        B::I32x4LtS => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>((x as i32) < (y as i32))),
        B::I32x4LtU => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x < y)),
        B::I32x4GtS => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>((x as i32) > (y as i32))),
        B::I32x4GtU => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x > y)),
        B::I32x4LeS => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>((x as i32) <= (y as i32))),
        B::I32x4LeU => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x <= y)),
        B::I32x4GeS => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>((x as i32) >= (y as i32))),
        B::I32x4GeU => zip!(u32s, from_u32s, a, b, |x, y| mask::<u32>(x >= y)),
        B::I64x2Eq => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>(x == y)),
        B::I64x2Ne => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>(x != y)),
        B::I64x2LtS => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>((x as i64) < (y as i64))),
        B::I64x2GtS => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>((x as i64) > (y as i64))),
        B::I64x2LeS => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>((x as i64) <= (y as i64))),
        B::I64x2GeS => zip!(u64s, from_u64s, a, b, |x, y| mask::<u64>((x as i64) >= (y as i64))),
        B::F32x4Eq => cmp_f32(a, b, |x, y| x == y),
        B::F32x4Ne => cmp_f32(a, b, |x, y| x != y),
        B::F32x4Lt => cmp_f32(a, b, |x, y| x < y),
        B::F32x4Gt => cmp_f32(a, b, |x, y| x > y),
        B::F32x4Le => cmp_f32(a, b, |x, y| x <= y),
        B::F32x4Ge => cmp_f32(a, b, |x, y| x >= y),
        B::F64x2Eq => cmp_f64(a, b, |x, y| x == y),
        B::F64x2Ne => cmp_f64(a, b, |x, y| x != y),
        B::F64x2Lt => cmp_f64(a, b, |x, y| x < y),
        B::F64x2Gt => cmp_f64(a, b, |x, y| x > y),
        B::F64x2Le => cmp_f64(a, b, |x, y| x <= y),
        B::F64x2Ge => cmp_f64(a, b, |x, y| x >= y),

        B::I8x16NarrowI16x8S | B::I8x16NarrowI16x8U => {
            let (l, r) = (u16s(a), u16s(b));
            let signed = op == B::I8x16NarrowI16x8S;
            from_u8s(from_fn(|i| {
                let x = if i < 8 { l[i] } else { r[i - 8] } as i16;
                if signed { x.clamp(i8::MIN as i16, i8::MAX as i16) as i8 as u8 } else { x.clamp(0, 255) as u8 }
            }))
        }
        B::I16x8NarrowI32x4S | B::I16x8NarrowI32x4U => {
            let (l, r) = (u32s(a), u32s(b));
            let signed = op == B::I16x8NarrowI32x4S;
            from_u16s(from_fn(|i| {
                let x = if i < 4 { l[i] } else { r[i - 4] } as i32;
                if signed {
                    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
                } else {
                    x.clamp(0, u16::MAX as i32) as u16
                }
            }))
        }

        B::I8x16Add => zip!(u8s, from_u8s, a, b, |x, y| x.wrapping_add(y)),
        B::I8x16AddSatS => zip!(u8s, from_u8s, a, b, |x, y| (x as i8).saturating_add(y as i8) as u8),
        B::I8x16AddSatU => zip!(u8s, from_u8s, a, b, |x, y| x.saturating_add(y)),
        B::I8x16Sub => zip!(u8s, from_u8s, a, b, |x, y| x.wrapping_sub(y)),
        B::I8x16SubSatS => zip!(u8s, from_u8s, a, b, |x, y| (x as i8).saturating_sub(y as i8) as u8),
        B::I8x16SubSatU => zip!(u8s, from_u8s, a, b, |x, y| x.saturating_sub(y)),
        B::I8x16MinS => zip!(u8s, from_u8s, a, b, |x, y| (x as i8).min(y as i8) as u8),
        B::I8x16MinU => zip!(u8s, from_u8s, a, b, |x, y| x.min(y)),
        B::I8x16MaxS => zip!(u8s, from_u8s, a, b, |x, y| (x as i8).max(y as i8) as u8),
        B::I8x16MaxU => zip!(u8s, from_u8s, a, b, |x, y| x.max(y)),
        B::I8x16AvgrU => zip!(u8s, from_u8s, a, b, |x, y| ((x as u16 + y as u16).div_ceil(2)) as u8),
        B::I16x8Add => zip!(u16s, from_u16s, a, b, |x, y| x.wrapping_add(y)),
        B::I16x8AddSatS => zip!(u16s, from_u16s, a, b, |x, y| (x as i16).saturating_add(y as i16) as u16),
        B::I16x8AddSatU => zip!(u16s, from_u16s, a, b, |x, y| x.saturating_add(y)),
        B::I16x8Sub => zip!(u16s, from_u16s, a, b, |x, y| x.wrapping_sub(y)),
        B::I16x8SubSatS => zip!(u16s, from_u16s, a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16),
        B::I16x8SubSatU => zip!(u16s, from_u16s, a, b, |x, y| x.saturating_sub(y)),
        B::I16x8Mul => zip!(u16s, from_u16s, a, b, |x, y| x.wrapping_mul(y)),
        B::I16x8MinS => zip!(u16s, from_u16s, a, b, |x, y| (x as i16).min(y as i16) as u16),
        B::I16x8MinU => zip!(u16s, from_u16s, a, b, |x, y| x.min(y)),
        B::I16x8MaxS => zip!(u16s, from_u16s, a, b, |x, y| (x as i16).max(y as i16) as u16),
        B::I16x8MaxU => zip!(u16s, from_u16s, a, b, |x, y| x.max(y)),
        B::I16x8AvgrU => zip!(u16s, from_u16s, a, b, |x, y| ((x as u32 + y as u32).div_ceil(2)) as u16),
        B::I16x8Q15MulrSatS => zip!(u16s, from_u16s, a, b, |x, y| {
            let p = (x as i16 as i32 * y as i16 as i32 + 0x4000) >> 15;
            p.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
        }),
        B::I16x8ExtMulLowI8x16S => ext_mul_16(a, b, 0, true),
        B::I16x8ExtMulHighI8x16S => ext_mul_16(a, b, 8, true),
        B::I16x8ExtMulLowI8x16U => ext_mul_16(a, b, 0, false),
        B::I16x8ExtMulHighI8x16U => ext_mul_16(a, b, 8, false),
        B::I32x4Add => zip!(u32s, from_u32s, a, b, |x, y| x.wrapping_add(y)),
        B::I32x4Sub => zip!(u32s, from_u32s, a, b, |x, y| x.wrapping_sub(y)),
        B::I32x4Mul => zip!(u32s, from_u32s, a, b, |x, y| x.wrapping_mul(y)),
        B::I32x4MinS => zip!(u32s, from_u32s, a, b, |x, y| (x as i32).min(y as i32) as u32),
        B::I32x4MinU => zip!(u32s, from_u32s, a, b, |x, y| x.min(y)),
        B::I32x4MaxS => zip!(u32s, from_u32s, a, b, |x, y| (x as i32).max(y as i32) as u32),
        B::I32x4MaxU => zip!(u32s, from_u32s, a, b, |x, y| x.max(y)),
        B::I32x4DotI16x8S => {
            let (l, r) = (u16s(a), u16s(b));
            let p = |i: usize| l[i] as i16 as i32 * r[i] as i16 as i32;
            from_u32s(from_fn(|i| p(2 * i).wrapping_add(p(2 * i + 1)) as u32))
        }
        B::I32x4ExtMulLowI16x8S => ext_mul_32(a, b, 0, true),
        B::I32x4ExtMulHighI16x8S => ext_mul_32(a, b, 4, true),
        B::I32x4ExtMulLowI16x8U => ext_mul_32(a, b, 0, false),
        B::I32x4ExtMulHighI16x8U => ext_mul_32(a, b, 4, false),
        B::I64x2Add => zip!(u64s, from_u64s, a, b, |x, y| x.wrapping_add(y)),
        B::I64x2Sub => zip!(u64s, from_u64s, a, b, |x, y| x.wrapping_sub(y)),
        B::I64x2Mul => zip!(u64s, from_u64s, a, b, |x, y| x.wrapping_mul(y)),
        B::I64x2ExtMulLowI32x4S => ext_mul_64(a, b, 0, true),
        B::I64x2ExtMulHighI32x4S => ext_mul_64(a, b, 2, true),
        B::I64x2ExtMulLowI32x4U => ext_mul_64(a, b, 0, false),
        B::I64x2ExtMulHighI32x4U => ext_mul_64(a, b, 2, false),

        B::F32x4Add => zip_f32(a, b, |x, y| x + y),
        B::F32x4Sub => zip_f32(a, b, |x, y| x - y),
        B::F32x4Mul => zip_f32(a, b, |x, y| x * y),
        B::F32x4Div => zip_f32(a, b, |x, y| x / y),
        B::F32x4Min => zip_f32(a, b, f32_min),
        B::F32x4Max => zip_f32(a, b, f32_max),
        B::F32x4PMin => zip!(u32s, from_u32s, a, b, |x, y| {
            pmin_bits(f32::from_bits(x), f32::from_bits(y), (x as u64, y as u64)) as u32
        }),
        B::F32x4PMax => zip!(u32s, from_u32s, a, b, |x, y| {
            pmin_bits(f32::from_bits(y), f32::from_bits(x), (x as u64, y as u64)) as u32
        }),
        B::F64x2Add => zip_f64(a, b, |x, y| x + y),
        B::F64x2Sub => zip_f64(a, b, |x, y| x - y),
        B::F64x2Mul => zip_f64(a, b, |x, y| x * y),
        B::F64x2Div => zip_f64(a, b, |x, y| x / y),
        B::F64x2Min => zip_f64(a, b, f64_min),
        B::F64x2Max => zip_f64(a, b, f64_max),
        B::F64x2PMin => zip!(u64s, from_u64s, a, b, |x, y| pmin_bits(f64::from_bits(x), f64::from_bits(y), (x, y))),
        B::F64x2PMax => zip!(u64s, from_u64s, a, b, |x, y| pmin_bits(f64::from_bits(y), f64::from_bits(x), (x, y))),
    }
}

/// Extended multiply of 8-bit lanes `from..from + 8` into 16-bit lanes.
fn ext_mul_16(a: V, b: V, from: usize, signed: bool) -> V {
    let (l, r) = (u8s(a), u8s(b));
    from_u16s(from_fn(|i| {
        let (x, y) = (l[from + i], r[from + i]);
        if signed { (x as i8 as i16).wrapping_mul(y as i8 as i16) as u16 } else { x as u16 * y as u16 }
    }))
}

/// Extended multiply of 16-bit lanes `from..from + 4` into 32-bit lanes.
fn ext_mul_32(a: V, b: V, from: usize, signed: bool) -> V {
    let (l, r) = (u16s(a), u16s(b));
    from_u32s(from_fn(|i| {
        let (x, y) = (l[from + i], r[from + i]);
        if signed { (x as i16 as i32).wrapping_mul(y as i16 as i32) as u32 } else { x as u32 * y as u32 }
    }))
}

/// Extended multiply of 32-bit lanes `from..from + 2` into 64-bit lanes.
fn ext_mul_64(a: V, b: V, from: usize, signed: bool) -> V {
    let (l, r) = (u32s(a), u32s(b));
    from_u64s(from_fn(|i| {
        let (x, y) = (l[from + i], r[from + i]);
        if signed { (x as i32 as i64).wrapping_mul(y as i32 as i64) as u64 } else { x as u64 * y as u64 }
    }))
}
