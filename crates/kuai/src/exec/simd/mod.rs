//! Lane semantics of the vector (SIMD) instructions, in portable Rust
//! ([spec: vector instructions]).
//!
//! A `v128` is a `u128` with lane 0 in the least significant bits (the little-endian
//! memory order). Lanes are taken apart and put together with shifts; the per-lane
//! operations are the scalar ones (float NaN rules included). Files: this one holds the
//! lane helpers and the lane-access, test, shift, splat, shuffle and memory operations;
//! `unary.rs` and `binary.rs` the arithmetic, comparison and conversion families.
//!
//! [spec: vector instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions

mod binary;
mod unary;

pub(super) use binary::binary;
pub(super) use unary::unary;

use crate::ir::{SimdLane, SimdLoad, SimdShift, SimdSplat, SimdTest, SimdUnary};
use crate::trap::Trap;
use std::array::from_fn;

/// A vector value.
pub(super) type V = u128;

macro_rules! lane_helpers {
    ($($get:ident, $put:ident, $t:ty, $n:literal);* $(;)?) => {
        $(
            /// The lanes of a vector.
            #[inline]
            pub(super) fn $get(v: V) -> [$t; $n] {
                from_fn(|i| (v >> (i * <$t>::BITS as usize)) as $t)
            }

            /// A vector from its lanes.
            #[inline]
            pub(super) fn $put(lanes: [$t; $n]) -> V {
                lanes.iter().enumerate().fold(0, |acc, (i, &x)| acc | (x as u128) << (i * <$t>::BITS as usize))
            }
        )*
    };
}

lane_helpers! {
    u8s, from_u8s, u8, 16;
    u16s, from_u16s, u16, 8;
    u32s, from_u32s, u32, 4;
    u64s, from_u64s, u64, 2;
}

/// All ones if `cond`, else zero, as a lane of type `T`.
#[inline]
pub(super) fn mask<T: From<u8> + std::ops::Not<Output = T>>(cond: bool) -> T {
    if cond { !T::from(0) } else { T::from(0) }
}

/// `v128 → i32` tests.
// Inlined into each op's own handler (`exec::threaded::vector`), where `op` is a
// constant and the `match` folds away.
#[inline(always)]
pub(super) fn test(op: SimdTest, v: V) -> u32 {
    match op {
        SimdTest::V128AnyTrue => (v != 0) as u32,
        SimdTest::I8x16AllTrue => u8s(v).iter().all(|&x| x != 0) as u32,
        SimdTest::I16x8AllTrue => u16s(v).iter().all(|&x| x != 0) as u32,
        SimdTest::I32x4AllTrue => u32s(v).iter().all(|&x| x != 0) as u32,
        SimdTest::I64x2AllTrue => u64s(v).iter().all(|&x| x != 0) as u32,
        SimdTest::I8x16Bitmask => u8s(v).iter().enumerate().fold(0, |m, (i, &x)| m | ((x >> 7) as u32) << i),
        SimdTest::I16x8Bitmask => u16s(v).iter().enumerate().fold(0, |m, (i, &x)| m | ((x >> 15) as u32) << i),
        SimdTest::I32x4Bitmask => u32s(v).iter().enumerate().fold(0, |m, (i, &x)| m | (x >> 31) << i),
        SimdTest::I64x2Bitmask => u64s(v).iter().enumerate().fold(0, |m, (i, &x)| m | ((x >> 63) as u32) << i),
    }
}

/// Lane shifts; the count is taken modulo the lane width.
// Inlined into each op's own handler (`exec::threaded::vector`), where `op` is a
// constant and the `match` folds away.
#[inline(always)]
pub(super) fn shift(op: SimdShift, v: V, n: u32) -> V {
    match op {
        SimdShift::I8x16Shl => from_u8s(u8s(v).map(|x| x.wrapping_shl(n))),
        SimdShift::I8x16ShrS => from_u8s(u8s(v).map(|x| (x as i8).wrapping_shr(n) as u8)),
        SimdShift::I8x16ShrU => from_u8s(u8s(v).map(|x| x.wrapping_shr(n))),
        SimdShift::I16x8Shl => from_u16s(u16s(v).map(|x| x.wrapping_shl(n))),
        SimdShift::I16x8ShrS => from_u16s(u16s(v).map(|x| (x as i16).wrapping_shr(n) as u16)),
        SimdShift::I16x8ShrU => from_u16s(u16s(v).map(|x| x.wrapping_shr(n))),
        SimdShift::I32x4Shl => from_u32s(u32s(v).map(|x| x.wrapping_shl(n))),
        SimdShift::I32x4ShrS => from_u32s(u32s(v).map(|x| (x as i32).wrapping_shr(n) as u32)),
        SimdShift::I32x4ShrU => from_u32s(u32s(v).map(|x| x.wrapping_shr(n))),
        SimdShift::I64x2Shl => from_u64s(u64s(v).map(|x| x.wrapping_shl(n))),
        SimdShift::I64x2ShrS => from_u64s(u64s(v).map(|x| (x as i64).wrapping_shr(n) as u64)),
        SimdShift::I64x2ShrU => from_u64s(u64s(v).map(|x| x.wrapping_shr(n))),
    }
}

