//! Linear memories ([spec: memory instances]).
//!
//! [spec: memory instances]: https://webassembly.github.io/spec/core/exec/runtime.html#memory-instances

use crate::types::MemoryType;

/// Bytes in a WebAssembly page.
pub(crate) const PAGE_SIZE: usize = 65536;
/// The most pages a 32-bit memory can have (4 GiB).
pub(crate) const MAX_PAGES: u64 = 65536;

/// A linear memory's contents and type.
#[derive(Debug)]
pub(crate) struct MemoryData {
    pub ty: MemoryType,
    pub bytes: Vec<u8>,
}

impl MemoryData {
    pub(crate) fn new(ty: MemoryType) -> Option<MemoryData> {
        let len = usize::try_from(ty.limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        Some(MemoryData { ty, bytes: zeroed(len)? })
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.bytes.len() / PAGE_SIZE) as u64
    }

    /// Grows by `delta` pages; returns the old size, or `None` if refused.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            return None;
        }
        let new_len = usize::try_from(new).ok()?.checked_mul(PAGE_SIZE)?;
        self.bytes.try_reserve_exact(new_len - self.bytes.len()).ok()?;
        self.bytes.resize(new_len, 0);
        self.ty.limits.min = new;
        Some(old)
    }
}

/// `len` zero bytes, or `None` if they cannot be allocated. Unlike `resize`, this does not
/// write the zeros: the allocator hands out fresh pages, which the system zeroes when they
/// are first touched, so start-up does not touch (and make resident) pages no one uses.
fn zeroed(len: usize) -> Option<Vec<u8>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (`len > 0`).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` comes from the global allocator with `layout`, whose size is `len` and
    // whose alignment is `u8`'s; all `len` bytes are initialised (to zero), and the
    // capacity given equals the allocated size.
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_grows_within_its_maximum() {
        let mut m = MemoryData::new(MemoryType::new(1, Some(2))).unwrap();
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.pages(), 2);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.grow(0), Some(2));
    }
}
