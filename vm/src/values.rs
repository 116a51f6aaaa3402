//! Runtime values of the embedding API ([`Val`], [`ExternRef`]) and their conversion to and
//! from the raw cells ([`ValRaw`]) that cross tier boundaries.

use std::any::Any;

use tierup_abi::{FuncEntry, ValRaw};

use crate::Result;
use crate::func::Func;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::ValType;

/// An opaque host reference (`externref`), whose data lives in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store: StoreId,
    /// Non-zero: index in the store's externref list plus one.
    pub(crate) handle: usize,
}

impl ExternRef {
    /// Stores `data` in the store and returns a reference to it.
    pub fn new(mut store: impl AsContextMut, data: impl Any + Send + Sync) -> ExternRef {
        let store = &mut store.as_context_mut().0.opaque;
        store.externrefs.push(Box::new(data));
        ExternRef {
            store: store.id,
            handle: store.externrefs.len(),
        }
    }

    /// The data this reference was created with.
    pub fn data<'a>(&self, store: &'a impl AsContext) -> &'a (dyn Any + Send + Sync) {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        &*store.externrefs[self.handle - 1]
    }

    /// The raw non-zero handle.
    pub fn to_raw(&self) -> usize {
        self.handle
    }
}

/// A WebAssembly value.
#[derive(Clone, Debug)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, by its bit pattern.
    F32(u32),
    /// An `f64`, by its bit pattern.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A `funcref` (`None` is null).
    FuncRef(Option<Func>),
    /// An `externref` (`None` is null).
    ExternRef(Option<ExternRef>),
}

macro_rules! accessors {
    ($($get:ident $unwrap:ident $variant:ident $ty:ty;)*) => {$(
        #[doc = concat!("The value if it is a `", stringify!($variant), "`.")]
        pub fn $get(&self) -> Option<$ty> {
            match self {
                Val::$variant(v) => Some(*v),
                _ => None,
            }
        }
        #[doc = concat!("The value; panics if it is not a `", stringify!($variant), "`.")]
        #[track_caller]
        pub fn $unwrap(&self) -> $ty {
            self.$get().expect(concat!("expected ", stringify!($variant)))
        }
    )*};
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The default (zero or null) value of `ty`.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// A null reference of type `ty`, or `None` if `ty` is not a reference type.
    pub fn null_ref(ty: ValType) -> Option<Val> {
        match ty {
            ValType::FuncRef => Some(Val::FuncRef(None)),
            ValType::ExternRef => Some(Val::ExternRef(None)),
            _ => None,
        }
    }

    accessors! {
        i32 unwrap_i32 I32 i32;
        i64 unwrap_i64 I64 i64;
        v128 unwrap_v128 V128 u128;
    }

    /// The value if it is an `f32`.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(b) => Some(f32::from_bits(*b)),
            _ => None,
        }
    }
    /// The value; panics if it is not an `f32`.
    #[track_caller]
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().expect("expected F32")
    }
    /// The value if it is an `f64`.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(b) => Some(f64::from_bits(*b)),
            _ => None,
        }
    }
    /// The value; panics if it is not an `f64`.
    #[track_caller]
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().expect("expected F64")
    }
    /// The function reference if this is a `funcref`.
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }
    /// The external reference if this is an `externref`.
    pub fn externref(&self) -> Option<Option<&ExternRef>> {
        match self {
            Val::ExternRef(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    /// The function reference; panics if this is not a `funcref`.
    #[track_caller]
    pub fn unwrap_funcref(&self) -> Option<&Func> {
        self.funcref().expect("expected FuncRef")
    }
    /// The external reference; panics if this is not an `externref`.
    #[track_caller]
    pub fn unwrap_externref(&self) -> Option<&ExternRef> {
        self.externref().expect("expected ExternRef")
    }

    /// The raw cell for this value (references must belong to `store`).
    pub(crate) fn to_raw(&self, store: &StoreOpaque) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::i32(*v),
            Val::I64(v) => ValRaw::i64(*v),
            Val::F32(v) => ValRaw::f32_bits(*v),
            Val::F64(v) => ValRaw::f64_bits(*v),
            Val::V128(v) => ValRaw::v128(*v),
            Val::FuncRef(None) => ValRaw::funcref(core::ptr::null()),
            Val::FuncRef(Some(f)) => {
                if f.store != store.id {
                    anyhow::bail!("function reference used with the wrong store");
                }
                ValRaw::funcref(f.entry())
            }
            Val::ExternRef(None) => ValRaw::externref(0),
            Val::ExternRef(Some(r)) => {
                if r.store != store.id {
                    anyhow::bail!("external reference used with the wrong store");
                }
                ValRaw::externref(r.handle)
            }
        })
    }

    /// The value of type `ty` in a raw cell of store `store`.
    pub(crate) fn from_raw(store: StoreId, ty: ValType, raw: ValRaw) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32_bits()),
            ValType::F64 => Val::F64(raw.get_f64_bits()),
            ValType::V128 => Val::V128(raw.get_v128()),
            ValType::FuncRef | ValType::ExternRef => {
                Val::from_ref_raw(store, ty, raw.get_u64() as usize)
            }
        }
    }

    /// The reference of type `ty` in a raw table element.
    pub(crate) fn from_ref_raw(store: StoreId, ty: ValType, raw: usize) -> Val {
        match ty {
            ValType::ExternRef => {
                Val::ExternRef((raw != 0).then_some(ExternRef { store, handle: raw }))
            }
            _ => Val::FuncRef(Func::from_entry(store, raw as *const FuncEntry)),
        }
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
impl From<ExternRef> for Val {
    fn from(r: ExternRef) -> Val {
        Val::ExternRef(Some(r))
    }
}
