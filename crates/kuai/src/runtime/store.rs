//! The [`Store`]: owner of all runtime objects ([spec: store]) and of the host state `T`.
//!
//! Runtime objects (functions, memories, tables, globals, instances, extern objects) live
//! in arenas inside the store and are named by small `Copy` handles that carry the store's
//! id, so a handle can never reach into another store's objects.
//!
//! [spec: store]: https://webassembly.github.io/spec/core/exec/runtime.html#store

use super::func::HostFunc;
use super::limits::ResourceLimiter;
use crate::engine::Engine;
use crate::error::Error;
use crate::exec::Interp;
pub(crate) use crate::vm::{StoreId, StoreInner};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A collection of instances and objects, plus the embedder's state `T`.
pub struct Store<T> {
    /// The objects wasm code touches.
    pub(crate) inner: StoreInner,
    /// The interpreter's stacks and code.
    pub(crate) interp: Interp,
    /// The compiled tier's state.
    #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
    pub(crate) compiled: super::compiled::CompiledState,
    pub(crate) host_funcs: Vec<Arc<HostFunc<T>>>,
    pub(crate) data: T,
    pub(crate) limiter: Option<LimiterFn<T>>,
}

/// Finds a store's [`ResourceLimiter`] inside its host state.
pub(crate) type LimiterFn<T> = Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync>;

impl<T> Store<T> {
    /// An empty store whose host functions can reach `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner::new(engine),
            interp: Interp::new(engine.config()),
            #[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
            compiled: Default::default(),
            host_funcs: Vec::new(),
            data,
            limiter: None,
        }
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Consumes the store, returning the host state.
    pub fn into_data(self) -> T {
        self.data
    }

    /// The engine this store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Sets the fuel left for wasm code (and host functions that charge it). Fails unless
    /// the engine was configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<(), Error> {
        self.fuel_enabled()?;
        self.inner.meter.fuel = fuel;
        Ok(())
    }

    /// The fuel left. Fails unless fuel is enabled.
    pub fn get_fuel(&self) -> Result<u64, Error> {
        self.fuel_enabled()?;
        Ok(self.inner.meter.fuel)
    }

    fn fuel_enabled(&self) -> Result<(), Error> {
        match self.inner.engine.config().consume_fuel {
            true => Ok(()),
            false => Err(Error::NotEnabled("fuel (Config::consume_fuel)")),
        }
    }

    /// Makes running code trap with "interrupt" once the engine's epoch has advanced
    /// `ticks_beyond_current` times from now (checked at function entries and loop
    /// heads, with [`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    /// A new store has no deadline.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        let now = self.inner.engine.epoch().load(Ordering::Relaxed);
        self.inner.meter.epoch_deadline = now.saturating_add(ticks_beyond_current);
    }

    /// Installs a [`ResourceLimiter`] that the store finds in its host state with `f`;
    /// it decides every later memory and table creation and growth and instance count.
    pub fn limiter(&mut self, f: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static) {
        self.limiter = Some(Box::new(f));
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("id", &self.inner.id).finish_non_exhaustive()
    }
}

/// A shared borrow of a store, as taken by read-only API calls.
pub struct StoreContext<'a, T>(pub(crate) &'a Store<T>);

/// An exclusive borrow of a store, as taken by API calls that may run code or mutate.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut Store<T>);

/// Things that give shared access to a store: `&Store<T>`, `&Caller<T>`, contexts.
pub trait AsContext {
    /// The host state type.
    type Data;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Things that give exclusive access to a store: `&mut Store<T>`, `&mut Caller<T>`.
pub trait AsContextMut: AsContext {
    /// Borrows the store mutably.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<'a, C: AsContext> From<&'a C> for StoreContext<'a, C::Data> {
    fn from(c: &'a C) -> Self {
        c.as_context()
    }
}

impl<'a, C: AsContextMut> From<&'a mut C> for StoreContextMut<'a, C::Data> {
    fn from(c: &'a mut C) -> Self {
        c.as_context_mut()
    }
}

impl<'a, T> StoreContext<'a, T> {
    pub(crate) fn inner(&self) -> &'a StoreInner {
        &self.0.inner
    }

    /// The host state.
    pub fn data(&self) -> &'a T {
        self.0.data()
    }
}

impl<T> StoreContextMut<'_, T> {
    pub(crate) fn inner(&mut self) -> &mut StoreInner {
        &mut self.0.inner
    }

    /// The host state.
    pub fn data(&self) -> &T {
        self.0.data()
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.0.data_mut()
    }
}
