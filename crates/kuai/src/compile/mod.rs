//! The compiled tier: WebAssembly translated to Cranelift IR by our own translator
//! (`func.rs`), compiled to machine code by Cranelift, and placed in executable memory
//! (`vm::code`) with its trap sites registered for the signal handler (`vm::traps`).
//!
//! Every compiled wasm function has the signature
//! `(callee_vmctx, caller_vmctx, params…) -> results` in Cranelift's `tail` calling
//! convention, and finds everything through its `VmContext` (`vm/vmctx.rs`). Calls — to
//! functions of the same module too — go through the instance's function table, so a
//! table entry is the one place that decides which code runs. Two kinds of trampolines
//! (`trampolines.rs`) connect compiled code with the host: an *entry* trampoline per
//! function type, which the runtime calls with an array of 16-byte values, and a *host*
//! trampoline per function type, which compiled code calls like any function and which
//! calls the runtime's host-call entry with such an array.

mod artifact;
mod background;
mod func;
mod lazy;
mod memory;
mod meter;
mod ops;
mod simd;
mod tier;
mod trampolines;

pub(crate) use artifact::{compatibility_key, is_artifact, read as read_artifact, serialize};
pub(crate) use memory::Bulk;
pub(crate) use tier::Tiered;

/// The runtime's `bulk` entry's status for "out of bounds memory access".
pub(crate) const STATUS_MEMORY: u32 = 1;
/// The runtime's `bulk` entry's status for "out of bounds table access".
pub(crate) const STATUS_TABLE: u32 = 3;

use crate::error::{CompileError, CompileErrorKind};
use crate::module::ModuleInner;
use crate::trap::Trap;
use crate::types::{FuncType, ValType};
use crate::vm::code::{CodeMemory, FuncRange};
use crate::vm::traps::TrapSite;
use cranelift_codegen::ir::{self, AbiParam, ArgumentPurpose, Signature, TrapCode, types};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A module's machine code: the trampolines of its types and its defined functions —
/// all of them, compiled with the module (eager), or each on its first call (lazy).
#[derive(Debug)]
pub(crate) struct CompiledModule {
    /// The trampolines and lazy stubs, and, eager, every function.
    code: Arc<CodeMemory>,
    /// Address of each defined function's code; 0 while not compiled.
    funcs: Box<[AtomicUsize]>,
    /// Offset of the entry trampoline of each type (module type index).
    entry: Box<[u32]>,
    /// Offset of the host-call trampoline of each type, by engine-wide type id.
    host: HashMap<u32, u32>,
    /// Lazy: offset of the lazy stub of each type (module type index); empty if eager.
    lazy: Box<[u32]>,
    /// Lazy: the code of each function compiled since (also the lock of compiling).
    later: Mutex<Vec<Arc<CodeMemory>>>,
    /// Tiered: what is queued, compiled for on-stack replacement, or failed.
    tiering: Mutex<tier::TierState>,
}

impl CompiledModule {
    /// The address of defined function `def`'s code, if it is compiled.
    pub(crate) fn func(&self, def: u32) -> Option<usize> {
        match self.funcs[def as usize].load(Ordering::Acquire) {
            0 => None,
            addr => Some(addr),
        }
    }

    /// The address of the lazy stub for module type `ty`, if functions compile lazily.
    pub(crate) fn lazy_stub(&self, ty: u32) -> Option<usize> {
        self.lazy.get(ty as usize).map(|&offset| self.code.addr(offset))
    }

    /// Whether the code at `base` (as [`crate::vm::code::wasm_func_at`] names it) is this
    /// module's.
    pub(crate) fn owns(&self, base: usize) -> bool {
        self.code.base() == base || lock(&self.later).iter().any(|c| c.base() == base)
    }

    /// The address of the entry trampoline for module type `ty`.
    pub(crate) fn entry_trampoline(&self, ty: u32) -> usize {
        self.code.addr(self.entry[ty as usize])
    }

    /// The host-call trampolines this module has, by engine-wide type id.
    pub(crate) fn host_trampolines(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.host.iter().map(|(&id, &offset)| (id, self.code.addr(offset)))
    }
}

