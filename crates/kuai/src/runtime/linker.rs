//! The [`Linker`]: resolves a module's imports by name and instantiates it.

use super::Extern;
use super::func::{Caller, Func, HostFunc};
use super::instance::{Instance, instantiate};
use super::module::Module;
use super::store::{AsContextMut, Store};
use super::typed::IntoFunc;
use super::values::Val;
use crate::engine::Engine;
use crate::error::{Error, LinkError};
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

/// A fast hasher for the linker's names (the multiply-rotate scheme of rustc's `FxHasher`).
/// The keys are a few hundred import names: SipHash's flooding resistance buys nothing
/// there, and its cost was a tenth of `kuai run`'s start-up.
#[derive(Default, Clone, Copy)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Names<V> = HashMap<(String, String), V, std::hash::BuildHasherDefault<NameHasher>>;

/// Named definitions (`module::name`) used to satisfy imports.
pub struct Linker<T> {
    engine: Engine,
    defs: Names<Definition<T>>,
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
        Linker { engine: engine.clone(), defs: Names::default(), allow_shadowing: false }
    }

    /// Whether a later definition of the same name replaces an earlier one (default: no,
    /// it is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self, Error> {
        use std::collections::hash_map::Entry;
        // One hash per definition: WASI alone defines over a hundred at start-up.
        match self.defs.entry((module.to_string(), name.to_string())) {
            Entry::Occupied(mut e) if self.allow_shadowing => {
                e.insert(def);
            }
            Entry::Occupied(e) => {
                let (module, name) = e.key().clone();
                return Err(Error::Link(LinkError::Duplicate { module, name }));
            }
            Entry::Vacant(e) => {
                e.insert(def);
            }
        }
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

    /// Defines every definition of `module` also under `as_module` (as wasmtime's
    /// `Linker::alias_module`): the same host functions and objects, under a second name.
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<&mut Self, Error> {
        let items: Vec<(String, Definition<T>)> = self
            .defs
            .iter()
            .filter(|((m, _), _)| m == module)
            .map(|((_, name), def)| (name.clone(), def.clone()))
            .collect();
        for (name, def) in items {
            self.insert(as_module, &name, def)?;
        }
        Ok(self)
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
    pub fn instantiate(&self, store: impl AsContextMut<Data = T>, module: &Module) -> Result<Instance, Error> {
        self.instantiate_pre(module)?.instantiate(store)
    }

    /// Resolves `module`'s imports by name once, for instantiating it many times
    /// ([`InstancePre::instantiate`]), as wasmtime's method of the same name: a host that
    /// makes an instance per request pays the name lookups (and the type checks of host
    /// functions) here, not per instance.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>, Error> {
        if !Engine::same(&self.engine, module.engine()) {
            return Err(Error::Link(LinkError::WrongStore));
        }
        let mut defs = Vec::with_capacity(module.inner.imports.len());
        for import in &module.inner.imports {
            let def = self.defs.get(&(import.module.clone(), import.name.clone())).ok_or_else(|| {
                Error::Link(LinkError::UnknownImport { module: import.module.clone(), name: import.name.clone() })
            })?;
            if let (Definition::Host { ty, .. }, crate::module::ImportKind::Func(t)) = (def, &import.kind) {
                let wanted = &module.inner.types[*t as usize];
                if **ty != **wanted {
                    return Err(Error::Link(LinkError::IncompatibleImportType {
                        module: import.module.clone(),
                        name: import.name.clone(),
                        expected: crate::types::ExternType::Func(FuncType::clone(wanted)).to_string(),
                        found: crate::types::ExternType::Func(FuncType::clone(ty)).to_string(),
                    }));
                }
            }
            defs.push(def.clone());
        }
        Ok(InstancePre { module: module.clone(), defs: defs.into() })
    }
}

/// A module with its imports resolved by a [`Linker`], ready to be instantiated in any
/// number of stores ([`Linker::instantiate_pre`]). Cloning is cheap.
pub struct InstancePre<T> {
    module: Module,
    defs: Arc<[Definition<T>]>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre { module: self.module.clone(), defs: self.defs.clone() }
    }
}

impl<T> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre").field("module", &self.module).field("imports", &self.defs.len()).finish()
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store`. Host functions become functions of `store`;
    /// other definitions (memories, tables, globals, functions of an instance) belong to the
    /// store they were made in, and instantiating in another store is an error.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance, Error> {
        let ctx = store.as_context_mut();
        let store = ctx.0;
        let imports: Vec<Extern> = self
            .defs
            .iter()
            .map(|def| match def {
                Definition::Extern(e) => *e,
                Definition::Host { ty, func } => Extern::Func(Func::from_host(store, ty.clone(), func.clone())),
            })
            .collect();
        instantiate(store, &self.module, &imports)
    }
}
