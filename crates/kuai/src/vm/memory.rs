//! Linear memories ([spec: memory instances]).
//!
//! [spec: memory instances]: https://webassembly.github.io/spec/core/exec/runtime.html#memory-instances

use crate::types::MemoryType;

/// Bytes in a WebAssembly page.
pub(crate) const PAGE_SIZE: usize = 65536;
/// The most pages a 32-bit memory can have (4 GiB).
pub(crate) const MAX_PAGES: u64 = 65536;

/// How linear memories claim address space (from `Config::memory_reservation` and
/// `Config::memory_guard_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryLayout {
    /// Bytes of address space reserved for a memory's accessible part; a memory whose
    /// maximum fits never moves. Smaller reservations move (copy) when outgrown.
    pub reservation: usize,
    /// Inaccessible bytes after the reservation: an access that runs past the
    /// accessible part by less than this faults instead of touching another mapping.
    pub guard: usize,
}

impl MemoryLayout {
    /// No address space beyond a memory's current size, no guard: the memory moves when it
    /// grows.
    pub(crate) const MINIMAL: MemoryLayout = MemoryLayout { reservation: 0, guard: 0 };
}

/// A linear memory: its type and a mapping whose first `len` bytes are accessible
/// (read-write) and the rest — up to `reserved`, then the guard — inaccessible.
///
/// Growing within the reservation makes more pages accessible (`mprotect`); the system
/// hands them out zeroed on first touch, so growth neither copies nor writes zeros, and
/// the memory's address does not change. Only a memory that outgrows a reservation
/// smaller than its maximum moves to a bigger mapping.
#[derive(Debug)]
pub(crate) struct MemoryData {
    pub ty: MemoryType,
    map: Mapping,
    /// Accessible bytes (the memory's current size).
    len: usize,
    layout: MemoryLayout,
}

impl MemoryData {
    /// A memory of type `ty` at its minimum size, or `None` if it cannot be allocated.
    /// Where the system refuses the address space `layout` asks for (`ulimit -v`), the
    /// memory reserves only what it needs, and moves when it grows
    /// ([`MemoryData::layout`] tells).
    pub(crate) fn new(ty: MemoryType, layout: MemoryLayout) -> Option<MemoryData> {
        MemoryData::with_layout(ty, layout).or_else(|| MemoryData::with_layout(ty, MemoryLayout::MINIMAL))
    }

    fn with_layout(ty: MemoryType, layout: MemoryLayout) -> Option<MemoryData> {
        let len = usize::try_from(ty.limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        let map = Mapping::new(reservation_for(&ty, len, layout)?, layout.guard)?;
        map.make_accessible(0, len).ok()?;
        Some(MemoryData { ty, map, len, layout })
    }

    /// Whether the memory got the reservation and guard it was configured with (else it
    /// fell back to [`MemoryLayout::MINIMAL`]).
    #[cfg_attr(
        not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
        allow(dead_code, reason = "for the compiled tier, which relies on the guard")
    )]
    pub(crate) fn layout(&self) -> MemoryLayout {
        self.layout
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.len / PAGE_SIZE) as u64
    }

    /// The accessible bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.prefix(self.len)
    }

    /// The accessible bytes, mutably.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.prefix_mut(self.len)
    }

    /// The address of byte 0 and the current size: what code accessing the memory through
    /// raw pointers (the interpreter, compiled code) needs. Valid until the memory grows.
    pub(crate) fn base_and_len(&mut self) -> (*mut u8, usize) {
        (self.map.ptr.as_ptr(), self.len)
    }

    /// Grows by `delta` pages; returns the old size, or `None` if refused.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            return None;
        }
        let new_len = usize::try_from(new).ok()?.checked_mul(PAGE_SIZE)?;
        if new_len > self.map.reserved {
            // Outgrown: move to a mapping with room for the new size (doubling, so that
            // a memory growing page by page moves O(log n) times).
            let want = new_len.max(self.map.reserved.saturating_mul(2));
            let map = Mapping::new(reservation_for(&self.ty, want, self.layout)?, self.layout.guard)?;
            map.make_accessible(0, new_len).ok()?;
            let mut moved = MemoryData { ty: self.ty, map, len: new_len, layout: self.layout };
            moved.bytes_mut()[..self.len].copy_from_slice(self.bytes());
            *self = moved;
        } else {
            self.map.make_accessible(self.len, new_len - self.len).ok()?;
            self.len = new_len;
        }
        self.ty.limits.min = new;
        Some(old)
    }
}

