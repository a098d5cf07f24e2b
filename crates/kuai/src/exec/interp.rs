//! The interpreter loop: one `match` over [`Instr`] per instruction.
//!
//! State lives in locals the compiler can keep in registers: the instruction slice and
//! `pc`, the frame's slot window `regs`, and the instance's memory. A call saves `pc` in
//! the caller's frame, pushes the callee's frame and restarts the outer loop, which
//! reloads that state for the new top frame; a return pops and does the same. See
//! docs/RATIONALE.md ("Why a `match` loop?") for the dispatch choice.

use super::{Exit, Fault, Stack};
use super::{numeric, simd};
use crate::ir::Instr;
use crate::runtime::func::FuncKind;
use crate::runtime::store::StoreInner;
use crate::runtime::{MemoryData, TableData};
use crate::trap::Trap;
use crate::types::{Limits, MemoryType};

/// Mutable references to two distinct tables, or one if they are the same.
fn two_tables(tables: &mut [TableData], a: usize, b: usize) -> (&mut TableData, Option<&TableData>) {
    if a == b {
        return (&mut tables[a], None);
    }
    if a < b {
        let (lo, hi) = tables.split_at_mut(b);
        (&mut lo[a], Some(&hi[0]))
    } else {
        let (lo, hi) = tables.split_at_mut(a);
        (&mut hi[0], Some(&lo[b]))
    }
}

/// `start..start + len` if it lies within `0..bound`.
fn range(start: u64, len: u64, bound: usize) -> Result<std::ops::Range<usize>, ()> {
    let end = start.checked_add(len).ok_or(())?;
    if end > bound as u64 {
        return Err(());
    }
    Ok(start as usize..end as usize)
}