/// `mutex`'s contents; a panic while it was held leaves nothing half-done (each holder
/// pushes or stores once, at the end).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The host's instruction set, with Kuai's code-generation settings (made once).
fn isa() -> Result<&'static dyn TargetIsa, CompileError> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    let isa = ISA.get_or_init(|| {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name: &str, value: &str| {
            flags.set(name, value).map_err(|e| format!("cranelift setting {name}={value}: {e}"))
        };
        set(&mut flags, "opt_level", "speed")?;
        // Frame pointers: the trap handler walks them for backtraces.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // Frames bigger than a page touch each page, so none can skip a guard page.
        set(&mut flags, "enable_probestack", "true")?;
        set(&mut flags, "probestack_strategy", "inline")?;
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        // Functions with more results than registers return the rest through memory.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        let builder = cranelift_native::builder().map_err(|e| format!("unsupported host: {e}"))?;
        builder.finish(settings::Flags::new(flags)).map_err(|e| format!("cranelift: {e}"))
    });
    match isa {
        Ok(isa) => Ok(&**isa),
        Err(e) => Err(unsupported(e.clone())),
    }
}

fn unsupported(message: String) -> CompileError {
    CompileError::new(CompileErrorKind::Unsupported, message, None)
}

/// Trap codes of compiled code, beyond Cranelift's own.
mod codes {
    use cranelift_codegen::ir::TrapCode;
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
    pub const UNINITIALIZED_ELEMENT: TrapCode = TrapCode::unwrap_user(3);
    pub const UNDEFINED_ELEMENT: TrapCode = TrapCode::unwrap_user(4);
    pub const INDIRECT_CALL_TYPE_MISMATCH: TrapCode = TrapCode::unwrap_user(5);
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(6);
    /// A host function or runtime entry failed; the runtime holds the reason.
    pub const HOST: TrapCode = TrapCode::unwrap_user(7);
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(8);
    pub const INTERRUPT: TrapCode = TrapCode::unwrap_user(9);
}

/// What a trap code of compiled code means.
fn trap_site(code: TrapCode) -> Option<TrapSite> {
    let trap = match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivideByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::InvalidConversionToInteger,
        codes::UNREACHABLE => Trap::Unreachable,
        codes::TABLE_OUT_OF_BOUNDS => Trap::TableOutOfBounds,
        codes::UNINITIALIZED_ELEMENT => Trap::UninitializedElement,
        codes::UNDEFINED_ELEMENT => Trap::UndefinedElement,
        codes::INDIRECT_CALL_TYPE_MISMATCH => Trap::IndirectCallTypeMismatch,
        codes::NULL_REFERENCE => Trap::NullReference,
        codes::OUT_OF_FUEL => Trap::OutOfFuel,
        codes::INTERRUPT => Trap::Interrupt,
        codes::HOST => return Some(TrapSite::Host),
        _ => return None,
    };
    Some(TrapSite::Wasm(trap))
}

/// The Cranelift type of a wasm value: references are untyped 64-bit values, as in the
/// interpreter; a `v128` is an `i8x16` wherever it crosses a block, call or variable
/// boundary (operators view it in their lane type, `simd.rs`).
fn clif_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 | ValType::FuncRef | ValType::ExternRef => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
    }
}

/// The signature of compiled wasm functions of type `ty`.
fn wasm_signature(ty: &FuncType) -> Result<Signature, CompileError> {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    for &p in ty.params() {
        sig.params.push(AbiParam::new(clif_type(p)));
    }
    for &r in ty.results() {
        sig.returns.push(AbiParam::new(clif_type(r)));
    }
    Ok(sig)
}

/// The signature of on-stack-replacement entries of functions of type `ty`:
/// `(callee_vmctx, caller_vmctx, locals) -> results` (`func::translate`).
fn osr_signature(ty: &FuncType) -> Result<Signature, CompileError> {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    for &r in ty.results() {
        sig.returns.push(AbiParam::new(clif_type(r)));
    }
    Ok(sig)
}

/// The host's (System V) signature of `words` 64-bit parameters and an optional result:
/// how compiled code calls the runtime's entries, and how the runtime calls trampolines.
fn host_signature(words: usize, ret: Option<ir::Type>) -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), words));
    sig.returns.extend(ret.map(AbiParam::new));
    sig
}

/// Starts `b`'s function: its entry block, with the function's parameters, which it returns.
fn entry_block(b: &mut cranelift_frontend::FunctionBuilder<'_>) -> Vec<ir::Value> {
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.block_params(block).to_vec()
}

/// One compiled piece of code, before placement.
struct Piece {
    bytes: Vec<u8>,
    traps: Vec<(u32, TrapSite)>,
    /// Direct calls: the offset of a 32-bit PC-relative field, the called defined
    /// function, and the addend.
    calls: Vec<(u32, u32, i64)>,
    /// Module function index, for wasm functions.
    func_index: Option<u32>,
}

/// When a module's functions are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// All, with the module.
    Eager,
    /// Each on its first call, through its type's lazy stub.
    Lazy,
    /// Each when it runs hot in the interpreter (`tier.rs`).
    Tiered,
}

