//! The state both tiers run against ([spec: runtime structure]): the store's functions,
//! instances, memories, tables and globals, the fuel and epoch meter, and the
//! `#[repr(C)]` instance context compiled code reads.
//!
//! This layer sits below the interpreter (`exec`) and the public handles (`runtime`): it
//! knows modules (`module`) but no code — neither the interpreter's nor host functions,
//! which are generic over the host state and live with `runtime::Store`.
//!
//! [spec: runtime structure]: https://webassembly.github.io/spec/core/exec/runtime.html

pub(crate) mod bulk;
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod code;
pub(crate) mod func;
pub(crate) mod instance;
pub(crate) mod memory;
pub(crate) mod meter;
pub(crate) mod store;
pub(crate) mod table;
#[cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod traps;
#[cfg_attr(
    not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")),
    allow(dead_code, reason = "read by compiled code; unused in interpreter-only builds")
)]
pub(crate) mod vmctx;

use crate::types::GlobalType;

pub(crate) use func::{FuncData, FuncKind};
pub(crate) use instance::{InstanceData, InstanceSegments};
pub(crate) use memory::{MemoryData, MemoryLayout, MemoryPool, PAGE_SIZE};
pub(crate) use meter::Meter;
pub(crate) use store::{StoreId, StoreInner};
pub(crate) use table::TableData;

/// A global's current value (untyped encoding, 128 bits so a `v128` fits) and type.
#[derive(Debug)]
pub(crate) struct GlobalData {
    pub ty: GlobalType,
    pub value: u128,
}
