//! [`Global`]: handle to a global variable.

use super::store::{AsContext, AsContextMut, StoreId};
use super::values::Val;
use crate::error::Error;
use crate::types::{GlobalType, Mutability};
use crate::vm::GlobalData;

/// A global owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Global {
    /// Creates a global of type `ty` holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global, Error> {
        let mut ctx = store.as_context_mut();
        let inner = ctx.inner();
        if val.ty() != ty.content() || val.foreign(inner.id) {
            return Err(Error::TypeMismatch(format!("global of type {} given {}", ty.content(), val.ty())));
        }
        inner.vm_dirty = true;
        inner.globals.push(GlobalData { ty, value: val.to_raw() });
        Ok(Global { store: inner.id, index: inner.globals.len() as u32 - 1 })
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        ctx.inner().globals[self.index as usize].ty
    }

    /// The current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let ctx = store.as_context();
        let inner = ctx.inner();
        inner.check(self.store);
        let g = &inner.globals[self.index as usize];
        Val::from_raw(g.value, g.ty.content(), inner)
    }

    /// Sets the value of a mutable global.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<(), Error> {
        let mut ctx = store.as_context_mut();
        let inner = ctx.inner();
        inner.check(self.store);
        let id = inner.id;
        let g = &mut inner.globals[self.index as usize];
        if g.ty.mutability() != Mutability::Var {
            return Err(Error::TypeMismatch("cannot set an immutable global".into()));
        }
        if val.ty() != g.ty.content() || val.foreign(id) {
            return Err(Error::TypeMismatch(format!("global of type {} given {}", g.ty.content(), val.ty())));
        }
        g.value = val.to_raw();
        Ok(())
    }
}
