//! The contexts compiled code runs against.
//!
//! A compiled function receives one pointer, to its instance's [`VmContext`], and finds
//! everything it touches through it at fixed offsets:
//!
//! | offset | field         | meaning                                                     |
//! |-------:|---------------|-------------------------------------------------------------|
//! |      0 | `memory_base` | address of memory 0's first byte (0 if no memory)           |
//! |      8 | `memory_len`  | memory 0's length in bytes                                  |
//! |     16 | `globals`     | address of an array of addresses, one per global: its 16-byte cell |
//! |     24 | `tables`      | address of an array of [`VmTable`], one per table            |
//! |     32 | `funcs`       | address of the function table, one [`VmFuncEntry`] per function index |
//! |     40 | `num_funcs`   | number of function-table entries                            |
//! |     44 | `instance`    | the instance's index in its store                           |
//! |     48 | `store`       | address of the store's [`VmStoreContext`]                   |
//! |     56 | `memories`    | address of an array of [`VmMemory`], one per memory (memory 0 too) |
//!
//! The store's [`VmStoreContext`] holds what is shared by all instances: the stack limit
//! compiled prologues check, every store function's entry (what `call_indirect` reaches
//! through a table element), and the runtime's entry points for host calls and memory growth.
//!
//! Addresses are stored as `usize`: the interpreter never dereferences them (so building
//! them needs no `unsafe`, and the store stays `Send`). They are derived from the store's
//! structures by [`refresh`], which the runtime runs whenever those structures may have
//! changed — after instantiation and creating objects, after a memory or table grew —
//! before compiled code runs again (`StoreInner::vm_dirty`). Function-table entries carry
//! the address of each function's machine code (`native`), or 0 while it has none. A
//! function compiled lazily (on its first call) has, until then, its type's *lazy stub* as
//! `native` and its [`LazyRecord`] as `vmctx`: the stub has the runtime compile the
//! function, which then replaces the entries ([`set_native`]), and calls it.

use super::FuncKind;
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

/// A linear memory as compiled code sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VmMemory {
    /// Address of byte 0.
    pub base: usize,
    /// Length in bytes.
    pub len: usize,
}

/// One entry of a function table.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VmFuncEntry {
    /// Address of machine code for the function (0: none). For a host function, the
    /// compiled host-call trampoline of its type.
    pub native: usize,
    /// What the code receives as its own context: the callee instance's [`VmContext`],
    /// or, for a host function, its store function index.
    pub vmctx: usize,
    /// Store function index.
    pub store_func: u32,
    /// Engine-wide type id, compared by `call_indirect`.
    pub type_id: u32,
}

/// What a lazy stub receives as its context: which function to compile, and the context
/// to call it with.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LazyRecord {
    /// The instance's [`VmContext`].
    pub vmctx: usize,
    /// The store instance.
    pub instance: u32,
    /// The defined function (index among the module's defined functions).
    pub def: u32,
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
    pub instance: u32,
    pub store: usize,
    pub memories: usize,
}

/// The per-store context.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct VmStoreContext {
    /// Compiled prologues trap with "call stack exhausted" below this stack address
    /// (set on the outermost entry into compiled code).
    pub stack_limit: usize,
    /// Address of an array of [`VmFuncEntry`], one per store function.
    pub funcs: usize,
    /// The runtime's host-call entry: `fn(host_data, caller_vmctx, store_func, values) -> u32`
    /// (0 = done, results in `values`; else the call failed).
    pub host_call: usize,
    /// The runtime's `memory.grow`: `fn(host_data, instance, memory, delta) -> i64`
    /// (the old size in pages, -1 if refused, -2 if the call failed).
    pub memory_grow: usize,
    /// The runtime's bulk memory operations: `fn(host_data, instance, op, args) -> u32`
    /// (0 = done, else the trap or failure).
    pub bulk: usize,
    /// The store the runtime's entries act on, valid while compiled code runs.
    pub host_data: usize,
    /// Address of the store's fuel left (a `u64`; with fuel metering).
    pub fuel: usize,
    /// Address of the engine's epoch counter (an `AtomicU64`; with epoch interruption).
    pub epoch: usize,
    /// Address of the store's epoch deadline (a `u64`).
    pub epoch_deadline: usize,
    /// The runtime's lazy compilation: `fn(host_data, record) -> usize` compiles the
    /// function a [`LazyRecord`] names and returns its code's address (0: failed).
    pub lazy_compile: usize,
    /// The C library's `memmove` and `memset`, for `memory.copy` within one memory and
    /// `memory.fill`, once compiled code has checked the bounds.
    pub memmove: usize,
    pub memset: usize,
}

