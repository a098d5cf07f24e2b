//! Running the directives of one script against one store.
//!
//! A script gets a fresh [`Store`] and a [`Linker`] (with shadowing allowed) that holds the
//! `spectest` module and every `register`ed instance. Each directive runs on its own: a
//! failure (or even a panic inside Kuai) is recorded in the [`WastReport`] and the script
//! goes on with the next directive.
//!
//! Stage rules for modules that must be rejected:
//! - `assert_malformed` passes when the `wast` crate cannot encode the (quoted) text, or
//!   when [`Module::from_binary`] fails with [`CompileErrorKind::Malformed`]. Any other
//!   outcome fails: a decoder that lets malformed bytes through to validation is a bug.
//! - `assert_invalid` passes when [`Module::from_binary`] fails with
//!   [`CompileErrorKind::Invalid`]. A `Malformed` rejection also passes (the module never
//!   runs), but is recorded as a message mismatch so the misclassification stays visible.
//!   A text module that the `wast` crate cannot encode passes as well.
//! - `assert_unlinkable` passes on [`Error::Link`] from instantiation.
//! - `assert_trap` of a module (the former `assert_uninstantiable`) passes when
//!   instantiation traps.
//!
//! Trap messages must match (a different trap is a failure); the texts of compile and link
//! errors only count as message mismatches when they differ. See [`crate::messages`].

use crate::error::WastError;
use crate::messages::message_matches;
use crate::report::{Failure, FailureReason, Location, MessageMismatch, Stage, WastReport};
use crate::spectest::define_spectest;
use crate::values;
use kuai::{CompileErrorKind, Engine, Error, Instance, Linker, Module, Store, Val};
use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// Runs `.wast` scripts on a Kuai [`Engine`].
#[derive(Debug, Clone)]
pub struct WastRunner {
    engine: Engine,
}

impl Default for WastRunner {
    fn default() -> Self {
        WastRunner::new()
    }
}

impl WastRunner {
    /// A runner on an engine with every WebAssembly 2.0 feature enabled (SIMD included).
    pub fn new() -> Self {
        WastRunner { engine: Engine::new(kuai::Config::new().wasm_simd(true)) }
    }

    /// A runner whose modules are compiled by `engine`.
    pub fn with_engine(engine: Engine) -> Self {
        WastRunner { engine }
    }

    /// The engine scripts run on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs every directive of the script `source`; `file_name` names it in the report.
    ///
    /// Fails only when the script cannot be parsed or the `spectest` module cannot be set
    /// up; failed directives are counted in the returned report.
    pub fn run(&self, source: &str, file_name: &str) -> Result<WastReport, WastError> {
        let mut lexer = Lexer::new(source);
        lexer.allow_confusing_unicode(true);
        let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| WastError::parse(file_name, source, &e))?;
        let script: Wast<'_> = parser::parse(&buf).map_err(|e| WastError::parse(file_name, source, &e))?;
        let mut state = ScriptState::new(&self.engine, source, file_name)?;
        for directive in script.directives {
            state.run_directive(directive);
        }
        Ok(state.report)
    }
}

/// How a directive passed.
enum Outcome {
    /// As expected.
    Pass,
    /// Rejected at the expected stage (or trapped as expected) with another message.
    Mismatch { expected: String, actual: String },
    /// The `wast` crate rejected the text module before it reached Kuai.
    TextRejected,
}

/// Maps byte offsets to 1-based line and column numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn location(&self, offset: usize) -> Location {
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        Location { line, col: offset - self.starts[line - 1] + 1 }
    }
}

/// Everything a running script has defined so far.
struct ScriptState<'e> {
    engine: &'e Engine,
    lines: LineIndex,
    store: Store<()>,
    linker: Linker<()>,
    /// Every successfully instantiated module, in script order.
    instances: Vec<Instance>,
    /// `$id` → index into `instances`.
    named: HashMap<String, usize>,
    /// The most recent instance, if the most recent module directive succeeded.
    current: Option<usize>,
    /// Modules from `module definition` directives, by `$id`.
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    report: WastReport,
}

impl<'e> ScriptState<'e> {
    fn new(engine: &'e Engine, source: &str, file_name: &str) -> Result<Self, WastError> {
        let mut store = Store::new(engine, ());
        // With `Config::consume_fuel`, scripts run on all the fuel there is: they check
        // that metering changes no result (fails only if fuel is off, which is fine).
        let _ = store.set_fuel(u64::MAX);
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        define_spectest(&mut linker, &mut store).map_err(WastError::Spectest)?;
        Ok(ScriptState {
            engine,
            lines: LineIndex::new(source),
            store,
            linker,
            instances: Vec::new(),
            named: HashMap::new(),
            current: None,
            definitions: HashMap::new(),
            last_definition: None,
            report: WastReport { file: file_name.to_string(), ..WastReport::default() },
        })
    }

