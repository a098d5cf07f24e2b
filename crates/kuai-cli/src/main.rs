//! `kuai`: run WebAssembly modules and spec scripts from the command line.
//!
//! ```text
//! kuai run [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--tcplisten ADDR]...
//!          [--invoke NAME] [--argv0 NAME] [--trap-unknown-imports] [--preload NAME=FILE]...
//!          [--fuel N] [--timeout DURATION] [--max-memory SIZE]
//!          [-W FEATURE[=y|n]]... [-C OPT=VALUE]... FILE.wasm|FILE.wat [ARGS...]
//! kuai wast FILE.wast...
//! kuai validate FILE
//! ```
//!
//! Errors print one line on stderr (`error: ...`) and exit with status 1; a trap prints
//! the wasm backtrace too and exits with 134, like wasmtime; a WASI guest's `proc_exit`
//! status becomes the process's.

mod cache;
mod commands;
mod error;
mod run;
mod values;

use clap::{Parser, Subcommand};
use error::{CliError, EXIT_ERROR};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// A fast, spec-conformant WebAssembly runtime.
#[derive(Debug, Parser)]
#[command(name = "kuai", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the `run` variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a WebAssembly module (binary or text) with WASI preview1, like `wasmtime run`.
    ///
    /// Options come before the module; what follows it is the guest's: its arguments, or
    /// with --invoke the function's. Without --invoke, runs `_start` (a WASI command);
    /// a reactor's `_initialize` runs first. Exit status: the guest's `proc_exit` code,
    /// 0 when it returns, 134 on a trap, 1 on other errors.
    Run {
        /// Give the guest the host directory HOST, seen as GUEST (default: HOST as given).
        #[arg(long = "dir", value_name = "HOST[::GUEST]")]
        dirs: Vec<String>,
        /// Pass an environment variable (NAME alone: the host's value).
        #[arg(long = "env", value_name = "NAME[=VALUE]")]
        envs: Vec<String>,
        /// Listen on ADDR (host:port) and give the guest the listening socket.
        #[arg(long = "tcplisten", value_name = "ADDR")]
        tcplisten: Vec<String>,
        /// Call this exported function instead of `_start` and print its results; the
        /// arguments after the module are its arguments, parsed by its parameter types
        /// (integers in decimal or 0x hex, floats in decimal or nan/inf, v128 as 0x hex,
        /// references as null).
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// The guest's argv[0] (default: the module path as given).
        #[arg(long, value_name = "NAME")]
        argv0: Option<String>,
        /// Let the module import functions nobody defines; calling one fails.
        #[arg(long)]
        trap_unknown_imports: bool,
        /// Accept an AOT artifact written by `kuai compile` as the module (it is machine
        /// code, run as it is: trust it as you would a native library).
        #[arg(long)]
        allow_precompiled: bool,
        /// Instantiate FILE first and let the module import its exports from NAME.
        #[arg(long = "preload", value_name = "NAME=FILE")]
        preloads: Vec<String>,
        /// Give the guest N units of fuel (one per wasm instruction, roughly); running out
        /// traps with "all fuel consumed by WebAssembly".
        #[arg(long, value_name = "N")]
        fuel: Option<u64>,
        /// Interrupt the guest after DURATION (like 500ms, 10s, 2m; a bare number is
        /// seconds); it traps with "interrupt".
        #[arg(long, value_name = "DURATION")]
        timeout: Option<String>,
        /// The most bytes any linear memory may grow to (suffixes K, M, G: binary
        /// multiples); `memory.grow` beyond returns -1.
        #[arg(long, value_name = "SIZE")]
        max_memory: Option<String>,
        /// WebAssembly features: `simd` (default on), `multi-memory` (default off);
        /// `-W multi-memory` or `-W simd=n`, comma-separated. `-W lazy-validation`
        /// validates each function at its first call (faster start-up; an invalid body
        /// then fails only when called). Also wasmtime's spellings
        /// of the limits: `-W fuel=N`, `-W timeout=DURATION`, `-W max-memory-size=SIZE`.
        #[arg(short = 'W', value_name = "FEATURE[=y|n]")]
        wasm_features: Vec<String>,
        /// Code generation, like wasmtime's `-C`: `strategy=tiered` (default: interpreted,
        /// hot functions compiled by Cranelift in the background), `strategy=interp` (Kuai's
        /// interpreter alone) or `strategy=compile` (machine code from Cranelift only;
        /// `cranelift` is accepted too); `tiering-threshold=N` (default 100000) and
        /// `tiering-threads=N` (default 1; 0 compiles in the running thread);
        /// `compilation=lazy` (default: each function on its first call) or
        /// `compilation=eager` (every function before the first instruction, on all cores);
        /// `cache=n` (no compilation cache; by default a module's first run compiles it into
        /// `$XDG_CACHE_HOME/kuai` in the background and later runs start compiled),
        /// `cache-dir=DIR`, `cache-size=SIZE` (default 1G); comma-separated.
        #[arg(short = 'C', value_name = "OPT=VALUE")]
        codegen: Vec<String>,
        /// Memory layout, like wasmtime's `-O`: `memory-reservation=SIZE` (address space
        /// reserved per linear memory; default 4G — below 4G, compiled code checks bounds
        /// explicitly and memories move when they grow) and `memory-guard-size=SIZE`
        /// (default 32M), comma-separated.
        #[arg(short = 'O', value_name = "OPT=VALUE")]
        optimize: Vec<String>,
        /// The module, then the guest's arguments.
        #[arg(value_name = "FILE [ARGS]", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        module_and_args: Vec<String>,
    },
    /// Run WebAssembly spec scripts (.wast) and report failed assertions.
    Wast {
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also list the message mismatches: modules rejected at the expected stage, but
        /// with another error text than the script's.
        #[arg(long)]
        mismatches: bool,
        /// Code generation, like wasmtime's `-C`: `strategy=tiered` (default: interpreted,
        /// hot functions compiled by Cranelift in the background), `strategy=interp` (Kuai's
        /// interpreter alone) or `strategy=compile` (machine code from Cranelift only;
        /// `cranelift` is accepted too); `tiering-threshold=N` (default 100000) and
        /// `tiering-threads=N` (default 1; 0 compiles in the running thread);
        /// `compilation=lazy` (default: each function on its first call) or
        /// `compilation=eager` (every function before the first instruction, on all cores);
        /// comma-separated (`kuai wast` uses no compilation cache; `cache=…` options are
        /// accepted and ignored).
        #[arg(short = 'C', value_name = "OPT=VALUE")]
        codegen: Vec<String>,
        /// WebAssembly features, as for `run`: `-W multi-memory` for the multi-memory
        /// scripts (`simd` is on by default).
        #[arg(short = 'W', value_name = "FEATURE[=y|n]")]
        wasm_features: Vec<String>,
        /// Memory layout, as for `run`: `-O memory-reservation=0` runs the scripts in the
        /// explicit-bounds-check mode.
        #[arg(short = 'O', value_name = "OPT=VALUE")]
        optimize: Vec<String>,
    },
    /// Compile a module ahead of time: every function, on all cores, into an artifact that
    /// `kuai run --allow-precompiled` runs without compiling (with the same -W/-C/-O options).
    Compile {
        /// Where to write the artifact (default: the module's path with `.kwasm`).
        #[arg(short = 'o', value_name = "OUT")]
        output: Option<PathBuf>,
        /// Compile into the compilation cache (what `kuai run` starts on a cache miss).
        #[arg(long, hide = true)]
        cache_fill: bool,
        /// WebAssembly features, as for `run`; `-W fuel=N` and `-W timeout=DURATION` make
        /// code for runs with fuel or a timeout (the amounts do not matter here).
        #[arg(short = 'W', value_name = "FEATURE[=y|n]")]
        wasm_features: Vec<String>,
        /// Code generation, as for `run` (settings that change the code must match at run
        /// time).
        #[arg(short = 'C', value_name = "OPT=VALUE")]
        codegen: Vec<String>,
        /// Memory layout, as for `run` (must match at run time).
        #[arg(short = 'O', value_name = "OPT=VALUE")]
        optimize: Vec<String>,
        /// The module: binary (.wasm) or text (.wat).
        file: PathBuf,
    },
    /// Check that a module is well-formed and valid.
    Validate {
        /// The module: binary (.wasm) or text (.wat).
        file: PathBuf,
    },
}

