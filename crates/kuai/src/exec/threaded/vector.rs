//! Handlers of the vector instructions ([spec: vector instructions]); the lane
//! arithmetic itself is in `exec::simd`. A v128 occupies two slots, low half first.
//!
//! [spec: vector instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions

use super::super::simd;
use super::{Handler, Mem, trap};
use crate::ir::{Instr, SimdBinary, SimdShift, SimdSplat, SimdTest, SimdUnary, for_each_simd_op};
use crate::trap::Trap;

/// Defines one handler per operation code of a SIMD shape, each with its code as a
/// constant (so the lane arithmetic in `exec::simd` is specialised: no second dispatch on
/// the code), and `$lookup`, which picks the handler for an instruction of that shape.
macro_rules! per_op_handlers {
    (
        $lookup:ident, $shape:ident, $codes:ident { $($code:ident),* $(,)? },
        |$sp:ident, $fields:tt, $op:ident| $body:expr
    ) => {
        #[allow(non_snake_case)]
        mod $lookup {
            use super::*;
            $(
                /// # Safety
                /// The `Handler` contract.
                pub(super) unsafe fn $code(
                    ip: super::super::Ip,
                    $sp: super::super::Sp,
                    mem: super::super::Mem,
                    len: usize,
                    cx: &mut super::super::Cx<'_>,
                    acc: super::super::Acc,
                ) -> super::super::Done {
                    // SAFETY: `ip` points to a live op (the `Handler` contract).
                    let Instr::$shape $fields = (unsafe { *ip }).instr else {
                        // SAFETY: `lookup` installs this handler only for this shape.
                        unsafe { std::hint::unreachable_unchecked() }
                    };
                    let $op = $codes::$code;
                    $body;
                    next!(ip, $sp, mem, len, cx, acc, 1)
                }
            )*

            /// The handler of `op`.
            pub(super) fn lookup(op: $codes) -> Handler {
                match op {
                    $( $codes::$code => $code, )*
                }
            }
        }
    };
}

/// Instantiates [`per_op_handlers`] for the five shapes that carry an operation code.
macro_rules! simd_shapes {
    (
        unary { $($u:ident),* $(,)? }
        binary { $($b:ident),* $(,)? }
        test { $($t:ident),* $(,)? }
        shift { $($s:ident),* $(,)? }
        splat { $($p:ident),* $(,)? }
        load { $($l:ident),* $(,)? }
    ) => {
        per_op_handlers!(unary_ops, V128Unary, SimdUnary { $($u),* }, |sp, { dst, src, .. }, op| {
            set128!(sp, dst, simd::unary(op, get128!(sp, src)))
        });
        per_op_handlers!(binary_ops, V128Binary, SimdBinary { $($b),* }, |sp, { dst, a, b, .. }, op| {
            set128!(sp, dst, simd::binary(op, get128!(sp, a), get128!(sp, b)))
        });
        per_op_handlers!(test_ops, V128Test, SimdTest { $($t),* }, |sp, { dst, src, .. }, op| {
            set!(sp, dst, simd::test(op, get128!(sp, src)) as u64)
        });
        per_op_handlers!(shift_ops, V128Shift, SimdShift { $($s),* }, |sp, { dst, a, b, .. }, op| {
            set128!(sp, dst, simd::shift(op, get128!(sp, a), get!(sp, b) as u32))
        });
        per_op_handlers!(splat_ops, V128Splat, SimdSplat { $($p),* }, |sp, { dst, src, .. }, op| {
            set128!(sp, dst, simd::splat(op, get!(sp, src)))
        });
    };
}
for_each_simd_op!(simd_shapes);

/// The handler of a SIMD instruction that has one per operation code.
pub(super) fn per_op_lookup(instr: &Instr) -> Option<Handler> {
    Some(match *instr {
        Instr::V128Unary { op, .. } => unary_ops::lookup(op),
        Instr::V128Binary { op, .. } => binary_ops::lookup(op),
        Instr::V128Test { op, .. } => test_ops::lookup(op),
        Instr::V128Shift { op, .. } => shift_ops::lookup(op),
        Instr::V128Splat { op, .. } => splat_ops::lookup(op),
        _ => return None,
    })
}

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

/// Loads the 16 bytes at `$ea` into slots `$dst`, `$dst + 1`, or traps.
macro_rules! load128 {
    ($sp:ident, $mem:ident, $len:ident, $cx:ident, $dst:expr, $ea:expr) => {{
        let ea: usize = $ea;
        if ea + 16 > $len {
            return trap($cx, Trap::MemoryOutOfBounds);
        }
        // SAFETY: `ea + 16 <= len`, and `mem`/`len` describe the memory's bytes.
        let b: [u8; 16] = unsafe { $mem.add(ea).cast::<[u8; 16]>().read_unaligned() };
        set128!($sp, $dst, u128::from_le_bytes(b));
    }};
}

handlers! { lookup (ip, sp, mem, mem_len, cx, acc)
    V128Load { dst, addr, offset } => next {
        load128!(sp, mem, mem_len, cx, dst, get!(sp, addr) as u32 as usize + offset as usize)
    }
    V128LoadAdd { dst, base, index, offset } => next via(base, index) {
        let ea = (get!(sp, base) as u32).wrapping_add(get!(sp, index) as u32) as usize + offset as usize;
        load128!(sp, mem, mem_len, cx, dst, ea)
    }
    V128LoadAddImm { dst, base, imm, offset } => next via(base) {
        let ea = (get!(sp, base) as u32).wrapping_add(imm as u32) as usize + offset as usize;
        load128!(sp, mem, mem_len, cx, dst, ea)
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
        let (lo, mid, hi) = data!(ip, cx);
        let lanes = u128::from(lo) | u128::from(mid) << 32 | u128::from(hi) << 64;
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