/// Compiles the trampolines of `module`'s types and, eager, every defined function.
pub(crate) fn compile_module(module: &ModuleInner, mode: Mode) -> Result<CompiledModule, CompileError> {
    let built = build(module, mode)?;
    let code = CodeMemory::new(&built.layout.bytes, built.layout.ranges.clone(), built.layout.traps.clone())
        .map_err(|e| unsupported(format!("cannot map compiled code: {e}")))?;
    Ok(built.into_module(module, code))
}

/// A module's code laid out, before it is mapped: the pieces' bytes, the offsets of each
/// defined function (eager) and each type's trampolines.
struct Built {
    layout: Layout,
    /// Offsets of the defined functions' code (none unless eager).
    funcs: Vec<u32>,
    /// Offsets of each type's entry and host-call trampolines, and lazy stub (lazy only).
    entry: Vec<u32>,
    host: Vec<u32>,
    lazy: Vec<u32>,
}

impl Built {
    /// The compiled module whose code is `code` (this layout, mapped).
    fn into_module(self, module: &ModuleInner, code: Arc<CodeMemory>) -> CompiledModule {
        let funcs = (0..module.bodies.len())
            .map(|def| AtomicUsize::new(self.funcs.get(def).map_or(0, |&offset| code.addr(offset))))
            .collect();
        let host = self.host.iter().enumerate().map(|(ty, &offset)| (module.type_ids[ty], offset)).collect();
        CompiledModule {
            funcs,
            entry: self.entry.into_boxed_slice(),
            host,
            lazy: self.lazy.into_boxed_slice(),
            later: Mutex::new(Vec::new()),
            tiering: Mutex::default(),
            code,
        }
    }
}

/// Compiles and lays out what [`compile_module`] maps.
fn build(module: &ModuleInner, mode: Mode) -> Result<Built, CompileError> {
    let isa = isa()?;
    crate::vm::traps::init();
    let lazy = mode == Mode::Lazy;
    let mut pieces = if mode == Mode::Eager { compile_functions(module, isa)? } else { Vec::new() };
    let functions = pieces.len();
    let mut ctx = cranelift_codegen::Context::new();
    let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
    let mut entry = Vec::with_capacity(module.types.len());
    let mut host = Vec::new();
    let mut stubs = Vec::new();
    for ty in module.types.iter() {
        if lazy {
            ctx.clear();
            trampolines::lazy(ty, isa, &mut ctx.func, &mut fctx)?;
            stubs.push(pieces.len());
            pieces.push(finish(isa, &mut ctx, None)?);
        }
        ctx.clear();
        trampolines::entry(ty, false, isa, &mut ctx.func, &mut fctx)?;
        entry.push(pieces.len());
        pieces.push(finish(isa, &mut ctx, None)?);
        ctx.clear();
        trampolines::host(ty, isa, &mut ctx.func, &mut fctx)?;
        host.push(pieces.len());
        pieces.push(finish(isa, &mut ctx, None)?);
    }
    let layout = layout(&pieces)?;
    let at = |indices: &[usize]| indices.iter().map(|&i| layout.offsets[i]).collect::<Vec<u32>>();
    Ok(Built {
        funcs: layout.offsets[..functions].to_vec(),
        entry: at(&entry),
        host: at(&host),
        lazy: at(&stubs),
        layout,
    })
}

/// Pieces of code placed one after another.
struct Layout {
    bytes: Vec<u8>,
    /// Each piece's offset.
    offsets: Vec<u32>,
    ranges: Vec<FuncRange>,
    traps: Vec<(u32, TrapSite)>,
}

/// Places `pieces` in a new code memory (see [`layout`]); returns it and each piece's offset.
fn place(pieces: &[Piece]) -> Result<(Arc<CodeMemory>, Vec<u32>), CompileError> {
    let Layout { bytes, offsets, ranges, traps } = layout(pieces)?;
    let code =
        CodeMemory::new(&bytes, ranges, traps).map_err(|e| unsupported(format!("cannot map compiled code: {e}")))?;
    Ok((code, offsets))
}

