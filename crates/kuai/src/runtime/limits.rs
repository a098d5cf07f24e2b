//! Resource limits: the [`ResourceLimiter`] hook a store consults before it creates or
//! grows a memory or table or creates an instance, and [`StoreLimits`], the ready-made
//! limiter built by [`StoreLimitsBuilder`].
//!
//! A refused `memory.grow` or `table.grow` from wasm returns -1, as the spec allows for
//! any growth; a refused creation (an instance whose memory minimum exceeds the limit, one
//! instance too many) fails instantiation with [`Error::Limit`].

use super::store::Store;
use crate::error::Error;
use crate::types::{MemoryType, TableType};
use crate::vm::{MemoryData, PAGE_SIZE, TableData};

/// The default count limits of a [`ResourceLimiter`]: instances, tables and memories.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// See [`DEFAULT_INSTANCE_LIMIT`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store's memories and tables may grow and how many instances,
/// tables and memories it may hold. Install one with
/// [`Store::limiter`](crate::Store::limiter).
pub trait ResourceLimiter {
    /// A memory wants to grow from `current` to `desired` bytes (creation asks with
    /// `current == 0`); `maximum` is its declared maximum, if any. `Ok(false)` refuses
    /// (wasm's `memory.grow` returns -1); an error turns the growth into that error
    /// (a trap-like failure of the running call).
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, Error>;

    /// A table wants to grow from `current` to `desired` elements; as
    /// [`memory_growing`](Self::memory_growing).
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, Error>;

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables the store may hold (defined by instances or created by the host).
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most memories the store may hold (defined by instances or created by the host).
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// A [`ResourceLimiter`] with fixed bounds; build it with [`StoreLimitsBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

/// Builds a [`StoreLimits`]; every bound not set stays unlimited (or at the default count).
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// Limits from the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most instances the store may hold.
    pub fn instances(mut self, count: usize) -> Self {
        self.0.instances = count;
        self
    }

    /// The most tables the store may hold.
    pub fn tables(mut self, count: usize) -> Self {
        self.0.tables = count;
        self
    }

    /// The most memories the store may hold.
    pub fn memories(mut self, count: usize) -> Self {
        self.0.memories = count;
        self
    }