/// Bytes to reserve for a memory of type `ty` that needs at least `len` now: the whole
/// configured reservation if it covers the maximum (so that, with a 4 GiB reservation,
/// every 32-bit address plus a small offset lands in the memory or its guard, whatever
/// the memory's size), else the configured reservation or `len`, whichever is more;
/// rounded up to whole host pages.
fn reservation_for(ty: &MemoryType, len: usize, layout: MemoryLayout) -> Option<usize> {
    let max_pages = ty.limits.max.unwrap_or(MAX_PAGES).min(MAX_PAGES);
    let max = usize::try_from(max_pages).ok()?.checked_mul(PAGE_SIZE)?;
    let want = if layout.reservation >= max { layout.reservation } else { layout.reservation.max(len).min(max) };
    want.checked_next_multiple_of(host_page_size())
}

/// The host's page size (mapping and protection granularity), asked once.
pub(crate) fn host_page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // Not `rustix::param::page_size`: its own reading of the auxiliary vector faults under
    // valgrind, which the project's profiling (callgrind) relies on.
    *PAGE.get_or_init(|| {
        // SAFETY: `sysconf` has no preconditions; it only reads a system value.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size).ok().filter(|&s| s.is_power_of_two()).unwrap_or(4096)
    })
}

/// An anonymous private mapping of `reserved + guard` bytes, inaccessible until
/// [`Mapping::make_accessible`]; unmapped on drop. Pages are not backed by memory until
/// touched (`MAP_NORESERVE`: a 4 GiB reservation costs address space only).
#[derive(Debug)]
struct Mapping {
    ptr: std::ptr::NonNull<u8>,
    /// Bytes that may become accessible.
    reserved: usize,
    /// Bytes mapped in all (`reserved` + the guard).
    mapped: usize,
}

