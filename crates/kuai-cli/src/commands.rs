//! The `run`, `wast` and `validate` subcommands.

use crate::error::CliError;
use crate::values::{format_val, parse_arg};
use kuai::{Engine, ExternType, Linker, Module, Store, Val};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// The export called by `kuai run` without `--invoke`, as in WASI command modules.
const START_EXPORT: &str = "_start";

/// `kuai run FILE [--invoke NAME] [ARGS...]`.
pub fn run(file: &Path, invoke: Option<&str>, args: &[String]) -> Result<ExitCode, CliError> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, file)?;
    // Check the call before instantiating, so bad arguments never run the start function.
    let params = match invoke {
        Some(name) => Some(parse_call(&module, name, args)?),
        None if !args.is_empty() => return Err(CliError::ArgsWithoutInvoke),
        None => None,
    };
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &module)?;
    let (name, params) = match (invoke, params) {
        (Some(name), Some(params)) => (name, params),
        _ => (START_EXPORT, Vec::new()),
    };
    let Some(func) = instance.get_func(&store, name) else {
        // Without --invoke and without `_start`, instantiating was all there was to do.
        return if invoke.is_some() { Err(CliError::NoSuchFunction(name.to_string())) } else { Ok(ExitCode::SUCCESS) };
    };
    let mut results: Vec<Val> = func.ty(&store).results().iter().map(|&t| Val::default_for(t)).collect();
    func.call(&mut store, &params, &mut results)?;
    if invoke.is_some() {
        let mut out = std::io::stdout().lock();
        for result in &results {
            writeln!(out, "{}", format_val(result)).map_err(CliError::Output)?;
        }
        out.flush().map_err(CliError::Output)?;
    }
    Ok(ExitCode::SUCCESS)
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

/// `kuai wast FILE...`: runs each script, prints its failures and a final
/// `N passed, N failed` line (assertion counts). A script that cannot be read or parsed
/// counts as one failed assertion.
/// With `show_mismatches`, message mismatches are listed too.
pub fn wast(files: &[std::path::PathBuf], show_mismatches: bool) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files {
        let display = file.display().to_string();
        let report = std::fs::read_to_string(file)
            .map_err(|source| CliError::Read { path: display.clone(), source })
            .and_then(|source| kuai_wast::run_wast(&source, &display).map_err(CliError::from));
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
pub fn validate(file: &Path) -> Result<ExitCode, CliError> {
    Module::from_file(&Engine::default(), file)?;
    Ok(ExitCode::SUCCESS)
}
