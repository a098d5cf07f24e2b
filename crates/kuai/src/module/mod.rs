//! Modules: decoding and validation ([spec: binary format], [spec: validation]).
//!
//! [`decode`] turns bytes (binary, or text through the `wat` crate) into a validated,
//! immutable [`ModuleInner`], the description every later stage reads (the public
//! `Module` in `runtime::module` wraps it with its code caches). Decoding and validation
//! are done by `wasmparser`, configured for exactly the WebAssembly 2.0 feature set (SIMD
//! per [`Config::wasm_simd`](crate::Config::wasm_simd)). Function bodies are validated
//! here unless [`Config::lazy_validation`](crate::Config::lazy_validation) defers them to
//! their first translation ([`ModuleInner::validate_later`]).
//!
//! [spec: binary format]: https://webassembly.github.io/spec/core/binary/index.html
//! [spec: validation]: https://webassembly.github.io/spec/core/valid/index.html

mod parse;

pub(crate) use parse::scalar_memarg;

use crate::engine::Engine;
use crate::error::{CompileError, CompileErrorKind, Error};
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// A constant expression (initializers of globals, segment offsets and elements).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConstExpr {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
}

/// What an import brings in.
#[derive(Debug, Clone)]
pub(crate) enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

/// The kind and index of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
}

#[derive(Debug, Clone)]
pub(crate) enum ElemMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug, Clone)]
pub(crate) struct ElemSegment {
    pub mode: ElemMode,
    pub items: Box<[ConstExpr]>,
}

#[derive(Debug, Clone)]
pub(crate) enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment {
    pub mode: DataMode,
    pub bytes: Range<usize>,
}

/// Names from the custom `name` section.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub module: Option<String>,
    pub funcs: HashMap<u32, String>,
}

/// Whether `bytes` are decoded as a binary module: they start with the `\0asm` magic
/// number, or are not UTF-8 (so cannot be text).
fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm") || std::str::from_utf8(bytes).is_err()
}

/// Files at least this big are read into a mapping of their own (`read_mapped`).
const MAPPED_MIN_BYTES: u64 = 4 << 20;

/// Reads `len` bytes of `file` into fresh anonymous memory that asks the system for huge
/// pages: a 26 MB module then costs a dozen page faults instead of 6,400 (the faults, not the
/// copy, were most of the time `Module::from_file` spent reading; see docs/RATIONALE.md).
fn read_mapped(file: &mut std::fs::File, len: usize) -> std::io::Result<memmap2::Mmap> {
    use std::io::Read;
    let mut map = memmap2::MmapMut::map_anon(len)?;
    // Only a hint: without transparent huge pages the read still works, page by page.
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage);
    file.read_exact(&mut map)?;
    if file.read(&mut [0])? != 0 {
        return Err(std::io::Error::other("the file grew while it was read"));
    }
    map.make_read_only()
}

/// A module's bytes: on the heap, in a mapping of their own (big files), or a range of a
/// shared mapping (an AOT artifact's file).
pub(crate) enum ModuleBytes {
    Heap(Box<[u8]>),
    Mapped(memmap2::Mmap),
    #[cfg_attr(
        not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
        allow(dead_code, reason = "AOT artifacts need the compiler")
    )]
    Within(std::sync::Arc<memmap2::Mmap>, Range<usize>),
}

impl std::ops::Deref for ModuleBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ModuleBytes::Heap(bytes) => bytes,
            ModuleBytes::Mapped(map) => map,
            ModuleBytes::Within(map, range) => &map[range.clone()],
        }
    }
}

/// Everything known about a module after decoding and validation.
pub(crate) struct ModuleInner {
    pub engine: Engine,
    /// The module's own bytes (function bodies and data segments point into them).
    pub bytes: ModuleBytes,
    pub types: Vec<Arc<FuncType>>,
    /// Engine-wide canonical id of each type, compared by `call_indirect`.
    pub type_ids: Vec<u32>,
    /// Type index of each function, imported ones first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub table_inits: Vec<Option<ConstExpr>>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub global_inits: Vec<ConstExpr>,
    pub num_imported_globals: u32,
    pub imports: Vec<Import>,
    pub exports: Vec<(String, ExportIndex)>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
    /// Byte range of each defined function's body (locals + code).
    pub bodies: Vec<Range<usize>>,
    /// With `Config::lazy_validation`: each body's validator, run before its translation.
    pub unvalidated: Box<[wasmparser::FuncToValidate<wasmparser::ValidatorResources>]>,
    pub names: Names,
    /// The initial contents of the defined memories, as files to map copy-on-write
    /// (`runtime/image.rs` builds them).
    pub images: MemoryImages,
}

/// A defined memory's initial contents — zeros with the module's active data segments
/// written in — as `len` bytes of `file` from `offset` (both host-page multiples).
#[derive(Debug)]
pub(crate) struct MemoryImage {
    /// Unique in the process (a pooled memory that still holds this image is recognized).
    pub id: u64,
    pub file: std::fs::File,
    pub offset: u64,
    pub len: usize,
}

