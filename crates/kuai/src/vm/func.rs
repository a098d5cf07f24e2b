//! Function instances ([spec: function instances]): what a store function is.
//!
//! [spec: function instances]: https://webassembly.github.io/spec/core/exec/runtime.html#function-instances

use crate::types::FuncType;
use std::sync::Arc;

/// What a store function is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FuncKind {
    /// Function `index` (module index space) of store instance `instance`.
    Wasm { instance: u32, index: u32 },
    /// Entry `host` of the store's host functions.
    Host { host: u32 },
}

/// A function in a store.
#[derive(Debug, Clone)]
pub(crate) struct FuncData {
    pub ty: Arc<FuncType>,
    /// Engine-wide canonical type id (see [`crate::Engine`]).
    pub type_id: u32,
    pub kind: FuncKind,
}
