//! [`Memory`]: handle to a linear memory, with checked access from the host.

use super::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreId};
use crate::error::Error;
use crate::types::MemoryType;
use crate::vm::MemoryData;

/// A linear memory owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// An access outside the bounds of a memory from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("out of bounds memory access")]
pub struct MemoryAccessError;

impl Memory {
    /// Creates a memory of the given type in `store`.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory, Error> {
        let ctx = store.as_context_mut();
        let index = ctx.0.create_memory(ty, None)?;
        Ok(Memory { store: ctx.0.inner.id, index })
    }

    fn data_ref<'a>(&self, store: &StoreContext<'a, impl Sized>) -> &'a MemoryData {
        let inner = store.inner();
        inner.check(self.store);
        &inner.memories[self.index as usize]
    }

    fn data_mut_ref<'a>(&self, store: &'a mut StoreContextMut<'_, impl Sized>) -> &'a mut MemoryData {
        let inner = store.inner();
        inner.check(self.store);
        &mut inner.memories[self.index as usize]
    }

    /// The memory's current type (its minimum is the current size).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.data_ref(&store.as_context()).ty
    }

    /// Current size in 64 KiB pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_ref(&store.as_context()).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.data_ref(&store.as_context()).bytes().len()
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        self.data_ref(&store.into()).bytes()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let ctx = store.into();
        let inner = ctx.0;
        inner.inner.check(self.store);
        inner.inner.memories[self.index as usize].bytes_mut()
    }

    /// The memory's bytes and the store's host state, both mutably — what a host function
    /// needs to move data between guest memory and its own state (WASI does).
    pub fn data_and_store_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> (&'a mut [u8], &'a mut T) {
        let ctx = store.into();
        let store = ctx.0;
        store.inner.check(self.store);
        (store.inner.memories[self.index as usize].bytes_mut(), &mut store.data)
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let ctx = store.as_context();
        let bytes = self.data_ref(&ctx).bytes();
        let end = offset.checked_add(buf.len()).ok_or(MemoryAccessError)?;
        buf.copy_from_slice(bytes.get(offset..end).ok_or(MemoryAccessError)?);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<(), MemoryAccessError> {
        let mut ctx = store.as_context_mut();
        let bytes = self.data_mut_ref(&mut ctx).bytes_mut();
        let end = offset.checked_add(buf.len()).ok_or(MemoryAccessError)?;
        bytes.get_mut(offset..end).ok_or(MemoryAccessError)?.copy_from_slice(buf);
        Ok(())
    }

    /// Grows the memory by `delta` pages and returns the previous size in pages. Fails if
    /// the memory's maximum, the store's [`ResourceLimiter`](crate::ResourceLimiter) or
    /// the host's allocator refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64, Error> {
        let ctx = store.as_context_mut();
        ctx.0.inner.check(self.store);
        ctx.0
            .grow_memory(self.index, delta)?
            .ok_or_else(|| Error::Limit(format!("cannot grow memory by {delta} pages")))
    }
}
