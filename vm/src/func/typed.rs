//! Statically typed functions: [`WasmTy`] (Rust types that are wasm values), [`WasmTyList`]
//! (parameter and result lists: `()`, one value, tuples), [`WasmRet`] (what a host closure
//! may return), [`IntoFunc`] (closures usable with `Func::wrap`) and [`TypedFunc`].

use core::marker::PhantomData;
use std::sync::Arc;

use tierup_abi::ValRaw;

use super::{Caller, Func, HostFn};
use crate::Result;
use crate::store::AsContextMut;
use crate::types::{FuncType, ValType};
use crate::values::ExternRef;

/// A Rust type that is a WebAssembly value.
pub trait WasmTy: Sized + Send + 'static {
    /// The wasm type.
    fn valtype() -> ValType;
    /// The raw cell; `store` is the id of the store the call runs in.
    #[doc(hidden)]
    fn into_raw(self, store: u64) -> Result<ValRaw>;
    /// The value in a raw cell of store `store`.
    #[doc(hidden)]
    fn from_raw(raw: ValRaw, store: u64) -> Self;
}

macro_rules! scalar {
    ($($t:ty => $vt:ident, $to:expr, $from:expr;)*) => {$(
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_raw(self, _store: u64) -> Result<ValRaw> {
                let f: fn($t) -> ValRaw = $to;
                Ok(f(self))
            }
            fn from_raw(raw: ValRaw, _store: u64) -> Self {
                let f: fn(ValRaw) -> $t = $from;
                f(raw)
            }
        }
    )*};
}

scalar! {
    i32 => I32, ValRaw::i32, |r| r.get_i32();
    u32 => I32, |v| ValRaw::i32(v as i32), |r| r.get_i32() as u32;
    i64 => I64, ValRaw::i64, |r| r.get_i64();
    u64 => I64, |v| ValRaw::i64(v as i64), |r| r.get_i64() as u64;
    f32 => F32, |v| ValRaw::f32_bits(v.to_bits()), |r| f32::from_bits(r.get_f32_bits());
    f64 => F64, |v| ValRaw::f64_bits(v.to_bits()), |r| f64::from_bits(r.get_f64_bits());
    u128 => V128, ValRaw::v128, |r| r.get_v128();
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FuncRef
    }
    fn into_raw(self, store: u64) -> Result<ValRaw> {
        match self {
            None => Ok(ValRaw::funcref(core::ptr::null())),
            Some(f) if f.store == store => Ok(ValRaw::funcref(f.entry())),
            Some(_) => anyhow::bail!("function reference used with the wrong store"),
        }
    }
    fn from_raw(raw: ValRaw, store: u64) -> Self {
        Func::from_entry(store, raw.get_funcref())
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::ExternRef
    }
    fn into_raw(self, store: u64) -> Result<ValRaw> {
        match self {
            None => Ok(ValRaw::externref(0)),
            Some(r) if r.store == store => Ok(ValRaw::externref(r.handle)),
            Some(_) => anyhow::bail!("external reference used with the wrong store"),
        }
    }
    fn from_raw(raw: ValRaw, store: u64) -> Self {
        let handle = raw.get_externref();
        (handle != 0).then_some(ExternRef { store, handle })
    }
}

/// A list of wasm values: `()`, a single [`WasmTy`], or a tuple of them.
pub trait WasmTyList: Sized + Send + 'static {
    /// The types, in order.
    fn valtypes() -> Vec<ValType>;
    /// Writes the values into the first cells.
    #[doc(hidden)]
    fn into_cells(self, store: u64, cells: &mut [ValRaw]) -> Result<()>;
    /// Reads the values from the first cells.
    #[doc(hidden)]
    fn from_cells(cells: &[ValRaw], store: u64) -> Self;
}

/// What a host closure may return: a [`WasmTyList`] or a `Result` of one.
pub trait WasmRet {
    /// The values returned.
    type List: WasmTyList;
    /// The values, or the host function's error.
    #[doc(hidden)]
    fn into_list(self) -> Result<Self::List>;
}

impl<L: WasmTyList> WasmRet for Result<L> {
    type List = L;
    fn into_list(self) -> Result<L> {
        self
    }
}

