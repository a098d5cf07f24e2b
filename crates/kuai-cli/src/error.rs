//! The errors of the `kuai` command and how they are shown.
//!
//! Every error prints as one line on stderr, `error: <message>`; a trap adds the wasm
//! backtrace below it. Traps exit with 134 (128 + SIGABRT) like wasmtime's CLI does on
//! Unix (3 on Windows); a guest's `proc_exit` status is the process's; every other error
//! exits with 1.

use kuai::ValType;
use std::io::Write;

/// Exit status for usage, load, link and other non-trap errors.
pub const EXIT_ERROR: u8 = 1;

/// Exit status when WebAssembly code trapped: wasmtime's choice, `128 + SIGABRT` on Unix
/// and 3 (the status of `abort()`) on Windows.
pub const EXIT_TRAP: u8 = if cfg!(windows) { 3 } else { 134 };

/// The most frames of a trap's backtrace that are printed (a runaway recursion has
/// thousands).
const BACKTRACE_FRAMES: usize = 32;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Loading, linking, instantiating or calling failed in Kuai.
    #[error("{}", one_line(&.0.to_string()))]
    Kuai(#[from] kuai::Error),
    /// A file could not be written.
    #[error("cannot write `{path}`: {source}")]
    WriteFailed {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `--invoke` names no exported function.
    #[error("the module exports no function named `{0}`")]
    NoSuchFunction(String),
    /// The number of arguments does not match the function's parameters.
    #[error("`{name}` takes {expected} argument(s) {signature}, but {got} were given")]
    ArgCount {
        /// The function.
        name: String,
        /// Its parameter count.
        expected: usize,
        /// The number given.
        got: usize,
        /// Its type.
        signature: String,
    },
    /// An argument does not parse as its parameter's type.
    #[error("argument {index} of `{name}`: `{value}` is not a valid {ty}")]
    BadArg {
        /// The function.
        name: String,
        /// 1-based position of the argument.
        index: usize,
        /// The text given.
        value: String,
        /// The parameter type.
        ty: ValType,
    },
    /// A malformed option value.
    #[error("{0}")]
    Usage(String),
    /// A `--dir` directory could not be opened.
    #[error("cannot open the directory `{path}` for --dir: {source}")]
    Preopen {
        /// The host directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `--tcplisten` address could not be bound.
    #[error("cannot listen on `{addr}`: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The guest called `proc_exit` with this status.
    #[error("exit status {0}")]
    Exit(i32),
    /// The guest raised a signal that ends a process (`proc_raise`).
    #[error("terminated by signal {0} (proc_raise)")]
    Signal(u32),
    /// A `.wast` script could not be run at all.
    #[error(transparent)]
    Wast(#[from] kuai_wast::WastError),
    /// Writing to stdout failed.
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Kuai(e) if e.as_trap_error().is_some() => EXIT_TRAP,
            CliError::Exit(code) => u8::try_from(*code).unwrap_or(EXIT_ERROR),
            // As a shell reports a process killed by a signal.
            CliError::Signal(signal) => u8::try_from(128 + signal).unwrap_or(EXIT_ERROR),
            _ => EXIT_ERROR,
        }
    }

    /// Prints the error (and a trap's backtrace) on stderr.
    pub fn report(&self) {
        if let CliError::Exit(_) = self {
            // The guest ended itself; it has said what it wanted to.
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let trap = match self {
            CliError::Kuai(e) => e.as_trap_error(),
            _ => None,
        };
        match trap {
            Some(trap) => {
                let _ = writeln!(stderr, "error: wasm trap: {trap}");
                let frames = trap.backtrace().frames();
                if !frames.is_empty() {
                    let _ = writeln!(stderr, "wasm backtrace:");
                }
                for (i, frame) in frames.iter().enumerate().take(BACKTRACE_FRAMES) {
                    let _ = writeln!(stderr, "  {i}: {frame}");
                }
                if frames.len() > BACKTRACE_FRAMES {
                    let _ = writeln!(stderr, "  ... and {} more frames", frames.len() - BACKTRACE_FRAMES);
                }
            }
            None => {
                let _ = writeln!(stderr, "error: {self}");
            }
        }
    }
}

/// Shortens a possibly multi-line message (text-format parse errors show the source line
/// and a caret) to its first line plus the position, if the message gives one.
pub fn one_line(message: &str) -> String {
    let mut lines = message.lines();
    let first = lines.next().unwrap_or_default().trim_end().to_string();
    match lines.find_map(|l| l.trim_start().strip_prefix("--> ")) {
        Some(position) => format!("{first} (at {})", position.trim()),
        None => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_the_first_line_and_position() {
        let wat = "expected `(`\n     --> <anon>:1:1\n      |\n    1 | garbage\n      | ^";
        assert_eq!(one_line(wat), "expected `(` (at <anon>:1:1)");
        assert_eq!(one_line("simple"), "simple");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn errors_are_one_line() {
        let e = CliError::ArgCount { name: "f".into(), expected: 1, got: 2, signature: "(func (param i32))".into() };
        assert_eq!(e.to_string(), "`f` takes 1 argument(s) (func (param i32)), but 2 were given");
        assert_eq!(e.exit_code(), EXIT_ERROR);
    }
}
