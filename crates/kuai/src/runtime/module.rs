//! The public [`Module`]: a decoded, validated module (`module::ModuleInner`) with the
//! code each tier made of it, shared by all its instances.

use crate::engine::Engine;
use crate::error::Error;
use crate::exec::ModuleCode;
use crate::module::{ExportIndex, ImportKind, ModuleInner};
use crate::types::{ExportType, ExternType, FuncType, ImportType};
use std::path::Path;
use std::sync::Arc;

/// A validated WebAssembly module, ready to be instantiated any number of times.
///
/// Cloning is cheap (reference counted).
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
    /// The interpreter's code, translated function by function on first call.
    pub(crate) code: Arc<ModuleCode>,
    /// Machine code, with `Strategy::Compile` or `Strategy::Tiered`.
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    pub(crate) compiled: Option<Arc<super::compiled::SharedCode>>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("name", &self.inner.names.module).finish_non_exhaustive()
    }
}

impl Module {
    /// Decodes and validates a module from its binary or text (`.wat`) form.
    ///
    /// Bytes that start with the `\0asm` magic number, or are not UTF-8 (so cannot be
    /// text), are decoded as a binary module; anything else is parsed as text.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module, Error> {
        Module::finish(crate::module::decode(engine, bytes.as_ref())?)
    }

    /// Decodes and validates a module from its binary form only.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        Module::finish(crate::module::decode_binary(engine, bytes)?)
    }

    /// Reads a `.wasm` or `.wat` file and compiles it. The module keeps the bytes it read
    /// (big files in a mapping of their own): no copy.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        Module::finish(crate::module::decode_file(engine, path.as_ref())?)
    }

    /// Wraps a decoded module, translating every function first with
    /// `Config::eager_translation`.
    fn finish(inner: ModuleInner) -> Result<Module, Error> {
        let inner = Arc::new(inner);
        let code = Arc::new(ModuleCode::new(inner.clone()));
        let config = inner.engine.config();
        if config.eager_translation && config.strategy != crate::Strategy::Compile {
            for def in 0..inner.bodies.len() as u32 {
                code.get(def)?;
            }
        }
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        let compiled = {
            use super::compiled::SharedCode;
            use crate::compile::{Mode, compile_module};
            match config.strategy {
                crate::Strategy::Compile => {
                    let mode = if config.eager_translation { Mode::Eager } else { Mode::Lazy };
                    Some(Arc::new(SharedCode::ready(Arc::new(compile_module(&inner, mode)?))))
                }
                crate::Strategy::Tiered => Some(Arc::new(SharedCode::later())),
                crate::Strategy::Interpret => None,
            }
        };
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        if config.strategy == crate::Strategy::Compile {
            return Err(crate::error::CompileError::new(
                crate::error::CompileErrorKind::Unsupported,
                "this build of Kuai has no compiler for this platform (Strategy::Compile)",
                None,
            )
            .into());
        }
        Ok(Module {
            inner,
            code,
            #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
            compiled,
        })
    }

    /// The module compiled ahead of time: every function compiled by Cranelift (on all
    /// cores), written as an artifact that [`Module::deserialize`] maps in another process
    /// instead of compiling — what `kuai compile` writes. The artifact only loads into an
    /// engine with the same code-relevant settings (memory reservation mode and guard, fuel,
    /// epochs, features) on the same CPU features and Kuai and Cranelift versions.
    pub fn serialize(&self) -> Result<Vec<u8>, Error> {
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        return Ok(crate::compile::serialize(&self.inner)?);
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        Err(crate::error::CompileError::new(
            crate::error::CompileErrorKind::Unsupported,
            "this build of Kuai has no compiler for this platform (Module::serialize)",
            None,
        )
        .into())
    }

    /// Loads an artifact [`Module::serialize`] (or `kuai compile`) wrote. A file that is not
    /// an artifact, is truncated, or was compiled for another engine configuration, CPU or
    /// Kuai fails with a one-line error before anything runs.
    ///
    /// # Safety
    /// An artifact is machine code that is run as it is: `bytes` must come from
    /// `Module::serialize` (as wasmtime's `--allow-precompiled` says, trust it like a
    /// native library). Nothing but its header and tables is checked.
    pub unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        {
            let artifact = crate::compile::read_artifact(bytes, engine.config())?;
            let wasm = crate::module::ModuleBytes::Heap(artifact.wasm.into());
            let inner = Arc::new(crate::module::decode_trusted(engine, wasm)?);
            // SAFETY: the caller vouches for the artifact's code (this function's contract);
            // it is copied, so `bytes` may go.
            let compiled = unsafe { artifact.load(&inner, None)? };
            Ok(Module::precompiled(inner, compiled))
        }
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        {
            let _ = (engine, bytes);
            Err(crate::error::CompileError::new(
                crate::error::CompileErrorKind::Unsupported,
                "this build of Kuai has no compiler for this platform (Module::deserialize)",
                None,
            )
            .into())
        }
    }

    /// [`Module::deserialize`] of a file, which is mapped rather than read: the code runs
    /// from the file's pages and the module's bytes stay in them, so loading copies neither.
    ///
    /// # Safety
    /// As for [`Module::deserialize`]: the file must be an artifact Kuai wrote. It must not
    /// change while the module (or an instance of it) lives; replacing it by a rename, or
    /// deleting it, is fine.
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        let path = path.as_ref();
        let io = |source| Error::Io { path: path.display().to_string(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        {
            // SAFETY: a private read-only mapping; the caller guarantees the file does not
            // change while the module lives, and the module keeps the mapping.
            let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(io)?);
            let artifact = crate::compile::read_artifact(&map, engine.config())?;
            let range = artifact.wasm_at..artifact.wasm_at + artifact.wasm.len();
            let wasm = crate::module::ModuleBytes::Within(map.clone(), range);
            let inner = Arc::new(crate::module::decode_trusted(engine, wasm)?);
            // SAFETY: the caller vouches for the artifact's code and that the file stays
            // unchanged while the module (which owns the code mapping) lives.
            let compiled = unsafe { artifact.load(&inner, Some((&file, &map)))? };
            Ok(Module::precompiled(inner, compiled))
        }
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        {
            // SAFETY: a private read-only mapping, dropped before this function returns; the
            // caller guarantees the file does not change meanwhile.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
            // SAFETY: the caller's guarantee, passed on.
            unsafe { Module::deserialize(engine, &map) }
        }
    }

    /// A module whose code was all compiled ahead of time.
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    fn precompiled(inner: Arc<crate::module::ModuleInner>, compiled: crate::compile::CompiledModule) -> Module {
        let code = Arc::new(ModuleCode::new(inner.clone()));
        let compiled = Some(Arc::new(super::compiled::SharedCode::ready(Arc::new(compiled))));
        Module { inner, code, compiled }
    }

    /// Whether `bytes` are an AOT artifact (by their header), not a WebAssembly module.
    pub fn is_precompiled(bytes: &[u8]) -> bool {
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        return crate::compile::is_artifact(bytes);
        #[cfg(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")))]
        bytes.starts_with(b"\0kuaiaot")
    }

    /// Checks that `bytes` are a valid binary module without keeping the result.
    pub fn validate(engine: &Engine, bytes: &[u8]) -> Result<(), Error> {
        crate::module::validate(engine, bytes)
    }

    /// With [`Strategy::Tiered`](crate::Strategy::Tiered): the functions that ran hot but
    /// stay interpreted because the compiler could not handle them, as (function index,
    /// reason) — the reason says so if only the on-stack-replacement entry failed.
    /// Empty for other strategies.
    pub fn tiering_failures(&self) -> Vec<(u32, String)> {
        #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
        if let Some(compiled) = self.compiled.as_ref().and_then(|c| c.get()) {
            let imported = self.inner.num_imported_funcs;
            return compiled
                .tier_failures()
                .into_iter()
                .map(|(def, osr, why)| match osr {
                    false => (imported + def, why),
                    true => (imported + def, format!("on-stack replacement: {why}")),
                })
                .collect();
        }
        Vec::new()
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.names.module.as_deref()
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        let inner = &*self.inner;
        inner.imports.iter().map(move |imp| ImportType {
            module: &imp.module,
            name: &imp.name,
            ty: match &imp.kind {
                ImportKind::Func(t) => ExternType::Func(FuncType::clone(&inner.types[*t as usize])),
                ImportKind::Table(t) => ExternType::Table(*t),
                ImportKind::Memory(t) => ExternType::Memory(*t),
                ImportKind::Global(t) => ExternType::Global(*t),
            },
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        let inner = &*self.inner;
        inner
            .exports
            .iter()
            .map(move |(name, idx): &(String, ExportIndex)| ExportType { name, ty: inner.extern_type(*idx) })
    }

    /// The engine this module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}
