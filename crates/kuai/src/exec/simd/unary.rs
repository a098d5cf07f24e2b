//! `v128 → v128` operations: bitwise not, integer abs/neg/popcnt, widening (extend,
//! pairwise add), float rounding/abs/neg/sqrt and the conversions.

use super::{V, from_u8s, from_u16s, from_u32s, from_u64s, u8s, u16s, u32s, u64s};
use crate::ir::SimdUnary;
use std::array::from_fn;

/// Rounds a float lane; a NaN becomes quiet (libm returns signaling NaNs unchanged).
fn round32(bits: u32, f: fn(f32) -> f32) -> u32 {
    let x = f32::from_bits(bits);
    if x.is_nan() { bits | 0x0040_0000 } else { f(x).to_bits() }
}

fn round64(bits: u64, f: fn(f64) -> f64) -> u64 {
    let x = f64::from_bits(bits);
    if x.is_nan() { bits | 0x0008_0000_0000_0000 } else { f(x).to_bits() }
}

/// Applies `op` to `v`.
// Inlined into each op's own handler (`exec::threaded::vector`), where `op` is a
// constant and the `match` folds away.
#[inline(always)]
pub(in crate::exec) fn unary(op: SimdUnary, v: V) -> V {
    use SimdUnary as U;
    let (b, h, w, d) = (|| u8s(v), || u16s(v), || u32s(v), || u64s(v));
    let f32s = || u32s(v).map(f32::from_bits);
    let f64s = || u64s(v).map(f64::from_bits);
    match op {
        U::V128Not => !v,
        U::I8x16Abs => from_u8s(b().map(|x| (x as i8).wrapping_abs() as u8)),
        U::I8x16Neg => from_u8s(b().map(|x| x.wrapping_neg())),
        U::I8x16Popcnt => from_u8s(b().map(|x| x.count_ones() as u8)),
        U::I16x8Abs => from_u16s(h().map(|x| (x as i16).wrapping_abs() as u16)),
        U::I16x8Neg => from_u16s(h().map(|x| x.wrapping_neg())),
        U::I32x4Abs => from_u32s(w().map(|x| (x as i32).wrapping_abs() as u32)),
        U::I32x4Neg => from_u32s(w().map(|x| x.wrapping_neg())),
        U::I64x2Abs => from_u64s(d().map(|x| (x as i64).wrapping_abs() as u64)),
        U::I64x2Neg => from_u64s(d().map(|x| x.wrapping_neg())),

        U::I16x8ExtAddPairwiseI8x16S => {
            let l = b();
            from_u16s(from_fn(|i| (l[2 * i] as i8 as i16 + l[2 * i + 1] as i8 as i16) as u16))
        }
        U::I16x8ExtAddPairwiseI8x16U => {
            let l = b();
            from_u16s(from_fn(|i| l[2 * i] as u16 + l[2 * i + 1] as u16))
        }
        U::I32x4ExtAddPairwiseI16x8S => {
            let l = h();
            from_u32s(from_fn(|i| (l[2 * i] as i16 as i32 + l[2 * i + 1] as i16 as i32) as u32))
        }
        U::I32x4ExtAddPairwiseI16x8U => {
            let l = h();
            from_u32s(from_fn(|i| l[2 * i] as u32 + l[2 * i + 1] as u32))
        }

        U::I16x8ExtendLowI8x16S => {
            let l = b();
            from_u16s(from_fn(|i| l[i] as i8 as i16 as u16))
        }
        U::I16x8ExtendHighI8x16S => {
            let l = b();
            from_u16s(from_fn(|i| l[i + 8] as i8 as i16 as u16))
        }
        U::I16x8ExtendLowI8x16U => {
            let l = b();
            from_u16s(from_fn(|i| l[i] as u16))
        }
        U::I16x8ExtendHighI8x16U => {
            let l = b();
            from_u16s(from_fn(|i| l[i + 8] as u16))
        }
        U::I32x4ExtendLowI16x8S => {
            let l = h();
            from_u32s(from_fn(|i| l[i] as i16 as i32 as u32))
        }
        U::I32x4ExtendHighI16x8S => {
            let l = h();
            from_u32s(from_fn(|i| l[i + 4] as i16 as i32 as u32))
        }
        U::I32x4ExtendLowI16x8U => {
            let l = h();
            from_u32s(from_fn(|i| l[i] as u32))
        }
        U::I32x4ExtendHighI16x8U => {
            let l = h();
            from_u32s(from_fn(|i| l[i + 4] as u32))
        }
        U::I64x2ExtendLowI32x4S => {
            let l = w();
            from_u64s(from_fn(|i| l[i] as i32 as i64 as u64))
        }
        U::I64x2ExtendHighI32x4S => {
            let l = w();
            from_u64s(from_fn(|i| l[i + 2] as i32 as i64 as u64))
        }
        U::I64x2ExtendLowI32x4U => {
            let l = w();
            from_u64s(from_fn(|i| l[i] as u64))
        }
        U::I64x2ExtendHighI32x4U => {
            let l = w();
            from_u64s(from_fn(|i| l[i + 2] as u64))
        }

        U::F32x4Ceil => from_u32s(w().map(|x| round32(x, f32::ceil))),
        U::F32x4Floor => from_u32s(w().map(|x| round32(x, f32::floor))),
        U::F32x4Trunc => from_u32s(w().map(|x| round32(x, f32::trunc))),
        U::F32x4Nearest => from_u32s(w().map(|x| round32(x, f32::round_ties_even))),
        U::F32x4Abs => from_u32s(w().map(|x| x & 0x7fff_ffff)),
        U::F32x4Neg => from_u32s(w().map(|x| x ^ 0x8000_0000)),
        U::F32x4Sqrt => from_u32s(f32s().map(|x| x.sqrt().to_bits())),
        U::F64x2Ceil => from_u64s(d().map(|x| round64(x, f64::ceil))),
        U::F64x2Floor => from_u64s(d().map(|x| round64(x, f64::floor))),
        U::F64x2Trunc => from_u64s(d().map(|x| round64(x, f64::trunc))),
        U::F64x2Nearest => from_u64s(d().map(|x| round64(x, f64::round_ties_even))),
        U::F64x2Abs => from_u64s(d().map(|x| x & 0x7fff_ffff_ffff_ffff)),
        U::F64x2Neg => from_u64s(d().map(|x| x ^ 0x8000_0000_0000_0000)),
        U::F64x2Sqrt => from_u64s(f64s().map(|x| x.sqrt().to_bits())),

        // Rust's float-to-int `as` saturates and maps NaN to 0: exactly `trunc_sat`.
        U::I32x4TruncSatF32x4S => from_u32s(f32s().map(|x| x as i32 as u32)),
        U::I32x4TruncSatF32x4U => from_u32s(f32s().map(|x| x as u32)),
        U::F32x4ConvertI32x4S => from_u32s(w().map(|x| (x as i32 as f32).to_bits())),
        U::F32x4ConvertI32x4U => from_u32s(w().map(|x| (x as f32).to_bits())),
        U::I32x4TruncSatF64x2SZero => {
            let l = f64s();
            from_u32s([l[0] as i32 as u32, l[1] as i32 as u32, 0, 0])
        }
        U::I32x4TruncSatF64x2UZero => {
            let l = f64s();
            from_u32s([l[0] as u32, l[1] as u32, 0, 0])
        }
        U::F64x2ConvertLowI32x4S => {
            let l = w();
            from_u64s(from_fn(|i| (l[i] as i32 as f64).to_bits()))
        }
        U::F64x2ConvertLowI32x4U => {
            let l = w();
            from_u64s(from_fn(|i| (l[i] as f64).to_bits()))
        }
        U::F32x4DemoteF64x2Zero => {
            let l = f64s();
            from_u32s([(l[0] as f32).to_bits(), (l[1] as f32).to_bits(), 0, 0])
        }
        U::F64x2PromoteLowF32x4 => {
            let l = f32s();
            from_u64s(from_fn(|i| (l[i] as f64).to_bits()))
        }
    }
}
