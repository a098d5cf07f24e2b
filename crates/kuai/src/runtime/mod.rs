//! Runtime structures ([spec: runtime]): the store, instances, functions, memories,
//! tables, globals, the linker, and the typed call interface.
//!
//! [spec: runtime]: https://webassembly.github.io/spec/core/exec/runtime.html

pub(crate) mod func;
pub(crate) mod global;
pub(crate) mod instance;
pub(crate) mod limits;
pub(crate) mod linker;
pub(crate) mod memory;
pub(crate) mod store;
pub(crate) mod table;
pub(crate) mod typed;
pub(crate) mod values;
pub(crate) mod vmctx;

use crate::types::{ExternType, GlobalType, MemoryType, TableType};
pub use func::Func;
pub use global::Global;
pub use memory::Memory;
use store::StoreInner;
pub use table::Table;

/// Bytes in a WebAssembly page.
pub(crate) const PAGE_SIZE: usize = 65536;
/// The most pages a 32-bit memory can have (4 GiB).
pub(crate) const MAX_PAGES: u64 = 65536;

/// A linear memory's contents and type.
#[derive(Debug)]
pub(crate) struct MemoryData {
    pub ty: MemoryType,
    pub bytes: Vec<u8>,
}

impl MemoryData {
    pub(crate) fn new(ty: MemoryType) -> Option<MemoryData> {
        let len = usize::try_from(ty.limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        Some(MemoryData { ty, bytes: zeroed(len)? })
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.bytes.len() / PAGE_SIZE) as u64
    }

    /// Grows by `delta` pages; returns the old size, or `None` if refused.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            return None;
        }
        let new_len = usize::try_from(new).ok()?.checked_mul(PAGE_SIZE)?;
        self.bytes.try_reserve_exact(new_len - self.bytes.len()).ok()?;
        self.bytes.resize(new_len, 0);
        self.ty.limits.min = new;
        Some(old)
    }
}

/// `len` zero bytes, or `None` if they cannot be allocated. Unlike `resize`, this does not
/// write the zeros: the allocator hands out fresh pages, which the system zeroes when they
/// are first touched, so start-up does not touch (and make resident) pages no one uses.
fn zeroed(len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (`len > 0`).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` comes from the global allocator with `layout`, whose size is `len` and
    // whose alignment is `u8`'s; all `len` bytes are initialised (to zero), and the
    // capacity given equals the allocated size.
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// A table's elements (untyped references, `0` = null) and type.
#[derive(Debug)]
pub(crate) struct TableData {
    pub ty: TableType,
    pub elems: Vec<u64>,
}

impl TableData {
    /// The most elements a table may hold (a Kuai limit, 10 Mi).
    pub(crate) const MAX_ELEMS: u64 = 10 * 1024 * 1024;

    pub(crate) fn new(ty: TableType, init: u64) -> Option<TableData> {
        if ty.limits.min > Self::MAX_ELEMS {
            return None;
        }
        let mut elems = Vec::new();
        elems.try_reserve_exact(ty.limits.min as usize).ok()?;
        elems.resize(ty.limits.min as usize, init);
        Some(TableData { ty, elems })
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None`.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elems.len() as u64;
        let new = old.checked_add(delta)?;
        let max = self.ty.limits.max.unwrap_or(u32::MAX as u64).min(Self::MAX_ELEMS);
        if new > max {
            return None;
        }
        self.elems.try_reserve_exact(delta as usize).ok()?;
        self.elems.resize(new as usize, init);
        self.ty.limits.min = new;
        Some(old)
    }
}

/// A global's current value (untyped encoding, 128 bits so a `v128` fits) and type.
#[derive(Debug)]
pub(crate) struct GlobalData {
    pub ty: GlobalType,
    pub value: u128,
}

/// An external object: what can be imported and exported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A global.
    Global(Global),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self { Some(f) } else { None }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self { Some(t) } else { None }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self { Some(m) } else { None }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self { Some(g) } else { None }
    }

    pub(crate) fn ty_in(&self, store: &StoreInner) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(crate::types::FuncType::clone(&store.funcs[f.index as usize].ty)),
            Extern::Table(t) => ExternType::Table(store.tables[t.index as usize].ty),
            Extern::Memory(m) => ExternType::Memory(store.memories[m.index as usize].ty),
            Extern::Global(g) => ExternType::Global(store.globals[g.index as usize].ty),
        }
    }

    pub(crate) fn store_id(&self) -> store::StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            Extern::Global(g) => g.store,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_grows_within_its_maximum() {
        let mut m = MemoryData::new(MemoryType::new(1, Some(2))).unwrap();
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.pages(), 2);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.grow(0), Some(2));
    }

    #[test]
    fn table_grows_within_its_maximum() {
        let mut t = TableData::new(TableType::new(crate::ValType::FuncRef, 1, Some(3)), 0).unwrap();
        assert_eq!(t.grow(2, 7), Some(1));
        assert_eq!(t.elems, vec![0, 7, 7]);
        assert_eq!(t.grow(1, 0), None);
    }
}
