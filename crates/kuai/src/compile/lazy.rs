//! Lazy compilation: a function compiled on its first call, on its own, into its own code
//! memory. Until then, its function-table entries hold its type's lazy stub
//! (`trampolines::lazy`), which asks the runtime to compile it (`compile_later`).

use super::func::{self, Calls};
use super::{CompileError, CompiledModule, finish, isa, lock, unsupported};
use crate::module::ModuleInner;
use crate::vm::code::{CodeMemory, FuncRange};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// How many functions one first call may compile: the function and, callees first, the
/// functions it calls directly that have no code yet, and theirs, so that its calls to them
/// go straight to their code instead of through function-table entries.
const GROUP: usize = 64;

impl CompiledModule {
    /// The address of defined function `def`'s code, compiling it first if it has none
    /// (with up to [`GROUP`]` - 1` of the functions it calls). Compilations of one module
    /// take turns; a function is compiled once, whichever store or thread asks first.
    pub(crate) fn compile_later(&self, module: &ModuleInner, def: u32) -> Result<usize, CompileError> {
        let mut later = lock(&self.later);
        if let Some(code) = self.func(def) {
            return Ok(code);
        }
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::from([def]);
        self.plan(module, def, &mut seen, &mut order);
        for &d in &order[..order.len() - 1] {
            // A callee that fails to compile (an invalid body under lazy validation) stays
            // lazy: its error belongs to its own first call.
            if let Ok(code) = self.compile_one(module, d) {
                later.push(code);
            }
        }
        let code = self.compile_one(module, def)?;
        later.push(code);
        self.func(def).ok_or_else(|| unsupported("internal error: lazy compilation lost its code".into()))
    }

    /// Appends to `order`, callees before callers, the functions `def` calls directly that
    /// have no code yet (up to [`GROUP`] in `seen`), then `def`.
    fn plan(&self, module: &ModuleInner, def: u32, seen: &mut std::collections::HashSet<u32>, order: &mut Vec<u32>) {
        for callee in direct_callees(module, def) {
            if seen.len() < GROUP && self.func(callee).is_none() && seen.insert(callee) {
                self.plan(module, callee, seen, order);
            }
        }
        order.push(def);
    }

    /// Compiles defined function `def` into its own code memory and records its address.
    pub(super) fn compile_one(&self, module: &ModuleInner, def: u32) -> Result<Arc<CodeMemory>, CompileError> {
        module.validate_later(def)?;
        let isa = isa()?;
        let mut ctx = cranelift_codegen::Context::new();
        let mut fctx = cranelift_frontend::FunctionBuilderContext::new();
        let compiled = |d: u32| self.func(d);
        func::translate(
            module,
            def,
            isa,
            &mut ctx.func,
            &mut fctx,
            Calls::Lazy { compiled: &compiled },
            func::Entries::Call,
        )?;
        let func_index = module.num_imported_funcs + def;
        let mut piece = finish(isa, &mut ctx, Some(func_index))?;
        // The only direct calls are to the function itself, at offset 0.
        for &(offset, callee, addend) in &piece.calls {
            if callee != def {
                return Err(unsupported(format!("internal error: lazy direct call to function {callee}")));
            }
            let at = offset as usize;
            let rel = i32::try_from(addend - offset as i64).map_err(|_| unsupported("call beyond 2 GiB".into()))?;
            piece.bytes[at..at + 4].copy_from_slice(&rel.to_le_bytes());
        }
        let range = FuncRange { start: 0, end: piece.bytes.len() as u32, func_index, wasm: true };
        let code = CodeMemory::new(&piece.bytes, vec![range], piece.traps)
            .map_err(|e| unsupported(format!("cannot map compiled code: {e}")))?;
        self.funcs[def as usize].store(code.addr(0), Ordering::Release);
        Ok(code)
    }
}

/// The defined functions `def`'s body calls directly, in order of first appearance (as
/// far as the body reads: an unvalidated body may end early, or name functions that do
/// not exist, which are left out).
fn direct_callees(module: &ModuleInner, def: u32) -> Vec<u32> {
    let range = module.bodies[def as usize].clone();
    let reader = wasmparser::BinaryReader::new(&module.bytes[range.clone()], range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    let mut callees = Vec::new();
    let Ok(mut ops) = body.get_operators_reader() else { return callees };
    while let Ok(op) = ops.read() {
        if let wasmparser::Operator::Call { function_index } = op
            && let Some(callee) = function_index.checked_sub(module.num_imported_funcs)
            && (callee as usize) < module.bodies.len()
            && !callees.contains(&callee)
        {
            callees.push(callee);
        }
        if ops.eof() {
            break;
        }
    }
    callees
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store, Strategy};

    fn compiled(module: &Module) -> Vec<bool> {
        let code = module.compiled.as_ref().and_then(|c| c.get()).unwrap();
        (0..module.inner.bodies.len() as u32).map(|def| code.func(def).is_some()).collect()
    }

    #[test]
    fn a_first_call_compiles_the_function_and_its_callees_only() {
        let mut config = Config::new();
        config.strategy(Strategy::Compile);
        let engine = Engine::new(&config);
        let module = Module::new(
            &engine,
            r#"(module
                 (func $leaf (result i32) (i32.const 1))
                 (func $mid (result i32) (i32.add (call $leaf) (call $leaf)))
                 (func (export "top") (result i32) (call $mid))
                 (func (export "other") (result i32) (i32.const 2)))"#,
        )
        .unwrap();
        assert_eq!(compiled(&module), [false; 4]);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let top = instance.get_typed_func::<(), i32>(&store, "top").unwrap();
        assert_eq!(top.call(&mut store, ()).unwrap(), 2);
        assert_eq!(compiled(&module), [true, true, true, false]);
        // Eager: everything at once.
        config.eager_translation(true);
        let module = Module::new(&Engine::new(&config), r#"(module (func) (func))"#).unwrap();
        assert_eq!(compiled(&module), [true, true]);
    }
}