    fn run_directive(&mut self, directive: WastDirective<'_>) {
        let location = self.lines.location(directive.span().offset());
        let name = directive_name(&directive);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.execute(directive)))
            .unwrap_or_else(|payload| Err(FailureReason::Panic(panic_message(payload.as_ref()))));
        match outcome {
            Ok(Outcome::Pass) => self.report.passed += 1,
            Ok(Outcome::TextRejected) => {
                self.report.passed += 1;
                self.report.text_rejections += 1;
            }
            Ok(Outcome::Mismatch { expected, actual }) => {
                self.report.passed += 1;
                self.report.message_mismatches.push(MessageMismatch { location, directive: name, expected, actual });
            }
            Err(reason) => self.report.failures.push(Failure { location, directive: name, reason }),
        }
    }

    fn execute(&mut self, directive: WastDirective<'_>) -> Result<Outcome, FailureReason> {
        match directive {
            WastDirective::Module(wat) => self.module(wat),
            WastDirective::ModuleDefinition(mut wat) => {
                reject_component(&wat)?;
                let name = wat.name().map(|id| id.name());
                let module = self.compile(&encode(&mut wat)?)?;
                if let Some(name) = name {
                    self.definitions.insert(name.to_string(), module.clone());
                }
                self.last_definition = Some(module);
                Ok(Outcome::Pass)
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let definition = match module {
                    Some(id) => self.definitions.get(id.name()).cloned().ok_or_else(|| unknown_module(id))?,
                    None => self.last_definition.clone().ok_or(FailureReason::NoCurrentModule)?,
                };
                self.instantiate(&definition, instance.map(|id| id.name())).map(|()| Outcome::Pass)
            }
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(Outcome::Pass),
                Err(e) => Err(FailureReason::Call(e.to_string())),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(vals) => Err(self.no_trap(message, &vals)),
                Err(e) => expect_trap(&e, message),
            },
            WastDirective::AssertMalformed { module, message, .. } => self.assert_malformed(module, message),
            WastDirective::AssertInvalid { module, message, .. } => self.assert_invalid(module, message),
            WastDirective::AssertUnlinkable { module, message, .. } => self.assert_unlinkable(module, message),
            other => Err(FailureReason::UnsupportedDirective(directive_name(&other).to_string())),
        }
    }

    /// A `module` directive: compile, instantiate, make it the current module.
    fn module(&mut self, mut wat: QuoteWat<'_>) -> Result<Outcome, FailureReason> {
        reject_component(&wat)?;
        let name = wat.name().map(|id| id.name());
        let module = match encode(&mut wat).and_then(|bytes| self.compile(&bytes)) {
            Ok(module) => module,
            Err(reason) => {
                self.forget(name);
                return Err(reason);
            }
        };
        self.instantiate(&module, name).map(|()| Outcome::Pass)
    }

    fn compile(&self, bytes: &[u8]) -> Result<Module, FailureReason> {
        Module::from_binary(self.engine, bytes).map_err(|e| FailureReason::Compile(e.to_string()))
    }

    /// Instantiates `module`; on success it becomes the current module (and `$name`).
    fn instantiate(&mut self, module: &Module, name: Option<&str>) -> Result<(), FailureReason> {
        match self.linker.instantiate(&mut self.store, module) {
            Ok(instance) => {
                let index = self.instances.len();
                self.instances.push(instance);
                self.current = Some(index);
                if let Some(name) = name {
                    self.named.insert(name.to_string(), index);
                }
                Ok(())
            }
            Err(e) => {
                self.forget(name);
                Err(FailureReason::Instantiate(e.to_string()))
            }
        }
    }

    /// After a failed module directive, later directives must not silently use an older
    /// module: there is no current module, and `$name` is unbound.
    fn forget(&mut self, name: Option<&str>) {
        self.current = None;
        if let Some(name) = name {
            self.named.remove(name);
        }
    }

    fn instance_index(&self, id: Option<Id<'_>>) -> Result<usize, FailureReason> {
        match id {
            Some(id) => self.named.get(id.name()).copied().ok_or_else(|| unknown_module(id)),
            None => self.current.ok_or(FailureReason::NoCurrentModule),
        }
    }

    fn register(&mut self, as_name: &str, module: Option<Id<'_>>) -> Result<Outcome, FailureReason> {
        let index = self.instance_index(module)?;
        for (name, item) in self.instances[index].exports(&self.store) {
            self.linker.define(as_name, &name, item).map_err(|e| FailureReason::Register(e.to_string()))?;
        }
        Ok(Outcome::Pass)
    }

    /// Calls an export. The outer error is a problem of the script (unknown module or
    /// export, unsupported argument); the inner result is what Kuai's call returned.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Vec<Val>, Error>, FailureReason> {
        let index = self.instance_index(invoke.module)?;
        let export = self.instances[index]
            .get_export(&self.store, invoke.name)
            .ok_or_else(|| FailureReason::UnknownExport(invoke.name.to_string()))?;
        let func = export
            .into_func()
            .ok_or_else(|| FailureReason::WrongExportKind { name: invoke.name.to_string(), expected: "function" })?;
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            args.push(values::arg_to_val(&mut self.store, arg)?);
        }
        let num_results = func.ty(&self.store).results().len();
        let mut results: Vec<Val> = (0..num_results).map(|_| Val::I32(0)).collect();
        Ok(func.call(&mut self.store, &args, &mut results).map(|()| results))
    }

    fn get(&self, module: Option<Id<'_>>, name: &str) -> Result<Val, FailureReason> {
        let index = self.instance_index(module)?;
        let export = self.instances[index]
            .get_export(&self.store, name)
            .ok_or_else(|| FailureReason::UnknownExport(name.into()))?;
        let global =
            export.into_global().ok_or(FailureReason::WrongExportKind { name: name.into(), expected: "global" })?;
        Ok(global.get(&self.store))
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Result<Outcome, FailureReason> {
        let actual = match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke)?.map_err(|e| FailureReason::Call(e.to_string()))?,
            WastExecute::Get { module, global, .. } => vec![self.get(module, global)?],
            WastExecute::Wat(_) => return Err(FailureReason::UnsupportedDirective("assert_return of a module".into())),
        };
        let mut ok = actual.len() == expected.len();
        for (val, ret) in actual.iter().zip(expected) {
            ok = ok && values::matches(&self.store, val, ret)?;
        }
        if ok {
            Ok(Outcome::Pass)
        } else {
            Err(FailureReason::WrongResults {
                expected: values::render_rets(expected),
                actual: values::render_vals(&self.store, &actual),
            })
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Result<Outcome, FailureReason> {
        match exec {
            WastExecute::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(vals) => Err(self.no_trap(message, &vals)),
                Err(e) => expect_trap(&e, message),
            },
            WastExecute::Wat(mut wat) => {
                if matches!(wat, Wat::Component(_)) {
                    return Err(FailureReason::UnsupportedDirective("component".into()));
                }
                let bytes = wat.encode().map_err(|e| FailureReason::Encode(e.message()))?;
                let module = self.compile(&bytes)?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Ok(_) => Err(FailureReason::Accepted {
                        stage: Stage::Uninstantiable,
                        expected: message.to_string(),
                        actual: "it instantiated".into(),
                    }),
                    Err(e) => expect_trap(&e, message),
                }
            }
            WastExecute::Get { .. } => Err(FailureReason::UnsupportedDirective("assert_trap of a `get`".into())),
        }
    }

    fn no_trap(&self, expected: &str, vals: &[Val]) -> FailureReason {
        FailureReason::NoTrap {
            expected: expected.to_string(),
            actual: format!("returned {}", values::render_vals(&self.store, vals)),
        }
    }

    fn assert_malformed(&mut self, mut module: QuoteWat<'_>, message: &str) -> Result<Outcome, FailureReason> {
        reject_component(&module)?;
        let Ok(bytes) = module.encode() else {
            return Ok(Outcome::TextRejected);
        };
        match Module::from_binary(self.engine, &bytes) {
            Ok(_) => Err(accepted(Stage::Malformed, message, "it compiled")),
            Err(Error::Compile(c)) if c.kind() == CompileErrorKind::Malformed => Ok(compare(message, c.to_string())),
            Err(e) => Err(wrong_stage(Stage::Malformed, message, &e)),
        }
    }

    fn assert_invalid(&mut self, mut module: QuoteWat<'_>, message: &str) -> Result<Outcome, FailureReason> {
        reject_component(&module)?;
        let Ok(bytes) = module.encode() else {
            return Ok(Outcome::TextRejected);
        };
        match Module::from_binary(self.engine, &bytes) {
            Ok(_) => Err(accepted(Stage::Invalid, message, "it validated")),
            Err(Error::Compile(c)) if c.kind() == CompileErrorKind::Invalid => Ok(compare(message, c.to_string())),
            Err(Error::Compile(c)) if c.kind() == CompileErrorKind::Malformed => {
                Ok(Outcome::Mismatch { expected: message.to_string(), actual: c.to_string() })
            }
            Err(e) => Err(wrong_stage(Stage::Invalid, message, &e)),
        }
    }

    fn assert_unlinkable(&mut self, mut wat: Wat<'_>, message: &str) -> Result<Outcome, FailureReason> {
        if matches!(wat, Wat::Component(_)) {
            return Err(FailureReason::UnsupportedDirective("component".into()));
        }
        let bytes = wat.encode().map_err(|e| FailureReason::Encode(e.message()))?;
        let module = self.compile(&bytes)?;
        match self.linker.instantiate(&mut self.store, &module) {
            Ok(_) => Err(accepted(Stage::Unlinkable, message, "it instantiated")),
            Err(Error::Link(e)) => Ok(compare(message, e.to_string())),
            Err(e) => Err(wrong_stage(Stage::Unlinkable, message, &e)),
        }
    }
}

