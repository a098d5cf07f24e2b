//! `kuai run`: a module with WASI preview1, as `wasmtime run` runs it.
//!
//! Options come before the module; everything after it is the guest's (its `argv[1..]`,
//! or with `--invoke` the function's arguments). The exit status is the guest's
//! `proc_exit` code, 0 when `_start` returns, 134 on a trap, 1 on any other error.
//! `KUAI_LOG=wasi` prints every WASI call on stderr.

use crate::cache::Cache;
use crate::error::CliError;
use crate::values::{format_val, parse_arg};
use kuai::{Config, Engine, ExternType, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Val};
use kuai_wasi::{I32Exit, Raised, WasiCtx};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    /// `--allow-precompiled`.
    pub allow_precompiled: bool,
    /// `--preload NAME=FILE`.
    pub preloads: Vec<String>,
    /// `--fuel N`.
    pub fuel: Option<u64>,
    /// `--timeout DURATION`.
    pub timeout: Option<String>,
    /// `--max-memory SIZE`.
    pub max_memory: Option<String>,
    /// `-W NAME[=y|n]` WebAssembly feature switches (and `-W fuel=`, `timeout=`,
    /// `max-memory-size=`).
    pub wasm_features: Vec<String>,
    /// `-C OPT=VALUE` code-generation options.
    pub codegen: Vec<String>,
    /// `-O OPT=VALUE` memory-layout options.
    pub optimize: Vec<String>,
}

/// The store's host state: WASI and the resource limits.
struct Host {
    wasi: WasiCtx,
    limits: StoreLimits,
}

/// What the options ask of the engine and the store.
#[derive(Debug)]
struct Settings {
    config: Config,
    fuel: Option<u64>,
    timeout: Option<Duration>,
    max_memory: Option<usize>,
}

/// Parses `500ms`, `10s`, `2m`, `1h` or a bare number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ns" => value / 1e9,
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// Parses a byte count with an optional binary suffix: `65536`, `64K`, `512M`, `4G`, `4GiB`.
pub(crate) fn parse_size(text: &str) -> Option<usize> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.parse::<usize>().ok()?.checked_mul(1 << shift)
}

/// The engine configuration and store settings the options ask for.
fn settings(o: &RunOptions) -> Result<Settings, CliError> {
    let mut config = Config::new();
    let (mut fuel, mut timeout, mut max_memory) = (o.fuel, o.timeout.clone(), o.max_memory.clone());
    for item in o.wasm_features.iter().flat_map(|s| s.split(',')) {
        let (name, value) = item.split_once('=').unwrap_or((item, "y"));
        match name {
            "fuel" => {
                let n = value.parse().map_err(|_| CliError::Usage(format!("-W {item}: expected a number")))?;
                fuel = Some(n);
                continue;
            }
            "timeout" => {
                timeout = Some(value.to_string());
                continue;
            }
            "max-memory-size" => {
                max_memory = Some(value.to_string());
                continue;
            }
            _ => {}
        }
        crate::commands::feature(&mut config, name, value)?;
    }
    crate::commands::codegen(&mut config, &o.codegen)?;
    crate::commands::memory_layout(&mut config, &o.optimize)?;
    let timeout = match timeout {
        Some(t) => Some(
            parse_duration(&t)
                .ok_or_else(|| CliError::Usage(format!("--timeout {t}: expected a duration like 500ms, 10s or 2m")))?,
        ),
        None => None,
    };
    let max_memory = match max_memory {
        Some(m) => Some(
            parse_size(&m)
                .ok_or_else(|| CliError::Usage(format!("--max-memory {m}: expected a size like 65536, 64K or 1G")))?,
        ),
        None => None,
    };
    config.consume_fuel(fuel.is_some()).epoch_interruption(timeout.is_some());
    Ok(Settings { config, fuel, timeout, max_memory })
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

/// The module in `o.file`: a WebAssembly module, or, with `--allow-precompiled`, an artifact
/// of `kuai compile`. A module comes from the compilation cache if it is there, and is
/// queued for it if it is not.
fn load(engine: &Engine, o: &RunOptions) -> Result<Module, CliError> {
    let (file, allow_precompiled) = (o.file.as_path(), o.allow_precompiled);
    let mut head = [0u8; 8];
    let precompiled = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| Module::is_precompiled(&head));
    match (precompiled, allow_precompiled) {
        (false, _) => {
            let cache = match interpret_only(&o.codegen) {
                true => None,
                false => Cache::from_options(&o.codegen)?,
            };
            // A file that cannot be read fails in `from_file`, with its error.
            let found = cache.and_then(|cache| {
                let entry = cache.entry_of_file(engine, &std::fs::File::open(file).ok()?).ok()?;
                Some((cache, entry))
            });
            let Some((cache, entry)) = found else {
                return Ok(Module::from_file(engine, file)?);
            };
            if let Some(module) = cache.lookup(engine, &entry) {
                return Ok(module);
            }
            let module = Module::from_file(engine, file)?;
            cache.fill_in_background(&entry, file, &fill_options(o));
            Ok(module)
        }
        (true, false) => Err(CliError::Usage(format!(
            "`{}` is a precompiled artifact (machine code); run it with --allow-precompiled",
            file.display()
        ))),
        // SAFETY: `--allow-precompiled` is the user's statement that the artifact is trusted
        // machine code written by `kuai compile` (wasmtime's flag, with the same meaning).
        (true, true) => Ok(unsafe { Module::deserialize_file(engine, file) }?),
    }
}

