//! The [`Linker`]: resolves a module's imports by name and instantiates it.

use super::Extern;
use super::func::{Caller, Func, HostFunc};
use super::instance::{Instance, instantiate};
use super::store::{AsContextMut, Store};
use super::typed::IntoFunc;
use super::values::Val;
use crate::engine::Engine;
use crate::error::{Error, LinkError};
use crate::module::Module;
use crate::types::FuncType;
use std::collections::HashMap;
use std::sync::Arc;

enum Definition<T> {
    Extern(Extern),
    /// A host function not yet bound to a store; each instantiation creates it in the
    /// store being used.
    Host {
        ty: Arc<FuncType>,
        func: Arc<HostFunc<T>>,
    },
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Host { ty, func } => Definition::Host { ty: ty.clone(), func: func.clone() },
        }
    }
}

/// Named definitions (`module::name`) used to satisfy imports.
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker").field("definitions", &self.defs.len()).finish()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker { engine: engine.clone(), defs: HashMap::new(), allow_shadowing: false }
    }

    /// Whether a later definition of the same name replaces an earlier one (default: no,
    /// it is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self, Error> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            return Err(Error::Link(LinkError::Duplicate { module: key.0, name: key.1 }));
        }
        self.defs.insert(key, def);
        Ok(self)
    }

    /// Defines `module::name` as `item`.
    pub fn define(&mut self, module: &str, name: &str, item: impl Into<Extern>) -> Result<&mut Self, Error> {
        self.insert(module, name, Definition::Extern(item.into()))
    }

    /// Defines a host function from a Rust closure (see [`Func::wrap`]).
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self, Error> {
        let (ty, func) = func.into_host();
        self.insert(module, name, Definition::Host { ty: Arc::new(ty), func })
    }

    /// Defines a host function of type `ty` taking untyped values (see [`Func::new`]).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Result<&mut Self, Error> {
        self.insert(module, name, Definition::Host { ty: Arc::new(ty), func: Arc::new(func) })
    }

    /// Defines every export of `instance` under `module`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self, Error> {
        for (name, ext) in instance.exports(&mut store) {
            self.define(module, &name, ext)?;
        }
        Ok(self)
    }

    fn resolve(&self, store: &mut Store<T>, def: &Definition<T>) -> Extern {
        match def {
            Definition::Extern(e) => *e,
            Definition::Host { ty, func } => Extern::Func(Func::from_host(store, ty.clone(), func.clone())),
        }
    }

    /// The definition of `module::name`, if any.
    pub fn get(&self, mut store: impl AsContextMut<Data = T>, module: &str, name: &str) -> Option<Extern> {
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        let ctx = store.as_context_mut();
        Some(self.resolve(ctx.0, def))
    }

    /// Resolves `module`'s imports from this linker's definitions and instantiates it.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance, Error> {
        let ctx = store.as_context_mut();
        let store = ctx.0;
        if !Engine::same(&self.engine, module.engine()) {
            return Err(Error::Link(LinkError::WrongStore));
        }
        let mut imports = Vec::with_capacity(module.inner.imports.len());
        for import in &module.inner.imports {
            let def = self.defs.get(&(import.module.clone(), import.name.clone())).ok_or_else(|| {
                Error::Link(LinkError::UnknownImport { module: import.module.clone(), name: import.name.clone() })
            })?;
            imports.push(self.resolve(store, def));
        }
        instantiate(store, module, &imports)
    }
}
