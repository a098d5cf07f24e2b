//! Registers the calls with a [`kuai::Linker`]: each import finds the calling instance's
//! `memory` export, the guest's [`WasiCtx`] in the store data, runs the call and returns
//! its errno.

use crate::abi::{GuestMemory, WasiResult};
use crate::calls::{fd, path, poll, proc, sock};
use crate::ctx::WasiCtx;
use kuai::{Caller, Error, Extern, Linker, Module};

/// The module name of WASI preview1.
pub const PREVIEW1: &str = "wasi_snapshot_preview1";
/// The module name of the older snapshot, whose calls Kuai provides where their ABI
/// equals preview1's (all but `fd_seek`, `fd_filestat_get`, `path_filestat_get` and
/// `poll_oneoff`, whose layouts or constants differ).
pub const UNSTABLE: &str = "wasi_unstable";

/// The guest called `proc_exit`: the program ended with this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("exit status {0}")]
pub struct I32Exit(pub i32);

/// The guest called `proc_raise` with a signal whose default action ends a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("terminated by signal {0} (proc_raise)")]
pub struct Raised(pub u32);

/// A WASI call came from an instance that exports no `memory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("WASI call from a module that does not export its memory as `memory`")]
pub struct MissingMemory;

/// A `proc_exit` status outside `0..126`, which WASI reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("exit with invalid exit status outside of [0..126): {0}")]
pub struct InvalidExitStatus(pub u32);

/// Runs `call` on the guest's context and memory; its errno becomes the result.
fn with_memory<T>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    call: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> WasiResult,
) -> Result<i32, Error> {
    let memory = caller.get_export("memory").and_then(Extern::into_memory).ok_or_else(|| Error::host(MissingMemory))?;
    let (bytes, data) = memory.data_and_store_mut(&mut *caller);
    let mut mem = GuestMemory::new(bytes);
    Ok(match call(get(data), &mut mem) {
        Ok(()) => 0,
        Err(errno) => errno as i32,
    })
}

/// Prints one call and its outcome on stderr ([`crate::WasiCtxBuilder::trace`]).
fn trace(name: &str, args: &[i128], result: WasiResult) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let outcome = match result {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("{} ({})", e as u16, e.name()),
    };
    eprintln!("wasi: {name}({}) -> {outcome}", args.join(", "));
}

macro_rules! link {
    ($linker:ident, $get:ident, $wanted:ident, $module:expr, $( $family:ident :: $name:ident ( $($arg:ident : $ty:ty),* ) )* ) => {
        $(
            if $wanted(stringify!($name)) { $linker.func_wrap($module, stringify!($name), move |mut caller: Caller<'_, T>, $($arg: $ty),*| {
                with_memory(&mut caller, $get, |cx, mem| {
                    let result = $family::$name(cx, mem, $($arg),*);
                    if cx.trace {
                        trace(stringify!($name), &[$(i128::from($arg)),*], result);
                    }
                    result
                })
            })?; }
        )*
    };
}

/// Defines every preview1 call in `linker` (and the same-ABI ones as `wasi_unstable`);
/// `get` finds the [`WasiCtx`] in the store's data.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut WasiCtx) -> Result<(), Error> {
    add_some(linker, get, &|_| true)
}

/// Like [`add_to_linker`], but defines only the calls that `modules` import (from either
/// module name): a program's start-up then builds a few host functions instead of all
/// fifty.
pub fn add_to_linker_for<T: 'static>(
    linker: &mut Linker<T>,
    modules: &[&Module],
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<(), Error> {
    let imported = |name: &str| {
        modules
            .iter()
            .any(|m| m.imports().any(|i| (i.module() == PREVIEW1 || i.module() == UNSTABLE) && i.name() == name))
    };
    add_some(linker, get, &imported)
}