/// Whether `-C` `items` choose the interpreter alone (which needs no compiled code).
fn interpret_only(items: &[String]) -> bool {
    let mut strategies = items.iter().flat_map(|s| s.split(',')).filter_map(|i| i.strip_prefix("strategy="));
    strategies.next_back().is_some_and(|s| matches!(s, "interp" | "interpret" | "interpreter"))
}

/// The options of `kuai compile` that make the code this run's engine makes.
fn fill_options(o: &RunOptions) -> Vec<String> {
    let mut options = Vec::new();
    for item in o.wasm_features.iter().flat_map(|s| s.split(',')) {
        let name = item.split_once('=').map_or(item, |(name, _)| name);
        match name {
            // Limits of the store, not of the code.
            "max-memory-size" => {}
            // Metered code; the amount is the store's.
            "fuel" | "timeout" => options.extend(["-W".to_string(), name.to_string()]),
            _ => options.extend(["-W".to_string(), item.to_string()]),
        }
    }
    if o.fuel.is_some() {
        options.extend(["-W".to_string(), "fuel".to_string()]);
    }
    if o.timeout.is_some() {
        options.extend(["-W".to_string(), "timeout".to_string()]);
    }
    for item in &o.codegen {
        options.extend(["-C".to_string(), item.clone()]);
    }
    for item in &o.optimize {
        options.extend(["-O".to_string(), item.clone()]);
    }
    options
}

/// `kuai run [OPTIONS] FILE [ARGS...]`.
pub fn run(o: &RunOptions) -> Result<ExitCode, CliError> {
    let settings = settings(o)?;
    let engine = Engine::new(&settings.config);
    let module = load(&engine, o)?;
    // Check the call before instantiating, so bad arguments never run the start function.
    let params = match &o.invoke {
        Some(name) => Some(parse_call(&module, name, &o.args)?),
        None => None,
    };
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = settings.max_memory {
        limits = limits.memory_size(bytes);
    }
    let mut store = Store::new(&engine, Host { wasi: wasi_context(o)?, limits: limits.build() });
    store.limiter(|host| &mut host.limits);
    if let Some(fuel) = settings.fuel {
        store.set_fuel(fuel)?;
    }
    if let Some(timeout) = settings.timeout {
        // The deadline is one tick away; a timer thread gives that tick.
        store.set_epoch_deadline(1);
        let timer = engine.clone();
        std::thread::Builder::new()
            .name("kuai-timeout".into())
            .spawn(move || {
                std::thread::sleep(timeout);
                timer.increment_epoch();
            })
            .map_err(CliError::Output)?;
    }
    let mut preloaded = Vec::with_capacity(o.preloads.len());
    for preload in &o.preloads {
        let (name, file) = preload
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--preload {preload}: expected NAME=FILE")))?;
        preloaded.push((name, Module::from_file(&engine, file)?));
    }
    let mut linker = Linker::new(&engine);
    // Only the WASI calls the modules import: building all fifty host functions was a
    // fifth of a small program's start-up.
    let mut importers: Vec<&Module> = preloaded.iter().map(|(_, m)| m).collect();
    importers.push(&module);
    kuai_wasi::add_to_linker_for(&mut linker, &importers, |host: &mut Host| &mut host.wasi)?;
    for (name, preloaded) in &preloaded {
        let instance = guest_outcome(linker.instantiate(&mut store, preloaded))?;
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
    linker: &mut Linker<Host>,
    store: &mut Store<Host>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1T"), None);
        assert_eq!(parse_size("M"), None);
    }
}
