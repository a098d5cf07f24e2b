//! WASI preview1 (`wasi_snapshot_preview1`) for the Kuai WebAssembly runtime.
//!
//! A guest gets exactly what its [`WasiCtx`] gives it: arguments, environment variables,
//! standard streams, preopened directories (reached only through `cap-std`, so no path
//! leads out of them) and preopened listening sockets.
//!
//! ```
//! use kuai::{Engine, Linker, Module, Store};
//! use kuai_wasi::{WasiCtx, add_to_linker};
//!
//! # fn main() -> Result<(), kuai::Error> {
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 16) "hello\n")
//!     (func (export "_start")
//!         (i32.store (i32.const 0) (i32.const 16))
//!         (i32.store (i32.const 4) (i32.const 6))
//!         (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#)?;
//! let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
//! let mut wasi = WasiCtx::builder();
//! wasi.stdout(kuai_wasi::SharedBuffer(output.clone()));
//! let mut store = Store::new(&engine, wasi.build());
//! let mut linker = Linker::new(&engine);
//! add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&store, "_start")?.call(&mut store, ())?;
//! assert_eq!(&*output.lock().unwrap(), b"hello\n");
//! # Ok(())
//! # }
//! ```

mod abi;
mod calls;
mod ctx;
mod linker;

pub use abi::Errno;
pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use linker::{
    I32Exit, InvalidExitStatus, MissingMemory, PREVIEW1, Raised, UNSTABLE, add_to_linker, add_to_linker_for,
};

/// A writer whose bytes can be read back while the guest still holds it: an output
/// buffer for tests and hosts that capture a guest's standard output.
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