/// A [`VmContext`] and the arrays it points to, owned by the store per instance.
#[derive(Debug, Default)]
pub(crate) struct VmContextStorage {
    pub ctx: Box<VmContext>,
    globals: Box<[usize]>,
    tables: Box<[VmTable]>,
    funcs: Box<[VmFuncEntry]>,
    memories: Box<[VmMemory]>,
    /// One per defined function, at a fixed address for the instance's life.
    lazy: Box<[LazyRecord]>,
}

/// Where a wasm function's machine code is, as the compiled tier knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// Compiled, at this address.
    Ready(usize),
    /// Compiled on its first call, through the lazy stub at this address.
    Lazy(usize),
    /// Tiered, not compiled yet: run by the interpreter, through its type's host-call
    /// trampoline (as if it were a host function).
    Interp,
    /// None (an interpreted instance).
    None,
}

/// The address of native code for each store function, as the compiled tier knows it:
/// `(wasm function's code, host-call trampoline by engine-wide type id)`.
pub(crate) trait NativeCode {
    /// Machine code of function `index` (module index space) of store instance `instance`.
    fn wasm(&self, instance: u32, index: u32) -> Code;
    /// The host-call trampoline for functions of type `type_id`.
    fn host(&self, type_id: u32) -> usize;
}

/// No machine code anywhere (the interpreter's view).
#[cfg(test)]
pub(crate) struct Interpreted;

#[cfg(test)]
impl NativeCode for Interpreted {
    fn wasm(&self, _: u32, _: u32) -> Code {
        Code::None
    }
    fn host(&self, _: u32) -> usize {
        0
    }
}

/// Recomputes every instance's context and the store's function entries from the store's
/// current state.
pub(crate) fn refresh_all(store: &mut StoreInner, native: &dyn NativeCode) {
    let vmctx_of = |store: &StoreInner, instance: u32| {
        store.vmctx.get(instance as usize).map_or(0, |s| &*s.ctx as *const VmContext as usize)
    };
    // Contexts (and lazy records) first exist, so that entries can point to them, then get
    // filled.
    if store.vmctx.len() < store.instances.len() {
        store.vmctx.resize_with(store.instances.len(), VmContextStorage::default);
    }
    for (instance, storage) in store.vmctx.iter_mut().enumerate() {
        let defs = store.instances[instance].module.bodies.len();
        if storage.lazy.len() != defs {
            let vmctx = &*storage.ctx as *const VmContext as usize;
            let record = |def| LazyRecord { vmctx, instance: instance as u32, def };
            storage.lazy = (0..defs as u32).map(record).collect();
        }
    }
    let record_of = |store: &StoreInner, instance: u32, index: u32| {
        let def = index - store.instances[instance as usize].module.num_imported_funcs;
        &store.vmctx[instance as usize].lazy[def as usize] as *const LazyRecord as usize
    };
    let entries: Vec<VmFuncEntry> = (0..store.funcs.len() as u32)
        .map(|f| {
            let data = &store.funcs[f as usize];
            let (native, vmctx) = match data.kind {
                FuncKind::Wasm { instance, index } => match native.wasm(instance, index) {
                    Code::Ready(code) => (code, vmctx_of(store, instance)),
                    Code::Lazy(stub) => (stub, record_of(store, instance, index)),
                    Code::Interp => (native.host(data.type_id), f as usize),
                    Code::None => (0, vmctx_of(store, instance)),
                },
                FuncKind::Host { .. } => (native.host(data.type_id), f as usize),
            };
            VmFuncEntry { native, vmctx, store_func: f, type_id: data.type_id }
        })
        .collect();
    store.vm_store.funcs_storage = entries.into_boxed_slice();
    store.vm_store.ctx.funcs = store.vm_store.funcs_storage.as_ptr() as usize;
    let store_ctx = &*store.vm_store.ctx as *const VmStoreContext as usize;
    for instance in 0..store.instances.len() as u32 {
        refresh(store, instance, store_ctx);
    }
    store.vm_dirty = false;
}