    /// Make a refused growth an error (a trap of the running call) instead of the -1
    /// result the spec defines (default: false).
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The finished limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

impl StoreLimits {
    fn decide(&self, what: &str, desired: usize, limit: Option<usize>) -> Result<bool, Error> {
        match limit {
            Some(limit) if desired > limit => match self.trap_on_grow_failure {
                true => Err(Error::Limit(format!("{what} of {desired} exceeds the limit of {limit}"))),
                false => Ok(false),
            },
            _ => Ok(true),
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool, Error> {
        self.decide("memory size", desired, self.memory_size)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool, Error> {
        self.decide("table size", desired, self.table_elements)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// `n` as a `usize`, saturating (sizes here are only compared against limits).
fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Bytes in `pages` pages, saturating.
fn page_bytes(pages: u64) -> usize {
    saturating_usize(pages).saturating_mul(PAGE_SIZE)
}

fn count_error(what: &str, limit: usize) -> Error {
    Error::Limit(format!("{what} count too high at {}", limit.saturating_add(1)))
}

/// Creation and growth of memories, tables and instances, through the store's limiter.
impl<T> Store<T> {
    fn limiter_mut(&mut self) -> Option<&mut dyn ResourceLimiter> {
        let Store { limiter, data, .. } = self;
        limiter.as_mut().map(|f| f(data))
    }

    /// Fails if the store may not hold one more instance.
    pub(crate) fn check_instance_count(&mut self) -> Result<(), Error> {
        let count = self.inner.instances.len();
        match self.limiter_mut() {
            Some(l) if count >= l.instances() => Err(count_error("instance", l.instances())),
            _ => Ok(()),
        }
    }

    /// Creates a memory of type `ty` if the limiter allows; returns its store index.
    /// `image` is the memory image (id, length) the caller will map over it, if any.
    pub(crate) fn create_memory(&mut self, ty: MemoryType, image: Option<(u64, usize)>) -> Result<u32, Error> {
        let count = self.inner.memories.len();
        if let Some(l) = self.limiter_mut() {
            if count >= l.memories() {
                return Err(count_error("memory", l.memories()));
            }
            let max = ty.limits.max.map(page_bytes);
            if !l.memory_growing(0, page_bytes(ty.limits.min), max)? {
                return Err(Error::Limit(format!(
                    "memory minimum size of {} pages exceeds memory limits",
                    ty.limits.min
                )));
            }
        }
        let layout = self.inner.engine.config().memory_layout();
        let pool = self.inner.engine.memory_pool();
        let data =
            MemoryData::pooled(ty, layout, pool, image).ok_or_else(|| Error::Limit(format!("cannot allocate {ty}")))?;
        self.inner.vm_dirty = true;
        self.inner.memories.push(data);
        Ok(self.inner.memories.len() as u32 - 1)
    }

    /// Creates a table of type `ty` filled with `init` if the limiter allows.
    pub(crate) fn create_table(&mut self, ty: TableType, init: u64) -> Result<u32, Error> {
        let count = self.inner.tables.len();
        if let Some(l) = self.limiter_mut() {
            if count >= l.tables() {
                return Err(count_error("table", l.tables()));
            }
            let (min, max) = (ty.limits.min, ty.limits.max);
            if !l.table_growing(0, saturating_usize(min), max.map(saturating_usize))? {
                return Err(Error::Limit(format!("table minimum size of {min} elements exceeds table limits")));
            }
        }
        let data = TableData::new(ty, init).ok_or_else(|| Error::Limit(format!("cannot allocate {ty}")))?;
        self.inner.vm_dirty = true;
        self.inner.tables.push(data);
        Ok(self.inner.tables.len() as u32 - 1)
    }

    /// Grows store memory `index` by `delta` pages: the old size in pages, or `None` if
    /// the memory's maximum, the limiter or the host allocator refuses.
    pub(crate) fn grow_memory(&mut self, index: u32, delta: u64) -> Result<Option<u64>, Error> {
        let mem = &self.inner.memories[index as usize];
        let (current, old_pages, max) = (mem.bytes().len(), mem.pages(), mem.ty.limits.max);
        let Some(desired) = old_pages.checked_add(delta) else { return Ok(None) };
        if delta > 0
            && let Some(l) = self.limiter_mut()
            && !l.memory_growing(current, page_bytes(desired), max.map(page_bytes))?
        {
            return Ok(None);
        }
        self.inner.vm_dirty = true;
        Ok(self.inner.memories[index as usize].grow(delta))
    }

    /// Grows store table `index` by `delta` elements set to `init`, as
    /// [`grow_memory`](Self::grow_memory).
    pub(crate) fn grow_table(&mut self, index: u32, delta: u64, init: u64) -> Result<Option<u64>, Error> {
        let table = &self.inner.tables[index as usize];
        let (current, max) = (table.elems.len(), table.ty.limits.max);
        let desired = saturating_usize((current as u64).saturating_add(delta));
        if delta > 0
            && let Some(l) = self.limiter_mut()
            && !l.table_growing(current, desired, max.map(saturating_usize))?
        {
            return Ok(None);
        }
        self.inner.vm_dirty = true;
        Ok(self.inner.tables[index as usize].grow(delta, init))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_bounds_allow_everything() {
        let mut limits = StoreLimits::default();
        assert!(limits.memory_growing(0, usize::MAX, None).unwrap());
        assert!(limits.table_growing(0, usize::MAX, None).unwrap());
    }

    #[test]
    fn bounds_refuse_or_fail_beyond_the_limit() {
        let mut limits = StoreLimitsBuilder::new().memory_size(65536).table_elements(10).build();
        assert!(limits.memory_growing(0, 65536, None).unwrap());
        assert!(!limits.memory_growing(65536, 131072, None).unwrap());
        assert!(!limits.table_growing(0, 11, None).unwrap());
        let mut trapping = StoreLimitsBuilder::new().memory_size(0).trap_on_grow_failure(true).build();
        assert!(trapping.memory_growing(0, 1, None).is_err());
    }
}
