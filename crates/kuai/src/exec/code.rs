//! The interpreter's code: each module's functions translated (`translate`) and lowered
//! to threaded code (`threaded::lower`) on their first call, cached per module and shared
//! by all its instances.

use super::threaded::{Op, lower};
use crate::error::{CompileError, CompileErrorKind};
use crate::ir::Function;
use crate::module::ModuleInner;
use std::sync::{Arc, OnceLock};

/// A function as the interpreter runs it: threaded ops and the frame layout.
pub(crate) type InterpFunc = Function<Box<[Op]>>;

/// The interpreter's code for one module: an empty cell per defined function until its
/// first call.
pub(crate) struct ModuleCode {
    pub module: Arc<ModuleInner>,
    pub funcs: Box<[OnceLock<InterpFunc>]>,
}

impl ModuleCode {
    /// No function translated yet.
    pub(crate) fn new(module: Arc<ModuleInner>) -> ModuleCode {
        let funcs = (0..module.bodies.len()).map(|_| OnceLock::new()).collect();
        ModuleCode { module, funcs }
    }

    /// The code of defined function `def` (index among the module's own functions),
    /// translating it on first use.
    #[inline]
    pub(crate) fn get(&self, def: u32) -> Result<&InterpFunc, CompileError> {
        match self.funcs[def as usize].get() {
            Some(code) => Ok(code),
            None => self.translate_now(def),
        }
    }

    /// The first call of a function: validate it (with lazy validation), translate and
    /// lower it, and cache the result.
    #[cold]
    fn translate_now(&self, def: u32) -> Result<&InterpFunc, CompileError> {
        self.module.validate_later(def)?;
        let func = crate::translate::translate(&self.module, def)?;
        // `lower` relies on the invariants `translate` verified.
        let func = func.map_code(|code| lower(&code)).map_err(|e| {
            CompileError::new(CompileErrorKind::Unsupported, format!("internal error: bad translation: {e}"), None)
        })?;
        Ok(self.funcs[def as usize].get_or_init(|| func))
    }
}
