//! Copy-on-write memory images: a defined memory's initial contents (its active data
//! segments written into zeros) in a file — an anonymous `memfd` — that each instance maps
//! privately over the start of its memory instead of copying the segments. Pages an instance
//! only reads are shared with the page cache; the first write to one copies that page alone.
//!
//! A memory gets an image only when every active segment that targets it has a constant
//! offset and fits its initial size — then instantiating cannot trap in the middle of the
//! data, and the image is exactly the state the segments would leave. A module's images are
//! made at its second instantiation: one instance (a `kuai run`) copies its segments once,
//! which costs less than writing them to a file and faulting them in. An AOT artifact
//! carries its images, mapped from its file from the first instantiation on
//! (`compile/artifact.rs`).

use crate::module::{MemoryImage, ModuleInner};
use crate::vm::memory::{PAGE_SIZE, host_page_size};
use std::sync::atomic::Ordering;

/// The images of `m`'s defined memories for the instantiation about to happen, if they are
/// (or are about to be) worth having.
pub(crate) fn images(m: &ModuleInner) -> Option<&[Option<MemoryImage>]> {
    if let Some(images) = m.images.images.get() {
        return Some(images);
    }
    if m.images.instantiations.fetch_add(1, Ordering::Relaxed) == 0 {
        return None;
    }
    Some(m.images.images.get_or_init(|| build(m)))
}

/// Makes the images of `m`'s defined memories.
fn build(m: &ModuleInner) -> Box<[Option<MemoryImage>]> {
    let defined = m.num_imported_memories as usize..m.memories.len();
    defined.map(|memory| build_one(m, memory as u32)).collect()
}

/// The image of memory `memory` (module index), if it can have one and has any data.
fn build_one(m: &ModuleInner, memory: u32) -> Option<MemoryImage> {
    let initial = usize::try_from(m.memories[memory as usize].limits.min).ok()?.checked_mul(PAGE_SIZE)?;
    let layout = m.image_layout(memory, initial, host_page_size())?;
    let fd = rustix::fs::memfd_create("kuai-memory-image", rustix::fs::MemfdFlags::CLOEXEC).ok()?;
    let file = std::fs::File::from(fd);
    file.set_len(layout.len as u64).ok()?;
    // Segments in order: a later one overwrites an earlier one where they overlap, as
    // copying them does. Pages no segment touches stay holes (zeros, no memory).
    for (start, bytes) in layout.segments {
        std::os::unix::fs::FileExt::write_all_at(&file, &m.bytes[bytes], start as u64).ok()?;
    }
    Some(MemoryImage { id: MemoryImage::next_id(), file, offset: 0, len: layout.len })
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Instance, Module, Store};

    /// Instances of a module with data, before and after its images exist, see the same
    /// initial memory, and writes stay private to each instance.
    #[test]
    fn instances_mapped_from_an_image_are_private_copies() {
        let wat = r#"(module (memory (export "m") 2)
            (data (i32.const 0) "ab") (data (i32.const 70000) "xyz") (data (i32.const 1) "B")
            (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;
        let engine = Engine::default();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let mut expected = vec![0u8; 2 * 65536];
        expected[..2].copy_from_slice(b"aB");
        expected[70000..70003].copy_from_slice(b"xyz");
        let instances: Vec<Instance> = (0..3).map(|_| Instance::new(&mut store, &module, &[]).unwrap()).collect();
        assert!(module.inner.images.images.get().is_some_and(|i| i[0].is_some()));
        for (n, instance) in instances.iter().enumerate() {
            let memory = instance.get_memory(&store, "m").unwrap();
            assert_eq!(memory.data(&store), &expected[..], "instance {n}");
            let poke = instance.get_typed_func::<(i32, i32), ()>(&store, "poke").unwrap();
            poke.call(&mut store, (70001, n as i32)).unwrap();
        }
        for (n, instance) in instances.iter().enumerate() {
            let memory = instance.get_memory(&store, "m").unwrap();
            assert_eq!(memory.data(&store)[70001], n as u8);
            assert_eq!(memory.data(&store)[70000], b'x');
        }
        let fresh = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(fresh.get_memory(&store, "m").unwrap().data(&store), &expected[..]);
    }

    /// A segment that does not fit, or a non-constant offset, means no image: the
    /// segments are copied (and trap) as before.
    #[test]
    fn memories_whose_segments_do_not_fit_have_no_image() {
        let engine = Engine::default();
        let out = Module::new(&engine, r#"(module (memory 1) (data (i32.const 65535) "ab"))"#).unwrap();
        let imported =
            Module::new(&engine, r#"(module (global $g (import "m" "g") i32) (memory 1) (data (global.get $g) "ab"))"#)
                .unwrap();
        assert!(super::build_one(&out.inner, 0).is_none());
        assert!(super::build_one(&imported.inner, 0).is_none());
        let mut store = Store::new(&engine, ());
        for _ in 0..2 {
            let err = Instance::new(&mut store, &out, &[]).unwrap_err();
            assert!(err.to_string().contains("out of bounds memory access"), "{err}");
        }
    }
}