fn encode(wat: &mut QuoteWat<'_>) -> Result<Vec<u8>, FailureReason> {
    wat.encode().map_err(|e| FailureReason::Encode(e.message()))
}

fn reject_component(wat: &QuoteWat<'_>) -> Result<(), FailureReason> {
    match wat {
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) => {
            Err(FailureReason::UnsupportedDirective("component".into()))
        }
        QuoteWat::Wat(Wat::Module(_)) | QuoteWat::QuoteModule(..) => Ok(()),
    }
}

fn unknown_module(id: Id<'_>) -> FailureReason {
    FailureReason::UnknownModule(format!("${}", id.name()))
}

fn expect_trap(error: &Error, expected: &str) -> Result<Outcome, FailureReason> {
    match error.as_trap_error() {
        Some(trap) => {
            let actual = trap.to_string();
            if message_matches(&actual, expected) {
                Ok(Outcome::Pass)
            } else {
                Err(FailureReason::WrongTrap { expected: expected.to_string(), actual })
            }
        }
        None => Err(FailureReason::NotATrap { expected: expected.to_string(), actual: error.to_string() }),
    }
}

fn compare(expected: &str, actual: String) -> Outcome {
    if message_matches(&actual, expected) {
        Outcome::Pass
    } else {
        Outcome::Mismatch { expected: expected.to_string(), actual }
    }
}