impl MemoryImage {
    /// A fresh image id.
    pub(crate) fn next_id() -> u64 {
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

impl ModuleInner {
    /// What the image of memory `memory` (module index, a defined memory of `initial` bytes)
    /// holds: its length (a multiple of `page`) and the segments to write into zeros, in
    /// order (offset, byte range in the module). `None` if the memory has no data, or if an
    /// active segment for it has a non-constant offset or does not fit `initial` bytes (then
    /// instantiation must copy, and may trap, segment by segment).
    pub(crate) fn image_layout(&self, memory: u32, initial: usize, page: usize) -> Option<MemoryImageLayout> {
        let mut segments = Vec::new();
        let mut end = 0;
        for seg in &self.datas {
            let DataMode::Active { memory: target, offset } = &seg.mode else { continue };
            if *target != memory {
                continue;
            }
            let ConstExpr::I32(offset) = *offset else { return None };
            let start = offset as u32 as usize;
            let seg_end = start.checked_add(seg.bytes.len()).filter(|&e| e <= initial)?;
            end = end.max(seg_end);
            segments.push((start, seg.bytes.clone()));
        }
        (end > 0).then(|| MemoryImageLayout { len: end.next_multiple_of(page), segments })
    }
}

/// See [`ModuleInner::image_layout`].
pub(crate) struct MemoryImageLayout {
    pub len: usize,
    pub segments: Vec<(usize, Range<usize>)>,
}

/// The memory images of a module's defined memories (`None`: that memory has none), made
/// once the module is instantiated a second time (a single instance copies its segments).
#[derive(Debug, Default)]
pub(crate) struct MemoryImages {
    pub images: std::sync::OnceLock<Box<[Option<MemoryImage>]>>,
    /// Instantiations so far.
    pub instantiations: std::sync::atomic::AtomicU32,
}

impl ModuleInner {
    /// The type of function `func` (module function index space).
    pub(crate) fn func_type(&self, func: u32) -> &Arc<FuncType> {
        &self.types[self.funcs[func as usize] as usize]
    }

    pub(crate) fn extern_type(&self, export: ExportIndex) -> ExternType {
        match export {
            ExportIndex::Func(i) => ExternType::Func(FuncType::clone(self.func_type(i))),
            ExportIndex::Table(i) => ExternType::Table(self.tables[i as usize]),
            ExportIndex::Memory(i) => ExternType::Memory(self.memories[i as usize]),
            ExportIndex::Global(i) => ExternType::Global(self.globals[i as usize]),
        }
    }

    /// With `Config::lazy_validation`, validates defined function `def` (before its first
    /// translation); otherwise its body was validated with the module.
    pub(crate) fn validate_later(&self, def: u32) -> Result<(), CompileError> {
        match self.unvalidated.get(def as usize) {
            Some(to_validate) => parse::validate_later(self, def, to_validate),
            None => Ok(()),
        }
    }
}

/// Decodes and validates a module from its binary or text (`.wat`) form.
///
/// Bytes that start with the `\0asm` magic number, or are not UTF-8 (so cannot be text),
/// are decoded as a binary module; anything else is parsed as text.
pub(crate) fn decode(engine: &Engine, bytes: &[u8]) -> Result<ModuleInner, Error> {
    if is_binary(bytes) {
        return decode_binary(engine, bytes);
    }
    decode_text(engine, bytes)
}

/// Decodes and validates a module from its binary form only.
pub(crate) fn decode_binary(engine: &Engine, bytes: &[u8]) -> Result<ModuleInner, Error> {
    decode_owned(engine, ModuleBytes::Heap(bytes.into()))
}

/// Reads a `.wasm` or `.wat` file and decodes it. The module keeps the bytes it read
/// (files of `MAPPED_MIN_BYTES` and more in a mapping of their own): no copy.
pub(crate) fn decode_file(engine: &Engine, path: &Path) -> Result<ModuleInner, Error> {
    let io = |source| Error::Io { path: path.display().to_string(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = usize::try_from(file.metadata().map_err(io)?.len()).unwrap_or(usize::MAX);
    let bytes = if len as u64 >= MAPPED_MIN_BYTES {
        ModuleBytes::Mapped(read_mapped(&mut file, len).map_err(io)?)
    } else {
        let mut bytes = Vec::with_capacity(len);
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
        ModuleBytes::Heap(bytes.into_boxed_slice())
    };
    if is_binary(&bytes) {
        return decode_owned(engine, bytes);
    }
    decode_text(engine, &bytes)
}

/// Decodes a module from its text form.
fn decode_text(engine: &Engine, text: &[u8]) -> Result<ModuleInner, Error> {
    let binary =
        wat::parse_bytes(text).map_err(|e| CompileError::new(CompileErrorKind::Malformed, e.to_string(), None))?;
    decode_owned(engine, ModuleBytes::Heap(binary.into_owned().into_boxed_slice()))
}

/// Decodes and validates a binary module, keeping `bytes` without copying them.
fn decode_owned(engine: &Engine, bytes: ModuleBytes) -> Result<ModuleInner, Error> {
    let mut inner = parse::parse(engine, &bytes)?;
    inner.bytes = bytes;
    Ok(inner)
}

/// Decodes a binary module whose function bodies are trusted, as an AOT artifact's: they
/// are validated only if the interpreter ever translates them.
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
pub(crate) fn decode_trusted(engine: &Engine, bytes: ModuleBytes) -> Result<ModuleInner, Error> {
    let mut inner = parse::parse_with(engine, &bytes, true)?;
    inner.bytes = bytes;
    Ok(inner)
}

/// Checks that `bytes` are a valid binary module without keeping the result.
pub(crate) fn validate(engine: &Engine, bytes: &[u8]) -> Result<(), Error> {
    parse::parse(engine, bytes).map(drop).map_err(Error::from)
}
