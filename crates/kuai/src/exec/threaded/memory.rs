//! Handlers of the memory, table, global and reference instructions ([spec: memory
//! instructions], [spec: table instructions], [spec: variable instructions]).
//!
//! Loads and stores check `ea + size <= len` against the `len` register and access the
//! bytes through the `mem` register. Growth leaves the interpreter so the driver can
//! consult the store's limiter.
//!
//! [spec: memory instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions
//! [spec: table instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#table-instructions
//! [spec: variable instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#variable-instructions

use super::super::Exit;
use super::{Cx, Mem, exit, trap};
use crate::trap::Trap;
use crate::vm::{PAGE_SIZE, bulk};

/// `start..start + len` if it lies within `0..bound`.
fn range(start: u64, len: u64, bound: usize) -> Result<std::ops::Range<usize>, Trap> {
    match start.checked_add(len) {
        Some(end) if end <= bound as u64 => Ok(start as usize..end as usize),
        _ => Err(Trap::MemoryOutOfBounds),
    }
}

/// The selected memory's bytes as a slice.
///
/// # Safety
/// `mem`/`len` describe a live memory's bytes and nothing else references them while
/// the slice is used (the `Handler` contract).
unsafe fn bytes<'m>(mem: Mem, len: usize) -> &'m mut [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(mem, len) }
}

/// Reads `N` bytes at effective address `$ea` (a `usize` below 2^33), or traps.
macro_rules! load_ea {
    ($sp:ident, $mem:ident, $len:ident, $cx:ident, $dst:expr, $ea:expr, $n:literal, |$b:ident| $e:expr) => {{
        let ea: usize = $ea;
        // `ea < 2^33`: no overflow.
        if ea + $n > $len {
            return trap($cx, Trap::MemoryOutOfBounds);
        }
        // SAFETY: `ea + N <= len`, and `mem`/`len` describe the memory's bytes.
        let $b: [u8; $n] = unsafe { $mem.add(ea).cast::<[u8; $n]>().read_unaligned() };
        set!($sp, $dst, $e);
    }};
}

/// Reads `N` bytes at `addr + offset`, or traps.
macro_rules! load {
    ($sp:ident, $mem:ident, $len:ident, $cx:ident, $dst:expr, $addr:expr, $offset:expr, $n:literal, |$b:ident| $e:expr) => {
        load_ea!($sp, $mem, $len, $cx, $dst, get!($sp, $addr) as u32 as usize + $offset as usize, $n, |$b| $e)
    };
}

/// Defines the fused loads: `$add` reads from `(base + index) mod 2^32 + offset`, `$imm`
/// from `(base + imm) mod 2^32 + offset`, `$shl` from `(base + (index << shift)) mod 2^32 +
/// offset`.
macro_rules! fused_loads {
    ($lookup:ident ($ip:ident, $sp:ident, $mem:ident, $len:ident, $cx:ident, $acc:ident)
     $( $add:ident, $imm:ident, $shl:ident: $n:literal, |$b:ident| $e:expr; )*) => {
        handlers! { $lookup ($ip, $sp, $mem, $len, $cx, $acc)
            $(
                $add { dst, base, index, offset } => result(dst) via(base, index) {
                    let ea = (get!($sp, base) as u32).wrapping_add(get!($sp, index) as u32) as usize + offset as usize;
                    load_ea!($sp, $mem, $len, $cx, dst, ea, $n, |$b| $e)
                }
                $imm { dst, base, imm, offset } => result(dst) via(base) {
                    let ea = (get!($sp, base) as u32).wrapping_add(imm as u32) as usize + offset as usize;
                    load_ea!($sp, $mem, $len, $cx, dst, ea, $n, |$b| $e)
                }
                $shl { dst, base, index, scaled } => result(dst) via(base, index) {
                    let (shift, offset) = (scaled & 7, scaled >> 3);
                    let index = (get!($sp, index) as u32) << shift;
                    let ea = (get!($sp, base) as u32).wrapping_add(index) as usize + offset as usize;
                    load_ea!($sp, $mem, $len, $cx, dst, ea, $n, |$b| $e)
                }
            )*
        }
    };
}

