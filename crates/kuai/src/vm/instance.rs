//! Module instances ([spec: module instances]): an instance's index spaces mapped to store
//! objects, and its segment state.
//!
//! [spec: module instances]: https://webassembly.github.io/spec/core/exec/runtime.html#module-instances

use crate::module::ModuleInner;
use std::sync::Arc;

/// Per-instance state: the index spaces mapped to store objects.
pub(crate) struct InstanceData {
    pub module: Arc<ModuleInner>,
    /// Store function of each function index — the per-instance function table every
    /// call goes through (the hook a compiler tier will patch).
    pub funcs: Box<[u32]>,
    pub tables: Box<[u32]>,
    pub memories: Box<[u32]>,
    pub globals: Box<[u32]>,
}

impl InstanceData {
    /// The bytes of data segment `seg` (empty once dropped, per `segments`).
    pub(crate) fn data_segment<'a>(&'a self, segments: &InstanceSegments, seg: u32) -> &'a [u8] {
        if segments.data_dropped[seg as usize] {
            return &[];
        }
        let range = self.module.datas[seg as usize].bytes.clone();
        &self.module.bytes[range]
    }
}

/// The mutable segment state of an instance, kept apart from [`InstanceData`] so the
/// interpreter can borrow instances (and their code) immutably while it runs.
#[derive(Debug, Default)]
pub(crate) struct InstanceSegments {
    /// Evaluated element segments (untyped references); emptied by `elem.drop`.
    pub elems: Vec<Box<[u64]>>,
    /// Whether each data segment has been dropped.
    pub data_dropped: Vec<bool>,
}
