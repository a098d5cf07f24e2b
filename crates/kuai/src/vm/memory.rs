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
    /// The memory image mapped over the start (its id and length), if any.
    image: Option<(u64, usize)>,
    /// Where the reservation goes when the memory is dropped (the pooling allocator).
    pool: Option<std::sync::Arc<MemoryPool>>,
}

/// The pooling allocator's memories: reservations of dropped memories, kept (up to `max`)
/// for the next memories of the same size to reuse instead of mapping and unmapping 4 GiB
/// and a guard each time — a page-table teardown that was most of an instance's cost.
/// A kept reservation has had its pages discarded (`MADV_DONTNEED`: anonymous pages read
/// as zeros again, pages of a memory image as the image again), and keeps its accessible
/// prefix and image; the next user adjusts both.
#[derive(Debug)]
pub(crate) struct MemoryPool {
    slots: std::sync::Mutex<Vec<Slot>>,
    max: usize,
}

#[derive(Debug)]
struct Slot {
    map: Mapping,
    accessible: usize,
    image: Option<(u64, usize)>,
}

impl MemoryPool {
    /// A pool keeping up to `max` reservations.
    pub(crate) fn new(max: usize) -> MemoryPool {
        MemoryPool { slots: std::sync::Mutex::new(Vec::new()), max }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // The slot list is consistent after any panic (pushes and removals only).
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A kept reservation of `reserved` bytes and `guard`, made ready for a memory whose
    /// first `len` bytes are accessible and whose image (if any) is `image`: a different
    /// image's pages are replaced by fresh anonymous ones, protections adjusted.
    fn take(&self, reserved: usize, guard: usize, len: usize, image: Option<(u64, usize)>) -> Option<Slot> {
        let mut slots = self.slots();
        let i = slots.iter().rposition(|s| s.map.reserved == reserved && s.map.mapped == reserved + guard)?;
        let mut slot = slots.swap_remove(i);
        drop(slots);
        if let Some((id, image_len)) = slot.image
            && Some((id, image_len)) != image
        {
            slot.map.replace_with_anonymous(image_len).ok()?;
            slot.accessible = slot.accessible.max(image_len);
            slot.image = None;
        }
        if slot.accessible > len {
            slot.map.make_inaccessible(len, slot.accessible - len).ok()?;
        } else {
            slot.map.make_accessible(slot.accessible, len - slot.accessible).ok()?;
        }
        slot.accessible = len;
        Some(slot)
    }

    /// Keeps `slot` if there is room, its pages discarded.
    fn put(&self, slot: Slot) {
        if self.slots().len() >= self.max || slot.map.discard(slot.accessible).is_err() {
            return;
        }
        let mut slots = self.slots();
        if slots.len() < self.max {
            slots.push(slot);
        }
    }
}

impl MemoryData {
    /// A memory of type `ty` at its minimum size, or `None` if it cannot be allocated.
    /// Where the system refuses the address space `layout` asks for (`ulimit -v`), the
    /// memory reserves only what it needs, and moves when it grows
    /// ([`MemoryData::layout`] tells).
    #[cfg(test)]
    pub(crate) fn new(ty: MemoryType, layout: MemoryLayout) -> Option<MemoryData> {
        MemoryData::pooled(ty, layout, None, None)
    }

