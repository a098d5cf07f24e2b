//! Errors returned by the embedding API.
//!
//! [`Error`] is the one error type of the public API. Its variants say at which stage a
//! module or call failed, so callers (and the spec harness) can tell a malformed module
//! from an invalid one, a link failure from a trap.

use crate::trap::{Trap, TrapError};
use std::fmt;

/// Why a module was rejected before it could be instantiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    /// The bytes are not a well-formed module (binary decoding or text parsing failed).
    Malformed,
    /// The module is well-formed but fails validation.
    Invalid,
    /// The module uses a feature this version of Kuai does not support, or exceeds one
    /// of its implementation limits.
    Unsupported,
}

/// A module failed to decode, parse or validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub(crate) kind: CompileErrorKind,
    pub(crate) message: String,
    pub(crate) offset: Option<u64>,
}

impl CompileError {
    pub(crate) fn new(kind: CompileErrorKind, message: impl Into<String>, offset: Option<u64>) -> Self {
        CompileError { kind, message: one_line(message.into()), offset }
    }

    /// Whether the module was malformed, invalid or unsupported.
    pub fn kind(&self) -> CompileErrorKind {
        self.kind
    }

    /// The error text, without the offset.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the binary module where the problem was found, if known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.kind {
            CompileErrorKind::Malformed => "malformed module",
            CompileErrorKind::Invalid => "invalid module",
            CompileErrorKind::Unsupported => "unsupported module",
        };
        match self.offset {
            Some(offset) => write!(f, "{stage}: {} (at offset {offset:#x})", self.message),
            None => write!(f, "{stage}: {}", self.message),
        }
    }
}

impl std::error::Error for CompileError {}

/// Keeps the first line of a decoder message: some embed multi-line debug output (the bad
/// magic number error prints the expected bytes as a list).
fn one_line(message: String) -> String {
    match message.split_once('\n') {
        Some((first, _)) => first.trim_end_matches(['[', ' ', '=']).trim_end_matches(" - expected").to_string(),
        None => message,
    }
}

/// Instantiation could not resolve or match an import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// No definition was provided for the import.
    #[error("unknown import: `{module}::{name}` has not been defined")]
    UnknownImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
    },
    /// A definition exists but has the wrong kind or type.
    #[error("incompatible import type for `{module}::{name}`: expected {expected}, found {found}")]
    IncompatibleImportType {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
        /// What the module asked for.
        expected: String,
        /// What was provided.
        found: String,
    },
    /// Two definitions were given for the same name in a [`Linker`](crate::Linker).
    #[error("`{module}::{name}` is already defined")]
    Duplicate {
        /// The module name.
        module: String,
        /// The field name.
        name: String,
    },
    /// An object from another store was used.
    #[error("object used with the wrong store")]
    WrongStore,
}

/// The error type of Kuai's public API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The module failed to decode, parse or validate.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Instantiation failed to link an import.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// WebAssembly code trapped.
    #[error(transparent)]
    Trap(#[from] TrapError),
    /// A call was made with the wrong number or types of arguments or results.
    #[error("type mismatch: {0}")]
    TypeMismatch(String),
    /// An export looked up by name does not exist or has another kind.
    #[error("unknown export `{0}`")]
    UnknownExport(String),
    /// A resource limit (memory, table size, call depth) refused an operation from the host.
    #[error("resource limit exceeded: {0}")]
    Limit(String),
    /// A feature was used that the engine's [`Config`](crate::Config) did not enable
    /// (fuel without `consume_fuel`, for instance).
    #[error("{0} is not enabled in this engine's Config")]
    NotEnabled(&'static str),
    /// A host function failed.
    #[error("host error: {0}")]
    Host(Box<dyn std::error::Error + Send + Sync>),
    /// Reading a module file failed.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps any error raised by a host function.
    pub fn host(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Host(error.into())
    }

    /// The trap, if this error is a trap.
    pub fn as_trap(&self) -> Option<Trap> {
        match self {
            Error::Trap(t) => Some(t.trap()),
            _ => None,
        }
    }

    /// The trap with its backtrace, if this error is a trap.
    pub fn as_trap_error(&self) -> Option<&TrapError> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

impl From<Trap> for Error {
    fn from(trap: Trap) -> Self {
        Error::Trap(TrapError::from(trap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_error_shows_stage_and_offset() {
        let e = CompileError::new(CompileErrorKind::Invalid, "type mismatch", Some(0x2a));
        assert_eq!(e.to_string(), "invalid module: type mismatch (at offset 0x2a)");
    }

    #[test]
    fn messages_are_one_line() {
        let e = CompileError::new(CompileErrorKind::Malformed, "bad magic number - expected=[\n    0x0,\n]", None);
        assert_eq!(e.message(), "bad magic number");
    }

    #[test]
    fn link_error_names_the_import() {
        let e = LinkError::UnknownImport { module: "env".into(), name: "f".into() };
        assert!(e.to_string().contains("env::f"));
    }
}