/// The fused loads (`translate::ops::fuse_address`).
mod fused {
    use super::*;

    fused_loads! { lookup (ip, sp, mem, mem_len, cx, acc)
        Load32Add, Load32AddImm, Load32AddShl: 4, |b| u32::from_le_bytes(b) as u64;
        Load64Add, Load64AddImm, Load64AddShl: 8, |b| u64::from_le_bytes(b);
        Load8UAdd, Load8UAddImm, Load8UAddShl: 1, |b| b[0] as u64;
        Load16UAdd, Load16UAddImm, Load16UAddShl: 2, |b| u16::from_le_bytes(b) as u64;
        Load8S32Add, Load8S32AddImm, Load8S32AddShl: 1, |b| b[0] as i8 as i32 as u32 as u64;
        Load16S32Add, Load16S32AddImm, Load16S32AddShl: 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64;
        Load8S64Add, Load8S64AddImm, Load8S64AddShl: 1, |b| b[0] as i8 as i64 as u64;
        Load16S64Add, Load16S64AddImm, Load16S64AddShl: 2, |b| i16::from_le_bytes(b) as i64 as u64;
        Load32S64Add, Load32S64AddImm, Load32S64AddShl: 4, |b| i32::from_le_bytes(b) as i64 as u64;
    }
}
pub(in crate::exec::threaded) use fused::{
    lookup as fused_lookup, lookup_via as fused_lookup_via, passes_result as fused_passes_result,
};

/// Writes `N` bytes at effective address `ea`, or traps.
macro_rules! store {
    ($sp:ident, $mem:ident, $len:ident, $cx:ident, $addr:expr, $value:expr, $offset:expr, $n:literal, |$v:ident| $e:expr) => {
        store_bits!($sp, $mem, $len, $cx, $addr, get!($sp, $value), $offset, $n, |$v| $e)
    };
}

/// Writes `N` bytes of the computed `$bits` at `addr + offset`, or traps (before
/// computing them).
macro_rules! store_bits {
    ($sp:ident, $mem:ident, $len:ident, $cx:ident, $addr:expr, $bits:expr, $offset:expr, $n:literal, |$v:ident| $e:expr) => {{
        let ea = get!($sp, $addr) as u32 as usize + $offset as usize;
        if ea + $n > $len {
            return trap($cx, Trap::MemoryOutOfBounds);
        }
        let $v = $bits;
        let bytes: [u8; $n] = $e;
        // SAFETY: `ea + N <= len`, and `mem`/`len` describe the memory's bytes.
        unsafe { $mem.add(ea).cast::<[u8; $n]>().write_unaligned(bytes) };
    }};
}

/// The store index of the running instance's global `g`.
fn global_index(cx: &Cx<'_>, g: u32) -> usize {
    cx.inst.globals[g as usize] as usize
}

/// The store index of the running instance's table `t`.
fn table_index(cx: &Cx<'_>, t: u32) -> usize {
    cx.inst.tables[t as usize] as usize
}

