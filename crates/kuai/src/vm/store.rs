//! The store's objects ([spec: store]) that both tiers run against, apart from the host
//! state and host functions (generic over the host state, in `runtime::store`) and the
//! interpreter's stacks (in `exec`).
//!
//! [spec: store]: https://webassembly.github.io/spec/core/exec/runtime.html#store

use super::GlobalData;
use super::func::FuncData;
use super::instance::{InstanceData, InstanceSegments};
use super::memory::MemoryData;
use super::meter::Meter;
use super::table::TableData;
use super::vmctx::{VmContextStorage, VmStoreStorage};
use crate::engine::Engine;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a store; handles carry it to detect cross-store use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    pub(crate) fn fresh() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The part of a store that does not depend on the host state type: every object wasm
/// code touches, in arenas indexed by the handles' indices.
pub(crate) struct StoreInner {
    pub id: StoreId,
    pub engine: Engine,
    pub funcs: Vec<FuncData>,
    pub instances: Vec<InstanceData>,
    /// Segment state of each instance (same index as `instances`).
    pub segments: Vec<InstanceSegments>,
    pub memories: Vec<MemoryData>,
    pub tables: Vec<TableData>,
    pub globals: Vec<GlobalData>,
    pub externs: Vec<Box<dyn Any + Send + Sync>>,
    /// Fuel left and the epoch deadline.
    pub meter: Meter,
    /// Compiled-tier context of each instance (same index as `instances`).
    #[cfg_attr(
        not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
        allow(dead_code, reason = "used by the compiled tier")
    )]
    pub vmctx: Vec<VmContextStorage>,
    /// Compiled-tier context of the store.
    #[cfg_attr(
        not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
        allow(dead_code, reason = "used by the compiled tier")
    )]
    pub vm_store: VmStoreStorage,
    /// Whether objects were added or grown since the contexts were last refreshed
    /// (`vmctx::refresh_all`), so compiled code must not run before the next refresh.
    pub vm_dirty: bool,
}

impl StoreInner {
    /// An empty store of `engine`.
    pub(crate) fn new(engine: &Engine) -> StoreInner {
        StoreInner {
            id: StoreId::fresh(),
            engine: engine.clone(),
            funcs: Vec::new(),
            instances: Vec::new(),
            segments: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            externs: Vec::new(),
            meter: Meter::new(engine.config(), engine.epoch()),
            vmctx: Vec::new(),
            vm_store: VmStoreStorage::default(),
            vm_dirty: true,
        }
    }

    /// Panics if a handle from another store is used here (a bug in the embedder).
    pub(crate) fn check(&self, id: StoreId) {
        assert!(id == self.id, "object used with the wrong store");
    }
}