/// Recomputes the context of store instance `instance` (its function entries copied from
/// the store's).
fn refresh(store: &mut StoreInner, instance: u32, store_ctx: usize) {
    let inst = &store.instances[instance as usize];
    let memories: Box<[VmMemory]> = inst
        .memories
        .iter()
        .map(|&m| {
            let bytes = store.memories[m as usize].bytes();
            VmMemory { base: bytes.as_ptr() as usize, len: bytes.len() }
        })
        .collect();
    let (memory_base, memory_len) = memories.first().map_or((0, 0), |m| (m.base, m.len));
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
    let funcs: Box<[VmFuncEntry]> = inst.funcs.iter().map(|&f| store.vm_store.funcs_storage[f as usize]).collect();
    let ctx = VmContext {
        memory_base,
        memory_len,
        globals: globals.as_ptr() as usize,
        tables: tables.as_ptr() as usize,
        funcs: funcs.as_ptr() as usize,
        num_funcs: funcs.len() as u32,
        instance,
        store: store_ctx,
        memories: memories.as_ptr() as usize,
    };
    let storage = &mut store.vmctx[instance as usize];
    // The globals array is updated in place once it exists: compiled code treats its
    // address as constant.
    if storage.globals.len() == globals.len() {
        storage.globals.copy_from_slice(&globals);
    } else {
        storage.globals = globals;
    }
    *storage.ctx = VmContext { globals: storage.globals.as_ptr() as usize, ..ctx };
    storage.tables = tables;
    storage.funcs = funcs;
    storage.memories = memories;
}

/// Points every function-table entry of store function `func` (a wasm function) at its
/// machine code `native`, with its instance's context: what a lazy compilation does once
/// the code exists.
pub(crate) fn set_native(store: &mut StoreInner, func: u32, native: usize) {
    let FuncKind::Wasm { instance, .. } = store.funcs[func as usize].kind else { return };
    let Some(ctx) = store.vmctx.get(instance as usize).map(|s| &*s.ctx as *const VmContext as usize) else { return };
    let Some(entry) = store.vm_store.funcs_storage.get_mut(func as usize) else { return };
    (entry.native, entry.vmctx) = (native, ctx);
    let entry = *entry;
    for (inst, storage) in store.instances.iter().zip(store.vmctx.iter_mut()) {
        for (k, _) in inst.funcs.iter().enumerate().filter(|&(_, &f)| f == func) {
            if let Some(e) = storage.funcs.get_mut(k) {
                *e = entry;
            }
        }
    }
}

/// The machine code store function `func`'s entries point at (0: none yet).
pub(crate) fn native(store: &StoreInner, func: u32) -> usize {
    store.vm_store.funcs_storage.get(func as usize).map_or(0, |e| e.native)
}

/// The store's [`VmStoreContext`] and the function entries it points to.
#[derive(Debug, Default)]
pub(crate) struct VmStoreStorage {
    pub ctx: Box<VmStoreContext>,
    funcs_storage: Box<[VmFuncEntry]>,
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
        assert_eq!(offset_of!(VmContext, instance), 44);
        assert_eq!(offset_of!(VmContext, store), 48);
        assert_eq!(offset_of!(VmContext, memories), 56);
        assert_eq!(std::mem::size_of::<VmFuncEntry>(), 24);
        assert_eq!(std::mem::size_of::<VmTable>(), 16);
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
        refresh_all(&mut store.inner, &Interpreted);
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
        assert_eq!(ctx.store, &*inner.vm_store.ctx as *const VmStoreContext as usize);
    }
}
