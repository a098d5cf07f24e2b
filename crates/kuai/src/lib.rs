//! Kuai (快, "fast"): a WebAssembly runtime.
//!
//! Kuai runs WebAssembly 2.0 modules on a register-based interpreter, or compiles them to
//! machine code with Cranelift ([`Config::strategy`], [`Strategy::Compile`]: x86-64 Linux,
//! not yet for vector instructions). Its embedding API follows wasmtime's shape:
//!
//! ```
//! use kuai::{Engine, Linker, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"
//!     (module
//!       (import "host" "log" (func $log (param i32)))
//!       (func (export "double") (param i32) (result i32)
//!         local.get 0
//!         call $log
//!         local.get 0
//!         i32.const 2
//!         i32.mul))
//! "#)?;
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "log", |mut caller: kuai::Caller<'_, Vec<i32>>, x: i32| {
//!     caller.data_mut().push(x);
//! })?;
//! let mut store = Store::new(&engine, Vec::new());
//! let instance = linker.instantiate(&mut store, &module)?;
//! let double = instance.get_typed_func::<i32, i32>(&store, "double")?;
//! assert_eq!(double.call(&mut store, 21)?, 42);
//! assert_eq!(store.data(), &[21]);
//! # Ok::<(), kuai::Error>(())
//! ```
//!
//! How the pieces fit is described in `docs/ARCHITECTURE.md`; why they are built this way
//! in `docs/RATIONALE.md`.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("Kuai requires a 64-bit target (linear-memory addresses are computed in usize)");

#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
mod compile;
mod engine;
mod error;
mod exec;
mod ir;
mod module;
mod runtime;
mod translate;
mod trap;
mod types;
mod vm;

pub use engine::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};
pub use error::{CompileError, CompileErrorKind, Error, LinkError};
pub use runtime::func::Caller;
pub use runtime::instance::Instance;
pub use runtime::limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter, StoreLimits, StoreLimitsBuilder,
};
pub use runtime::linker::{InstancePre, Linker};
pub use runtime::memory::MemoryAccessError;
pub use runtime::module::Module;
pub use runtime::store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
pub use runtime::typed::{IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy, WasmTyList};
pub use runtime::values::{ExternRef, Val};
pub use runtime::{Extern, Func, Global, Memory, Table};
pub use trap::{Backtrace, FrameInfo, Trap, TrapError};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, Limits, MemoryType, Mutability, TableType, ValType,
};

/// The README's Rust example, compiled and run as a doc-test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;
