//! The instance context for a future compiled tier.
//!
//! Compiled code will receive one pointer, to a [`VmContext`], and find everything an
//! instance's code touches through it at fixed offsets:
//!
//! | offset | field         | meaning                                                     |
//! |-------:|---------------|-------------------------------------------------------------|
//! |      0 | `memory_base` | address of memory 0's first byte (0 if no memory)           |
//! |      8 | `memory_len`  | memory 0's length in bytes                                  |
//! |     16 | `globals`     | address of an array of addresses, one per global: its 16-byte cell |
//! |     24 | `tables`      | address of an array of [`VmTable`], one per table            |
//! |     32 | `funcs`       | address of the function table, one [`VmFuncEntry`] per function index |
//! |     40 | `num_funcs`   | number of function-table entries                            |
//!
//! Addresses are stored as `usize`, not raw pointers: the interpreter never dereferences
//! them (so this module needs no `unsafe`, and the store stays `Send`). They are derived
//! from the store's safe structures by [`refresh`], which the runtime calls after
//! instantiation; anything that can move those structures (growing a memory or table,
//! adding objects to the store) requires a refresh before compiled code may run again.
//! The function table is the hook for tiering: an entry's `native` is 0 while the function
//! runs in the interpreter, and a compiler fills it with the address of machine code.

use super::store::StoreInner;

/// A table as compiled code sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VmTable {
    /// Address of the first element (an untyped 64-bit reference).
    pub base: usize,
    /// Number of elements.
    pub len: usize,
}

/// One entry of an instance's function table.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VmFuncEntry {
    /// Address of native code for the function, or 0 to run it in the interpreter.
    pub native: usize,
    /// Address of the callee instance's [`VmContext`].
    pub vmctx: usize,
    /// Store function index (what the interpreter calls).
    pub store_func: u32,
    /// Engine-wide type id, compared by `call_indirect`.
    pub type_id: u32,
}

/// The per-instance context (layout in the module docs).
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct VmContext {
    pub memory_base: usize,
    pub memory_len: usize,
    pub globals: usize,
    pub tables: usize,
    pub funcs: usize,
    pub num_funcs: u32,
}

/// A [`VmContext`] and the arrays it points to, owned by the store per instance.
#[derive(Debug, Default)]
pub(crate) struct VmContextStorage {
    pub ctx: Box<VmContext>,
    globals: Box<[usize]>,
    tables: Box<[VmTable]>,
    funcs: Box<[VmFuncEntry]>,
}

/// Recomputes the context of store instance `instance` from the store's current state.
pub(crate) fn refresh(store: &mut StoreInner, instance: u32) {
    let inst = &store.instances[instance as usize];
    let (memory_base, memory_len) = inst.memories.first().map_or((0, 0), |&m| {
        let bytes = store.memories[m as usize].bytes();
        (bytes.as_ptr() as usize, bytes.len())
    });
    let globals: Box<[usize]> =
        inst.globals.iter().map(|&g| &store.globals[g as usize].value as *const u128 as usize).collect();
    let tables: Box<[VmTable]> = inst
        .tables
        .iter()
        .map(|&t| {
            let elems = &store.tables[t as usize].elems;
            VmTable { base: elems.as_ptr() as usize, len: elems.len() }
        })
        .collect();
    let funcs: Box<[VmFuncEntry]> = inst
        .funcs
        .iter()
        .map(|&f| {
            let vmctx = match store.funcs[f as usize].kind {
                super::func::FuncKind::Wasm { instance, .. } => {
                    store.vmctx.get(instance as usize).map_or(0, |s| &*s.ctx as *const VmContext as usize)
                }
                super::func::FuncKind::Host { .. } => 0,
            };
            VmFuncEntry { native: 0, vmctx, store_func: f, type_id: store.funcs[f as usize].type_id }
        })
        .collect();
    let ctx = VmContext {
        memory_base,
        memory_len,
        globals: globals.as_ptr() as usize,
        tables: tables.as_ptr() as usize,
        funcs: funcs.as_ptr() as usize,
        num_funcs: funcs.len() as u32,
    };
    let index = instance as usize;
    if store.vmctx.len() <= index {
        store.vmctx.resize_with(index + 1, VmContextStorage::default);
    }
    let storage = &mut store.vmctx[index];
    *storage.ctx = ctx;
    storage.globals = globals;
    storage.tables = tables;
    storage.funcs = funcs;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Instance, Module, Store};
    use std::mem::offset_of;

    #[test]
    fn layout_is_as_documented() {
        assert_eq!(offset_of!(VmContext, memory_base), 0);
        assert_eq!(offset_of!(VmContext, memory_len), 8);
        assert_eq!(offset_of!(VmContext, globals), 16);
        assert_eq!(offset_of!(VmContext, tables), 24);
        assert_eq!(offset_of!(VmContext, funcs), 32);
        assert_eq!(offset_of!(VmContext, num_funcs), 40);
        assert_eq!(std::mem::size_of::<VmFuncEntry>(), 24);
    }

    #[test]
    fn context_mirrors_the_instance_after_refresh() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module (memory (export "m") 1) (global (mut i32) (i32.const 7)) (table 3 funcref)
                 (func $f) (func $g) (elem (i32.const 0) $f $g))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let memory = instance.get_memory(&store, "m").unwrap();
        memory.grow(&mut store, 2).unwrap();
        refresh(&mut store.inner, instance.index);
        let inner = &store.inner;
        let storage = &inner.vmctx[instance.index as usize];
        let ctx = &*storage.ctx;
        let mem = inner.memories[inner.instances[instance.index as usize].memories[0] as usize].bytes();
        assert_eq!((ctx.memory_base, ctx.memory_len), (mem.as_ptr() as usize, 3 * 65536));
        assert_eq!(ctx.num_funcs, 2);
        assert_eq!(ctx.funcs, storage.funcs.as_ptr() as usize);
        assert_eq!(storage.funcs[1].vmctx, ctx as *const VmContext as usize);
        assert_eq!(storage.tables[0].len, 3);
        let global = &inner.globals[inner.instances[instance.index as usize].globals[0] as usize];
        assert_eq!(storage.globals[0], &global.value as *const u128 as usize);
    }
}
