//! AOT artifacts (`kuai compile`, `Module::serialize`): a module compiled all at once — every
//! function and every type's trampolines in one position-independent piece of code — written
//! with everything needed to map it again in another process: the module's own bytes, the
//! code, its function ranges and trap sites, and the offsets of the functions and
//! trampolines. An artifact is trusted machine code; its header carries a compatibility key
//! (Kuai's version and code ABI, Cranelift's version, the target and its CPU features, and
//! every setting that changes the code), and one that does not match the engine, or that
//! is truncated or not an artifact at all, is refused with a one-line error before anything
//! is mapped.
//!
//! Layout (little-endian): the magic `\0kuaiaot`, a `u32` format version, the key
//! (`u32` length + UTF-8), the module bytes (`u64` length + bytes), then tables, each a `u32`
//! count of entries: function ranges (`start`, `end`, `func_index`: `u32`, `wasm`: `u8`),
//! trap sites by ascending offset (`offset`: `u32`, site: `u8`), and the offsets (`u32`) of
//! the defined functions, the entry trampolines and the host-call trampolines (one per module
//! type), and the memory images (a `u32` count, each the defined memory's index `u32` and
//! the image's length `u64`); then the code's length (`u64`), zeros up to the next multiple
//! of [`PAGE`] in the file, the code, and each memory image, also from a page boundary. Code
//! and images start on page boundaries so that
//! [`Module::deserialize_file`](crate::Module::deserialize_file) maps them from the file as
//! they are: loading copies neither the code nor the module bytes, and instantiating maps
//! the memories' initial contents copy-on-write instead of copying the data segments.

use super::{Built, CompileError, CompiledModule, Mode, build, isa, unsupported};
use crate::module::{MemoryImage, ModuleInner};
use crate::trap::Trap;
use crate::vm::code::{CodeMemory, FuncRange, TrapTable};
use crate::vm::traps::TrapSite;

/// The first bytes of every artifact.
pub(crate) const MAGIC: &[u8; 8] = b"\0kuaiaot";
/// The layout's version.
const FORMAT: u32 = 3;
/// The alignment of the code in the file: a page, so that it can be mapped in place.
const PAGE: usize = 4096;
/// Bump when the code Kuai generates changes its contract with the runtime (the `VmContext`
/// layout, trampolines, runtime entries, trap codes) within one Kuai version.
const CODE_ABI: u32 = 1;
/// The Cranelift the workspace pins (`=0.135.8`).
const CRANELIFT: &str = "0.135.8";

/// The trap kinds of trap sites, in the order of their codes in an artifact.
const TRAPS: [Trap; 13] = [
    Trap::StackOverflow,
    Trap::IntegerOverflow,
    Trap::MemoryOutOfBounds,
    Trap::IntegerDivideByZero,
    Trap::InvalidConversionToInteger,
    Trap::Unreachable,
    Trap::TableOutOfBounds,
    Trap::UninitializedElement,
    Trap::UndefinedElement,
    Trap::IndirectCallTypeMismatch,
    Trap::NullReference,
    Trap::OutOfFuel,
    Trap::Interrupt,
];
/// The code of [`TrapSite::Host`].
const HOST_SITE: u8 = 255;

/// The trap site an artifact's code stands for (`None`: not one Kuai writes).
fn trap_site(code: u8) -> Option<TrapSite> {
    match code {
        HOST_SITE => Some(TrapSite::Host),
        code => TRAPS.get(code as usize).map(|&trap| TrapSite::Wasm(trap)),
    }
}

/// What code compiled under `config` is compatible with, as one line.
pub(crate) fn compatibility_key(config: &crate::Config) -> Result<String, CompileError> {
    let isa = isa()?;
    let features: Vec<String> = isa.isa_flags().iter().map(|f| f.to_string()).collect();
    let layout = config.memory_layout();
    let bounds = if layout.reservation >= 1 << 32 { "guard pages" } else { "explicit checks" };
    Ok(format!(
        "kuai {} (code ABI {CODE_ABI}, sources {}), cranelift {CRANELIFT}, {} [{}], bounds: {bounds}, \
         guard {} bytes, fuel {}, epochs {}, simd {}, multi-memory {}",
        env!("CARGO_PKG_VERSION"),
        env!("KUAI_SOURCE_HASH"),
        isa.triple(),
        features.join(" "),
        layout.guard,
        config.consume_fuel,
        config.epoch_interruption,
        config.wasm_simd,
        config.wasm_multi_memory,
    ))
}