    /// [`MemoryData::new`] from `pool` if it has a reservation of the size `ty` needs (and
    /// gives the memory's back to it when dropped); `image` is the memory image the caller
    /// will map ([`MemoryData::map_image`]), which a reservation may still hold.
    pub(crate) fn pooled(
        ty: MemoryType,
        layout: MemoryLayout,
        pool: Option<&std::sync::Arc<MemoryPool>>,
        image: Option<(u64, usize)>,
    ) -> Option<MemoryData> {
        let len = usize::try_from(ty.limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        if let Some(pool) = pool
            && let Some(reserved) = reservation_for(&ty, len, layout)
            && let Some(slot) = pool.take(reserved, layout.guard, len, image)
        {
            let Slot { map, image, .. } = slot;
            return Some(MemoryData { ty, map, len, layout, image, pool: Some(pool.clone()) });
        }
        let memory = MemoryData::with_layout(ty, layout).or_else(|| MemoryData::with_layout(ty, MemoryLayout::MINIMAL));
        memory.map(|mut m| {
            m.pool = pool.filter(|_| m.layout == layout).cloned();
            m
        })
    }

    fn with_layout(ty: MemoryType, layout: MemoryLayout) -> Option<MemoryData> {
        let len = usize::try_from(ty.limits.min).ok()?.checked_mul(PAGE_SIZE)?;
        let map = Mapping::new(reservation_for(&ty, len, layout)?, layout.guard)?;
        map.make_accessible(0, len).ok()?;
        Some(MemoryData { ty, map, len, layout, image: None, pool: None })
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

    /// Maps `len` bytes of `file` from `offset` over the memory's first `len` bytes, private
    /// and copy-on-write: the memory then starts with the file's contents, and writes stay
    /// the memory's own (a memory image, `runtime/image.rs`). `false` (nothing changed) if
    /// the range is not whole host pages within the memory, or the system refuses.
    /// `id` names the image: a pooled reservation that still holds it needs no mapping.
    pub(crate) fn map_image(&mut self, id: u64, file: &std::fs::File, offset: u64, len: usize) -> bool {
        use rustix::mm::{MapFlags, ProtFlags};
        let page = host_page_size();
        if len == 0 || len > self.len || !len.is_multiple_of(page) || !offset.is_multiple_of(page as u64) {
            return false;
        }
        if self.image == Some((id, len)) {
            return true;
        }
        if self.image.is_some() {
            return false;
        }
        // Private: writes never reach the file or another mapping.
        // SAFETY: the first `len` bytes of this memory's own, accessible mapping; `&mut self`:
        // no reference into them is live, so replacing their pages (MAP_FIXED) breaks nothing.
        let mapped = unsafe {
            rustix::mm::mmap(
                self.map.ptr.as_ptr().cast(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED,
                file,
                offset,
            )
        };
        let ok = mapped.is_ok_and(|p| p == self.map.ptr.as_ptr().cast());
        if ok {
            self.image = Some((id, len));
        }
        ok
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
            let mut moved = MemoryData { ty: self.ty, map, len: new_len, layout: self.layout, image: None, pool: None };
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

impl Drop for MemoryData {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let map = std::mem::replace(&mut self.map, Mapping::EMPTY);
            pool.put(Slot { map, accessible: self.len, image: self.image });
        }
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
    /// No mapping (what a pooled memory leaves behind when its reservation goes back to the
    /// pool); dropping it unmaps nothing.
    const EMPTY: Mapping = Mapping { ptr: std::ptr::NonNull::dangling(), reserved: 0, mapped: 0 };

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

    /// Makes bytes `start..start + len` (host-page aligned; within `reserved`) inaccessible.
    fn make_inaccessible(&self, start: usize, len: usize) -> rustix::io::Result<()> {
        use rustix::mm::{MprotectFlags, mprotect};
        assert!(start.checked_add(len).is_some_and(|end| end <= self.reserved), "beyond the reservation");
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping (checked above); the caller (the pool)
        // owns the mapping and holds no reference into it.
        unsafe { mprotect(self.ptr.as_ptr().add(start).cast(), len, MprotectFlags::empty()) }
    }

    /// Discards the pages of the first `len` bytes: anonymous ones read as zeros again, ones
    /// of a private file mapping (a memory image) as the file again.
    fn discard(&self, len: usize) -> rustix::io::Result<()> {
        assert!(len <= self.reserved, "beyond the reservation");
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping; its owner (the pool, taking it from a
        // dropped memory) holds no reference into it, so contents changing is unobservable.
        unsafe { rustix::mm::madvise(self.ptr.as_ptr().cast(), len, rustix::mm::Advice::LinuxDontNeed) }
    }

    /// Replaces the first `len` bytes (a memory image's range) with fresh anonymous,
    /// readable and writable pages.
    fn replace_with_anonymous(&self, len: usize) -> rustix::io::Result<()> {
        use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};
        assert!(len <= self.reserved, "beyond the reservation");
        // SAFETY: the range lies inside this mapping (MAP_FIXED replaces only it); its owner
        // (the pool) holds no reference into it.
        let p = unsafe {
            mmap_anonymous(
                self.ptr.as_ptr().cast(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED | MapFlags::NORESERVE,
            )
        }?;
        if p != self.ptr.as_ptr().cast() {
            return Err(rustix::io::Errno::INVAL);
        }
        Ok(())
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
        if self.mapped == 0 {
            return;
        }
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

    #[test]
    fn pooled_reservations_come_back_zeroed_or_as_their_image() {
        let pool = std::sync::Arc::new(MemoryPool::new(2));
        let ty = MemoryType::new(1, None);
        let mut a = MemoryData::pooled(ty, LAYOUT, Some(&pool), None).unwrap();
        a.bytes_mut()[100] = 7;
        a.grow(2).unwrap();
        a.bytes_mut()[3 * PAGE_SIZE - 1] = 9;
        let base = a.base_and_len().0 as usize;
        drop(a);
        // The same reservation, one page accessible again, all zeros.
        let mut b = MemoryData::pooled(ty, LAYOUT, Some(&pool), None).unwrap();
        assert_eq!(b.base_and_len(), (base as *mut u8, PAGE_SIZE));
        assert!(b.bytes().iter().all(|&x| x == 0));
        assert_eq!(b.grow(2), Some(1));
        assert!(b.bytes().iter().all(|&x| x == 0));
        // An image: mapped, written, pooled; its next user sees the image again.
        let file = image_file(b"image");
        let page = host_page_size();
        assert!(b.map_image(42, &file, 0, page));
        b.bytes_mut()[0] = b'X';
        drop(b);
        let mut c = MemoryData::pooled(ty, LAYOUT, Some(&pool), Some((42, page))).unwrap();
        assert!(c.map_image(42, &file, 0, page));
        assert_eq!(&c.bytes()[..5], b"image");
        drop(c);
        // Another image, or none: the old image's pages are gone.
        let mut d = MemoryData::pooled(ty, LAYOUT, Some(&pool), None).unwrap();
        assert!(d.bytes().iter().all(|&x| x == 0));
        assert!(d.map_image(43, &image_file(b"other"), 0, page));
        assert_eq!(&d.bytes()[..5], b"other");
        drop(d);
        let e = MemoryData::pooled(ty, LAYOUT, Some(&pool), Some((42, page))).unwrap();
        assert!(e.bytes().iter().all(|&x| x == 0));
    }

    fn image_file(bytes: &[u8]) -> std::fs::File {
        let fd = rustix::fs::memfd_create("test-image", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        let file = std::fs::File::from(fd);
        file.set_len(host_page_size() as u64).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, bytes, 0).unwrap();
        file
    }
}
