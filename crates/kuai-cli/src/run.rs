//! `kuai run`: a module with WASI preview1, as `wasmtime run` runs it.
//!
//! Options come before the module; everything after it is the guest's (its `argv[1..]`,
//! or with `--invoke` the function's arguments). The exit status is the guest's
//! `proc_exit` code, 0 when `_start` returns, 134 on a trap, 1 on any other error.
//! `KUAI_LOG=wasi` prints every WASI call on stderr.

use crate::error::CliError;
use crate::values::{format_val, parse_arg};
use kuai::{Config, Engine, ExternType, Linker, Module, Store, Val};
use kuai_wasi::{I32Exit, Raised, WasiCtx};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The export a WASI command runs.
const START_EXPORT: &str = "_start";
/// The export a WASI reactor runs before any other.
const INITIALIZE_EXPORT: &str = "_initialize";

/// Everything `kuai run` was asked to do.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// The module file.
    pub file: PathBuf,
    /// Arguments after the module.
    pub args: Vec<String>,
    /// `--invoke NAME`.
    pub invoke: Option<String>,
    /// `--dir HOST[::GUEST]`.
    pub dirs: Vec<String>,
    /// `--env NAME[=VALUE]`.
    pub envs: Vec<String>,
    /// `--tcplisten ADDR`.
    pub tcplisten: Vec<String>,
    /// `--argv0 NAME`.
    pub argv0: Option<String>,
    /// `--trap-unknown-imports`.
    pub trap_unknown_imports: bool,
    /// `--preload NAME=FILE`.
    pub preloads: Vec<String>,
    /// `-W NAME[=y|n]` WebAssembly feature switches.
    pub wasm_features: Vec<String>,
}

/// The engine configuration `-W` options ask for.
fn config(features: &[String]) -> Result<Config, CliError> {
    let mut config = Config::new();
    for item in features.iter().flat_map(|s| s.split(',')) {
        let (name, value) = item.split_once('=').unwrap_or((item, "y"));
        let on = match value {
            "y" | "yes" | "true" => true,
            "n" | "no" | "false" => false,
            _ => return Err(CliError::Usage(format!("-W {item}: the value must be y or n"))),
        };
        match name {
            "simd" => config.wasm_simd(on),
            "multi-memory" => config.wasm_multi_memory(on),
            _ => return Err(CliError::Usage(format!("-W {name}: unknown or unsupported WebAssembly feature"))),
        };
    }
    Ok(config)
}

/// The guest's WASI context: arguments, environment, preopened directories and sockets.
fn wasi_context(o: &RunOptions) -> Result<WasiCtx, CliError> {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    wasi.trace(std::env::var_os("KUAI_LOG").is_some_and(|v| v == "wasi"));
    wasi.arg(o.argv0.clone().unwrap_or_else(|| o.file.display().to_string()));
    if o.invoke.is_none() {
        wasi.args(&o.args);
    }
    for env in &o.envs {
        match env.split_once('=') {
            Some((name, value)) => {
                wasi.env(name, value);
            }
            // `--env NAME` passes the host's value, if it has one.
            None => {
                if let Some(value) = std::env::var_os(env) {
                    wasi.env(env, std::os::unix::ffi::OsStrExt::as_bytes(value.as_os_str()));
                }
            }
        }
    }
    for dir in &o.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        let opened = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())
            .map_err(|source| CliError::Preopen { path: host.to_string(), source })?;
        wasi.preopened_dir(opened, guest);
    }
    for addr in &o.tcplisten {
        let listener = std::net::TcpListener::bind(addr.as_str())
            .map_err(|source| CliError::Listen { addr: addr.clone(), source })?;
        wasi.preopened_listener(listener);
    }
    Ok(wasi.build())
}