/// Compiles every function of `module` and writes the artifact.
pub(crate) fn serialize(module: &ModuleInner) -> Result<Vec<u8>, CompileError> {
    let key = compatibility_key(module.engine.config())?;
    let built = build(module, Mode::Eager)?;
    let mut out = Vec::with_capacity(module.bytes.len() + built.layout.bytes.len() + 4096);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    put_bytes32(&mut out, key.as_bytes());
    put_bytes64(&mut out, &module.bytes);
    put_u32(&mut out, built.layout.ranges.len());
    for r in &built.layout.ranges {
        out.extend_from_slice(&r.start.to_le_bytes());
        out.extend_from_slice(&r.end.to_le_bytes());
        out.extend_from_slice(&r.func_index.to_le_bytes());
        out.push(u8::from(r.wasm));
    }
    let mut traps = built.layout.traps.clone();
    traps.sort_by_key(|t| t.0);
    put_u32(&mut out, traps.len());
    for &(offset, site) in &traps {
        out.extend_from_slice(&offset.to_le_bytes());
        out.push(match site {
            TrapSite::Host => HOST_SITE,
            TrapSite::Wasm(trap) => TRAPS.iter().position(|&t| t == trap).map_or(HOST_SITE - 1, |i| i as u8),
        });
    }
    for table in [&built.funcs, &built.entry, &built.host] {
        put_u32(&mut out, table.len());
        for offset in table.iter() {
            out.extend_from_slice(&offset.to_le_bytes());
        }
    }
    let images = memory_images(module);
    put_u32(&mut out, images.len());
    for (memory, image) in &images {
        out.extend_from_slice(&memory.to_le_bytes());
        out.extend_from_slice(&(image.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(&(built.layout.bytes.len() as u64).to_le_bytes());
    out.resize(out.len().next_multiple_of(PAGE), 0);
    out.extend_from_slice(&built.layout.bytes);
    for (_, image) in &images {
        out.resize(out.len().next_multiple_of(PAGE), 0);
        out.extend_from_slice(image);
    }
    Ok(out)
}

/// The images of `module`'s defined memories that can have one, by defined-memory index.
fn memory_images(module: &ModuleInner) -> Vec<(u32, Vec<u8>)> {
    let defined = module.num_imported_memories..module.memories.len() as u32;
    defined
        .filter_map(|memory| {
            let initial = usize::try_from(module.memories[memory as usize].limits.min).ok()?.checked_mul(1 << 16)?;
            let layout = module.image_layout(memory, initial, PAGE)?;
            let mut image = vec![0u8; layout.len];
            for (start, bytes) in layout.segments {
                image[start..start + bytes.len()].copy_from_slice(&module.bytes[bytes]);
            }
            Some((memory - module.num_imported_memories, image))
        })
        .collect()
}

/// An artifact's parts, borrowed from its bytes.
pub(crate) struct Artifact<'a> {
    /// The module's own bytes.
    pub wasm: &'a [u8],
    /// Where they start in the artifact.
    pub wasm_at: usize,
    code: &'a [u8],
    /// Where the code starts in the artifact (a multiple of [`PAGE`]).
    code_at: usize,
    ranges: Vec<FuncRange>,
    /// The trap-site records (five bytes each), and where they start in the artifact.
    traps: &'a [u8],
    traps_at: usize,
    funcs: Vec<u32>,
    entry: Vec<u32>,
    host: Vec<u32>,
    /// Memory images: the defined memory's index, and where and how long in the artifact.
    images: Vec<(u32, usize, usize)>,
}

/// Why bytes are not a usable artifact, as one line.
fn refuse(why: impl Into<String>) -> CompileError {
    CompileError::new(crate::error::CompileErrorKind::Malformed, why.into(), None)
}

/// Reads the artifact in `bytes`, checking its magic, format and key against `config`.
pub(crate) fn read<'a>(bytes: &'a [u8], config: &crate::Config) -> Result<Artifact<'a>, CompileError> {
    if !is_artifact(bytes) {
        return Err(refuse("not a Kuai artifact (no `\\0kuaiaot` header)"));
    }
    let mut r = Reader { bytes, at: MAGIC.len() };
    let format = r.u32()?;
    if format != FORMAT {
        return Err(refuse(format!("artifact format {format}, this Kuai reads format {FORMAT}")));
    }
    let key_len = r.u32()? as usize;
    let key = std::str::from_utf8(r.take(key_len)?).map_err(|_| refuse("artifact key is not UTF-8"))?;
    let expected = compatibility_key(config)?;
    if key != expected {
        // The settings that differ, as `artifact → engine`.
        let differ: Vec<String> = key
            .split(", ")
            .zip(expected.split(", "))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("`{a}` → `{b}`"))
            .collect();
        return Err(refuse(format!("artifact compiled for another engine: {}", differ.join(", "))));
    }
    let wasm_len = r.u64()?;
    let wasm_at = r.at;
    let wasm = r.take(wasm_len)?;
    // The tables are read in bulk (a big module has a million trap sites).
    let n = r.u32()? as usize;
    let ranges: Vec<FuncRange> = r
        .take(n.checked_mul(13).ok_or_else(|| refuse("truncated artifact"))?)?
        .chunks_exact(13)
        .map(|e| FuncRange { start: le32(&e[0..]), end: le32(&e[4..]), func_index: le32(&e[8..]), wasm: e[12] != 0 })
        .collect();
    let count = r.u32()? as usize;
    let traps_at = r.at;
    let traps = r.take(count.checked_mul(5).ok_or_else(|| refuse("truncated artifact"))?)?;
    let mut table = || -> Result<Vec<u32>, CompileError> {
        let n = r.u32()? as usize;
        Ok(r.take(n.checked_mul(4).ok_or_else(|| refuse("truncated artifact"))?)?.chunks_exact(4).map(le32).collect())
    };
    let (funcs, entry, host) = (table()?, table()?, table()?);
    let count = r.u32()?;
    let mut images = Vec::new();
    for _ in 0..count {
        let memory = r.u32()?;
        let len = usize::try_from(r.u64()?).map_err(|_| refuse("truncated artifact"))?;
        images.push((memory, 0, len));
    }
    let code_len = r.u64()?;
    r.take(r.at.next_multiple_of(PAGE) - r.at)?;
    let code_at = r.at;
    let code = r.take(code_len)?;
    for image in &mut images {
        r.take(r.at.next_multiple_of(PAGE) - r.at)?;
        image.1 = r.at;
        r.take(image.2)?;
    }
    if r.at != bytes.len() {
        return Err(refuse("artifact has bytes after its code"));
    }
    if ranges.iter().any(|f| f.start > f.end || f.end as usize > code.len()) {
        return Err(refuse("artifact function range outside its code"));
    }
    if [&funcs, &entry, &host].iter().any(|t| t.iter().any(|&o| o as usize >= code.len())) {
        return Err(refuse("artifact offset outside its code"));
    }
    Ok(Artifact { wasm, wasm_at, code, code_at, ranges, traps, traps_at, funcs, entry, host, images })
}

