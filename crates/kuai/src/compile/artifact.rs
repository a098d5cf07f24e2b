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
//! (`u32` length + UTF-8), the module bytes (`u64` length + bytes), the code (`u64` length +
//! bytes), then tables, each a `u32` count of entries: function ranges (`start`, `end`,
//! `func_index`: `u32`, `wasm`: `u8`), trap sites (`offset`: `u32`, site: `u8`), and the
//! offsets (`u32`) of the defined functions, the entry trampolines and the host-call
//! trampolines (one per module type).

use super::{Built, CompileError, CompiledModule, Mode, build, isa, unsupported};
use crate::module::ModuleInner;
use crate::trap::Trap;
use crate::vm::code::{CodeMemory, FuncRange};
use crate::vm::traps::TrapSite;

/// The first bytes of every artifact.
pub(crate) const MAGIC: &[u8; 8] = b"\0kuaiaot";
/// The layout's version.
const FORMAT: u32 = 1;
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

/// What code compiled under `config` is compatible with, as one line.
pub(crate) fn compatibility_key(config: &crate::Config) -> Result<String, CompileError> {
    let isa = isa()?;
    let features: Vec<String> = isa.isa_flags().iter().map(|f| f.to_string()).collect();
    let layout = config.memory_layout();
    let bounds = if layout.reservation >= 1 << 32 { "guard pages" } else { "explicit checks" };
    Ok(format!(
        "kuai {} (code ABI {CODE_ABI}), cranelift {CRANELIFT}, {} [{}], bounds: {bounds}, guard {} bytes, \
         fuel {}, epochs {}, simd {}, multi-memory {}",
        env!("CARGO_PKG_VERSION"),
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
    put_bytes64(&mut out, &built.layout.bytes);
    put_u32(&mut out, built.layout.ranges.len());
    for r in &built.layout.ranges {
        out.extend_from_slice(&r.start.to_le_bytes());
        out.extend_from_slice(&r.end.to_le_bytes());
        out.extend_from_slice(&r.func_index.to_le_bytes());
        out.push(u8::from(r.wasm));
    }
    put_u32(&mut out, built.layout.traps.len());
    for &(offset, site) in &built.layout.traps {
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
    Ok(out)
}

/// An artifact's parts, borrowed from its bytes.
pub(crate) struct Artifact<'a> {
    /// The module's own bytes.
    pub wasm: &'a [u8],
    code: &'a [u8],
    ranges: Vec<FuncRange>,
    traps: Vec<(u32, TrapSite)>,
    funcs: Vec<u32>,
    entry: Vec<u32>,
    host: Vec<u32>,
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
    let wasm = r.take(wasm_len)?;
    let code_len = r.u64()?;
    let code = r.take(code_len)?;
    let mut ranges = Vec::new();
    for _ in 0..r.u32()? {
        let (start, end, func_index) = (r.u32()?, r.u32()?, r.u32()?);
        let wasm = r.take(1)?[0] != 0;
        if start > end || end as usize > code.len() {
            return Err(refuse("artifact function range outside its code"));
        }
        ranges.push(FuncRange { start, end, func_index, wasm });
    }
    let mut traps = Vec::new();
    for _ in 0..r.u32()? {
        let offset = r.u32()?;
        let site = match r.take(1)?[0] {
            HOST_SITE => TrapSite::Host,
            code => TrapSite::Wasm(*TRAPS.get(code as usize).ok_or_else(|| refuse("artifact trap code unknown"))?),
        };
        traps.push((offset, site));
    }
    let mut table = || -> Result<Vec<u32>, CompileError> {
        let n = r.u32()?;
        let offsets = (0..n).map(|_| r.u32()).collect::<Result<Vec<u32>, _>>()?;
        match offsets.iter().all(|&o| (o as usize) < code.len()) {
            true => Ok(offsets),
            false => Err(refuse("artifact offset outside its code")),
        }
    };
    let (funcs, entry, host) = (table()?, table()?, table()?);
    if r.at != bytes.len() {
        return Err(refuse("artifact has bytes after its tables"));
    }
    Ok(Artifact { wasm, code, ranges, traps, funcs, entry, host })
}

/// Whether `bytes` start like an artifact.
pub(crate) fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl Artifact<'_> {
    /// Maps the artifact's code for `module` (decoded from [`Artifact::wasm`]).
    ///
    /// # Safety
    /// The code must be what [`serialize`] wrote for this module with a matching key: it
    /// is mapped and run as it is.
    pub(crate) unsafe fn load(self, module: &ModuleInner) -> Result<CompiledModule, CompileError> {
        if self.funcs.len() != module.bodies.len()
            || self.entry.len() != module.types.len()
            || self.host.len() != module.types.len()
        {
            return Err(refuse("artifact tables do not match its module"));
        }
        crate::vm::traps::init();
        let code = CodeMemory::new(self.code, self.ranges, self.traps)
            .map_err(|e| unsupported(format!("cannot map compiled code: {e}")))?;
        let layout = super::Layout { bytes: Vec::new(), offsets: Vec::new(), ranges: Vec::new(), traps: Vec::new() };
        let built = Built { layout, funcs: self.funcs, entry: self.entry, host: self.host, lazy: Vec::new() };
        Ok(built.into_module(module, code))
    }
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
