//! Instances and instantiation ([spec: instantiation]).
//!
//! [spec: instantiation]: https://webassembly.github.io/spec/core/exec/modules.html#instantiation

use super::module::Module;
use super::store::{AsContext, AsContextMut, Store, StoreId, StoreInner};
use super::typed::{TypedFunc, WasmParams, WasmResults};
use super::{Extern, Func, Global, Memory, Table};
use crate::error::{Error, LinkError};
use crate::module::{ConstExpr, DataMode, ElemMode, ExportIndex, ImportKind};
use crate::trap::Trap;
use crate::types::ExternType;
use crate::vm::{FuncData, FuncKind, GlobalData, InstanceData, InstanceSegments};

/// An instantiated module: its functions, memories, tables and globals, in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// Looks up an export of store instance `instance`.
pub(crate) fn export_of(store: &StoreInner, instance: u32, name: &str) -> Option<Extern> {
    let data = &store.instances[instance as usize];
    let (_, idx) = data.module.exports.iter().find(|(n, _)| n == name)?;
    Some(extern_of(store.id, data, *idx))
}

fn extern_of(store: StoreId, data: &InstanceData, idx: ExportIndex) -> Extern {
    match idx {
        ExportIndex::Func(i) => Extern::Func(Func { store, index: data.funcs[i as usize] }),
        ExportIndex::Table(i) => Extern::Table(Table { store, index: data.tables[i as usize] }),
        ExportIndex::Memory(i) => Extern::Memory(Memory { store, index: data.memories[i as usize] }),
        ExportIndex::Global(i) => Extern::Global(Global { store, index: data.globals[i as usize] }),
    }
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order.
    pub fn new<T>(
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        let ctx = store.as_context_mut();
        instantiate(ctx.0, module, imports)
    }

    /// The export `name`, if any.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        export_of(ctx.inner(), self.index, name)
    }

    /// The exported function `name`, if any.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` with static types.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>, Error> {
        let func = self.get_func(&store, name).ok_or_else(|| Error::UnknownExport(name.to_string()))?;
        func.typed(&store)
    }

    /// The exported memory `name`, if any.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`, if any.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`, if any.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// All exports, in the module's order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let ctx = store.as_context();
        let inner = ctx.inner();
        inner.check(self.store);
        let data = &inner.instances[self.index as usize];
        data.module.exports.iter().map(|(n, idx)| (n.clone(), extern_of(inner.id, data, *idx))).collect()
    }

    /// The module this is an instance of.
    pub fn module(&self, store: impl AsContext) -> Module {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        let store = ctx.0;
        Module {
            inner: store.inner.instances[self.index as usize].module.clone(),
            code: store.interp.code[self.index as usize].clone(),
            #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
            compiled: store.compiled.shared.get(self.index as usize).cloned().flatten(),
        }
    }
}

/// Checks that `provided` may satisfy an import of type `wanted`.
fn import_matches(provided: &ExternType, wanted: &ExternType) -> bool {
    match (provided, wanted) {
        (ExternType::Func(a), ExternType::Func(b)) => a == b,
        (ExternType::Table(a), ExternType::Table(b)) => a.element == b.element && a.limits.matches(&b.limits),
        (ExternType::Memory(a), ExternType::Memory(b)) => a.limits.matches(&b.limits),
        (ExternType::Global(a), ExternType::Global(b)) => a == b,
        _ => false,
    }
}

/// Evaluates a constant expression in the context of a (partially built) instance, to the
/// untyped encoding (128 bits wide so that `v128` constants fit).
fn eval_const(store: &StoreInner, data: &InstanceData, expr: ConstExpr) -> u128 {
    match expr {
        ConstExpr::I32(v) => v as u32 as u128,
        ConstExpr::I64(v) => v as u64 as u128,
        ConstExpr::F32(v) => v as u128,
        ConstExpr::F64(v) => v as u128,
        ConstExpr::V128(v) => v,
        ConstExpr::RefNull => 0,
        ConstExpr::RefFunc(f) => data.funcs[f as usize] as u128 + 1,
        ConstExpr::GlobalGet(g) => store.globals[data.globals[g as usize] as usize].value,
    }
}