/// A scalar slot copied into every lane.
// Inlined into each op's own handler (`exec::threaded::vector`), where `op` is a
// constant and the `match` folds away.
#[inline(always)]
pub(super) fn splat(op: SimdSplat, x: u64) -> V {
    match op {
        SimdSplat::I8x16Splat => from_u8s([x as u8; 16]),
        SimdSplat::I16x8Splat => from_u16s([x as u16; 8]),
        SimdSplat::I32x4Splat | SimdSplat::F32x4Splat => from_u32s([x as u32; 4]),
        SimdSplat::I64x2Splat | SimdSplat::F64x2Splat => from_u64s([x; 2]),
    }
}

/// Lane `lane` of `v` as a scalar slot (`i32` results zero-extended, as every `i32` slot).
pub(super) fn extract(op: SimdLane, lane: u8, v: V) -> u64 {
    let bits = v >> (lane as usize * op.bytes() * 8);
    match op {
        SimdLane::I8S => bits as u8 as i8 as i32 as u32 as u64,
        SimdLane::I8U => bits as u8 as u64,
        SimdLane::I16S => bits as u16 as i16 as i32 as u32 as u64,
        SimdLane::I16U => bits as u16 as u64,
        SimdLane::I32 => bits as u32 as u64,
        SimdLane::I64 => bits as u64,
    }
}

/// `v` with lane `lane` replaced by the low bits of `x`.
pub(super) fn replace(op: SimdLane, lane: u8, v: V, x: u64) -> V {
    let bits = op.bytes() * 8;
    let shift = lane as usize * bits;
    let lane_mask: u128 = if bits == 64 { u64::MAX as u128 } else { (1u128 << bits) - 1 };
    (v & !(lane_mask << shift)) | ((x as u128 & lane_mask) << shift)
}

/// `i8x16.swizzle`: lane `i` of the result is lane `b[i]` of `a`, or 0 when out of range.
pub(super) fn swizzle(a: V, b: V) -> V {
    let (a, b) = (u8s(a), u8s(b));
    from_u8s(from_fn(|i| a.get(b[i] as usize).copied().unwrap_or(0)))
}

/// `i8x16.shuffle`: lane `i` is lane `l` of the 32 lanes of `a` then `b`, where `l` is
/// bits `5 * i ..` of `lanes` (`ir::pack_lanes`).
pub(super) fn shuffle(lanes: u128, a: V, b: V) -> V {
    // One table of both operands' bytes: a branch-free lookup per lane (validation
    // guarantees lane indices below 32).
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&a.to_le_bytes());
    both[16..].copy_from_slice(&b.to_le_bytes());
    // The result is put together in two registers: writing its bytes to memory and reading
    // them back as one value would stall on the failed store forwarding.
    let (mut lo, mut hi) = (0u64, 0u64);
    for i in 0..8 {
        lo |= u64::from(both[(lanes >> (5 * i)) as usize & 31]) << (8 * i);
        hi |= u64::from(both[(lanes >> (5 * (i + 8))) as usize & 31]) << (8 * i);
    }
    u128::from(hi) << 64 | u128::from(lo)
}

/// Reads `N` bytes at `ea`, or traps.
fn read<const N: usize>(memory: &[u8], ea: usize) -> Result<[u8; N], Trap> {
    memory.get(ea..).and_then(|s| s.first_chunk::<N>()).copied().ok_or(Trap::MemoryOutOfBounds)
}

