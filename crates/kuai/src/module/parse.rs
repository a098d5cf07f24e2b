//! The section walk: decodes a binary module with `wasmparser` and validates it.
//!
//! Every section is first *decoded* by our own reads (a failure is
//! [`CompileErrorKind::Malformed`]) and then handed to `wasmparser`'s validator (a failure
//! is [`CompileErrorKind::Invalid`], except for the few structural checks the spec calls
//! malformed but `wasmparser` performs in its validator; see [`classify`]).

use super::{
    ConstExpr, DataMode, DataSegment, ElemMode, ElemSegment, ExportIndex, Import, ImportKind, ModuleInner, Names,
};
use crate::engine::Engine;
use crate::error::{CompileError, CompileErrorKind};
use crate::types::{FuncType, GlobalType, Limits, MemoryType, Mutability, RefKind, TableType, ValType};
use std::sync::Arc;
use wasmparser::{BinaryReaderError, Parser, Payload, Validator};

fn malformed(e: BinaryReaderError) -> CompileError {
    CompileError::new(CompileErrorKind::Malformed, e.message(), Some(e.offset()))
}

/// Classifies an error raised by the validator. `wasmparser` checks a few properties of
/// the binary format (section count agreement, the data count section, the local count
/// limit) during validation; the spec classifies those as malformed.
fn classify(e: BinaryReaderError) -> CompileError {
    const MALFORMED: &[&str] = &[
        "inconsistent lengths",
        "data count section required",
        "too many locals",
        "malformed",
        "unexpected end",
        "section size mismatch",
        "integer too large",
        "integer representation too long",
        "zero byte expected",
        // A mutability byte other than 0/1 decodes as a "shared" flag in wasmparser.
        "shared-everything-threads",
    ];
    let message = e.message();
    let kind = if MALFORMED.iter().any(|m| message.contains(m)) {
        CompileErrorKind::Malformed
    } else {
        CompileErrorKind::Invalid
    };
    CompileError::new(kind, message, Some(e.offset()))
}

fn unsupported(what: &str, offset: u64) -> CompileError {
    CompileError::new(CompileErrorKind::Unsupported, format!("unsupported: {what}"), Some(offset))
}

fn val_type(ty: wasmparser::ValType, offset: u64) -> Result<ValType, CompileError> {
    ValType::from_wasmparser(ty).ok_or_else(|| unsupported("value type", offset))
}

fn ref_kind(ty: wasmparser::RefType, offset: u64) -> Result<RefKind, CompileError> {
    RefKind::from_wasmparser(ty).ok_or_else(|| unsupported("reference type", offset))
}

fn table_type(t: &wasmparser::TableType, offset: u64) -> Result<TableType, CompileError> {
    Ok(TableType {
        element: ref_kind(t.element_type, offset)?.into(),
        limits: Limits { min: t.initial, max: t.maximum },
    })
}

fn memory_type(t: &wasmparser::MemoryType) -> MemoryType {
    MemoryType { limits: Limits { min: t.initial, max: t.maximum } }
}

fn global_type(t: &wasmparser::GlobalType, offset: u64) -> Result<GlobalType, CompileError> {
    Ok(GlobalType {
        content: val_type(t.content_type, offset)?,
        mutability: if t.mutable { Mutability::Var } else { Mutability::Const },
    })
}

/// Decodes a constant expression (a single constant instruction followed by `end`).
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    use wasmparser::Operator as Op;
    let mut reader = expr.get_operators_reader();
    let offset = reader.original_position();
    let value = match reader.read().map_err(malformed)? {
        Op::I32Const { value } => ConstExpr::I32(value),
        Op::I64Const { value } => ConstExpr::I64(value),
        Op::F32Const { value } => ConstExpr::F32(value.bits()),
        Op::F64Const { value } => ConstExpr::F64(value.bits()),
        Op::V128Const { value } => ConstExpr::V128(value.i128() as u128),
        Op::RefNull { .. } => ConstExpr::RefNull,
        Op::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Op::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        // Anything else is rejected by the validator as a non-constant instruction.
        _ => {
            return Err(CompileError::new(CompileErrorKind::Invalid, "constant expression required", Some(offset)));
        }
    };
    match reader.read().map_err(malformed)? {
        Op::End => Ok(value),
        _ => Err(CompileError::new(CompileErrorKind::Invalid, "constant expression required", Some(offset))),
    }
}