/// Whether `bytes` start like an artifact.
pub(crate) fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl Artifact<'_> {
    /// Maps the artifact's code for `module` (decoded from [`Artifact::wasm`]): in place, if
    /// `file` is given and `map` maps it, whole (then the artifact's bytes are `map`'s); else
    /// copied.
    ///
    /// # Safety
    /// The code must be what [`serialize`] wrote for this module with a matching key: it
    /// is mapped and run as it is. `file`, if given, must hold the artifact's bytes and not
    /// change while the code lives.
    pub(crate) unsafe fn load(
        self,
        module: &ModuleInner,
        file: Option<(&std::fs::File, &std::sync::Arc<memmap2::Mmap>)>,
    ) -> Result<CompiledModule, CompileError> {
        if self.funcs.len() != module.bodies.len()
            || self.entry.len() != module.types.len()
            || self.host.len() != module.types.len()
        {
            return Err(refuse("artifact tables do not match its module"));
        }
        crate::vm::traps::init();
        let count = self.traps.len() / 5;
        let code = match file {
            Some((file, map)) if !self.code.is_empty() => {
                let traps = TrapTable::InFile { map: map.clone(), at: self.traps_at, count, decode: trap_site };
                // SAFETY: the caller's guarantee: `file` holds this artifact, unchanged while
                // the code lives; `code_at` is a page multiple inside it.
                unsafe { CodeMemory::map_file(file, self.code_at as u64, self.code.len(), self.ranges, traps) }
            }
            _ => {
                let traps = self
                    .traps
                    .chunks_exact(5)
                    .map(|r| Ok((le32(r), trap_site(r[4]).ok_or_else(|| refuse("artifact trap code unknown"))?)))
                    .collect::<Result<Vec<_>, CompileError>>()?;
                CodeMemory::new(self.code, self.ranges, traps)
            }
        }
        .map_err(|e| unsupported(format!("cannot map compiled code: {e}")))?;
        // The memory images, mapped from the file from the first instantiation on.
        if let Some((file, _)) = file {
            let defined = module.memories.len() - module.num_imported_memories as usize;
            let mut images: Vec<Option<MemoryImage>> = (0..defined).map(|_| None).collect();
            for &(memory, at, len) in &self.images {
                let slot = images.get_mut(memory as usize).ok_or_else(|| refuse("artifact image of no memory"))?;
                let file = file.try_clone().map_err(|e| unsupported(format!("cannot map a memory image: {e}")))?;
                *slot = Some(MemoryImage { id: MemoryImage::next_id(), file, offset: at as u64, len });
            }
            let _ = module.images.images.set(images.into_boxed_slice());
        }
        let layout = super::Layout { bytes: Vec::new(), offsets: Vec::new(), ranges: Vec::new(), traps: Vec::new() };
        let built = Built { layout, funcs: self.funcs, entry: self.entry, host: self.host, lazy: Vec::new() };
        Ok(built.into_module(module, code))
    }
}

/// The little-endian `u32` at the start of `bytes` (at least 4 long).
fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes32(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn put_bytes64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Reads an artifact front to back; running out is "truncated".
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: impl TryInto<usize>) -> Result<&'a [u8], CompileError> {
        let n = n.try_into().map_err(|_| refuse("truncated artifact"))?;
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| refuse("truncated artifact"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn u32(&mut self) -> Result<u32, CompileError> {
        Ok(u32::from_le_bytes(self.take(4usize)?.try_into().map_err(|_| refuse("truncated artifact"))?))
    }

    fn u64(&mut self) -> Result<u64, CompileError> {
        Ok(u64::from_le_bytes(self.take(8usize)?.try_into().map_err(|_| refuse("truncated artifact"))?))
    }
}