// SAFETY: a `Mapping` owns its pages exclusively (nothing else holds its address but
// borrows of the `Mapping`), like a `Vec<u8>`, so moving it or sharing `&Mapping` across
// threads is as safe as for a `Vec<u8>`.
unsafe impl Send for Mapping {}
// SAFETY: as above: `&Mapping` only gives shared (read) access to the bytes.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `reserved + guard` inaccessible bytes, or `None` if the system refuses.
    fn new(reserved: usize, guard: usize) -> Option<Mapping> {
        use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};
        let mapped = reserved.checked_add(guard)?.max(host_page_size());
        // SAFETY: a fresh anonymous mapping at an address the system chooses (null hint,
        // no MAP_FIXED) cannot overlap or alias any existing Rust object.
        let ptr = unsafe {
            mmap_anonymous(std::ptr::null_mut(), mapped, ProtFlags::empty(), MapFlags::PRIVATE | MapFlags::NORESERVE)
        }
        .ok()?;
        Some(Mapping { ptr: std::ptr::NonNull::new(ptr.cast())?, reserved, mapped })
    }

    /// Makes bytes `start..start + len` (host-page aligned; within `reserved`) readable
    /// and writable.
    fn make_accessible(&self, start: usize, len: usize) -> rustix::io::Result<()> {
        use rustix::mm::{MprotectFlags, mprotect};
        assert!(start.checked_add(len).is_some_and(|end| end <= self.reserved), "beyond the reservation");
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping (checked above), which no Rust
        // reference covers beyond the accessible prefix; making pages accessible cannot
        // invalidate any reference.
        unsafe { mprotect(self.ptr.as_ptr().add(start).cast(), len, MprotectFlags::READ | MprotectFlags::WRITE) }
    }

    /// The first `len` bytes, which the caller made accessible.
    fn prefix(&self, len: usize) -> &[u8] {
        assert!(len <= self.reserved);
        // SAFETY: `ptr..ptr + len` lies in this live mapping and is readable (the owner
        // made its first `len` bytes accessible; anonymous pages read as zero until
        // written); the borrow of `self` keeps it mapped.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), len) }
    }

    /// [`Mapping::prefix`], mutably.
    fn prefix_mut(&mut self, len: usize) -> &mut [u8] {
        assert!(len <= self.reserved);
        // SAFETY: as in `prefix`, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `mmap_anonymous` with exactly this address
        // and length, and no borrow of it outlives `self`.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.mapped) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: MemoryLayout = MemoryLayout { reservation: 4 << 30, guard: 32 << 20 };
    const MOVING: MemoryLayout = MemoryLayout::MINIMAL;

    #[test]
    fn memory_grows_within_its_maximum() {
        let mut m = MemoryData::new(MemoryType::new(1, Some(2)), LAYOUT).unwrap();
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.pages(), 2);
        assert_eq!(m.grow(1), None);
        assert_eq!(m.grow(0), Some(2));
    }

    #[test]
    fn growth_within_the_reservation_keeps_the_address_and_zeroes() {
        let mut m = MemoryData::new(MemoryType::new(1, None), LAYOUT).unwrap();
        let (base, len) = m.base_and_len();
        assert_eq!(len, PAGE_SIZE);
        m.bytes_mut()[PAGE_SIZE - 1] = 7;
        assert_eq!(m.grow(3), Some(1));
        assert_eq!(m.base_and_len(), (base, 4 * PAGE_SIZE));
        assert_eq!(m.bytes()[PAGE_SIZE - 1], 7);
        assert!(m.bytes()[PAGE_SIZE..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_memory_without_a_reservation_moves_and_keeps_its_contents() {
        let mut m = MemoryData::new(MemoryType::new(1, Some(100)), MOVING).unwrap();
        m.bytes_mut()[..4].copy_from_slice(&[1, 2, 3, 4]);
        m.bytes_mut()[PAGE_SIZE - 1] = 9;
        for pages in 2..=100 {
            assert_eq!(m.grow(1), Some(pages - 1));
            assert_eq!(m.bytes().len(), pages as usize * PAGE_SIZE);
        }
        assert_eq!(&m.bytes()[..4], &[1, 2, 3, 4]);
        assert_eq!(m.bytes()[PAGE_SIZE - 1], 9);
        assert!(m.bytes()[PAGE_SIZE..].iter().all(|&b| b == 0));
        assert_eq!(m.grow(1), None);
    }

    #[test]
    fn empty_memories_and_zero_growth_work_in_both_layouts() {
        for layout in [LAYOUT, MOVING] {
            let mut m = MemoryData::new(MemoryType::new(0, Some(0)), layout).unwrap();
            assert_eq!(m.bytes().len(), 0);
            assert_eq!(m.grow(0), Some(0));
            assert_eq!(m.grow(1), None);
        }
    }

    #[test]
    fn a_reservation_the_system_refuses_falls_back_to_a_moving_memory() {
        let impossible = MemoryLayout { reservation: 1 << 62, guard: 0 };
        let mut m = MemoryData::new(MemoryType::new(1, None), impossible).unwrap();
        assert_eq!(m.layout(), MemoryLayout::MINIMAL);
        assert_eq!(m.grow(1), Some(1));
        let m = MemoryData::new(MemoryType::new(1, None), LAYOUT).unwrap();
        assert_eq!(m.layout(), LAYOUT);
    }
}
