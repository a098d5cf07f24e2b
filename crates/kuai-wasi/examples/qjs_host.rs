//! A plugin-style host: embeds the QuickJS-NG WASI *reactor* (`qjs-wasi-reactor.wasm`) with
//! Kuai and evaluates a JavaScript file with it, the way an application embeds a scripting
//! language in a sandbox.
//!
//! ```text
//! qjs_host [--dir HOST::GUEST]... MODULE ARGV0 [QJS-ARGS...]
//! cargo run --release -p kuai-wasi --example qjs_host -- \
//!     --dir tests/real-programs/quickjs::/work ~/.cache/kuai/real-programs/qjs-wasi-reactor.wasm \
//!     qjs --std -m /work/check.js alpha beta
//! ```
//!
//! The reactor exports no evaluation function, only `qjs_init_argv(argc, argv)`, which
//! takes the `qjs` command line (`--std -m FILE ...`) and evaluates the file. So the host:
//! instantiates with WASI (stdout/stderr inherited, the script's directory preopened),
//! calls `_initialize`, builds a C `argv` in guest memory with the guest's own `malloc`,
//! calls `qjs_init_argv`, then `qjs_destroy` and `free`. The exit status is 0 when the
//! script ran, 1 when QuickJS reported an error (on stderr), or the script's `std.exit`
//! status. See `tests/real-programs/quickjs/HOST.md`.

use kuai::{Engine, Error, Instance, Linker, Memory, Module, Store};
use kuai_wasi::{I32Exit, WasiCtx};
use std::process::ExitCode;

/// Copies `bytes` and a terminating NUL into guest memory allocated by its `malloc`.
fn guest_cstring(store: &mut Store<WasiCtx>, instance: &Instance, bytes: &[u8]) -> Result<u32, Error> {
    let malloc = instance.get_typed_func::<u32, u32>(&*store, "malloc")?;
    let ptr = malloc.call(&mut *store, bytes.len() as u32 + 1)?;
    if ptr == 0 {
        return Err(Error::host("guest malloc failed"));
    }
    // Look the memory up again after every guest call: `malloc` may have grown it.
    let memory = guest_memory(store, instance)?;
    memory.write(&mut *store, ptr as usize, bytes).map_err(Error::host)?;
    memory.write(&mut *store, ptr as usize + bytes.len(), &[0]).map_err(Error::host)?;
    Ok(ptr)
}

fn guest_memory(store: &Store<WasiCtx>, instance: &Instance) -> Result<Memory, Error> {
    instance.get_memory(store, "memory").ok_or_else(|| Error::host("the module exports no memory"))
}

/// Runs the reactor on `qjs_args` (its argv, `argv[0]` first); returns `qjs_init_argv`'s
/// result.
fn evaluate(module_path: &str, dirs: &[(String, String)], qjs_args: &[String]) -> Result<i32, Error> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, module_path)?;
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    for (host, guest) in dirs {
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .map_err(|e| Error::host(format!("--dir {host}: {e}")))?;
        wasi.preopened_dir(dir, guest);
    }
    let mut store = Store::new(&engine, wasi.build());
    let mut linker = Linker::new(&engine);
    kuai_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
    let instance = linker.instantiate(&mut store, &module)?;

    instance.get_typed_func::<(), ()>(&store, "_initialize")?.call(&mut store, ())?;
    let mut pointers = Vec::with_capacity(qjs_args.len() + 1);
    for arg in qjs_args {
        pointers.push(guest_cstring(&mut store, &instance, arg.as_bytes())?);
    }
    pointers.push(0);
    let table: Vec<u8> = pointers.iter().flat_map(|p| p.to_le_bytes()).collect();
    let malloc = instance.get_typed_func::<u32, u32>(&store, "malloc")?;
    let argv = malloc.call(&mut store, table.len() as u32)?;
    if argv == 0 {
        return Err(Error::host("guest malloc failed"));
    }
    guest_memory(&store, &instance)?.write(&mut store, argv as usize, &table).map_err(Error::host)?;

    let init = instance.get_typed_func::<(i32, u32), i32>(&store, "qjs_init_argv")?;
    let rc = init.call(&mut store, (qjs_args.len() as i32, argv))?;
    instance.get_typed_func::<(), ()>(&store, "qjs_destroy")?.call(&mut store, ())?;
    let free = instance.get_typed_func::<u32, ()>(&store, "free")?;
    for p in pointers.into_iter().filter(|&p| p != 0).chain([argv]) {
        free.call(&mut store, p)?;
    }
    Ok(rc)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut dirs = Vec::new();
    while args.peek().is_some_and(|a| a == "--dir") {
        args.next();
        let Some(spec) = args.next() else { break };
        let (host, guest) = spec.split_once("::").unwrap_or((&spec, &spec));
        dirs.push((host.to_string(), guest.to_string()));
    }
    let Some(module) = args.next() else {
        eprintln!("usage: qjs_host [--dir HOST::GUEST]... MODULE ARGV0 [QJS-ARGS...]");
        return ExitCode::from(2);
    };
    let qjs_args: Vec<String> = args.collect();
    if qjs_args.is_empty() {
        eprintln!("qjs_host: give QuickJS's argv after the module, e.g. qjs --std -m /work/app.js");
        return ExitCode::from(2);
    }
    match evaluate(&module, &dirs, &qjs_args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(Error::Host(e)) if e.is::<I32Exit>() => {
            let code = e.downcast_ref::<I32Exit>().map_or(1, |e| e.0);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(e) => {
            eprintln!("qjs_host: {e}");
            ExitCode::from(1)
        }
    }
}
