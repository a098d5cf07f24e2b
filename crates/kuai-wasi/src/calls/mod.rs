//! The preview1 calls, one module per family. Each takes the guest's [`WasiCtx`] and its
//! memory, then the call's parameters as the ABI passes them, and returns `Ok` or the
//! errno the guest sees.
//!
//! [`WasiCtx`]: crate::WasiCtx

pub(crate) mod fd;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod proc;
pub(crate) mod sock;
