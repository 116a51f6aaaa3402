//! [`Store`]: owns everything instantiated or created at run time (instances, memories,
//! tables, globals, host functions, externref data) plus the embedder's data `T`, and the
//! [`AsContext`]/[`AsContextMut`] traits through which the API accepts a store or a caller.

use core::sync::atomic::{AtomicU64, Ordering};
use std::any::Any;
use std::sync::Arc;

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
    /// The epoch deadline and the instances' interrupt words (shared with the engine:
    /// [`Engine::increment_epoch`]).
    pub interrupts: Arc<crate::interrupt::Interrupts>,
    /// What the store does when its epoch deadline passes.
    pub on_deadline: OnDeadline,
}

/// What a store does when code finds its epoch deadline passed
/// ([`Store::epoch_deadline_trap`], [`Store::epoch_deadline_callback`]).
pub(crate) enum OnDeadline {
    /// Trap with `interrupt`.
    Trap,
    /// Ask the embedder, through the typed callback behind this (which gets the store's
    /// `StoreInner<T>` as a pointer to its opaque part). `None` while it runs.
    Callback(Option<DeadlineCallback>),
}

/// A store's epoch deadline callback, with its data type erased.
pub(crate) type DeadlineCallback =
    Box<dyn FnMut(*mut StoreOpaque) -> crate::Result<UpdateDeadline> + Send + Sync>;

/// What an epoch deadline callback ([`Store::epoch_deadline_callback`]) tells the store to
/// do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateDeadline {
    /// Go on running, with the deadline this many ticks past the current epoch.
    Continue(u64),
    /// Stop: the code traps with `interrupt`.
    Interrupt,
}

/// What an entry into wasm from Rust needs of the store, as pointers (the store itself is
/// not borrowed during the call).
pub(crate) struct WasmEntry {
    /// The limits every instance's context points at.
    pub limits: *const RuntimeLimits,
    /// The stack wasm may use.
    pub max_wasm_stack: usize,
    /// The store's interrupts, which record the thread that runs the store.
    pub interrupts: *const crate::interrupt::Interrupts,
}

impl StoreOpaque {
    /// What an entry into wasm from Rust needs (see `func::call_raw`).
    pub fn wasm_entry(&self) -> WasmEntry {
        WasmEntry {
            limits: &*self.limits,
            max_wasm_stack: self.engine.config().max_wasm_stack,
            interrupts: &*self.interrupts,
        }
    }

    /// Panics with a clear message when a handle of another store is used.
    #[track_caller]
    pub fn check(&self, id: StoreId) {
        assert_eq!(id, self.id, "object used with the wrong store");
    }

    /// Sets the epoch deadline `ticks` past the engine's current epoch (and the instances'
    /// interrupt words by it).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let deadline = self.engine.epoch().saturating_add(ticks);
        let engine = &self.engine;
        self.interrupts.set_deadline(deadline, || engine.epoch());
    }
}

impl Drop for StoreOpaque {
    fn drop(&mut self) {
        // Before the instances go: the engine must not set their words after.
        self.interrupts.clear();
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
        let store = Store {
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
                    interrupts: Arc::new(crate::interrupt::Interrupts::new(engine.preempts())),
                    on_deadline: OnDeadline::Trap,
                },
                data,
            }),
        };
        engine.register_interruptible(&store.inner.opaque.interrupts);
        store
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

    /// Sets the store's epoch deadline `ticks` increments of the engine's epoch
    /// ([`Engine::increment_epoch`]) from now: where [`crate::Config::epoch_interruption`]
    /// is on, wasm code of the store that runs when the epoch reaches it stops at its next
    /// function entry or loop header, and the store does what
    /// [`Store::epoch_deadline_trap`] or [`Store::epoch_deadline_callback`] set (by
    /// default, trap with `interrupt`). A new store has no deadline. The deadline stays
    /// until it is set again: after an interrupt, code of the store traps again at once
    /// until it is.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.inner.opaque.set_epoch_deadline(ticks);
    }

    /// When the epoch deadline passes, trap with `interrupt` (the default). The store
    /// stays usable: the trap unwinds the wasm frames, and a new deadline lets code run
    /// again.
    pub fn epoch_deadline_trap(&mut self) {
        self.inner.opaque.on_deadline = OnDeadline::Trap;
    }

    /// When the epoch deadline passes, call `callback` with the store (on the thread that
    /// runs the code, which waits for it): [`UpdateDeadline::Continue`] lets the code go on
    /// with a new deadline, [`UpdateDeadline::Interrupt`] traps with `interrupt`, an
    /// error traps with it (as a host function's error does).
    pub fn epoch_deadline_callback(
        &mut self,
        mut callback: impl FnMut(StoreContextMut<'_, T>) -> crate::Result<UpdateDeadline>
        + Send
        + Sync
        + 'static,
    ) {
        let erased: DeadlineCallback = Box::new(move |store: *mut StoreOpaque| {
            // SAFETY: the runtime calls this with the opaque part of this store, the
            // first field of a `StoreInner<T>` (`repr(C)`), while nothing else borrows
            // it (`call_deadline_callback`).
            let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
            callback(StoreContextMut(inner))
        });
        self.inner.opaque.on_deadline = OnDeadline::Callback(Some(erased));
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
    /// See [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.0.opaque.set_epoch_deadline(ticks);
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