/// Stack size of the thread that runs the command. Kuai itself never recurses on the host
/// stack for wasm calls; the text-format parsers (`wat`, `wast`) do recurse on nested
/// expressions, and hostile `.wat`/`.wast` input must not overflow the host stack.
const STACK_SIZE: usize = 256 << 20;

fn execute(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Run {
            dirs,
            envs,
            tcplisten,
            invoke,
            argv0,
            trap_unknown_imports,
            allow_precompiled,
            preloads,
            fuel,
            timeout,
            max_memory,
            wasm_features,
            codegen,
            optimize,
            module_and_args,
        } => {
            let mut rest = module_and_args.into_iter();
            let file = rest.next().map(PathBuf::from).unwrap_or_default();
            run::run(&run::RunOptions {
                file,
                args: rest.collect(),
                invoke,
                dirs,
                envs,
                tcplisten,
                argv0,
                trap_unknown_imports,
                allow_precompiled,
                preloads,
                fuel,
                timeout,
                max_memory,
                wasm_features,
                codegen,
                optimize,
            })
        }
        Command::Wast { files, mismatches, codegen, wasm_features, optimize } => commands::wast(
            &files,
            &commands::WastOptions {
                show_mismatches: mismatches,
                wasm_features: &wasm_features,
                codegen: &codegen,
                optimize: &optimize,
            },
        ),
        Command::Validate { file } => commands::validate(&file),
        Command::Compile { output, cache_fill, wasm_features, codegen, optimize, file } => {
            commands::compile(&file, output.as_deref(), &wasm_features, &codegen, &optimize, cache_fill)
        }
    }
}

