//! Functions: [`Func`] handles, host functions and the [`Caller`] they receive.

use super::Extern;
use super::store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, StoreId};
use super::typed::{IntoFunc, TypedFunc, WasmParams, WasmResults};
use super::values::Val;
use crate::error::Error;
use crate::types::FuncType;
use crate::vm::{FuncData, FuncKind};
use std::sync::Arc;

/// The signature of a host function as stored: untyped values in, untyped values out.
pub(crate) type HostFunc<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync;

/// A function owned by a store: defined by a module instance or by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Func {
    /// A host function of type `ty` that receives untyped values.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Func {
        let ctx = store.as_context_mut();
        Func::from_host(ctx.0, Arc::new(ty), Arc::new(func))
    }

    /// A host function from a Rust closure; parameter and result types come from its
    /// signature (`i32`, `i64`, `f32`, `f64`, `u32`, `u64`, `Option<Func>`, `Option<ExternRef>`,
    /// tuples for several results, `Result<_, Error>` to fail), optionally taking a
    /// [`Caller`] first.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host();
        let ctx = store.as_context_mut();
        Func::from_host(ctx.0, Arc::new(ty), host)
    }

    pub(crate) fn from_host<T>(store: &mut Store<T>, ty: Arc<FuncType>, host: Arc<HostFunc<T>>) -> Func {
        let type_id = store.inner.engine.intern_type(&ty);
        store.host_funcs.push(host);
        let kind = FuncKind::Host { host: store.host_funcs.len() as u32 - 1 };
        store.inner.vm_dirty = true;
        store.inner.funcs.push(FuncData { ty, type_id, kind });
        Func { store: store.inner.id, index: store.inner.funcs.len() as u32 - 1 }
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        FuncType::clone(&ctx.inner().funcs[self.index as usize].ty)
    }

    /// Calls the function with `params`, writing its results into `results`.
    ///
    /// Fails with [`Error::TypeMismatch`] if the values do not match the function's type,
    /// and with [`Error::Trap`] if the code traps.
    pub fn call(&self, mut store: impl AsContextMut, params: &[Val], results: &mut [Val]) -> Result<(), Error> {
        let ctx = store.as_context_mut();
        let store = ctx.0;
        store.inner.check(self.store);
        let ty = store.inner.funcs[self.index as usize].ty.clone();
        if params.len() != ty.params().len() || results.len() != ty.results().len() {
            return Err(Error::TypeMismatch(format!(
                "{ty} called with {} params and {} result slots",
                params.len(),
                results.len()
            )));
        }
        for (p, t) in params.iter().zip(ty.params()) {
            if p.ty() != *t || p.foreign(store.inner.id) {
                return Err(Error::TypeMismatch(format!("{ty} called with a {} argument for {t}", p.ty())));
            }
        }
        super::call::call(store, self.index, params, results)
    }

    /// A statically typed view of the function; fails if the types differ.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>, Error> {
        let ty = self.ty(store);
        if !Params::matches(ty.params()) || !Results::matches(ty.results()) {
            return Err(Error::TypeMismatch(format!(
                "function is {ty}, not {}",
                FuncType::new(Params::types(), Results::types())
            )));
        }
        Ok(TypedFunc::new(*self))
    }
}

/// What a host function sees of the store and of the instance that called it.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    /// The calling instance (store index), if called from wasm.
    pub(crate) instance: Option<u32>,
}

impl<T> Caller<'_, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// An export of the calling instance (typically its `memory`).
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        super::instance::export_of(&self.store.inner, instance, name)
    }

    /// The engine.
    pub fn engine(&self) -> &crate::Engine {
        self.store.engine()
    }

    /// The store's fuel left; see [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64, Error> {
        self.store.get_fuel()
    }

    /// Sets the store's fuel; see [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), Error> {
        self.store.set_fuel(fuel)
    }

    /// Charges `amount` fuel for work the host does on the guest's behalf: fails with the
    /// trap "all fuel consumed by WebAssembly" (charging nothing) if less is left.
    pub fn consume_fuel(&mut self, amount: u64) -> Result<(), Error> {
        let left = self.store.get_fuel()?;
        let rest = left.checked_sub(amount).ok_or(crate::Trap::OutOfFuel)?;
        self.store.set_fuel(rest)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}
