//! `kuai`: run WebAssembly modules and spec scripts from the command line.
//!
//! ```text
//! kuai run FILE.wasm|FILE.wat [--invoke NAME] [ARGS...]
//! kuai wast FILE.wast...
//! kuai validate FILE
//! ```
//!
//! Errors print one line on stderr (`error: ...`) and exit with status 1; a trap prints
//! the wasm backtrace too and exits with 134, like wasmtime.

mod commands;
mod error;
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Instantiate a module (imports are not provided) and call a function.
    ///
    /// Without --invoke, calls `_start` if the module exports it; otherwise instantiating
    /// (which runs the start function) is all it does.
    Run {
        /// The module: binary (.wasm) or text (.wat).
        file: PathBuf,
        /// The exported function to call; its results are printed one per line.
        #[arg(long, value_name = "NAME")]
        invoke: Option<String>,
        /// Arguments for the function, parsed by its parameter types (integers in decimal
        /// or 0x hex, floats in decimal or nan/inf, references as null).
        #[arg(value_name = "ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
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
        Command::Run { file, invoke, args } => commands::run(&file, invoke.as_deref(), &args),
        Command::Wast { files, mismatches } => commands::wast(&files, mismatches),
        Command::Validate { file } => commands::validate(&file),
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
    let worker = std::thread::Builder::new().name("kuai".into()).stack_size(STACK_SIZE).spawn(move || {
        execute(cli.command).unwrap_or_else(|e| {
            e.report();
            ExitCode::from(e.exit_code())
        })
    });
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