/// Loads that widen, splat or zero-extend; each reads exactly the bytes it uses.
pub(super) fn load(op: SimdLoad, memory: &[u8], ea: usize) -> Result<V, Trap> {
    let half = || read::<8>(memory, ea).map(u64::from_le_bytes);
    Ok(match op {
        // A widening load is the low-half extension of the 8 bytes it reads.
        SimdLoad::V128Load8x8S => unary(SimdUnary::I16x8ExtendLowI8x16S, half()? as V),
        SimdLoad::V128Load8x8U => unary(SimdUnary::I16x8ExtendLowI8x16U, half()? as V),
        SimdLoad::V128Load16x4S => unary(SimdUnary::I32x4ExtendLowI16x8S, half()? as V),
        SimdLoad::V128Load16x4U => unary(SimdUnary::I32x4ExtendLowI16x8U, half()? as V),
        SimdLoad::V128Load32x2S => unary(SimdUnary::I64x2ExtendLowI32x4S, half()? as V),
        SimdLoad::V128Load32x2U => unary(SimdUnary::I64x2ExtendLowI32x4U, half()? as V),
        SimdLoad::V128Load8Splat => from_u8s([read::<1>(memory, ea)?[0]; 16]),
        SimdLoad::V128Load16Splat => from_u16s([u16::from_le_bytes(read::<2>(memory, ea)?); 8]),
        SimdLoad::V128Load32Splat => from_u32s([u32::from_le_bytes(read::<4>(memory, ea)?); 4]),
        SimdLoad::V128Load64Splat => from_u64s([half()?; 2]),
        SimdLoad::V128Load32Zero => u32::from_le_bytes(read::<4>(memory, ea)?) as u128,
        SimdLoad::V128Load64Zero => half()? as u128,
    })
}

/// `v` with lane `lane` loaded from `ea`.
pub(super) fn load_lane(op: SimdLane, lane: u8, v: V, memory: &[u8], ea: usize) -> Result<V, Trap> {
    let x = match op.bytes() {
        1 => read::<1>(memory, ea)?[0] as u64,
        2 => u16::from_le_bytes(read::<2>(memory, ea)?) as u64,
        4 => u32::from_le_bytes(read::<4>(memory, ea)?) as u64,
        _ => u64::from_le_bytes(read::<8>(memory, ea)?),
    };
    Ok(replace(op, lane, v, x))
}

/// Stores lane `lane` of `v` at `ea`.
pub(super) fn store_lane(op: SimdLane, lane: u8, v: V, memory: &mut [u8], ea: usize) -> Result<(), Trap> {
    let n = op.bytes();
    let bytes = (v >> (lane as usize * n * 8)).to_le_bytes();
    let end = ea.checked_add(n).ok_or(Trap::MemoryOutOfBounds)?;
    memory.get_mut(ea..end).ok_or(Trap::MemoryOutOfBounds)?.copy_from_slice(&bytes[..n]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_takes_each_packed_lane_from_a_then_b() {
        let a: V = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
        let b: V = 0x1f1e_1d1c_1b1a_1918_1716_1514_1312_1110;
        // Byte k of `a`/`b` is k (0..31): the result's lane i must be lane index i.
        for lanes in
            [[31u8; 16], [0; 16], core::array::from_fn(|i| 31 - i as u8), core::array::from_fn(|i| (i * 7 % 32) as u8)]
        {
            let expected = u128::from_le_bytes(lanes);
            assert_eq!(shuffle(crate::ir::pack_lanes(&lanes), a, b), expected, "{lanes:?}");
        }
    }

    #[test]
    fn lanes_round_trip() {
        let v: V = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
        assert_eq!(u8s(v)[0], 0x00);
        assert_eq!(u8s(v)[15], 0x0f);
        assert_eq!(u16s(v)[1], 0x0302);
        assert_eq!(from_u32s(u32s(v)), v);
        assert_eq!(from_u64s(u64s(v)), v);
    }

    #[test]
    fn lane_access() {
        let v = splat(SimdSplat::I16x8Splat, 0xfffe);
        assert_eq!(extract(SimdLane::I16S, 3, v), 0xffff_fffe);
        assert_eq!(extract(SimdLane::I16U, 3, v), 0xfffe);
        let w = replace(SimdLane::I64, 1, 0, 7);
        assert_eq!(w, 7u128 << 64);
        assert_eq!(test(SimdTest::I8x16Bitmask, from_u8s([0x80; 16])), 0xffff);
    }

    #[test]
    fn memory_lane_ops_trap_out_of_bounds() {
        let mut memory = [1u8; 8];
        assert_eq!(load(SimdLoad::V128Load64Splat, &memory, 1), Err(Trap::MemoryOutOfBounds));
        assert_eq!(load(SimdLoad::V128Load8Splat, &memory, 7), Ok(from_u8s([1; 16])));
        assert_eq!(store_lane(SimdLane::I32, 0, 0, &mut memory, 5), Err(Trap::MemoryOutOfBounds));
    }
}