fn accepted(stage: Stage, expected: &str, actual: &str) -> FailureReason {
    FailureReason::Accepted { stage, expected: expected.to_string(), actual: actual.to_string() }
}

fn wrong_stage(stage: Stage, expected: &str, error: &Error) -> FailureReason {
    FailureReason::WrongStage { stage, expected: expected.to_string(), actual: error.to_string() }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// The keyword of a directive, for reports.
fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_is_one_based() {
        let idx = LineIndex::new("ab\ncd\n\nef");
        assert_eq!(idx.location(0), Location { line: 1, col: 1 });
        assert_eq!(idx.location(1), Location { line: 1, col: 2 });
        assert_eq!(idx.location(3), Location { line: 2, col: 1 });
        assert_eq!(idx.location(6), Location { line: 3, col: 1 });
        assert_eq!(idx.location(8), Location { line: 4, col: 2 });
    }

    #[test]
    fn parse_errors_are_reported_with_position() {
        let err = WastRunner::new().run("(module)\n(assert_return (invoke \"f\"", "bad.wast").unwrap_err();
        match err {
            WastError::Parse { file, line, .. } => {
                assert_eq!(file, "bad.wast");
                assert_eq!(line, 2);
            }
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn unsupported_directives_are_failures() {
        let src = "(module (func (export \"f\")))\n(assert_exception (invoke \"f\"))\n";
        let report = WastRunner::new().run(src, "t.wast").unwrap();
        assert_eq!(report.passed, 1);
        assert_eq!(report.failed(), 1);
        assert_eq!(report.failures[0].location, Location { line: 2, col: 2 });
        assert!(matches!(report.failures[0].reason, FailureReason::UnsupportedDirective(_)));
    }
}
