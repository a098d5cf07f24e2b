//! Values crossing the host boundary ([`Val`]) and host references ([`ExternRef`]).

use super::func::Func;
use super::store::{AsContextMut, StoreContext, StoreId, StoreInner};
use crate::types::ValType;
use std::any::Any;

/// A reference to a host object, created by [`ExternRef::new`] and owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl ExternRef {
    /// Stores `value` in the store and returns a reference to it.
    pub fn new(mut store: impl AsContextMut, value: impl Any + Send + Sync) -> ExternRef {
        let mut ctx = store.as_context_mut();
        let inner = ctx.inner();
        inner.externs.push(Box::new(value));
        ExternRef { store: inner.id, index: inner.externs.len() as u32 - 1 }
    }

    /// The host object this reference points to.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a (dyn Any + Send + Sync) {
        let inner = store.into().inner();
        inner.check(self.store);
        &*inner.externs[self.index as usize]
    }
}

/// A WebAssembly value.
///
/// Floats are carried as their bit patterns so NaN payloads survive the host boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits.
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `funcref` (`None` is null).
    FuncRef(Option<Func>),
    /// An `externref` (`None` is null).
    ExternRef(Option<ExternRef>),
    /// A `v128`, lane 0 in the least significant bits.
    V128(u128),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::V128(_) => ValType::V128,
        }
    }

    /// The zero (or null) value of `ty`.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::V128 => Val::V128(0),
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self { Some(*v) } else { None }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self { Some(*v) } else { None }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self { Some(f32::from_bits(*v)) } else { None }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self { Some(f64::from_bits(*v)) } else { None }
    }

    /// Whether the value is a reference from another store.
    pub(crate) fn foreign(&self, store: StoreId) -> bool {
        match self {
            Val::FuncRef(Some(f)) => f.store != store,
            Val::ExternRef(Some(e)) => e.store != store,
            _ => false,
        }
    }

    /// The untyped encoding (see [`crate::ir`]): one slot's worth, or two for a `v128`.
    pub(crate) fn to_raw(self) -> u128 {
        match self {
            Val::I32(v) => v as u32 as u128,
            Val::I64(v) => v as u64 as u128,
            Val::F32(v) => v as u128,
            Val::F64(v) => v as u128,
            Val::FuncRef(f) => f.map_or(0, |f| f.index as u128 + 1),
            Val::ExternRef(e) => e.map_or(0, |e| e.index as u128 + 1),
            Val::V128(v) => v,
        }
    }

    /// Decodes the untyped encoding of a value of type `ty`.
    pub(crate) fn from_raw(raw: u128, ty: ValType, store: &StoreInner) -> Val {
        let bits = raw as u64;
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
            ValType::FuncRef => Val::FuncRef((bits != 0).then(|| Func { store: store.id, index: (bits - 1) as u32 })),
            ValType::ExternRef => {
                Val::ExternRef((bits != 0).then(|| ExternRef { store: store.id, index: (bits - 1) as u32 }))
            }
            ValType::V128 => Val::V128(raw),
        }
    }

    /// Writes the value into its slots (one, or two for a `v128`: low half first).
    pub(crate) fn write_slots(self, out: &mut [u64]) {
        let raw = self.to_raw();
        out[0] = raw as u64;
        if self.ty().slots() == 2 {
            out[1] = (raw >> 64) as u64;
        }
    }

    /// Reads a value of type `ty` from its slots.
    pub(crate) fn read_slots(slots: &[u64], ty: ValType, store: &StoreInner) -> Val {
        let raw = if ty.slots() == 2 { slots[0] as u128 | (slots[1] as u128) << 64 } else { slots[0] as u128 };
        Val::from_raw(raw, ty, store)
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}
