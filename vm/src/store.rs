//! [`Store`]: owns everything instantiated or created at run time (instances, memories,
//! tables, globals, host functions, externref data) plus the embedder's data `T`, and the
//! [`AsContext`]/[`AsContextMut`] traits through which the API accepts a store or a caller.

use core::sync::atomic::{AtomicU64, Ordering};
use std::any::Any;

use tierup_abi::{FuncCode, FuncEntry, RuntimeLimits};

use crate::engine::Engine;
use crate::func::Caller;
use crate::global::GlobalInstance;
use crate::instance::InstanceData;
use crate::memory::MemoryInstance;
use crate::table::TableInstance;

/// The identity of a store; every handle carries the id of the store it belongs to.
pub(crate) type StoreId = u64;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// A host function's slot, its code record and its (type-erased) closure record.
pub(crate) struct HostFuncSlot {
    // Field order: the slot points at the code, which points at the record.
    pub _entry: Box<FuncEntry>,
    pub _code: Box<FuncCode>,
    pub _record: Box<dyn Any>,
}

/// The part of a store that does not depend on `T`.
///
/// Items are boxed because code holds their addresses (`VmContext`, `MemoryDef`,
/// `TableDef`, global cells), which must not move when the vectors grow.
#[allow(clippy::vec_box)]
pub(crate) struct StoreOpaque {
    pub engine: Engine,
    pub id: StoreId,
    pub instances: Vec<Box<InstanceData>>,
    pub memories: Vec<Box<MemoryInstance>>,
    pub tables: Vec<Box<TableInstance>>,
    pub globals: Vec<Box<GlobalInstance>>,
    pub host_funcs: Vec<HostFuncSlot>,
    pub externrefs: Vec<Box<dyn Any + Send + Sync>>,
    /// The limits every instance's context points at.
    pub limits: Box<RuntimeLimits>,
}

impl StoreOpaque {
    /// What an entry into wasm from Rust needs (see `func::call_raw`): the store's limits
    /// and the stack wasm may use.
    pub fn entry_limits(&self) -> (*const RuntimeLimits, usize) {
        (&*self.limits, self.engine.config().max_wasm_stack)
    }

    /// Panics with a clear message when a handle of another store is used.
    #[track_caller]
    pub fn check(&self, id: StoreId) {
        assert_eq!(id, self.id, "object used with the wrong store");
    }
}

/// A store's state. `repr(C)` with the opaque part first, so that a pointer to it is also a
/// pointer to its [`StoreOpaque`] (this is what `VmContext::store` holds).
#[repr(C)]
pub(crate) struct StoreInner<T> {
    pub opaque: StoreOpaque,
    pub data: T,
}

/// A collection of instances and host objects, with the embedder's data `T`.
///
/// Everything created in a store lives until the store is dropped.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

// SAFETY: everything a store owns is reachable only through the store (raw pointers in
// contexts, slots and host records point into the store itself or into `Sync` modules), and
// host closures are `Send + Sync`; so moving the whole store to another thread is sound when
// the embedder's data is `Send`.
unsafe impl<T: Send> Send for Store<T> {}

impl<T> Store<T> {
    /// A new store of `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    engine: engine.clone(),
                    id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                    instances: Vec::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    host_funcs: Vec::new(),
                    externrefs: Vec::new(),
                    limits: Box::new(RuntimeLimits::new(engine.config().max_call_depth)),
                },
                data,
            }),
        }
    }

    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store and returns the embedder's data.
    pub fn into_data(self) -> T {
        let inner = *self.inner;
        inner.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
}

impl<T> core::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .finish()
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

/// Something that gives shared access to a store: `&Store<T>`, `&mut Store<T>`, a
/// [`Caller`], or a store context.
pub trait AsContext {
    /// The store's data type.
    type Data;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Something that gives exclusive access to a store.
pub trait AsContextMut: AsContext {
    /// Borrows the store exclusively.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}
impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}
impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}
impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}
impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}
impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}
impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}
impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(c: StoreContextMut<'a, T>) -> Self {
        StoreContext(c.0)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut s.inner)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(c.store)
    }
}