/// Defines the calls whose names `wanted` accepts.
fn add_some<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<(), Error> {
    {
        let module = PREVIEW1;
        link!(linker, get, wanted, module,
            proc::args_get(argv: u32, buf: u32)
            proc::args_sizes_get(count: u32, size: u32)
            proc::environ_get(environ: u32, buf: u32)
            proc::environ_sizes_get(count: u32, size: u32)
            proc::clock_res_get(id: u32, res: u32)
            proc::clock_time_get(id: u32, precision: u64, time: u32)
            proc::random_get(buf: u32, len: u32)
            proc::sched_yield()
            fd::fd_advise(fd: u32, offset: u64, len: u64, advice: u32)
            fd::fd_allocate(fd: u32, offset: u64, len: u64)
            fd::fd_close(fd: u32)
            fd::fd_datasync(fd: u32)
            fd::fd_sync(fd: u32)
            fd::fd_fdstat_get(fd: u32, ptr: u32)
            fd::fd_fdstat_set_flags(fd: u32, flags: u32)
            fd::fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64)
            fd::fd_filestat_set_size(fd: u32, size: u64)
            fd::fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32)
            fd::fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32)
            fd::fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32)
            fd::fd_prestat_get(fd: u32, ptr: u32)
            fd::fd_prestat_dir_name(fd: u32, path: u32, path_len: u32)
            fd::fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32)
            fd::fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32)
            fd::fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32)
            fd::fd_renumber(fd: u32, to: u32)
            fd::fd_tell(fd: u32, offset: u32)
            path::path_create_directory(fd: u32, path: u32, len: u32)
            path::path_filestat_set_times(fd: u32, flags: u32, path: u32, len: u32, atim: u64, mtim: u64, fst: u32)
            path::path_link(old_fd: u32, old_flags: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32)
            path::path_open(fd: u32, dirflags: u32, path: u32, len: u32, oflags: u32, base: u64, inheriting: u64, fdflags: u32, opened: u32)
            path::path_readlink(fd: u32, path: u32, len: u32, buf: u32, buf_len: u32, bufused: u32)
            path::path_remove_directory(fd: u32, path: u32, len: u32)
            path::path_rename(fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32)
            path::path_symlink(old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32)
            path::path_unlink_file(fd: u32, path: u32, len: u32)
            sock::sock_accept(fd: u32, flags: u32, opened: u32)
            sock::sock_recv(fd: u32, iovs: u32, iovs_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32)
            sock::sock_send(fd: u32, iovs: u32, iovs_len: u32, si_flags: u32, so_datalen: u32)
            sock::sock_shutdown(fd: u32, how: u32)
        );
        if wanted("proc_exit") {
            linker.func_wrap(module, "proc_exit", |code: u32| -> Result<(), Error> {
                if code >= 126 {
                    return Err(Error::host(InvalidExitStatus(code)));
                }
                Err(Error::host(I32Exit(code as i32)))
            })?;
        }
        if wanted("proc_raise") {
            linker.func_wrap(module, "proc_raise", |sig: u32| -> Result<i32, Error> {
                match proc::proc_raise(sig) {
                    Ok(proc::Raise::Ignored) => Ok(0),
                    Ok(proc::Raise::Terminate(sig)) => Err(Error::host(Raised(sig))),
                    Err(errno) => Ok(errno as i32),
                }
            })?;
        }
    }
    // The calls so far have the same ABI in both versions: `wasi_unstable` shares them
    // (building each host function once keeps start-up short).
    linker.alias_module(PREVIEW1, UNSTABLE)?;
    link!(linker, get, wanted, PREVIEW1,
        fd::fd_seek(fd: u32, offset: i64, whence: u32, newoffset: u32)
        fd::fd_filestat_get(fd: u32, ptr: u32)
        path::path_filestat_get(fd: u32, flags: u32, path: u32, len: u32, ptr: u32)
        poll::poll_oneoff(subs: u32, events: u32, nsubs: u32, nevents: u32)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kuai::{Engine, Store};

    #[test]
    fn only_the_imported_calls_are_defined_for_modules() {
        let engine = Engine::default();
        let module = kuai::Module::new(
            &engine,
            r#"(module
                 (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                 (import "wasi_unstable" "proc_exit" (func (param i32)))
                 (memory (export "memory") 1))"#,
        )
        .unwrap();
        let mut linker: Linker<WasiCtx> = Linker::new(&engine);
        add_to_linker_for(&mut linker, &[&module], |cx| cx).unwrap();
        let mut store = Store::new(&engine, WasiCtx::builder().build());
        for (module, name) in [(PREVIEW1, "fd_write"), (UNSTABLE, "proc_exit"), (PREVIEW1, "proc_exit")] {
            assert!(linker.get(&mut store, module, name).is_some(), "{module}::{name}");
        }
        for name in ["fd_read", "path_open", "fd_seek", "poll_oneoff", "proc_raise"] {
            assert!(linker.get(&mut store, PREVIEW1, name).is_none(), "{name} is not imported");
        }
        linker.instantiate(&mut store, &module).unwrap();
    }

    #[test]
    fn unstable_shares_the_same_abi_calls_only() {
        let engine = Engine::default();
        let mut linker: Linker<WasiCtx> = Linker::new(&engine);
        add_to_linker(&mut linker, |cx| cx).unwrap();
        let mut store = Store::new(&engine, WasiCtx::builder().build());
        for name in ["fd_write", "path_open", "proc_exit", "proc_raise", "sock_accept"] {
            assert!(linker.get(&mut store, PREVIEW1, name).is_some(), "{PREVIEW1}::{name}");
            assert!(linker.get(&mut store, UNSTABLE, name).is_some(), "{UNSTABLE}::{name}");
        }
        for name in ["fd_seek", "fd_filestat_get", "path_filestat_get", "poll_oneoff"] {
            assert!(linker.get(&mut store, PREVIEW1, name).is_some(), "{PREVIEW1}::{name}");
            assert!(linker.get(&mut store, UNSTABLE, name).is_none(), "{UNSTABLE}::{name} has another ABI");
        }
    }
}
