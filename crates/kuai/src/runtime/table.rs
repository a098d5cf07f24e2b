//! [`Table`]: handle to a table of references.

use super::store::{AsContext, AsContextMut, StoreId};
use super::values::Val;
use crate::error::Error;
use crate::types::TableType;

/// A table owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

fn check_ref(val: &Val, ty: &TableType, store: StoreId) -> Result<u64, Error> {
    if val.ty() != ty.element() || val.foreign(store) {
        return Err(Error::TypeMismatch(format!("expected {} element, got {}", ty.element(), val.ty())));
    }
    Ok(val.to_raw() as u64)
}

impl Table {
    /// Creates a table of the given type, every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table, Error> {
        let ctx = store.as_context_mut();
        let id = ctx.0.inner.id;
        let bits = check_ref(&init, &ty, id)?;
        let index = ctx.0.create_table(ty, bits)?;
        Ok(Table { store: id, index })
    }

    /// The table's current type (its minimum is the current size).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        ctx.inner().tables[self.index as usize].ty
    }

    /// Current number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let ctx = store.as_context();
        ctx.inner().check(self.store);
        ctx.inner().tables[self.index as usize].elems.len() as u64
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let ctx = store.as_context();
        let inner = ctx.inner();
        inner.check(self.store);
        let table = &inner.tables[self.index as usize];
        let bits = *table.elems.get(usize::try_from(index).ok()?)?;
        Some(Val::from_raw(bits as u128, table.ty.element(), inner))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<(), Error> {
        let mut ctx = store.as_context_mut();
        let inner = ctx.inner();
        inner.check(self.store);
        let id = inner.id;
        let table = &mut inner.tables[self.index as usize];
        let bits = check_ref(&val, &table.ty, id)?;
        let slot = usize::try_from(index).ok().and_then(|i| table.elems.get_mut(i));
        *slot.ok_or(Error::Trap(crate::Trap::TableOutOfBounds.into()))? = bits;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64, Error> {
        let ctx = store.as_context_mut();
        let inner = &ctx.0.inner;
        inner.check(self.store);
        let bits = check_ref(&init, &inner.tables[self.index as usize].ty, inner.id)?;
        ctx.0.grow_table(self.index, delta, bits)?.ok_or_else(|| Error::Limit(format!("cannot grow table by {delta}")))
    }
}