handlers! { lookup (ip, sp, mem, mem_len, cx, acc)
    Load32 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64) }
    Load64 { dst, addr, offset } => resultb(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 8, |b| u64::from_le_bytes(b)) }
    Load8U { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 1, |b| b[0] as u64) }
    Load16U { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64) }
    Load8S32 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 1, |b| b[0] as i8 as i32 as u32 as u64) }
    Load16S32 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i32 as u32 as u64) }
    Load8S64 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 1, |b| b[0] as i8 as i64 as u64) }
    Load16S64 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64 as u64) }
    Load32S64 { dst, addr, offset } => result(dst) via(addr) { load!(sp, mem, mem_len, cx, dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64 as u64) }
    Store8 { addr, value, offset } => next via(addr, value) { store!(sp, mem, mem_len, cx, addr, value, offset, 1, |v| [v as u8]) }
    Store16 { addr, value, offset } => next via(addr, value) { store!(sp, mem, mem_len, cx, addr, value, offset, 2, |v| (v as u16).to_le_bytes()) }
    Store32 { addr, value, offset } => next via(addr, value) { store!(sp, mem, mem_len, cx, addr, value, offset, 4, |v| (v as u32).to_le_bytes()) }
    Store64 { addr, value, offset } => next via(addr, value) { store!(sp, mem, mem_len, cx, addr, value, offset, 8, |v| v.to_le_bytes()) }
    F64AddLoad { dst, a, addr, offset } => resultf(dst) via(a, addr) {
        load!(sp, mem, mem_len, cx, dst, addr, offset, 8, |b| (getf!(sp, a) + f64::from_le_bytes(b)).to_bits())
    }
    F64MulLoad { dst, a, addr, offset } => resultf(dst) via(a, addr) {
        load!(sp, mem, mem_len, cx, dst, addr, offset, 8, |b| (getf!(sp, a) * f64::from_le_bytes(b)).to_bits())
    }
    F64SubLoad { dst, a, addr, offset } => resultf(dst) via(a, addr) {
        load!(sp, mem, mem_len, cx, dst, addr, offset, 8, |b| (getf!(sp, a) - f64::from_le_bytes(b)).to_bits())
    }
    F64AddStore { addr, a, b, offset } => next via(a, b) {
        store_bits!(sp, mem, mem_len, cx, addr, (getf!(sp, a) + getf!(sp, b)).to_bits(), offset, 8, |v| v.to_le_bytes())
    }
    F64SubStore { addr, a, b, offset } => next via(a, b) {
        store_bits!(sp, mem, mem_len, cx, addr, (getf!(sp, a) - getf!(sp, b)).to_bits(), offset, 8, |v| v.to_le_bytes())
    }
    F64MulStore { addr, a, b, offset } => next via(a, b) {
        store_bits!(sp, mem, mem_len, cx, addr, (getf!(sp, a) * getf!(sp, b)).to_bits(), offset, 8, |v| v.to_le_bytes())
    }

    MemorySize { dst } => next { set!(sp, dst, (mem_len / PAGE_SIZE) as u64) }
    MemoryGrow { dst, delta, memory } => jump {
        let Some(&memory) = cx.inst.memories.get(memory as usize) else { return trap(cx, Trap::Unreachable) };
        let grow = Exit::MemoryGrow { memory, delta: get!(sp, delta) as u32 as u64, dst: cx.absolute(dst) };
        // SAFETY: `memory.grow` is a straight-line op, so the op after it exists.
        exit(cx, grow, unsafe { ip.add(1) })
    }
    MemoryFill { dst, value, len } => next {
        let at = tr!(cx, range(get!(sp, dst) as u32 as u64, get!(sp, len) as u32 as u64, mem_len));
        // SAFETY: the `Handler` contract; the slice lives only within this handler.
        let memory = unsafe { bytes(mem, mem_len) };
        memory[at].fill(get!(sp, value) as u8);
    }
    MemoryCopy { dst, src, len } => next {
        let n = get!(sp, len) as u32 as u64;
        let from = tr!(cx, range(get!(sp, src) as u32 as u64, n, mem_len));
        let to = tr!(cx, range(get!(sp, dst) as u32 as u64, n, mem_len));
        // SAFETY: the `Handler` contract; the slice lives only for this statement.
        unsafe { bytes(mem, mem_len) }.copy_within(from, to.start);
    }
    SelectMemory { index } => next { (mem, mem_len) = cx.memory(index) }
    MemoryCopyAcross { dst, src, len } => next2 {
        let (dst_memory, src_memory, _) = data!(ip, cx);
        let ids = [dst_memory, src_memory].map(|i| cx.inst.memories.get(i as usize).map(|&m| m as usize));
        let [Some(to_id), Some(from_id)] = ids else { return trap(cx, Trap::MemoryOutOfBounds) };
        let n = get!(sp, len) as u32 as u64;
        let (s, d) = (get!(sp, src) as u32 as u64, get!(sp, dst) as u32 as u64);
        let copied = bulk::memory_copy(cx.memories, to_id, from_id, d, s, n);
        // The references above may have ended the `mem` pointer's validity: reload it.
        (mem, mem_len) = cx.memory(0);
        tr!(cx, copied);
    }
    MemoryInit { dst, src, len } => next2 {
        let (segment, _, _) = data!(ip, cx);
        let inst = cx.inst;
        let data = inst.data_segment(&cx.segments[cx.inst_id as usize], segment);
        let n = get!(sp, len) as u32 as u64;
        let from = tr!(cx, range(get!(sp, src) as u32 as u64, n, data.len()));
        let to = tr!(cx, range(get!(sp, dst) as u32 as u64, n, mem_len));
        // SAFETY: the `Handler` contract; the slice lives only within this handler.
        let memory = unsafe { bytes(mem, mem_len) };
        memory[to].copy_from_slice(&data[from]);
    }
    DataDrop { segment } => next { cx.segments[cx.inst_id as usize].data_dropped[segment as usize] = true }

    GlobalGet { dst, global } => result(dst) { set!(sp, dst, cx.globals[global_index(cx, global)].value as u64) }
    GlobalSet { src, global } => next via(src) { cx.globals[global_index(cx, global)].value = get!(sp, src) as u128 }
    GlobalGet128 { dst, global } => next { set128!(sp, dst, cx.globals[global_index(cx, global)].value) }
    GlobalSet128 { src, global } => next { cx.globals[global_index(cx, global)].value = get128!(sp, src) }
    RefFunc { dst, func } => next { set!(sp, dst, cx.inst.funcs[func as usize] as u64 + 1) }

    TableGet { dst, index, table } => next {
        let elems = &cx.tables[table_index(cx, table)].elems;
        let value = *tr!(cx, elems.get(get!(sp, index) as u32 as usize).ok_or(Trap::TableOutOfBounds));
        set!(sp, dst, value);
    }
    TableSet { index, value, table } => next {
        let t = table_index(cx, table);
        let elem = tr!(cx, cx.tables[t].elems.get_mut(get!(sp, index) as u32 as usize).ok_or(Trap::TableOutOfBounds));
        *elem = get!(sp, value);
    }
    TableSize { dst, table } => next { set!(sp, dst, cx.tables[table_index(cx, table)].elems.len() as u64) }
    TableGrow { dst, init, delta } => jump {
        let (t, _, _) = data!(ip, cx);
        let grow = Exit::TableGrow {
            table: table_index(cx, t) as u32,
            delta: get!(sp, delta) as u32 as u64,
            init: get!(sp, init),
            dst: cx.absolute(dst),
        };
        // SAFETY: `table.grow` is followed by its data word and then another op.
        exit(cx, grow, unsafe { ip.add(2) })
    }
    TableFill { index, value, len } => next2 {
        let (t, _, _) = data!(ip, cx);
        let t = table_index(cx, t);
        let filled = bulk::table_fill(&mut cx.tables[t], get!(sp, index) as u32 as u64, get!(sp, value), get!(sp, len) as u32 as u64);
        tr!(cx, filled);
    }
    TableCopy { dst, src, len } => next2 {
        let (dst_table, src_table, _) = data!(ip, cx);
        let (d, s) = (table_index(cx, dst_table), table_index(cx, src_table));
        let n = get!(sp, len) as u32 as u64;
        let copied = bulk::table_copy(cx.tables, d, s, get!(sp, dst) as u32 as u64, get!(sp, src) as u32 as u64, n);
        tr!(cx, copied);
    }
    TableInit { dst, src, len } => next2 {
        let (t, segment, _) = data!(ip, cx);
        let t = table_index(cx, t);
        let items = &cx.segments[cx.inst_id as usize].elems[segment as usize];
        let n = get!(sp, len) as u32 as u64;
        let copied = bulk::table_init(&mut cx.tables[t], items, get!(sp, dst) as u32 as u64, get!(sp, src) as u32 as u64, n);
        tr!(cx, copied);
    }
    ElemDrop { segment } => next { cx.segments[cx.inst_id as usize].elems[segment as usize] = Box::new([]) }
}
