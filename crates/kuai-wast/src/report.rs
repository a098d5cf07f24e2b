//! The outcome of running one script: counts, failures and message mismatches.
//!
//! Every directive of a script is one check: an assertion (`assert_*`) passes when the
//! engine behaves as asserted, and a command (`module`, `register`, `invoke`) passes when
//! it succeeds. Totals therefore do not depend on how well the engine does.

use std::fmt;

/// Where a directive starts in its script (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// The stage at which a module is expected to be rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Decoding or text parsing (`assert_malformed`).
    Malformed,
    /// Validation (`assert_invalid`).
    Invalid,
    /// Linking of imports (`assert_unlinkable`).
    Unlinkable,
    /// Instantiation, by a trap (`assert_trap` of a module, formerly `assert_uninstantiable`).
    Uninstantiable,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Malformed => "malformed",
            Stage::Invalid => "invalid",
            Stage::Unlinkable => "unlinkable",
            Stage::Uninstantiable => "uninstantiable",
        })
    }
}

/// Why a directive failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailureReason {
    /// A text module could not be turned into a binary by the `wast` crate.
    #[error("cannot encode the text module: {0}")]
    Encode(String),
    /// Kuai rejected a module that should load.
    #[error("module failed to compile: {0}")]
    Compile(String),
    /// Instantiating a module failed.
    #[error("module failed to instantiate: {0}")]
    Instantiate(String),
    /// An invoked function failed (trapped or errored) where it should not.
    #[error("call failed: {0}")]
    Call(String),
    /// Registering an instance's exports in the linker failed.
    #[error("cannot register the instance: {0}")]
    Register(String),
    /// A call or `get` returned other values than expected.
    #[error("expected {expected}, got {actual}")]
    WrongResults {
        /// The expected values, rendered.
        expected: String,
        /// The values Kuai produced, rendered.
        actual: String,
    },
    /// A trap was expected but the call (or instantiation) succeeded.
    #[error("expected trap `{expected}`, but it {actual}")]
    NoTrap {
        /// The expected trap message.
        expected: String,
        /// What happened instead.
        actual: String,
    },
    /// A trap was expected and another trap happened.
    #[error("expected trap `{expected}`, got trap `{actual}`")]
    WrongTrap {
        /// The expected trap message.
        expected: String,
        /// Kuai's trap message.
        actual: String,
    },
    /// A trap was expected but a non-trap error was returned.
    #[error("expected trap `{expected}`, got error: {actual}")]
    NotATrap {
        /// The expected trap message.
        expected: String,
        /// Kuai's error.
        actual: String,
    },
    /// A module that should be rejected was accepted.
    #[error("expected the module to be {stage} (`{expected}`), but {actual}")]
    Accepted {
        /// Where it should have been rejected.
        stage: Stage,
        /// The expected message.
        expected: String,
        /// What happened instead.
        actual: String,
    },
    /// A module was rejected, but at the wrong stage.
    #[error("expected the module to be {stage} (`{expected}`), got: {actual}")]
    WrongStage {
        /// Where it should have been rejected.
        stage: Stage,
        /// The expected message.
        expected: String,
        /// Kuai's error.
        actual: String,
    },
    /// An `$id` names no module of the script.
    #[error("no module named `{0}`")]
    UnknownModule(String),
    /// No module has been instantiated yet, or the last one failed.
    #[error("no current module (none defined yet, or the last one failed to load)")]
    NoCurrentModule,
    /// The instance has no export of that name.
    #[error("no export named `{0}`")]
    UnknownExport(String),
    /// The export exists but has another kind.
    #[error("export `{name}` is not a {expected}")]
    WrongExportKind {
        /// The export name.
        name: String,
        /// The kind that was needed.
        expected: &'static str,
    },
    /// A value or pattern Kuai does not support (v128, GC references, component values).
    #[error("unsupported value: {0}")]
    UnsupportedValue(String),
    /// A directive from a proposal Kuai does not implement (threads, exceptions, ...).
    #[error("unsupported directive: {0}")]
    UnsupportedDirective(String),
    /// Kuai panicked while running the directive.
    #[error("kuai panicked: {0}")]
    Panic(String),
}

/// One failed directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where the directive starts.
    pub location: Location,
    /// The directive keyword (`assert_return`, `module`, ...).
    pub directive: &'static str,
    /// What went wrong.
    pub reason: FailureReason,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.directive, self.reason)
    }
}

/// A module rejected at the expected stage, or a trap, whose error text differs from the
/// script's expected text. Counted, but not a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMismatch {
    /// Where the directive starts.
    pub location: Location,
    /// The directive keyword.
    pub directive: &'static str,
    /// The script's expected message.
    pub expected: String,
    /// Kuai's message.
    pub actual: String,
}

impl fmt::Display for MessageMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: expected `{}`, got `{}`", self.location, self.directive, self.expected, self.actual)
    }
}

/// The result of running one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WastReport {
    /// The script's name, as given to the runner.
    pub file: String,
    /// Directives that passed (including those with a message mismatch).
    pub passed: usize,
    /// Directives that failed, in script order.
    pub failures: Vec<Failure>,
    /// Passed directives whose error text differs from the expected one.
    pub message_mismatches: Vec<MessageMismatch>,
    /// `assert_malformed` / `assert_invalid` directives whose text module the `wast` crate
    /// itself rejected, so that the module never reached Kuai (counted as passed).
    pub text_rejections: usize,
}

impl WastReport {
    /// The number of failed directives.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// All directives run.
    pub fn total(&self) -> usize {
        self.passed + self.failed()
    }

    /// Whether no directive failed.
    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for WastReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} passed, {} failed, {} message mismatches",
            self.file,
            self.passed,
            self.failed(),
            self.message_mismatches.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_shows_location_directive_and_reason() {
        let f = Failure {
            location: Location { line: 3, col: 1 },
            directive: "assert_trap",
            reason: FailureReason::WrongTrap { expected: "unreachable".into(), actual: "integer overflow".into() },
        };
        assert_eq!(f.to_string(), "3:1: assert_trap: expected trap `unreachable`, got trap `integer overflow`");
    }

    #[test]
    fn report_counts() {
        let mut r = WastReport { file: "x.wast".into(), passed: 2, ..Default::default() };
        assert!(r.is_success());
        r.failures.push(Failure {
            location: Location { line: 1, col: 1 },
            directive: "module",
            reason: FailureReason::NoCurrentModule,
        });
        assert_eq!((r.failed(), r.total()), (1, 3));
        assert_eq!(r.to_string(), "x.wast: 2 passed, 1 failed, 0 message mismatches");
    }
}
