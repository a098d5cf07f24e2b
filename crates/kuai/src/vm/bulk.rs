//! Bulk memory and table operations ([spec: memory instructions], [spec: table
//! instructions]) on the store's objects, shared by both tiers: each checks its whole
//! range first and changes nothing when it traps.
//!
//! [spec: memory instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions
//! [spec: table instructions]: https://webassembly.github.io/spec/core/exec/instructions.html#table-instructions

use super::{MemoryData, TableData};
use crate::trap::Trap;
use std::ops::Range;

/// `start..start + len` if it lies within `0..bound`, else `trap`.
pub(crate) fn range(start: u64, len: u64, bound: usize, trap: Trap) -> Result<Range<usize>, Trap> {
    match start.checked_add(len) {
        Some(end) if end <= bound as u64 => Ok(start as usize..end as usize),
        _ => Err(trap),
    }
}

/// `memory.copy` of `n` bytes from `s` in store memory `from` to `d` in store memory `to`.
pub(crate) fn memory_copy(
    memories: &mut [MemoryData],
    to: usize,
    from: usize,
    d: u64,
    s: u64,
    n: u64,
) -> Result<(), Trap> {
    let oob = Trap::MemoryOutOfBounds;
    match memories.get_disjoint_mut([to, from]) {
        Ok([to, from]) => {
            let src = range(s, n, from.bytes().len(), oob)?;
            let dst = range(d, n, to.bytes().len(), oob)?;
            to.bytes_mut()[dst].copy_from_slice(&from.bytes()[src]);
        }
        // The same memory (or two indices naming it): an overlapping copy within it.
        Err(_) => {
            let bytes = memories[to].bytes_mut();
            let src = range(s, n, bytes.len(), oob)?;
            let dst = range(d, n, bytes.len(), oob)?;
            bytes.copy_within(src, dst.start);
        }
    }
    Ok(())
}

/// `memory.init`: `n` bytes of `data` (a data segment, empty once dropped) from `s` to `d`.
#[cfg_attr(
    not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
    allow(dead_code, reason = "used by the compiled tier")
)]
pub(crate) fn memory_init(memory: &mut MemoryData, data: &[u8], d: u64, s: u64, n: u64) -> Result<(), Trap> {
    let src = range(s, n, data.len(), Trap::MemoryOutOfBounds)?;
    let bytes = memory.bytes_mut();
    let dst = range(d, n, bytes.len(), Trap::MemoryOutOfBounds)?;
    bytes[dst].copy_from_slice(&data[src]);
    Ok(())
}

/// `table.fill` of `n` elements at `d` with `value`.
pub(crate) fn table_fill(table: &mut TableData, d: u64, value: u64, n: u64) -> Result<(), Trap> {
    let dst = range(d, n, table.elems.len(), Trap::TableOutOfBounds)?;
    table.elems[dst].fill(value);
    Ok(())
}

/// `table.copy` of `n` elements from `s` in store table `from` to `d` in store table `to`.
pub(crate) fn table_copy(tables: &mut [TableData], to: usize, from: usize, d: u64, s: u64, n: u64) -> Result<(), Trap> {
    let oob = Trap::TableOutOfBounds;
    match tables.get_disjoint_mut([to, from]) {
        Ok([to, from]) => {
            let src = range(s, n, from.elems.len(), oob)?;
            let dst = range(d, n, to.elems.len(), oob)?;
            to.elems[dst].copy_from_slice(&from.elems[src]);
        }
        Err(_) => {
            let elems = &mut tables[to].elems;
            let src = range(s, n, elems.len(), oob)?;
            let dst = range(d, n, elems.len(), oob)?;
            elems.copy_within(src, dst.start);
        }
    }
    Ok(())
}

/// `table.init`: `n` elements of `items` (an element segment, empty once dropped) from `s`
/// to `d`.
pub(crate) fn table_init(table: &mut TableData, items: &[u64], d: u64, s: u64, n: u64) -> Result<(), Trap> {
    let src = range(s, n, items.len(), Trap::TableOutOfBounds)?;
    let dst = range(d, n, table.elems.len(), Trap::TableOutOfBounds)?;
    table.elems[dst].copy_from_slice(&items[src]);
    Ok(())
}