/// Lays `pieces` out one after another, 32-byte aligned (the constant pools that follow
/// each function's code assume that much), and patches their direct calls (to the piece at
/// the called function's index).
fn layout(pieces: &[Piece]) -> Result<Layout, CompileError> {
    let mut bytes = Vec::new();
    let mut offsets = Vec::with_capacity(pieces.len());
    let mut ranges = Vec::new();
    let mut traps = Vec::new();
    for piece in pieces {
        while bytes.len() % 32 != 0 {
            bytes.push(0xcc);
        }
        let start = u32::try_from(bytes.len()).map_err(|_| unsupported("module code beyond 4 GiB".into()))?;
        offsets.push(start);
        bytes.extend_from_slice(&piece.bytes);
        ranges.push(FuncRange {
            start,
            end: start + piece.bytes.len() as u32,
            func_index: piece.func_index.unwrap_or(u32::MAX),
            wasm: piece.func_index.is_some(),
        });
        traps.extend(piece.traps.iter().map(|&(offset, site)| (start + offset, site)));
    }
    for (piece, &start) in pieces.iter().zip(&offsets) {
        for &(offset, def, addend) in &piece.calls {
            let at = start as i64 + offset as i64;
            let target = *offsets.get(def as usize).ok_or_else(|| unsupported(format!("call to piece {def}")))? as i64;
            let rel = i32::try_from(target + addend - at).map_err(|_| unsupported("call beyond 2 GiB".into()))?;
            bytes[at as usize..at as usize + 4].copy_from_slice(&rel.to_le_bytes());
        }
    }
    Ok(Layout { bytes, offsets, ranges, traps })
}

/// Modules with at least this many functions are compiled on all cores.
const PARALLEL_MIN_FUNCS: usize = 64;

/// Compiles every defined function of `module`, in order: on all cores (batches handed
/// out through an atomic counter) with `Config::parallel_compilation` and enough functions.
/// The first error in function order wins, whichever thread found it.
fn compile_functions(module: &ModuleInner, isa: &dyn TargetIsa) -> Result<Vec<Piece>, CompileError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 16;
    let n = module.bodies.len();
    let compile_range = |range: std::ops::Range<usize>| -> Vec<(usize, Result<Piece, CompileError>)> {
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
        let mut done = Vec::new();
        for i in range {
            let def = i as u32;
            let piece = module.validate_later(def).and_then(|()| {
                ctx.clear();
                func::translate(module, def, isa, &mut ctx.func, &mut fctx, func::Calls::Direct, func::Entries::Call)?;
                finish(isa, &mut ctx, Some(module.num_imported_funcs + def))
            });
            let failed = piece.is_err();
            done.push((i, piece));
            if failed {
                // A translation that stopped half-way leaves the builder's context dirty,
                // unfit for the next function; the module fails anyway.
                break;
            }
        }
        done
    };
    let threads = match module.engine.config().parallel_compilation && n >= PARALLEL_MIN_FUNCS {
        true => std::thread::available_parallelism().map_or(1, |t| t.get()).min(n.div_ceil(BATCH)),
        false => 1,
    };
    let mut results: Vec<(usize, Result<Piece, CompileError>)> = if threads <= 1 {
        compile_range(0..n)
    } else {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let start = next.fetch_add(BATCH, Ordering::Relaxed);
                            if start >= n {
                                break done;
                            }
                            done.extend(compile_range(start..(start + BATCH).min(n)));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    };
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, piece)| piece).collect()
}

/// Compiles the function in `ctx` and collects its code and trap sites.
fn finish(
    isa: &dyn TargetIsa,
    ctx: &mut cranelift_codegen::Context,
    func_index: Option<u32>,
) -> Result<Piece, CompileError> {
    use cranelift_codegen::binemit::Reloc;
    use cranelift_codegen::{FinalizedRelocTarget, ir::ExternalName};
    let mut control = cranelift_codegen::control::ControlPlane::default();
    let compiled =
        ctx.compile(isa, &mut control).map_err(|e| unsupported(format!("internal error: cranelift: {:?}", e.inner)))?;
    let bytes = compiled.code_buffer().to_vec();
    let relocs = compiled.buffer.relocs().to_vec();
    let traps = compiled
        .buffer
        .traps()
        .iter()
        .map(|t| {
            trap_site(t.code)
                .map(|site| (t.offset, site))
                .ok_or_else(|| unsupported(format!("internal error: unknown trap code {}", t.code)))
        })
        .collect::<Result<_, _>>()?;
    let mut calls = Vec::new();
    for reloc in relocs {
        match (&reloc.kind, &reloc.target) {
            (Reloc::X86CallPCRel4, FinalizedRelocTarget::ExternalName(ExternalName::User(name))) => {
                let def = ctx.func.params.user_named_funcs()[*name].index;
                calls.push((reloc.offset, def, reloc.addend));
            }
            _ => return Err(unsupported(format!("internal error: unexpected relocation {reloc:?}"))),
        }
    }
    Ok(Piece { bytes, traps, calls, func_index })
}
