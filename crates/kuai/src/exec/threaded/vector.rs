//! Handlers of the vector instructions ([spec: vector instructions]); the lane
//! arithmetic itself is in `exec::simd`. A v128 occupies two slots, low half first.
//!
//! [spec: vector instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions

use super::super::simd;
use super::{Mem, trap};
use crate::trap::Trap;

/// The selected memory's bytes, read-only.
///
/// # Safety
/// As for `memory::bytes`: the `Handler` contract, and the slice is used only within
/// the handler.
unsafe fn bytes<'m>(mem: Mem, len: usize) -> &'m [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(mem, len) }
}

/// The selected memory's bytes, writable (same contract as [`bytes`]).
unsafe fn bytes_mut<'m>(mem: Mem, len: usize) -> &'m mut [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(mem, len) }
}

handlers! { lookup (ip, sp, mem, mem_len, cx)
    V128Load { dst, addr, offset } => next {
        let ea = get!(sp, addr) as u32 as usize + offset as usize;
        if ea + 16 > mem_len {
            return trap(cx, Trap::MemoryOutOfBounds);
        }
        // SAFETY: `ea + 16 <= len`, and `mem`/`len` describe the memory's bytes.
        let b: [u8; 16] = unsafe { mem.add(ea).cast::<[u8; 16]>().read_unaligned() };
        set128!(sp, dst, u128::from_le_bytes(b));
    }
    V128Store { addr, value, offset } => next {
        let ea = get!(sp, addr) as u32 as usize + offset as usize;
        if ea + 16 > mem_len {
            return trap(cx, Trap::MemoryOutOfBounds);
        }
        let b = get128!(sp, value).to_le_bytes();
        // SAFETY: `ea + 16 <= len`, and `mem`/`len` describe the memory's bytes.
        unsafe { mem.add(ea).cast::<[u8; 16]>().write_unaligned(b) };
    }
    V128Unary { dst, src, op } => next { set128!(sp, dst, simd::unary(op, get128!(sp, src))) }
    V128Binary { dst, a, b, op } => next { set128!(sp, dst, simd::binary(op, get128!(sp, a), get128!(sp, b))) }
    V128Test { dst, src, op } => next { set!(sp, dst, simd::test(op, get128!(sp, src)) as u64) }
    V128Shift { dst, a, b, op } => next { set128!(sp, dst, simd::shift(op, get128!(sp, a), get!(sp, b) as u32)) }
    V128Splat { dst, src, op } => next { set128!(sp, dst, simd::splat(op, get!(sp, src))) }
    V128Extract { dst, src, op, lane } => next { set!(sp, dst, simd::extract(op, lane, get128!(sp, src))) }
    V128Replace { dst, src, x, op, lane } => next {
        set128!(sp, dst, simd::replace(op, lane, get128!(sp, src), get!(sp, x)))
    }
    V128Bitselect { dst, a, b } => next2 {
        let (mask, _, _) = data!(ip, cx);
        let m = get128!(sp, mask);
        set128!(sp, dst, (get128!(sp, a) & m) | (get128!(sp, b) & !m));
    }
    I8x16Shuffle { dst, a, b } => next2 {
        let (index, _, _) = data!(ip, cx);
        let lanes = tr!(cx, cx.running_code().and_then(|c| c.shuffles.get(index as usize)).ok_or(Trap::Unreachable));
        set128!(sp, dst, simd::shuffle(lanes, get128!(sp, a), get128!(sp, b)));
    }
    V128LoadExt { dst, addr, op, offset } => next {
        let ea = get!(sp, addr) as u32 as usize + offset as usize;
        // SAFETY: the `Handler` contract; the slice lives only for this statement.
        let v = tr!(cx, simd::load(op, unsafe { bytes(mem, mem_len) }, ea));
        set128!(sp, dst, v);
    }
    V128LoadLane { dst, addr, op, lane, offset } => next2 {
        let (vector, _, _) = data!(ip, cx);
        let ea = get!(sp, addr) as u32 as usize + offset as usize;
        // SAFETY: the `Handler` contract; the slice lives only for this statement.
        let v = tr!(cx, simd::load_lane(op, lane, get128!(sp, vector), unsafe { bytes(mem, mem_len) }, ea));
        set128!(sp, dst, v);
    }
    V128StoreLane { addr, value, op, lane, offset } => next {
        let ea = get!(sp, addr) as u32 as usize + offset as usize;
        // SAFETY: the `Handler` contract; the slice lives only for this statement.
        tr!(cx, simd::store_lane(op, lane, get128!(sp, value), unsafe { bytes_mut(mem, mem_len) }, ea));
    }
}