macro_rules! single {
    ($($t:ty),*) => {$(
        impl WasmTyList for $t {
            fn valtypes() -> Vec<ValType> {
                vec![<$t as WasmTy>::valtype()]
            }
            fn into_cells(self, store: u64, cells: &mut [ValRaw]) -> Result<()> {
                cells[0] = self.into_raw(store)?;
                Ok(())
            }
            fn from_cells(cells: &[ValRaw], store: u64) -> Self {
                <$t as WasmTy>::from_raw(cells[0], store)
            }
        }
        impl WasmRet for $t {
            type List = $t;
            fn into_list(self) -> Result<$t> {
                Ok(self)
            }
        }
    )*};
}

single!(
    i32,
    u32,
    i64,
    u64,
    f32,
    f64,
    u128,
    Option<Func>,
    Option<ExternRef>
);

macro_rules! tuple {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
        impl<$($a: WasmTy),*> WasmTyList for ($($a,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            fn into_cells(self, store: u64, cells: &mut [ValRaw]) -> Result<()> {
                let ($($a,)*) = self;
                let mut i = 0;
                $(
                    cells[i] = $a.into_raw(store)?;
                    i += 1;
                )*
                Ok(())
            }
            fn from_cells(cells: &[ValRaw], store: u64) -> Self {
                let mut i = 0;
                $(
                    let $a = $a::from_raw(cells[i], store);
                    i += 1;
                )*
                ($($a,)*)
            }
        }
        impl<$($a: WasmTy),*> WasmRet for ($($a,)*) {
            type List = Self;
            fn into_list(self) -> Result<Self> {
                Ok(self)
            }
        }
    };
}

tuple!();
tuple!(A1);
tuple!(A1 A2);
tuple!(A1 A2 A3);
tuple!(A1 A2 A3 A4);
tuple!(A1 A2 A3 A4 A5);
tuple!(A1 A2 A3 A4 A5 A6);
tuple!(A1 A2 A3 A4 A5 A6 A7);
tuple!(A1 A2 A3 A4 A5 A6 A7 A8);

/// A closure usable as a host function with `Func::wrap` / `Linker::func_wrap`.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function type and the raw host closure.
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, Arc<HostFn<T>>);
}

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, $($a: WasmTy,)* R: WasmRet> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
        {
            fn into_host(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::List::valtypes());
                let f = move |caller: Caller<'_, T>, cells: &mut [ValRaw]| -> Result<()> {
                    let store = caller.store_id();
                    let mut i = 0;
                    $(
                        let $a = $a::from_raw(cells[i], store);
                        i += 1;
                    )*
                    let r = (self)($($a),*).into_list()?;
                    r.into_cells(store, cells)
                };
                (ty, Arc::new(f))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T: 'static, F, $($a: WasmTy,)* R: WasmRet> IntoFunc<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
        {
            fn into_host(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::List::valtypes());
                let f = move |caller: Caller<'_, T>, cells: &mut [ValRaw]| -> Result<()> {
                    let store = caller.store_id();
                    let mut i = 0;
                    $(
                        let $a = $a::from_raw(cells[i], store);
                        i += 1;
                    )*
                    let r = (self)(caller, $($a),*).into_list()?;
                    r.into_cells(store, cells)
                };
                (ty, Arc::new(f))
            }
        }
    };
}

into_func!();
into_func!(A1);
into_func!(A1 A2);
into_func!(A1 A2 A3);
into_func!(A1 A2 A3 A4);
into_func!(A1 A2 A3 A4 A5);
into_func!(A1 A2 A3 A4 A5 A6);
into_func!(A1 A2 A3 A4 A5 A6 A7);
into_func!(A1 A2 A3 A4 A5 A6 A7 A8);

/// A function whose parameter and result types are checked once, then called without
/// per-call type checks.
pub struct TypedFunc<P, R> {
    func: Func,
    cells: usize,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmTyList, R: WasmTyList> TypedFunc<P, R> {
    pub(crate) fn new(func: Func, ty: &FuncType) -> Result<Self> {
        let (params, results) = (P::valtypes(), R::valtypes());
        if ty.params() != params.as_slice() || ty.results() != results.as_slice() {
            let want = FuncType::new(params, results);
            anyhow::bail!("type mismatch: function has type {ty}, expected {want}");
        }
        Ok(TypedFunc {
            func,
            cells: ty.cells(),
            _marker: PhantomData,
        })
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.func.store);
        let id = store.id;
        let mut cells = vec![ValRaw::ZERO; self.cells];
        params.into_cells(id, &mut cells)?;
        let wasm = store.wasm_entry();
        // SAFETY: the slot is live (checked store) and the buffer is large enough.
        unsafe { super::call_raw(self.func.entry(), &wasm, &mut cells)? };
        Ok(R::from_cells(&cells, id))
    }
}