/// Runs the top frame until the frame at `depth` returns, a host call is needed, or a trap.
pub(super) fn run(store: &mut StoreInner, depth: usize) -> Result<Exit, Fault> {
    let StoreInner { funcs, instances, segments, memories, tables, globals, stack, .. } = store;
    let instances = &*instances;
    let mut no_memory = MemoryData { ty: MemoryType { limits: Limits { min: 0, max: Some(0) } }, bytes: Vec::new() };
    'frame: loop {
        let Some(frame) = stack.frames.last() else {
            return Ok(Exit::Returned);
        };
        let inst = &instances[frame.instance as usize];
        let segs = &mut segments[frame.instance as usize];
        // `Stack::push` translated the function before pushing its frame.
        let Some(func) = inst.module.inner.compiled[frame.def as usize].get() else {
            return Err(Fault::Trap(Trap::Unreachable));
        };
        let code: &[Instr] = &func.code;
        let mut pc = frame.pc;
        let base = frame.base;
        let Stack { slots, frames, meter, .. } = &mut *stack;
        let regs = &mut slots[base..base + func.frame_size as usize];
        let mut mem: &mut MemoryData = match inst.memories.first() {
            Some(&m) => &mut memories[m as usize],
            None => &mut no_memory,
        };

        macro_rules! r {
            ($s:expr) => {
                regs[$s as usize]
            };
        }
        // A `v128` operand: two slots, low half first.
        macro_rules! v {
            ($s:expr) => {
                r!($s) as u128 | (r!($s + 1) as u128) << 64
            };
        }
        macro_rules! set_v {
            ($s:expr, $v:expr) => {{
                let v: u128 = $v;
                r!($s) = v as u64;
                r!($s + 1) = (v >> 64) as u64;
            }};
        }
        macro_rules! un {
            ($dst:expr, $src:expr, |$x:ident: $t:ty| $e:expr) => {{
                let $x = r!($src) as $t;
                r!($dst) = $e;
            }};
        }
        macro_rules! bin32 {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (r!($a) as u32, $b);
                r!($dst) = ($e) as u64;
            }};
        }
        macro_rules! bin64 {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (r!($a), $b);
                r!($dst) = ($e) as u64;
            }};
        }
        macro_rules! f32op {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (f32::from_bits(r!($a) as u32), f32::from_bits(r!($b) as u32));
                r!($dst) = f32::to_bits($e) as u64;
            }};
        }
        macro_rules! f64op {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (f64::from_bits(r!($a)), f64::from_bits(r!($b)));
                r!($dst) = f64::to_bits($e);
            }};
        }
        macro_rules! f32cmp {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (f32::from_bits(r!($a) as u32), f32::from_bits(r!($b) as u32));
                r!($dst) = ($e) as u64;
            }};
        }
        macro_rules! f64cmp {
            ($dst:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (f64::from_bits(r!($a)), f64::from_bits(r!($b)));
                r!($dst) = ($e) as u64;
            }};
        }
        macro_rules! f32un {
            ($dst:expr, $src:expr, |$x:ident| $e:expr) => {{
                let $x = f32::from_bits(r!($src) as u32);
                r!($dst) = f32::to_bits($e) as u64;
            }};
        }
        // Rounding a NaN must give a quiet NaN; libm returns signaling NaNs unchanged.
        macro_rules! f32round {
            ($dst:expr, $src:expr, |$x:ident| $e:expr) => {{
                let bits = r!($src) as u32;
                let $x = f32::from_bits(bits);
                r!($dst) = if $x.is_nan() { (bits | 0x0040_0000) as u64 } else { f32::to_bits($e) as u64 };
            }};
        }
        macro_rules! f64round {
            ($dst:expr, $src:expr, |$x:ident| $e:expr) => {{
                let bits = r!($src);
                let $x = f64::from_bits(bits);
                r!($dst) = if $x.is_nan() { bits | 0x0008_0000_0000_0000 } else { f64::to_bits($e) };
            }};
        }
        macro_rules! f64un {
            ($dst:expr, $src:expr, |$x:ident| $e:expr) => {{
                let $x = f64::from_bits(r!($src));
                r!($dst) = f64::to_bits($e);
            }};
        }
        macro_rules! load {
            ($dst:expr, $addr:expr, $offset:expr, $n:literal, |$b:ident| $e:expr) => {{
                let ea = r!($addr) as u32 as usize + $offset as usize;
                let $b = *mem.bytes.get(ea..).and_then(|s| s.first_chunk::<$n>()).ok_or(Trap::MemoryOutOfBounds)?;
                r!($dst) = $e;
            }};
        }
        macro_rules! store {
            ($addr:expr, $value:expr, $offset:expr, $n:literal, |$v:ident| $e:expr) => {{
                let ea = r!($addr) as u32 as usize + $offset as usize;
                let $v = r!($value);
                let dst =
                    mem.bytes.get_mut(ea..).and_then(|s| s.first_chunk_mut::<$n>()).ok_or(Trap::MemoryOutOfBounds)?;
                *dst = $e;
            }};
        }
        macro_rules! branch {
            ($cond:expr, $target:expr) => {
                if $cond {
                    pc = $target as usize;
                }
            };
        }
        macro_rules! data_word {
            () => {{
                let Instr::Data { a, b, .. } = code[pc] else {
                    return Err(Fault::Trap(Trap::Unreachable));
                };
                pc += 1;
                (a, b)
            }};
        }
        macro_rules! call {
            ($target:expr, $args:expr, $metered:expr) => {{
                let target = $target;
                let args = base + $args as usize;
                if let Some(f) = frames.last_mut() {
                    f.pc = pc;
                }
                match funcs[target as usize].kind {
                    FuncKind::Wasm { .. } => {
                        stack.push(funcs, instances, target, args, $metered)?;
                        continue 'frame;
                    }
                    FuncKind::Host { .. } => return Ok(Exit::Host { func: target, args }),
                }
            }};
        }
        // The store function a `call_indirect` through `site` with table index `index` calls.
        macro_rules! indirect_target {
            ($site:expr, $index:expr) => {{
                let site = func.indirect[$site as usize];
                let table = &tables[inst.tables[site.table as usize] as usize];
                let elem = *table.elems.get(r!($index) as u32 as usize).ok_or(Trap::UndefinedElement)?;
                let target = elem.checked_sub(1).ok_or(Trap::UninitializedElement)? as u32;
                if funcs[target as usize].type_id != site.type_id {
                    return Err(Fault::Trap(Trap::IndirectCallTypeMismatch));
                }
                target
            }};
        }
        macro_rules! ret {
            () => {{
                frames.pop();
                if frames.len() <= depth {
                    return Ok(Exit::Returned);
                }
                continue 'frame;
            }};
        }

        loop {
            let instr = code[pc];
            pc += 1;
            match instr {
                Instr::I32Eqz { dst, src } => un!(dst, src, |x: u32| (x == 0) as u64),
                Instr::I32Clz { dst, src } => un!(dst, src, |x: u32| x.leading_zeros() as u64),
                Instr::I32Ctz { dst, src } => un!(dst, src, |x: u32| x.trailing_zeros() as u64),
                Instr::I32Popcnt { dst, src } => un!(dst, src, |x: u32| x.count_ones() as u64),
                Instr::I32Extend8S { dst, src } => {
                    un!(dst, src, |x: u8| x as i8 as i32 as u32 as u64)
                }
                Instr::I32Extend16S { dst, src } => {
                    un!(dst, src, |x: u16| x as i16 as i32 as u32 as u64)
                }
                Instr::I64Eqz { dst, src } => un!(dst, src, |x: u64| (x == 0) as u64),
                Instr::I64Clz { dst, src } => un!(dst, src, |x: u64| x.leading_zeros() as u64),
                Instr::I64Ctz { dst, src } => un!(dst, src, |x: u64| x.trailing_zeros() as u64),
                Instr::I64Popcnt { dst, src } => un!(dst, src, |x: u64| x.count_ones() as u64),
                Instr::I64Extend8S { dst, src } => un!(dst, src, |x: u8| x as i8 as i64 as u64),
                Instr::I64Extend16S { dst, src } => un!(dst, src, |x: u16| x as i16 as i64 as u64),
                Instr::I64Extend32S { dst, src } => un!(dst, src, |x: u32| x as i32 as i64 as u64),
                Instr::F32Abs { dst, src } => un!(dst, src, |x: u32| (x & 0x7fff_ffff) as u64),
                Instr::F32Neg { dst, src } => un!(dst, src, |x: u32| (x ^ 0x8000_0000) as u64),
                Instr::F32Ceil { dst, src } => f32round!(dst, src, |x| x.ceil()),
                Instr::F32Floor { dst, src } => f32round!(dst, src, |x| x.floor()),
                Instr::F32Trunc { dst, src } => f32round!(dst, src, |x| x.trunc()),
                Instr::F32Nearest { dst, src } => f32round!(dst, src, |x| x.round_ties_even()),
                Instr::F32Sqrt { dst, src } => f32un!(dst, src, |x| x.sqrt()),
                Instr::F64Abs { dst, src } => un!(dst, src, |x: u64| x & 0x7fff_ffff_ffff_ffff),
                Instr::F64Neg { dst, src } => un!(dst, src, |x: u64| x ^ 0x8000_0000_0000_0000),
                Instr::F64Ceil { dst, src } => f64round!(dst, src, |x| x.ceil()),
                Instr::F64Floor { dst, src } => f64round!(dst, src, |x| x.floor()),
                Instr::F64Trunc { dst, src } => f64round!(dst, src, |x| x.trunc()),
                Instr::F64Nearest { dst, src } => f64round!(dst, src, |x| x.round_ties_even()),
                Instr::F64Sqrt { dst, src } => f64un!(dst, src, |x| x.sqrt()),
                Instr::I32WrapI64 { dst, src } => un!(dst, src, |x: u32| x as u64),
                Instr::I64ExtendI32S { dst, src } => un!(dst, src, |x: u32| x as i32 as i64 as u64),
                Instr::I32TruncF32S { dst, src } => {
                    un!(dst, src, |x: u32| numeric::i32_trunc_f32(f32::from_bits(x))? as u32 as u64)
                }
                Instr::I32TruncF32U { dst, src } => {
                    un!(dst, src, |x: u32| numeric::u32_trunc_f32(f32::from_bits(x))? as u64)
                }
                Instr::I32TruncF64S { dst, src } => {
                    un!(dst, src, |x: u64| numeric::i32_trunc_f64(f64::from_bits(x))? as u32 as u64)
                }
                Instr::I32TruncF64U { dst, src } => {
                    un!(dst, src, |x: u64| numeric::u32_trunc_f64(f64::from_bits(x))? as u64)
                }
                Instr::I64TruncF32S { dst, src } => {
                    un!(dst, src, |x: u32| numeric::i64_trunc_f32(f32::from_bits(x))? as u64)
                }
                Instr::I64TruncF32U { dst, src } => un!(dst, src, |x: u32| numeric::u64_trunc_f32(f32::from_bits(x))?),
                Instr::I64TruncF64S { dst, src } => {
                    un!(dst, src, |x: u64| numeric::i64_trunc_f64(f64::from_bits(x))? as u64)
                }
                Instr::I64TruncF64U { dst, src } => un!(dst, src, |x: u64| numeric::u64_trunc_f64(f64::from_bits(x))?),
                Instr::I32TruncSatF32S { dst, src } => {
                    un!(dst, src, |x: u32| f32::from_bits(x) as i32 as u32 as u64)
                }
                Instr::I32TruncSatF32U { dst, src } => {
                    un!(dst, src, |x: u32| f32::from_bits(x) as u32 as u64)
                }
                Instr::I32TruncSatF64S { dst, src } => {
                    un!(dst, src, |x: u64| f64::from_bits(x) as i32 as u32 as u64)
                }
                Instr::I32TruncSatF64U { dst, src } => {
                    un!(dst, src, |x: u64| f64::from_bits(x) as u32 as u64)
                }
                Instr::I64TruncSatF32S { dst, src } => {
                    un!(dst, src, |x: u32| f32::from_bits(x) as i64 as u64)
                }
                Instr::I64TruncSatF32U { dst, src } => {
                    un!(dst, src, |x: u32| f32::from_bits(x) as u64)
                }
                Instr::I64TruncSatF64S { dst, src } => {
                    un!(dst, src, |x: u64| f64::from_bits(x) as i64 as u64)
                }
                Instr::I64TruncSatF64U { dst, src } => {
                    un!(dst, src, |x: u64| f64::from_bits(x) as u64)
                }
                Instr::F32ConvertI32S { dst, src } => {
                    un!(dst, src, |x: u32| (x as i32 as f32).to_bits() as u64)
                }
                Instr::F32ConvertI32U { dst, src } => {
                    un!(dst, src, |x: u32| (x as f32).to_bits() as u64)
                }
                Instr::F32ConvertI64S { dst, src } => {
                    un!(dst, src, |x: u64| (x as i64 as f32).to_bits() as u64)
                }
                Instr::F32ConvertI64U { dst, src } => {
                    un!(dst, src, |x: u64| (x as f32).to_bits() as u64)
                }
                Instr::F32DemoteF64 { dst, src } => {
                    un!(dst, src, |x: u64| (f64::from_bits(x) as f32).to_bits() as u64)
                }
                Instr::F64ConvertI32S { dst, src } => {
                    un!(dst, src, |x: u32| (x as i32 as f64).to_bits())
                }
                Instr::F64ConvertI32U { dst, src } => un!(dst, src, |x: u32| (x as f64).to_bits()),
                Instr::F64ConvertI64S { dst, src } => {
                    un!(dst, src, |x: u64| (x as i64 as f64).to_bits())
                }
                Instr::F64ConvertI64U { dst, src } => un!(dst, src, |x: u64| (x as f64).to_bits()),
                Instr::F64PromoteF32 { dst, src } => {
                    un!(dst, src, |x: u32| (f32::from_bits(x) as f64).to_bits())
                }
                Instr::Copy { dst, src } => r!(dst) = r!(src),

                Instr::I32Eq { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x == y),
                Instr::I32Ne { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x != y),
                Instr::I32LtS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| (x as i32) < (y as i32))
                }
                Instr::I32LtU { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x < y),
                Instr::I32GtS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| (x as i32) > (y as i32))
                }
                Instr::I32GtU { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x > y),
                Instr::I32LeS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| (x as i32) <= (y as i32))
                }
                Instr::I32LeU { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x <= y),
                Instr::I32GeS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| (x as i32) >= (y as i32))
                }
                Instr::I32GeU { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x >= y),
                Instr::I32Add { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.wrapping_add(y))
                }
                Instr::I32Sub { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.wrapping_sub(y))
                }
                Instr::I32Mul { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.wrapping_mul(y))
                }
                Instr::I32DivS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| numeric::i32_div_s(x as i32, y as i32)? as u32)
                }
                Instr::I32DivU { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| numeric::i32_div_u(x, y)?)
                }
                Instr::I32RemS { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| numeric::i32_rem_s(x as i32, y as i32)? as u32)
                }
                Instr::I32RemU { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| numeric::i32_rem_u(x, y)?)
                }
                Instr::I32And { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x & y),
                Instr::I32Or { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x | y),
                Instr::I32Xor { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| x ^ y),
                Instr::I32Shl { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.wrapping_shl(y))
                }
                Instr::I32ShrS { dst, a, b } => bin32!(dst, a, r!(b) as u32, |x, y| (x as i32).wrapping_shr(y) as u32),
                Instr::I32ShrU { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.wrapping_shr(y))
                }
                Instr::I32Rotl { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.rotate_left(y % 32))
                }
                Instr::I32Rotr { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| x.rotate_right(y % 32))
                }

                Instr::I32EqImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x == y),
                Instr::I32NeImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x != y),
                Instr::I32LtSImm { dst, a, imm } => bin32!(dst, a, imm, |x, y| (x as i32) < y),
                Instr::I32LtUImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x < y),
                Instr::I32GtSImm { dst, a, imm } => bin32!(dst, a, imm, |x, y| (x as i32) > y),
                Instr::I32GtUImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x > y),
                Instr::I32LeSImm { dst, a, imm } => bin32!(dst, a, imm, |x, y| (x as i32) <= y),
                Instr::I32LeUImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x <= y),
                Instr::I32GeSImm { dst, a, imm } => bin32!(dst, a, imm, |x, y| (x as i32) >= y),
                Instr::I32GeUImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x >= y),
                Instr::I32AddImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.wrapping_add(y))
                }
                Instr::I32MulImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.wrapping_mul(y))
                }
                Instr::I32AndImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x & y),
                Instr::I32OrImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x | y),
                Instr::I32XorImm { dst, a, imm } => bin32!(dst, a, imm as u32, |x, y| x ^ y),
                Instr::I32ShlImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.wrapping_shl(y))
                }
                Instr::I32ShrSImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| (x as i32).wrapping_shr(y) as u32)
                }
                Instr::I32ShrUImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.wrapping_shr(y))
                }
                Instr::I32RotlImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.rotate_left(y % 32))
                }
                Instr::I32RotrImm { dst, a, imm } => {
                    bin32!(dst, a, imm as u32, |x, y| x.rotate_right(y % 32))
                }

                Instr::I64Eq { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x == y),
                Instr::I64Ne { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x != y),
                Instr::I64LtS { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x as i64) < (y as i64))
                }
                Instr::I64LtU { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x < y),
                Instr::I64GtS { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x as i64) > (y as i64))
                }
                Instr::I64GtU { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x > y),
                Instr::I64LeS { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x as i64) <= (y as i64))
                }
                Instr::I64LeU { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x <= y),
                Instr::I64GeS { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x as i64) >= (y as i64))
                }
                Instr::I64GeU { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x >= y),
                Instr::I64Add { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x.wrapping_add(y)),
                Instr::I64Sub { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x.wrapping_sub(y)),
                Instr::I64Mul { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x.wrapping_mul(y)),
                Instr::I64DivS { dst, a, b } => bin64!(dst, a, r!(b), |x, y| numeric::i64_div_s(x as i64, y as i64)?),
                Instr::I64DivU { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| numeric::i64_div_u(x, y)?)
                }
                Instr::I64RemS { dst, a, b } => bin64!(dst, a, r!(b), |x, y| numeric::i64_rem_s(x as i64, y as i64)?),
                Instr::I64RemU { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| numeric::i64_rem_u(x, y)?)
                }
                Instr::I64And { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x & y),
                Instr::I64Or { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x | y),
                Instr::I64Xor { dst, a, b } => bin64!(dst, a, r!(b), |x, y| x ^ y),
                Instr::I64Shl { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| x.wrapping_shl(y as u32))
                }
                Instr::I64ShrS { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x as i64).wrapping_shr(y as u32))
                }
                Instr::I64ShrU { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| x.wrapping_shr(y as u32))
                }
                Instr::I64Rotl { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| x.rotate_left((y % 64) as u32))
                }
                Instr::I64Rotr { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| x.rotate_right((y % 64) as u32))
                }

                Instr::I64EqImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x == y),
                Instr::I64NeImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x != y),
                Instr::I64LtSImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64, |x, y| (x as i64) < y)
                }
                Instr::I64LtUImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x < y),
                Instr::I64GtSImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64, |x, y| (x as i64) > y)
                }
                Instr::I64GtUImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x > y),
                Instr::I64LeSImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64, |x, y| (x as i64) <= y)
                }
                Instr::I64LeUImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64 as u64, |x, y| x <= y)
                }
                Instr::I64GeSImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64, |x, y| (x as i64) >= y)
                }
                Instr::I64GeUImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64 as u64, |x, y| x >= y)
                }
                Instr::I64AddImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64 as u64, |x, y| x.wrapping_add(y))
                }
                Instr::I64MulImm { dst, a, imm } => {
                    bin64!(dst, a, imm as i64 as u64, |x, y| x.wrapping_mul(y))
                }
                Instr::I64AndImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x & y),
                Instr::I64OrImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x | y),
                Instr::I64XorImm { dst, a, imm } => bin64!(dst, a, imm as i64 as u64, |x, y| x ^ y),
                Instr::I64ShlImm { dst, a, imm } => {
                    bin64!(dst, a, imm as u32, |x, y| x.wrapping_shl(y))
                }
                Instr::I64ShrSImm { dst, a, imm } => {
                    bin64!(dst, a, imm as u32, |x, y| (x as i64).wrapping_shr(y))
                }
                Instr::I64ShrUImm { dst, a, imm } => {
                    bin64!(dst, a, imm as u32, |x, y| x.wrapping_shr(y))
                }
                Instr::I64RotlImm { dst, a, imm } => {
                    bin64!(dst, a, imm as u32, |x, y| x.rotate_left(y % 64))
                }
                Instr::I64RotrImm { dst, a, imm } => {
                    bin64!(dst, a, imm as u32, |x, y| x.rotate_right(y % 64))
                }

                Instr::F32Eq { dst, a, b } => f32cmp!(dst, a, b, |x, y| x == y),
                Instr::F32Ne { dst, a, b } => f32cmp!(dst, a, b, |x, y| x != y),
                Instr::F32Lt { dst, a, b } => f32cmp!(dst, a, b, |x, y| x < y),
                Instr::F32Gt { dst, a, b } => f32cmp!(dst, a, b, |x, y| x > y),
                Instr::F32Le { dst, a, b } => f32cmp!(dst, a, b, |x, y| x <= y),
                Instr::F32Ge { dst, a, b } => f32cmp!(dst, a, b, |x, y| x >= y),
                Instr::F32Add { dst, a, b } => f32op!(dst, a, b, |x, y| x + y),
                Instr::F32Sub { dst, a, b } => f32op!(dst, a, b, |x, y| x - y),
                Instr::F32Mul { dst, a, b } => f32op!(dst, a, b, |x, y| x * y),
                Instr::F32Div { dst, a, b } => f32op!(dst, a, b, |x, y| x / y),
                Instr::F32Min { dst, a, b } => f32op!(dst, a, b, |x, y| numeric::f32_min(x, y)),
                Instr::F32Max { dst, a, b } => f32op!(dst, a, b, |x, y| numeric::f32_max(x, y)),
                Instr::F32Copysign { dst, a, b } => {
                    bin32!(dst, a, r!(b) as u32, |x, y| (x & 0x7fff_ffff) | (y & 0x8000_0000))
                }
                Instr::F64Eq { dst, a, b } => f64cmp!(dst, a, b, |x, y| x == y),
                Instr::F64Ne { dst, a, b } => f64cmp!(dst, a, b, |x, y| x != y),
                Instr::F64Lt { dst, a, b } => f64cmp!(dst, a, b, |x, y| x < y),
                Instr::F64Gt { dst, a, b } => f64cmp!(dst, a, b, |x, y| x > y),
                Instr::F64Le { dst, a, b } => f64cmp!(dst, a, b, |x, y| x <= y),
                Instr::F64Ge { dst, a, b } => f64cmp!(dst, a, b, |x, y| x >= y),
                Instr::F64Add { dst, a, b } => f64op!(dst, a, b, |x, y| x + y),
                Instr::F64Sub { dst, a, b } => f64op!(dst, a, b, |x, y| x - y),
                Instr::F64Mul { dst, a, b } => f64op!(dst, a, b, |x, y| x * y),
                Instr::F64Div { dst, a, b } => f64op!(dst, a, b, |x, y| x / y),
                Instr::F64Min { dst, a, b } => f64op!(dst, a, b, |x, y| numeric::f64_min(x, y)),
                Instr::F64Max { dst, a, b } => f64op!(dst, a, b, |x, y| numeric::f64_max(x, y)),
                Instr::F64Copysign { dst, a, b } => {
                    bin64!(dst, a, r!(b), |x, y| (x & 0x7fff_ffff_ffff_ffff) | (y & 0x8000_0000_0000_0000))
                }

                Instr::Load32 { dst, addr, offset } => {
                    load!(dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
                }
                Instr::Load64 { dst, addr, offset } => {
                    load!(dst, addr, offset, 8, |b| u64::from_le_bytes(b))
                }
                Instr::Load8U { dst, addr, offset } => load!(dst, addr, offset, 1, |b| b[0] as u64),
                Instr::Load16U { dst, addr, offset } => {
                    load!(dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
                }
                Instr::Load8S32 { dst, addr, offset } => {
                    load!(dst, addr, offset, 1, |b| b[0] as i8 as i32 as u32 as u64)
                }
                Instr::Load16S32 { dst, addr, offset } => {
                    load!(dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64)
                }
                Instr::Load8S64 { dst, addr, offset } => {
                    load!(dst, addr, offset, 1, |b| b[0] as i8 as i64 as u64)
                }
                Instr::Load16S64 { dst, addr, offset } => {
                    load!(dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64 as u64)
                }
                Instr::Load32S64 { dst, addr, offset } => {
                    load!(dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64 as u64)
                }
                Instr::Store8 { addr, value, offset } => store!(addr, value, offset, 1, |v| [v as u8]),
                Instr::Store16 { addr, value, offset } => store!(addr, value, offset, 2, |v| (v as u16).to_le_bytes()),
                Instr::Store32 { addr, value, offset } => store!(addr, value, offset, 4, |v| (v as u32).to_le_bytes()),
                Instr::Store64 { addr, value, offset } => store!(addr, value, offset, 8, |v| v.to_le_bytes()),
                Instr::V128Load { dst, addr, offset } => {
                    let ea = r!(addr) as u32 as usize + offset as usize;
                    let b = *mem.bytes.get(ea..).and_then(|s| s.first_chunk::<16>()).ok_or(Trap::MemoryOutOfBounds)?;
                    let v = u128::from_le_bytes(b);
                    r!(dst) = v as u64;
                    r!(dst + 1) = (v >> 64) as u64;
                }
                Instr::V128Store { addr, value, offset } => {
                    let ea = r!(addr) as u32 as usize + offset as usize;
                    let v = r!(value) as u128 | (r!(value + 1) as u128) << 64;
                    let dst = mem
                        .bytes
                        .get_mut(ea..)
                        .and_then(|s| s.first_chunk_mut::<16>())
                        .ok_or(Trap::MemoryOutOfBounds)?;
                    *dst = v.to_le_bytes();
                }

                Instr::Const64 { dst, value } => r!(dst) = value,
                Instr::GlobalGet { dst, global } => {
                    r!(dst) = globals[inst.globals[global as usize] as usize].value as u64
                }
                Instr::GlobalSet { global, src } => {
                    globals[inst.globals[global as usize] as usize].value = r!(src) as u128
                }
                Instr::V128Unary { dst, src, op } => set_v!(dst, simd::unary(op, v!(src))),
                Instr::V128Binary { dst, a, b, op } => set_v!(dst, simd::binary(op, v!(a), v!(b))),
                Instr::V128Test { dst, src, op } => r!(dst) = simd::test(op, v!(src)) as u64,
                Instr::V128Shift { dst, a, b, op } => set_v!(dst, simd::shift(op, v!(a), r!(b) as u32)),
                Instr::V128Splat { dst, src, op } => set_v!(dst, simd::splat(op, r!(src))),
                Instr::V128Extract { dst, src, op, lane } => r!(dst) = simd::extract(op, lane, v!(src)),
                Instr::V128Replace { dst, src, x, op, lane } => set_v!(dst, simd::replace(op, lane, v!(src), r!(x))),
                Instr::V128Bitselect { dst, a, b } => {
                    let (mask, _) = data_word!();
                    let m = v!(mask);
                    set_v!(dst, (v!(a) & m) | (v!(b) & !m));
                }
                Instr::I8x16Shuffle { dst, a, b } => {
                    let (index, _) = data_word!();
                    let lanes = func.shuffles.get(index as usize).ok_or(Trap::Unreachable)?;
                    set_v!(dst, simd::shuffle(lanes, v!(a), v!(b)));
                }
                Instr::V128LoadExt { dst, addr, op, offset } => {
                    let ea = r!(addr) as u32 as usize + offset as usize;
                    set_v!(dst, simd::load(op, &mem.bytes, ea)?);
                }
                Instr::V128LoadLane { dst, addr, op, lane, offset } => {
                    let (vector, _) = data_word!();
                    let ea = r!(addr) as u32 as usize + offset as usize;
                    set_v!(dst, simd::load_lane(op, lane, v!(vector), &mem.bytes, ea)?);
                }
                Instr::V128StoreLane { addr, value, op, lane, offset } => {
                    let ea = r!(addr) as u32 as usize + offset as usize;
                    simd::store_lane(op, lane, v!(value), &mut mem.bytes, ea)?;
                }
                Instr::GlobalGet128 { dst, global } => {
                    let v = globals[inst.globals[global as usize] as usize].value;
                    r!(dst) = v as u64;
                    r!(dst + 1) = (v >> 64) as u64;
                }
                Instr::GlobalSet128 { global, src } => {
                    globals[inst.globals[global as usize] as usize].value =
                        r!(src) as u128 | (r!(src + 1) as u128) << 64;
                }
                Instr::Select128 { dst, cond, a } => {
                    let (b, _) = data_word!();
                    let from = if r!(cond) as u32 != 0 { a } else { b };
                    r!(dst) = r!(from);
                    r!(dst + 1) = r!(from + 1);
                }
                Instr::Select { dst, cond, a } => {
                    let (b, _) = data_word!();
                    r!(dst) = if r!(cond) as u32 != 0 { r!(a) } else { r!(b) };
                }
                Instr::RefFunc { dst, func } => r!(dst) = inst.funcs[func as usize] as u64 + 1,

                Instr::Unreachable {} => return Err(Fault::Trap(Trap::Unreachable)),
                Instr::ConsumeFuel { amount } => {
                    meter.consume(amount)?;
                }
                Instr::CheckEpoch {} => meter.check_epoch()?,
                Instr::CheckEpochConsumeFuel { amount } => {
                    meter.check_epoch()?;
                    meter.consume(amount)?;
                }
                Instr::Data { .. } => return Err(Fault::Trap(Trap::Unreachable)),
                Instr::Br { target } => pc = target as usize,
                Instr::BrIfNez { cond, target } => branch!(r!(cond) as u32 != 0, target),
                Instr::BrIfEqz { cond, target } => branch!(r!(cond) as u32 == 0, target),
                Instr::BrI64Nez { cond, target } => branch!(r!(cond) != 0, target),
                Instr::BrI64Eqz { cond, target } => branch!(r!(cond) == 0, target),
                Instr::BrI32Eq { a, b, target } => branch!(r!(a) as u32 == r!(b) as u32, target),
                Instr::BrI32Ne { a, b, target } => branch!(r!(a) as u32 != r!(b) as u32, target),
                Instr::BrI32LtS { a, b, target } => {
                    branch!((r!(a) as i32) < (r!(b) as i32), target)
                }
                Instr::BrI32LtU { a, b, target } => {
                    branch!((r!(a) as u32) < (r!(b) as u32), target)
                }
                Instr::BrI32GtS { a, b, target } => {
                    branch!((r!(a) as i32) > (r!(b) as i32), target)
                }
                Instr::BrI32GtU { a, b, target } => {
                    branch!((r!(a) as u32) > (r!(b) as u32), target)
                }
                Instr::BrI32LeS { a, b, target } => {
                    branch!((r!(a) as i32) <= (r!(b) as i32), target)
                }
                Instr::BrI32LeU { a, b, target } => {
                    branch!((r!(a) as u32) <= (r!(b) as u32), target)
                }
                Instr::BrI32GeS { a, b, target } => {
                    branch!((r!(a) as i32) >= (r!(b) as i32), target)
                }
                Instr::BrI32GeU { a, b, target } => {
                    branch!((r!(a) as u32) >= (r!(b) as u32), target)
                }
                Instr::BrI32EqImm { a, imm, target } => branch!(r!(a) as u32 == imm as u32, target),
                Instr::BrI32NeImm { a, imm, target } => branch!(r!(a) as u32 != imm as u32, target),
                Instr::BrI32LtSImm { a, imm, target } => branch!((r!(a) as i32) < imm, target),
                Instr::BrI32LtUImm { a, imm, target } => {
                    branch!((r!(a) as u32) < imm as u32, target)
                }
                Instr::BrI32GtSImm { a, imm, target } => branch!((r!(a) as i32) > imm, target),
                Instr::BrI32GtUImm { a, imm, target } => {
                    branch!((r!(a) as u32) > imm as u32, target)
                }
                Instr::BrI32LeSImm { a, imm, target } => branch!((r!(a) as i32) <= imm, target),
                Instr::BrI32LeUImm { a, imm, target } => {
                    branch!((r!(a) as u32) <= imm as u32, target)
                }
                Instr::BrI32GeSImm { a, imm, target } => branch!((r!(a) as i32) >= imm, target),
                Instr::BrI32GeUImm { a, imm, target } => {
                    branch!((r!(a) as u32) >= imm as u32, target)
                }
                Instr::BrI64Eq { a, b, target } => branch!(r!(a) == r!(b), target),
                Instr::BrI64Ne { a, b, target } => branch!(r!(a) != r!(b), target),
                Instr::BrI64LtS { a, b, target } => {
                    branch!((r!(a) as i64) < (r!(b) as i64), target)
                }
                Instr::BrI64LtU { a, b, target } => branch!(r!(a) < r!(b), target),
                Instr::BrI64GtS { a, b, target } => {
                    branch!((r!(a) as i64) > (r!(b) as i64), target)
                }
                Instr::BrI64GtU { a, b, target } => branch!(r!(a) > r!(b), target),
                Instr::BrI64LeS { a, b, target } => {
                    branch!((r!(a) as i64) <= (r!(b) as i64), target)
                }
                Instr::BrI64LeU { a, b, target } => branch!(r!(a) <= r!(b), target),
                Instr::BrI64GeS { a, b, target } => {
                    branch!((r!(a) as i64) >= (r!(b) as i64), target)
                }
                Instr::BrI64GeU { a, b, target } => branch!(r!(a) >= r!(b), target),
                Instr::BrTable { index, len } => pc += (r!(index) as u32).min(len) as usize,
                Instr::Return {} => ret!(),
                Instr::ReturnSlot { src } => {
                    r!(0) = r!(src);
                    ret!()
                }
                Instr::Call { func, args } => call!(inst.funcs[func as usize], args, false),
                Instr::CallIndirect { site, args, index } => {
                    let target = indirect_target!(site, index);
                    call!(target, args, false)
                }
                Instr::CallMetered { func, args } => call!(inst.funcs[func as usize], args, true),
                Instr::CallIndirectMetered { site, args, index } => {
                    let target = indirect_target!(site, index);
                    call!(target, args, true)
                }

                Instr::MemorySize { dst } => r!(dst) = mem.pages(),
                // Growth goes through the driver, which consults the store's limiter.
                Instr::MemoryGrow { dst, delta, memory } => {
                    let delta = r!(delta) as u32 as u64;
                    if let Some(f) = frames.last_mut() {
                        f.pc = pc;
                    }
                    let memory = inst.memories[memory as usize];
                    return Ok(Exit::MemoryGrow { memory, delta, dst: base + dst as usize });
                }
                Instr::MemoryFill { dst, value, len } => {
                    let at = range(r!(dst) as u32 as u64, r!(len) as u32 as u64, mem.bytes.len())
                        .map_err(|()| Trap::MemoryOutOfBounds)?;
                    mem.bytes[at].fill(r!(value) as u8);
                }
                Instr::MemoryCopy { dst, src, len } => {
                    let n = r!(len) as u32 as u64;
                    let from =
                        range(r!(src) as u32 as u64, n, mem.bytes.len()).map_err(|()| Trap::MemoryOutOfBounds)?;
                    let to = range(r!(dst) as u32 as u64, n, mem.bytes.len()).map_err(|()| Trap::MemoryOutOfBounds)?;
                    mem.bytes.copy_within(from, to.start);
                }
                Instr::SelectMemory { index } => {
                    mem = match inst.memories.get(index as usize) {
                        Some(&m) => &mut memories[m as usize],
                        None => &mut no_memory,
                    };
                }
                Instr::MemoryCopyAcross { dst, src, len } => {
                    let (dst_memory, src_memory) = data_word!();
                    let ids = [dst_memory, src_memory].map(|i| inst.memories.get(i as usize).map(|&m| m as usize));
                    let [Some(to_id), Some(from_id)] = ids else {
                        return Err(Fault::Trap(Trap::MemoryOutOfBounds));
                    };
                    let n = r!(len) as u32 as u64;
                    let copied = match memories.get_disjoint_mut([to_id, from_id]) {
                        Ok([to_mem, from_mem]) => {
                            let from = range(r!(src) as u32 as u64, n, from_mem.bytes.len());
                            let to = range(r!(dst) as u32 as u64, n, to_mem.bytes.len());
                            match (from, to) {
                                (Ok(from), Ok(to)) => {
                                    to_mem.bytes[to].copy_from_slice(&from_mem.bytes[from]);
                                    Ok(())
                                }
                                _ => Err(Trap::MemoryOutOfBounds),
                            }
                        }
                        // Two memory indices of one instance naming the same store memory
                        // (the same import twice): an overlapping copy within it.
                        Err(_) => {
                            let m = &mut memories[to_id];
                            let from = range(r!(src) as u32 as u64, n, m.bytes.len());
                            let to = range(r!(dst) as u32 as u64, n, m.bytes.len());
                            match (from, to) {
                                (Ok(from), Ok(to)) => {
                                    m.bytes.copy_within(from, to.start);
                                    Ok(())
                                }
                                _ => Err(Trap::MemoryOutOfBounds),
                            }
                        }
                    };
                    // The borrow of `memories` above ended `mem`'s; re-select memory 0.
                    mem = match inst.memories.first() {
                        Some(&m) => &mut memories[m as usize],
                        None => &mut no_memory,
                    };
                    copied?;
                }
                Instr::MemoryInit { dst, src, len } => {
                    let (segment, _) = data_word!();
                    let bytes = inst.data_segment(segs, segment);
                    let n = r!(len) as u32 as u64;
                    let from = range(r!(src) as u32 as u64, n, bytes.len()).map_err(|()| Trap::MemoryOutOfBounds)?;
                    let to = range(r!(dst) as u32 as u64, n, mem.bytes.len()).map_err(|()| Trap::MemoryOutOfBounds)?;
                    mem.bytes[to].copy_from_slice(&bytes[from]);
                }
                Instr::DataDrop { segment } => segs.data_dropped[segment as usize] = true,

                Instr::TableGet { dst, table, index } => {
                    let t = &tables[inst.tables[table as usize] as usize];
                    r!(dst) = *t.elems.get(r!(index) as u32 as usize).ok_or(Trap::TableOutOfBounds)?;
                }
                Instr::TableSet { table, index, value } => {
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    *t.elems.get_mut(r!(index) as u32 as usize).ok_or(Trap::TableOutOfBounds)? = r!(value);
                }
                Instr::TableSize { dst, table } => {
                    r!(dst) = tables[inst.tables[table as usize] as usize].elems.len() as u64
                }
                Instr::TableGrow { dst, init, delta } => {
                    let (table, _) = data_word!();
                    if let Some(f) = frames.last_mut() {
                        f.pc = pc;
                    }
                    return Ok(Exit::TableGrow {
                        table: inst.tables[table as usize],
                        delta: r!(delta) as u32 as u64,
                        init: r!(init),
                        dst: base + dst as usize,
                    });
                }
                Instr::TableFill { index, value, len } => {
                    let (table, _) = data_word!();
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    let at = range(r!(index) as u32 as u64, r!(len) as u32 as u64, t.elems.len())
                        .map_err(|()| Trap::TableOutOfBounds)?;
                    t.elems[at].fill(r!(value));
                }
                Instr::TableCopy { dst, src, len } => {
                    let (dst_table, src_table) = data_word!();
                    let d = inst.tables[dst_table as usize] as usize;
                    let s = inst.tables[src_table as usize] as usize;
                    let (dt, st) = two_tables(tables, d, s);
                    let n = r!(len) as u32 as u64;
                    let src_len = st.map_or(dt.elems.len(), |t| t.elems.len());
                    let from = range(r!(src) as u32 as u64, n, src_len).map_err(|()| Trap::TableOutOfBounds)?;
                    let to = range(r!(dst) as u32 as u64, n, dt.elems.len()).map_err(|()| Trap::TableOutOfBounds)?;
                    match st {
                        Some(st) => dt.elems[to].copy_from_slice(&st.elems[from]),
                        None => dt.elems.copy_within(from, to.start),
                    }
                }
                Instr::TableInit { dst, src, len } => {
                    let (table, segment) = data_word!();
                    let items = &segs.elems[segment as usize];
                    let t = &mut tables[inst.tables[table as usize] as usize];
                    let n = r!(len) as u32 as u64;
                    let from = range(r!(src) as u32 as u64, n, items.len()).map_err(|()| Trap::TableOutOfBounds)?;
                    let to = range(r!(dst) as u32 as u64, n, t.elems.len()).map_err(|()| Trap::TableOutOfBounds)?;
                    t.elems[to].copy_from_slice(&items[from]);
                }
                Instr::ElemDrop { segment } => segs.elems[segment as usize] = Box::new([]),
            }
        }
    }
}