/// Whether `command` may parse text (`.wat`, `.wast`), whose parsers recurse on nested
/// expressions and need [`STACK_SIZE`]. Files that cannot be read say yes: the command
/// will report them.
fn needs_big_stack(command: &Command) -> bool {
    let is_binary = |path: &std::path::Path| {
        let mut magic = [0u8; 4];
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
            && magic == *b"\0asm"
    };
    match command {
        Command::Wast { .. } => true,
        Command::Validate { file } | Command::Compile { file, .. } => !is_binary(file),
        Command::Run { module_and_args, preloads, .. } => {
            let module = module_and_args.first().map(PathBuf::from).unwrap_or_default();
            let preloaded = preloads.iter().filter_map(|p| p.split_once('=')).map(|(_, f)| PathBuf::from(f));
            !is_binary(&module) || preloaded.into_iter().any(|f| !is_binary(&f))
        }
    }
}

/// Reports a panic (a bug in Kuai) as one `error:` line instead of Rust's panic output.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "error: internal error (kuai panicked{location}): {message}");
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(EXIT_ERROR) } else { ExitCode::SUCCESS };
        }
    };
    let run = |command: Command| {
        execute(command).unwrap_or_else(|e| {
            e.report();
            ExitCode::from(e.exit_code())
        })
    };
    // Binary modules never recurse on the host stack: run them on this thread and save
    // a thread's start (which a loaded machine can stretch to milliseconds).
    if !needs_big_stack(&cli.command) {
        return match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli.command))) {
            Ok(code) => code,
            // The panic hook has printed the message.
            Err(_) => ExitCode::from(EXIT_ERROR),
        };
    }
    let worker = std::thread::Builder::new().name("kuai".into()).stack_size(STACK_SIZE).spawn(move || run(cli.command));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            // The panic hook has printed the message.
            ExitCode::from(EXIT_ERROR)
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot start a thread: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