/// `kuai run [OPTIONS] FILE [ARGS...]`.
pub fn run(o: &RunOptions) -> Result<ExitCode, CliError> {
    let engine = Engine::new(&config(&o.wasm_features)?);
    let module = Module::from_file(&engine, &o.file)?;
    // Check the call before instantiating, so bad arguments never run the start function.
    let params = match &o.invoke {
        Some(name) => Some(parse_call(&module, name, &o.args)?),
        None => None,
    };
    let mut store = Store::new(&engine, wasi_context(o)?);
    let mut linker = Linker::new(&engine);
    kuai_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
    for preload in &o.preloads {
        let (name, file) = preload
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--preload {preload}: expected NAME=FILE")))?;
        let preloaded = Module::from_file(&engine, file)?;
        let instance = guest_outcome(linker.instantiate(&mut store, &preloaded))?;
        linker.instance(&mut store, name, instance)?;
    }
    if o.trap_unknown_imports {
        define_unknown_imports_as_traps(&mut linker, &mut store, &module)?;
    }
    let instance = guest_outcome(linker.instantiate(&mut store, &module))?;
    let has_start = instance.get_func(&store, START_EXPORT).is_some();
    if !has_start && let Some(init) = instance.get_func(&store, INITIALIZE_EXPORT) {
        guest_outcome(init.call(&mut store, &[], &mut []))?;
    }
    let (name, params) = match (&o.invoke, params) {
        (Some(name), Some(params)) => (name.as_str(), params),
        _ => (START_EXPORT, Vec::new()),
    };
    let Some(func) = instance.get_func(&store, name) else {
        // Without --invoke and without `_start`, instantiating was all there was to do.
        return if o.invoke.is_some() {
            Err(CliError::NoSuchFunction(name.to_string()))
        } else {
            Ok(ExitCode::SUCCESS)
        };
    };
    let mut results: Vec<Val> = func.ty(&store).results().iter().map(|&t| Val::default_for(t)).collect();
    guest_outcome(func.call(&mut store, &params, &mut results))?;
    if o.invoke.is_some() {
        let mut out = std::io::stdout().lock();
        for result in &results {
            writeln!(out, "{}", format_val(result)).map_err(CliError::Output)?;
        }
        out.flush().map_err(CliError::Output)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Turns the guest's `proc_exit` and `proc_raise` into the process's end.
fn guest_outcome<R>(result: Result<R, kuai::Error>) -> Result<R, CliError> {
    match result {
        Ok(r) => Ok(r),
        Err(kuai::Error::Host(e)) if e.is::<I32Exit>() => {
            let code = e.downcast_ref::<I32Exit>().map_or(1, |e| e.0);
            Err(CliError::Exit(code))
        }
        Err(kuai::Error::Host(e)) if e.is::<Raised>() => {
            let signal = e.downcast_ref::<Raised>().map_or(6, |e| e.0);
            Err(CliError::Signal(signal))
        }
        Err(e) => Err(e.into()),
    }
}

/// A function import of `module` that `linker` lacks was called (`--trap-unknown-imports`).
#[derive(Debug, thiserror::Error)]
#[error("called the unknown import `{module}::{name}` (stubbed by --trap-unknown-imports)")]
struct UnknownImportCalled {
    module: String,
    name: String,
}

/// Defines every function import of `module` that `linker` lacks as a function that fails.
fn define_unknown_imports_as_traps(
    linker: &mut Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    module: &Module,
) -> Result<(), CliError> {
    for import in module.imports() {
        let ExternType::Func(ty) = import.ty() else { continue };
        if linker.get(&mut *store, import.module(), import.name()).is_some() {
            continue;
        }
        let (m, n) = (import.module().to_string(), import.name().to_string());
        linker.func_new(import.module(), import.name(), ty.clone(), move |_, _, _| {
            Err(kuai::Error::host(UnknownImportCalled { module: m.clone(), name: n.clone() }))
        })?;
    }
    Ok(())
}

/// Parses `args` by the parameter types of the exported function `name`.
fn parse_call(module: &Module, name: &str, args: &[String]) -> Result<Vec<Val>, CliError> {
    let ty = module
        .exports()
        .find_map(|e| match e.ty() {
            ExternType::Func(ty) if e.name() == name => Some(ty.clone()),
            _ => None,
        })
        .ok_or_else(|| CliError::NoSuchFunction(name.to_string()))?;
    if ty.params().len() != args.len() {
        return Err(CliError::ArgCount {
            name: name.to_string(),
            expected: ty.params().len(),
            got: args.len(),
            signature: ty.to_string(),
        });
    }
    args.iter()
        .zip(ty.params())
        .enumerate()
        .map(|(i, (arg, &param))| {
            parse_arg(arg, param).ok_or_else(|| CliError::BadArg {
                name: name.to_string(),
                index: i + 1,
                value: arg.clone(),
                ty: param,
            })
        })
        .collect()
}