/// Decodes and validates `bytes` into the module description.
///
/// The spec decodes the whole module before validating it, so a module that is both
/// invalid early and malformed later is malformed. Validation here is interleaved with
/// decoding (one pass); when it finds the module invalid, the rest of the module is
/// decoded to look for a malformation that must take precedence.
pub(super) fn parse(engine: &Engine, bytes: &[u8]) -> Result<ModuleInner, CompileError> {
    parse_with(engine, bytes, engine.config().lazy_validation)
}

/// [`parse`], validating function bodies later (before their first translation) if
/// `defer_bodies`, whatever the configuration says.
pub(super) fn parse_with(engine: &Engine, bytes: &[u8], defer_bodies: bool) -> Result<ModuleInner, CompileError> {
    match parse_and_validate(engine, bytes, defer_bodies) {
        Err(e) if e.kind == CompileErrorKind::Invalid => Err(decode_only(engine, bytes).err().unwrap_or(e)),
        result => result,
    }
}

/// Decodes every section and function body without validating; returns the first
/// malformation found.
fn decode_only(engine: &Engine, bytes: &[u8]) -> Result<(), CompileError> {
    let mut parser = Parser::new(0);
    parser.set_features(engine.config().wasm_features());
    let mut scratch = empty_module(engine);
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(malformed)?;
        match decode_section(&mut scratch, &payload) {
            Err(e) if e.kind == CompileErrorKind::Malformed => return Err(e),
            _ => {}
        }
        if let Payload::CodeSectionEntry(body) = &payload {
            for local in body.get_locals_reader().map_err(malformed)? {
                local.map_err(malformed)?;
            }
            let mut ops = body.get_operators_reader().map_err(malformed)?;
            while !ops.eof() {
                check_memarg(&ops.read_with_offset().map_err(malformed)?)?;
            }
            ops.finish().map_err(malformed)?;
        }
    }
    Ok(())
}

