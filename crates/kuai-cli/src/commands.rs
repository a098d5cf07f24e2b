//! The `wast` and `validate` subcommands (`run` is in `run.rs`).

use crate::error::CliError;
use kuai::{Engine, Module};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Applies `-C OPT=VALUE` code-generation options (comma-separated) to `config`.
pub fn codegen(config: &mut kuai::Config, items: &[String]) -> Result<(), CliError> {
    for item in items.iter().flat_map(|s| s.split(',')) {
        match item.split_once('=').unwrap_or((item, "")) {
            ("strategy", "interp" | "interpret" | "interpreter") => config.strategy(kuai::Strategy::Interpret),
            ("strategy", "compile" | "cranelift") => config.strategy(kuai::Strategy::Compile),
            ("strategy", "tiered" | "auto") => config.strategy(kuai::Strategy::Tiered),
            ("strategy", other) => {
                return Err(CliError::Usage(format!("-C strategy={other}: expected interp, compile or tiered")));
            }
            ("tiering-threshold", n) => match n.parse() {
                Ok(budget) => config.tiering_threshold(budget),
                Err(_) => return Err(CliError::Usage(format!("-C tiering-threshold={n}: expected a number"))),
            },
            ("tiering-threads", n) => match n.parse() {
                Ok(threads) => config.tiering_threads(threads),
                Err(_) => return Err(CliError::Usage(format!("-C tiering-threads={n}: expected a number"))),
            },
            ("compilation", "lazy") => config.eager_translation(false),
            ("compilation", "eager") => config.eager_translation(true),
            ("compilation", other) => {
                return Err(CliError::Usage(format!("-C compilation={other}: expected lazy or eager")));
            }
            // The compilation cache's options (`cache::Cache::from_options` reads them).
            ("cache" | "cache-dir" | "cache-size", _) => config,
            _ => return Err(CliError::Usage(format!("-C {item}: unknown code-generation option"))),
        };
    }
    Ok(())
}

/// Applies the on/off WebAssembly feature `-W name=value`.
pub fn feature(config: &mut kuai::Config, name: &str, value: &str) -> Result<(), CliError> {
    let on = match value {
        "y" | "yes" | "true" => true,
        "n" | "no" | "false" => false,
        _ => return Err(CliError::Usage(format!("-W {name}={value}: the value must be y or n"))),
    };
    match name {
        "simd" => config.wasm_simd(on),
        "multi-memory" => config.wasm_multi_memory(on),
        "lazy-validation" => config.lazy_validation(on),
        _ => return Err(CliError::Usage(format!("-W {name}: unknown or unsupported WebAssembly feature"))),
    };
    Ok(())
}

/// Applies `-O OPT=SIZE` memory-layout options (comma-separated) to `config`.
pub fn memory_layout(config: &mut kuai::Config, items: &[String]) -> Result<(), CliError> {
    for item in items.iter().flat_map(|s| s.split(',')) {
        let (name, value) = item.split_once('=').unwrap_or((item, ""));
        let bytes = crate::run::parse_size(value)
            .ok_or_else(|| CliError::Usage(format!("-O {item}: expected a size like 4G")))?;
        match name {
            "memory-reservation" => config.memory_reservation(bytes as u64),
            "memory-guard-size" => config.memory_guard_size(bytes as u64),
            _ => return Err(CliError::Usage(format!("-O {name}: unknown option"))),
        };
    }
    Ok(())
}

/// The options of `kuai wast`.
pub struct WastOptions<'a> {
    pub show_mismatches: bool,
    /// `-W FEATURE[=y|n]` (on/off features only).
    pub wasm_features: &'a [String],
    pub codegen: &'a [String],
    pub optimize: &'a [String],
}