/// A reference-typed constant expression (table and element initializers).
fn eval_ref(store: &StoreInner, data: &InstanceData, expr: ConstExpr) -> u64 {
    eval_const(store, data, expr) as u64
}

/// Instantiates `module` in `store` with resolved `imports`.
pub(crate) fn instantiate<T>(store: &mut Store<T>, module: &Module, imports: &[Extern]) -> Result<Instance, Error> {
    let m = &module.inner;
    if !crate::Engine::same(&m.engine, &store.inner.engine) {
        return Err(Error::Link(LinkError::WrongStore));
    }
    if imports.len() != m.imports.len() {
        return Err(Error::TypeMismatch(format!("module needs {} imports, {} given", m.imports.len(), imports.len())));
    }
    store.check_instance_count()?;
    let inner = &mut store.inner;
    let id = inner.id;
    let mut data = InstanceData {
        module: module.inner.clone(),
        funcs: Box::new([]),
        tables: Box::new([]),
        memories: Box::new([]),
        globals: Box::new([]),
    };
    let (mut funcs, mut tables, mut memories, mut globals) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());

    // Resolve imports.
    for (import, ext) in m.imports.iter().zip(imports) {
        if ext.store_id() != id {
            return Err(Error::Link(LinkError::WrongStore));
        }
        let wanted = match &import.kind {
            ImportKind::Func(t) => ExternType::Func(crate::types::FuncType::clone(&m.types[*t as usize])),
            ImportKind::Table(t) => ExternType::Table(*t),
            ImportKind::Memory(t) => ExternType::Memory(*t),
            ImportKind::Global(t) => ExternType::Global(*t),
        };
        let provided = ext.ty_in(inner);
        if !import_matches(&provided, &wanted) {
            return Err(Error::Link(LinkError::IncompatibleImportType {
                module: import.module.clone(),
                name: import.name.clone(),
                expected: wanted.to_string(),
                found: provided.to_string(),
            }));
        }
        match ext {
            Extern::Func(f) => funcs.push(f.index),
            Extern::Table(t) => tables.push(t.index),
            Extern::Memory(mem) => memories.push(mem.index),
            Extern::Global(g) => globals.push(g.index),
        }
    }

    // Allocate the module's own functions first: globals and segments may refer to them.
    let instance_index = inner.instances.len() as u32;
    for index in m.num_imported_funcs..m.funcs.len() as u32 {
        let type_index = m.funcs[index as usize] as usize;
        inner.funcs.push(FuncData {
            ty: m.types[type_index].clone(),
            type_id: m.type_ids[type_index],
            kind: FuncKind::Wasm { instance: instance_index, index },
        });
        funcs.push(inner.funcs.len() as u32 - 1);
    }
    data.funcs = funcs.into_boxed_slice();
    data.globals = globals.clone().into_boxed_slice();
    for (i, &ty) in m.globals.iter().enumerate().skip(m.num_imported_globals as usize) {
        let init = m.global_inits[i - m.num_imported_globals as usize];
        let value = eval_const(inner, &data, init);
        inner.globals.push(GlobalData { ty, value });
        globals.push(inner.globals.len() as u32 - 1);
        data.globals = globals.clone().into_boxed_slice();
    }
    for (i, &ty) in m.tables.iter().enumerate().skip(m.num_imported_tables as usize) {
        let init = m.table_inits[i].map_or(0, |e| eval_ref(&store.inner, &data, e));
        tables.push(store.create_table(ty, init)?);
    }
    // Defined memories start from their images where the module has them (else the data
    // segments are copied below); `imaged` is per defined memory.
    let images = super::image::images(m);
    let mut imaged = vec![false; m.memories.len() - m.num_imported_memories as usize];
    for (k, &ty) in m.memories.iter().skip(m.num_imported_memories as usize).enumerate() {
        let image = images.and_then(|i| i[k].as_ref());
        let memory = store.create_memory(ty, image.map(|i| (i.id, i.len)))?;
        if let Some(image) = image {
            imaged[k] = store.inner.memories[memory as usize].map_image(image.id, &image.file, image.offset, image.len);
        }
        memories.push(memory);
    }
    let inner = &mut store.inner;
    // Compiled code that relies on the guard region does no bounds checks: each of its
    // memories must have the reservation (a system that refused it — `ulimit -v` — gets
    // an error here, not an unchecked access; tiered, the instance only interprets).
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    let mut compiled = module.compiled.clone();
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    if compiled.is_some() {
        let layout = inner.engine.config().memory_layout();
        if layout.reservation >= 1 << 32 && memories.iter().any(|&m| inner.memories[m as usize].layout() != layout) {
            if inner.engine.config().strategy == crate::Strategy::Tiered {
                compiled = None;
            } else {
                return Err(Error::Limit(
                    "cannot reserve the address space compiled code needs for a linear memory \
                 (4 GiB and a guard); use Config::memory_reservation(0) (-O memory-reservation=0)"
                        .into(),
                ));
            }
        }
    }
    data.tables = tables.into_boxed_slice();
    data.memories = memories.into_boxed_slice();
    let elems = m.elems.iter().map(|seg| seg.items.iter().map(|e| eval_ref(inner, &data, *e)).collect()).collect();
    inner.segments.push(InstanceSegments { elems, data_dropped: vec![false; m.datas.len()] });
    inner.instances.push(data);
    store.interp.add_instance(module.code.clone(), inner.engine.config().tiering_threshold);
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    store.compiled.modules.push(compiled.as_ref().and_then(|c| c.get().cloned()));
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    store.compiled.shared.push(compiled);
    let inner = &mut store.inner;
    let instance = Instance { store: id, index: instance_index };

    inner.vm_dirty = true;
    initialize_segments(inner, instance_index, &imaged)?;
    if let Some(start) = m.start {
        let func = inner.instances[instance_index as usize].funcs[start as usize];
        super::call::call(store, func, &[], &mut [])?;
    }
    Ok(instance)
}

