//! Runs WebAssembly spec scripts (`.wast`) on Kuai.
//!
//! A script is a sequence of directives: modules to define, calls to make and assertions
//! about their outcome (see the [spec interpreter's description of scripts]). This crate
//! parses scripts with the `wast` crate, runs every directive of the WebAssembly 1.0 and
//! 2.0 test suites against one Kuai [`Store`](kuai::Store), and reports how many
//! passed, which failed and why, and which modules were rejected at the right stage but
//! with a different error text ("message mismatches", counted but not failures).
//!
//! ```no_run
//! let report = kuai_wast::run_wast("(module) (assert_return (invoke \"missing\"))", "t.wast")?;
//! for failure in &report.failures {
//!     println!("{failure}");
//! }
//! # Ok::<(), kuai_wast::WastError>(())
//! ```
//!
//! [spec interpreter's description of scripts]: https://github.com/WebAssembly/spec/tree/main/interpreter#scripts

mod error;
mod messages;
mod report;
mod runner;
mod spectest;
mod values;

pub use error::WastError;
pub use report::{Failure, FailureReason, Location, MessageMismatch, Stage, WastReport};
pub use runner::WastRunner;
pub use spectest::{SPECTEST, define_spectest};

/// Runs the script `source` on a default engine; `file_name` names it in the report.
pub fn run_wast(source: &str, file_name: &str) -> Result<WastReport, WastError> {
    WastRunner::new().run(source, file_name)
}
