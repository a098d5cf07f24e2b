//! Statically typed calls: [`TypedFunc`], and host closures turned into functions
//! ([`IntoFunc`]). Rust types map to wasm types through [`WasmTy`].

use super::func::{Caller, Func, HostFunc};
use super::store::AsContextMut;
use super::values::{ExternRef, Val};
use crate::error::Error;
use crate::types::{FuncType, ValType};
use std::marker::PhantomData;
use std::sync::Arc;

/// A Rust type that is a single wasm value.
pub trait WasmTy: Sized + Send + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// Converts into a [`Val`].
    fn into_val(self) -> Val;
    /// Converts from a [`Val`] of the right type.
    fn from_val(val: Val) -> Option<Self>;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, |$v:ident| $into:expr, $pat:pat => $from:expr) => {
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_val(self) -> Val {
                let $v = self;
                $into
            }
            fn from_val(val: Val) -> Option<Self> {
                match val {
                    $pat => Some($from),
                    _ => None,
                }
            }
        }
    };
}

wasm_ty!(i32, I32, |v| Val::I32(v), Val::I32(x) => x);
wasm_ty!(u32, I32, |v| Val::I32(v as i32), Val::I32(x) => x as u32);
wasm_ty!(i64, I64, |v| Val::I64(v), Val::I64(x) => x);
wasm_ty!(u64, I64, |v| Val::I64(v as i64), Val::I64(x) => x as u64);
wasm_ty!(f32, F32, |v| Val::F32(v.to_bits()), Val::F32(x) => f32::from_bits(x));
wasm_ty!(f64, F64, |v| Val::F64(v.to_bits()), Val::F64(x) => f64::from_bits(x));
wasm_ty!(Option<Func>, FuncRef, |v| Val::FuncRef(v), Val::FuncRef(x) => x);
wasm_ty!(Option<ExternRef>, ExternRef, |v| Val::ExternRef(v), Val::ExternRef(x) => x);
wasm_ty!(u128, V128, |v| Val::V128(v), Val::V128(x) => x);

/// A list of wasm values as a Rust type: `()`, a single [`WasmTy`], or a tuple.
pub trait WasmTyList: Sized + Send + 'static {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// Whether `tys` are exactly these types.
    fn matches(tys: &[ValType]) -> bool {
        Self::types() == tys
    }
    /// Converts into values.
    fn into_vals(self) -> Vec<Val>;
    /// Converts from values of the right types.
    fn from_vals(vals: &[Val]) -> Option<Self>;
}

/// Parameter lists of [`TypedFunc`] and host closures.
pub trait WasmParams: WasmTyList {}
impl<L: WasmTyList> WasmParams for L {}

/// Result lists of [`TypedFunc`] and host closures.
pub trait WasmResults: WasmTyList {}
impl<L: WasmTyList> WasmResults for L {}

impl<A: WasmTy> WasmTyList for A {
    fn types() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        match vals {
            [v] => A::from_val(*v),
            _ => None,
        }
    }
}

macro_rules! tuple_list {
    ($($t:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables, clippy::unused_unit)]
        impl<$($t: WasmTy),*> WasmTyList for ($($t,)*) {
            fn types() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            fn from_vals(vals: &[Val]) -> Option<Self> {
                let mut it = vals.iter();
                let out = ($($t::from_val(*it.next()?)?,)*);
                if it.next().is_some() { return None; }
                Some(out)
            }
        }
    };
}

tuple_list!();
tuple_list!(A1);
tuple_list!(A1, A2);
tuple_list!(A1, A2, A3);
tuple_list!(A1, A2, A3, A4);
tuple_list!(A1, A2, A3, A4, A5);
tuple_list!(A1, A2, A3, A4, A5, A6);
tuple_list!(A1, A2, A3, A4, A5, A6, A7);
tuple_list!(A1, A2, A3, A4, A5, A6, A7, A8);
tuple_list!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
tuple_list!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
tuple_list!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
tuple_list!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);

/// What a host closure may return: results, or `Result<results, Error>`.
pub trait WasmRet: Send + 'static {
    /// The result types.
    fn types() -> Vec<ValType>;
    /// Writes the results (or passes on the error).
    fn into_results(self, out: &mut [Val]) -> Result<(), Error>;
}

impl<R: WasmTyList> WasmRet for R {
    fn types() -> Vec<ValType> {
        R::types()
    }
    fn into_results(self, out: &mut [Val]) -> Result<(), Error> {
        for (o, v) in out.iter_mut().zip(self.into_vals()) {
            *o = v;
        }
        Ok(())
    }
}

impl<R: WasmTyList> WasmRet for Result<R, Error> {
    fn types() -> Vec<ValType> {
        R::types()
    }
    fn into_results(self, out: &mut [Val]) -> Result<(), Error> {
        self?.into_results(out)
    }
}

/// Rust closures that can become host functions (see [`Func::wrap`]).
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, Arc<HostFunc<T>>);
}

fn bad_args() -> Error {
    Error::TypeMismatch("host function called with wrong argument types".into())
}

macro_rules! into_func {
    ($($a:ident),*) => {
        #[allow(non_snake_case)]
        impl<T, F, R, $($a),*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_host(self) -> (FuncType, Arc<HostFunc<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::types());
                let host = move |_caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                    let ($($a,)*) = <($($a,)*) as WasmTyList>::from_vals(params).ok_or_else(bad_args)?;
                    self($($a),*).into_results(results)
                };
                (ty, Arc::new(host))
            }
        }

        #[allow(non_snake_case)]
        impl<T, F, R, $($a),*> IntoFunc<T, (Caller<'static, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_host(self) -> (FuncType, Arc<HostFunc<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::types());
                let host = move |caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                    let ($($a,)*) = <($($a,)*) as WasmTyList>::from_vals(params).ok_or_else(bad_args)?;
                    self(caller, $($a),*).into_results(results)
                };
                (ty, Arc::new(host))
            }
        }
    };
}

into_func!();
into_func!(A1);
into_func!(A1, A2);
into_func!(A1, A2, A3);
into_func!(A1, A2, A3, A4);
into_func!(A1, A2, A3, A4, A5);
into_func!(A1, A2, A3, A4, A5, A6);
into_func!(A1, A2, A3, A4, A5, A6, A7);
into_func!(A1, A2, A3, A4, A5, A6, A7, A8);
into_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
into_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
into_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
into_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);

/// A function whose parameter and result types were checked once, called with Rust values.
pub struct TypedFunc<Params, Results> {
    func: Func,
    _types: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedFunc").field(&self.func).finish()
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    pub(crate) fn new(func: Func) -> Self {
        TypedFunc { func, _types: PhantomData }
    }

    /// The underlying function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results, Error> {
        let ctx = store.as_context_mut();
        let store = ctx.0;
        store.inner.check(self.func.store);
        let params = params.into_vals();
        if params.iter().any(|p| p.foreign(store.inner.id)) {
            return Err(Error::TypeMismatch("reference from another store".into()));
        }
        let mut results: Vec<Val> = Results::types().into_iter().map(Val::default_for).collect();
        super::call::call(store, self.func.index, &params, &mut results)?;
        Results::from_vals(&results).ok_or_else(|| Error::TypeMismatch("unexpected result types".into()))
    }
}
