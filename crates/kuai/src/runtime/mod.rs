//! Runtime structures ([spec: runtime]): the store, instances, functions, memories,
//! tables, globals, the linker, and the typed call interface.
//!
//! [spec: runtime]: https://webassembly.github.io/spec/core/exec/runtime.html

pub(crate) mod call;
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod compiled;
pub(crate) mod func;
pub(crate) mod global;
pub(crate) mod image;
pub(crate) mod instance;
pub(crate) mod limits;
pub(crate) mod linker;
pub(crate) mod memory;
pub(crate) mod module;
pub(crate) mod store;
pub(crate) mod table;
pub(crate) mod tier;
pub(crate) mod typed;
pub(crate) mod values;

use crate::types::ExternType;
use crate::vm::StoreInner;
pub use func::Func;
pub use global::Global;
pub use memory::Memory;
pub use table::Table;

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

    pub(crate) fn store_id(&self) -> crate::vm::StoreId {
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