/// `kuai wast FILE...`: runs each script, prints its failures and a final
/// `N passed, N failed` line (assertion counts). A script that cannot be read or parsed
/// counts as one failed assertion.
/// With `show_mismatches`, message mismatches are listed too.
pub fn wast(files: &[std::path::PathBuf], o: &WastOptions<'_>) -> Result<ExitCode, CliError> {
    let show_mismatches = o.show_mismatches;
    let mut config = kuai::Config::new();
    config.wasm_simd(true);
    for item in o.wasm_features.iter().flat_map(|s| s.split(',')) {
        let (name, value) = item.split_once('=').unwrap_or((item, "y"));
        feature(&mut config, name, value)?;
    }
    codegen(&mut config, o.codegen)?;
    memory_layout(&mut config, o.optimize)?;
    let runner = kuai_wast::WastRunner::with_engine(kuai::Engine::new(&config));
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files {
        let display = file.display().to_string();
        let report = std::fs::read_to_string(file)
            .map_err(|source| CliError::Read { path: display.clone(), source })
            .and_then(|source| runner.run(&source, &display).map_err(CliError::from));
        match report {
            Ok(report) => {
                passed += report.passed;
                failed += report.failed();
                for failure in &report.failures {
                    writeln!(out, "{display}:{failure}").map_err(CliError::Output)?;
                }
                for mismatch in report.message_mismatches.iter().filter(|_| show_mismatches) {
                    writeln!(out, "{display}:{mismatch} (message mismatch)").map_err(CliError::Output)?;
                }
                let mismatches = report.message_mismatches.len();
                writeln!(
                    out,
                    "{display}: {} passed, {} failed, {mismatches} message mismatches",
                    report.passed,
                    report.failed()
                )
                .map_err(CliError::Output)?;
            }
            Err(e) => {
                failed += 1;
                // Report and go on with the next script.
                out.flush().map_err(CliError::Output)?;
                e.report();
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed").map_err(CliError::Output)?;
    out.flush().map_err(CliError::Output)?;
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(crate::error::EXIT_ERROR) })
}

/// `kuai validate FILE`: succeeds silently when the module decodes and validates.
/// `kuai compile [-W …] [-C …] [-O …] FILE [-o OUT]`: writes the AOT artifact (atomically:
/// a temporary file renamed into place).
pub fn compile(
    file: &Path,
    output: Option<&Path>,
    wasm_features: &[String],
    codegen_items: &[String],
    optimize: &[String],
    cache_fill: bool,
) -> Result<ExitCode, CliError> {
    use std::io::IsTerminal;
    let mut config = kuai::Config::new();
    for item in wasm_features.iter().flat_map(|s| s.split(',')) {
        let (name, value) = item.split_once('=').unwrap_or((item, "y"));
        match name {
            // Code for a run with fuel (`--fuel N`, `-W fuel=N`) or a timeout: metered.
            "fuel" => config.consume_fuel(true),
            "timeout" => config.epoch_interruption(true),
            _ => {
                feature(&mut config, name, value)?;
                continue;
            }
        };
    }
    codegen(&mut config, codegen_items)?;
    memory_layout(&mut config, optimize)?;
    // Only interpreted until serialized: `serialize` compiles every function itself.
    config.strategy(kuai::Strategy::Interpret);
    let engine = Engine::new(&config);
    if cache_fill {
        // `kuai run` started this on a cache miss, with the run's options.
        let Some(cache) = crate::cache::Cache::from_options(codegen_items)? else {
            return Ok(ExitCode::SUCCESS);
        };
        let wasm =
            std::fs::read(file).map_err(|source| kuai::Error::Io { path: file.display().to_string(), source })?;
        let module = Module::new(&engine, &wasm)?;
        cache.fill(&engine, &wasm, &module)?;
        return Ok(ExitCode::SUCCESS);
    }
    let module = Module::from_file(&engine, file)?;
    let terminal = std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    if terminal {
        eprint!("compiling {} ...", file.display());
    }
    let artifact = module.serialize()?;
    if terminal {
        eprintln!("\rcompiled {} in {:.1} s", file.display(), start.elapsed().as_secs_f64());
    }
    let out = output.map(Path::to_path_buf).unwrap_or_else(|| file.with_extension("kwasm"));
    write_atomically(&out, &artifact)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `out` through a temporary file beside it and a rename: readers see the
/// old file or the whole new one, never a part.
pub fn write_atomically(out: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let tmp = out.with_extension(format!(
        "{}.tmp{}",
        out.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let failed = |path: &Path, source| CliError::WriteFailed { path: path.display().to_string(), source };
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(&tmp, e)
    })?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(out, e)
    })
}

pub fn validate(file: &Path) -> Result<ExitCode, CliError> {
    Module::from_file(&Engine::default(), file)?;
    Ok(ExitCode::SUCCESS)
}