/// Applies active element and data segments in order; the first out-of-bounds segment
/// traps, leaving earlier writes in place. Data segments of the defined memories that
/// `imaged` marks (by defined-memory index) are in place already: they are only dropped.
fn initialize_segments(inner: &mut StoreInner, instance: u32, imaged: &[bool]) -> Result<(), Error> {
    let m = inner.instances[instance as usize].module.clone();
    for (i, seg) in m.elems.iter().enumerate() {
        match &seg.mode {
            ElemMode::Active { table, offset } => {
                let data = &inner.instances[instance as usize];
                let offset = eval_const(inner, data, *offset) as u32 as usize;
                let table_index = data.tables[*table as usize] as usize;
                let items = std::mem::take(&mut inner.segments[instance as usize].elems[i]);
                let elems = &mut inner.tables[table_index].elems;
                let dst = offset
                    .checked_add(items.len())
                    .filter(|&end| end <= elems.len())
                    .map(|end| &mut elems[offset..end])
                    .ok_or(Error::from(Trap::TableOutOfBounds))?;
                dst.copy_from_slice(&items);
            }
            ElemMode::Declared => inner.segments[instance as usize].elems[i] = Box::new([]),
            ElemMode::Passive => {}
        }
    }
    for (i, seg) in m.datas.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            let defined = memory.checked_sub(m.num_imported_memories);
            if defined.is_some_and(|k| imaged[k as usize]) {
                inner.segments[instance as usize].data_dropped[i] = true;
                continue;
            }
            let data = &inner.instances[instance as usize];
            let offset = eval_const(inner, data, *offset) as u32 as usize;
            let mem_index = data.memories[*memory as usize] as usize;
            let bytes = &m.bytes[seg.bytes.clone()];
            let mem = inner.memories[mem_index].bytes_mut();
            let dst = offset
                .checked_add(bytes.len())
                .filter(|&end| end <= mem.len())
                .map(|end| &mut mem[offset..end])
                .ok_or(Error::from(Trap::MemoryOutOfBounds))?;
            dst.copy_from_slice(bytes);
            inner.segments[instance as usize].data_dropped[i] = true;
        }
    }
    Ok(())
}