/// Alignment exponents of 32 and more cannot be encoded in a 2.0 memarg.
fn check_memarg((op, offset): &(wasmparser::Operator<'_>, u64)) -> Result<(), CompileError> {
    match scalar_memarg(op) {
        Some(memarg) if memarg.align >= 32 => {
            Err(CompileError::new(CompileErrorKind::Malformed, "malformed memop flags", Some(*offset)))
        }
        _ => Ok(()),
    }
}

/// The memory argument of a scalar load or store.
pub(crate) fn scalar_memarg(op: &wasmparser::Operator<'_>) -> Option<wasmparser::MemArg> {
    use wasmparser::Operator as Op;
    match *op {
        Op::I32Load { memarg }
        | Op::I64Load { memarg }
        | Op::F32Load { memarg }
        | Op::F64Load { memarg }
        | Op::I32Load8S { memarg }
        | Op::I32Load8U { memarg }
        | Op::I32Load16S { memarg }
        | Op::I32Load16U { memarg }
        | Op::I64Load8S { memarg }
        | Op::I64Load8U { memarg }
        | Op::I64Load16S { memarg }
        | Op::I64Load16U { memarg }
        | Op::I64Load32S { memarg }
        | Op::I64Load32U { memarg }
        | Op::I32Store { memarg }
        | Op::I64Store { memarg }
        | Op::F32Store { memarg }
        | Op::F64Store { memarg }
        | Op::I32Store8 { memarg }
        | Op::I32Store16 { memarg }
        | Op::I64Store8 { memarg }
        | Op::I64Store16 { memarg }
        | Op::I64Store32 { memarg } => Some(memarg),
        _ => None,
    }
}

/// A module with no sections; its `bytes` are empty until the caller puts the decoded
/// bytes there.
fn empty_module(engine: &Engine) -> ModuleInner {
    ModuleInner {
        engine: engine.clone(),
        bytes: super::ModuleBytes::Heap(Box::new([])),
        types: Vec::new(),
        type_ids: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        tables: Vec::new(),
        table_inits: Vec::new(),
        num_imported_tables: 0,
        memories: Vec::new(),
        num_imported_memories: 0,
        globals: Vec::new(),
        global_inits: Vec::new(),
        num_imported_globals: 0,
        imports: Vec::new(),
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        bodies: Vec::new(),
        unvalidated: Box::new([]),
        names: Names::default(),
        images: super::MemoryImages::default(),
    }
}

fn parse_and_validate(engine: &Engine, bytes: &[u8], defer_bodies: bool) -> Result<ModuleInner, CompileError> {
    let features = engine.config().wasm_features();
    let mut validator = Validator::new_with_features(features);
    let mut parser = Parser::new(0);
    parser.set_features(features);

    let mut m = empty_module(engine);
    let mut seeds = Vec::new();
    let walk = || -> Result<(), CompileError> {
        for payload in parser.parse_all(bytes) {
            let payload = payload.map_err(malformed)?;
            decode_section(&mut m, &payload)?;
            match validator.payload(&payload).map_err(classify)? {
                wasmparser::ValidPayload::Func(to_validate, body) => {
                    seeds.push(to_validate);
                    let range = body.range();
                    m.bodies.push(range.start as usize..range.end as usize);
                }
                wasmparser::ValidPayload::End(_) => break,
                wasmparser::ValidPayload::Parser(_) => return Err(unsupported("nested modules", 0)),
                wasmparser::ValidPayload::Ok => {}
            }
        }
        Ok(())
    };
    let walked = walk();
    // The bodies come before anything the walk found after them, as in a one-pass walk.
    if defer_bodies {
        walked?;
        m.unvalidated = seeds.into_boxed_slice();
    } else {
        validate_bodies(engine, bytes, &m.bodies, &seeds)?;
        walked?;
    }
    Ok(m)
}

/// Bodies per batch a validating thread takes at a time.
const BATCH: usize = 32;
/// Below this much code, one thread validates everything (threads cost more than they save).
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Validates every function body; reports the error of the first invalid one, whichever
/// thread finds it.
fn validate_bodies(
    engine: &Engine,
    bytes: &[u8],
    ranges: &[std::ops::Range<usize>],
    seeds: &[wasmparser::FuncToValidate<wasmparser::ValidatorResources>],
) -> Result<(), CompileError> {
    let code_bytes: usize = ranges.iter().map(|r| r.len()).sum();
    let threads = if engine.config().parallel_compilation && code_bytes >= PARALLEL_MIN_BYTES {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(ranges.len().div_ceil(BATCH))
    } else {
        1
    };
    let features = engine.config().wasm_features();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // The lowest index of a body found invalid, and its error.
    let first_error: std::sync::Mutex<Option<(usize, CompileError)>> = std::sync::Mutex::new(None);
    let work = || {
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        loop {
            let start = next.fetch_add(BATCH, std::sync::atomic::Ordering::Relaxed);
            if start >= ranges.len() {
                return;
            }
            for def in start..(start + BATCH).min(ranges.len()) {
                let range = ranges[def].clone();
                let mut reader = wasmparser::BinaryReader::new(&bytes[range.clone()], range.start as u64);
                reader.set_features(features);
                let body = wasmparser::FunctionBody::new(reader);
                let mut func = copy_of(&seeds[def]).into_validator(std::mem::take(&mut allocs));
                let outcome = func.validate(&body);
                allocs = func.into_allocations();
                if let Err(error) = outcome {
                    // (`parse` then looks for a malformation the validator reports as invalid.)
                    let error = classify(error);
                    let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
                    if first.as_ref().is_none_or(|(at, _)| def < *at) {
                        *first = Some((def, error));
                    }
                    // Later bodies cannot change which error is reported.
                    return;
                }
            }
        }
    };
    if threads > 1 {
        std::thread::scope(|scope| {
            for _ in 1..threads {
                // A thread that cannot be started leaves its share to the others.
                let _ = std::thread::Builder::new().spawn_scoped(scope, work);
            }
            work();
        });
    } else {
        work();
    }
    match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// Validates defined function `def` of a module decoded with `Config::lazy_validation`,
/// just before its first translation.
pub(crate) fn validate_later(
    m: &ModuleInner,
    def: u32,
    to_validate: &wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
) -> Result<(), CompileError> {
    let range = m.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&m.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let mut func = copy_of(to_validate).into_validator(Default::default());
    validate_body(&mut func, &body)
}

/// A copy of a function's validator seed (`FuncToValidate` is not `Clone`).
fn copy_of(
    to_validate: &wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
) -> wasmparser::FuncToValidate<wasmparser::ValidatorResources> {
    wasmparser::FuncToValidate {
        resources: to_validate.resources.clone(),
        index: to_validate.index,
        ty: to_validate.ty,
        features: to_validate.features,
    }
}

/// Validates one function body, telling decoding errors (malformed) from validation errors.
fn validate_body<R: wasmparser::WasmModuleResources>(
    func: &mut wasmparser::FuncValidator<R>,
    body: &wasmparser::FunctionBody<'_>,
) -> Result<(), CompileError> {
    let mut locals = body.get_locals_reader().map_err(malformed)?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read().map_err(malformed)?;
        func.define_locals(offset, count, ty).map_err(classify)?;
    }
    let mut ops = body.get_operators_reader().map_err(malformed)?;
    while !ops.eof() {
        let op = ops.read_with_offset().map_err(malformed)?;
        check_memarg(&op)?;
        func.op(op.1, &op.0).map_err(classify)?;
    }
    ops.finish().map_err(malformed)
}

/// Records what a section declares. Reading errors here are decoding errors.
fn decode_section(m: &mut ModuleInner, payload: &Payload<'_>) -> Result<(), CompileError> {
    match payload {
        Payload::TypeSection(reader) => {
            for ty in reader.clone().into_iter_err_on_gc_types() {
                let ty = ty.map_err(malformed)?;
                let offset = reader.range().start;
                let params = ty.params().iter().map(|t| val_type(*t, offset)).collect::<Result<Vec<_>, _>>()?;
                let results = ty.results().iter().map(|t| val_type(*t, offset)).collect::<Result<Vec<_>, _>>()?;
                let ft = FuncType::new(params, results);
                m.type_ids.push(m.engine.intern_type(&ft));
                m.types.push(Arc::new(ft));
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.clone().into_imports_with_offsets() {
                let (offset, import) = import.map_err(malformed)?;

                let kind = match import.ty {
                    wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                        m.funcs.push(t);
                        m.num_imported_funcs += 1;
                        ImportKind::Func(t)
                    }
                    wasmparser::TypeRef::Table(t) => {
                        let t = table_type(&t, offset)?;
                        m.tables.push(t);
                        m.table_inits.push(None);
                        m.num_imported_tables += 1;
                        ImportKind::Table(t)
                    }
                    wasmparser::TypeRef::Memory(t) => {
                        let t = memory_type(&t);
                        m.memories.push(t);
                        m.num_imported_memories += 1;
                        ImportKind::Memory(t)
                    }
                    wasmparser::TypeRef::Global(t) => {
                        let t = global_type(&t, offset)?;
                        m.globals.push(t);
                        m.num_imported_globals += 1;
                        ImportKind::Global(t)
                    }
                    wasmparser::TypeRef::Tag(_) => return Err(unsupported("tags", offset)),
                };
                m.imports.push(Import { module: import.module.into(), name: import.name.into(), kind });
            }
        }
        Payload::FunctionSection(reader) => {
            for t in reader.clone() {
                m.funcs.push(t.map_err(malformed)?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader.clone() {
                let table = table.map_err(malformed)?;
                m.tables.push(table_type(&table.ty, reader.range().start)?);
                m.table_inits.push(match &table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => Some(const_expr(e)?),
                });
            }
        }
        Payload::MemorySection(reader) => {
            for mem in reader.clone() {
                m.memories.push(memory_type(&mem.map_err(malformed)?));
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader.clone() {
                let g = g.map_err(malformed)?;
                m.globals.push(global_type(&g.ty, reader.range().start)?);
                m.global_inits.push(const_expr(&g.init_expr)?);
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader.clone() {
                let e = e.map_err(malformed)?;
                let idx = match e.kind {
                    wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => ExportIndex::Func(e.index),
                    wasmparser::ExternalKind::Table => ExportIndex::Table(e.index),
                    wasmparser::ExternalKind::Memory => ExportIndex::Memory(e.index),
                    wasmparser::ExternalKind::Global => ExportIndex::Global(e.index),
                    wasmparser::ExternalKind::Tag => {
                        return Err(unsupported("tags", reader.range().start));
                    }
                };
                m.exports.push((e.name.into(), idx));
            }
        }
        Payload::StartSection { func, .. } => m.start = Some(*func),
        Payload::ElementSection(reader) => {
            for elem in reader.clone() {
                let elem = elem.map_err(malformed)?;
                let offset = elem.range.start;
                let mode = match &elem.kind {
                    wasmparser::ElementKind::Passive => ElemMode::Passive,
                    wasmparser::ElementKind::Declared => ElemMode::Declared,
                    wasmparser::ElementKind::Active { table_index, offset_expr } => {
                        ElemMode::Active { table: table_index.unwrap_or(0), offset: const_expr(offset_expr)? }
                    }
                };
                let items = match elem.items {
                    wasmparser::ElementItems::Functions(funcs) => funcs
                        .into_iter()
                        .map(|f| f.map(ConstExpr::RefFunc).map_err(malformed))
                        .collect::<Result<Vec<_>, _>>()?,
                    wasmparser::ElementItems::Expressions(ty, exprs) => {
                        let mut items = Vec::new();
                        for e in exprs {
                            items.push(const_expr(&e.map_err(malformed)?)?);
                        }
                        ref_kind(ty, offset)?;
                        items
                    }
                };
                m.elems.push(ElemSegment { mode, items: items.into_boxed_slice() });
            }
        }
        Payload::DataSection(reader) => {
            for data in reader.clone() {
                let data = data.map_err(malformed)?;
                let mode = match &data.kind {
                    wasmparser::DataKind::Passive => DataMode::Passive,
                    wasmparser::DataKind::Active { memory_index, offset_expr } => {
                        DataMode::Active { memory: *memory_index, offset: const_expr(offset_expr)? }
                    }
                };
                // `data.data` borrows from the module bytes; recover its range.
                let start = data.range.end as usize - data.data.len();
                m.datas.push(DataSegment { mode, bytes: start..data.range.end as usize });
            }
        }
        Payload::CustomSection(reader) => {
            if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                read_names(&mut m.names, names);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads the name section. Errors in custom sections never fail a module.
fn read_names(names: &mut Names, reader: wasmparser::NameSectionReader<'_>) {
    for subsection in reader {
        match subsection {
            Ok(wasmparser::Name::Module { name, .. }) => names.module = Some(name.to_string()),
            Ok(wasmparser::Name::Function(map)) => {
                for naming in map.into_iter().flatten() {
                    names.funcs.insert(naming.index, naming.name.to_string());
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}
