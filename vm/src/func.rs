//! Functions: the [`Func`] handle (a pointer to an entry slot), host functions with their
//! trampoline, [`Caller`], and calling into wasm from Rust.

mod typed;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tierup_abi::{FuncCode, FuncEntry, STATUS_OK, Tier, ValRaw, VmContext};

pub use typed::{IntoFunc, TypedFunc, WasmRet, WasmTy, WasmTyList};

use crate::Result;
use crate::externs::Extern;
use crate::instance::{Instance, InstanceData};
use crate::store::{AsContext, AsContextMut, HostFuncSlot, StoreId, StoreInner, StoreOpaque};
use crate::types::FuncType;
use crate::values::Val;

/// The closure behind a host function: reads its parameters from the cells and writes its
/// results back into them.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A function in a store: an instance's function or a host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    /// The `*const FuncEntry` of the function's slot (never null).
    pub(crate) entry: usize,
}

/// The context a host function is called with: the store and the calling instance.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    pub(crate) instance: Option<usize>,
}

impl<T> Caller<'_, T> {
    /// The store's data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The store's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &crate::Engine {
        &self.store.opaque.engine
    }

    /// An export of the calling instance (e.g. its memory), if the caller is wasm.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = Instance {
            store: self.store.opaque.id,
            index: self.instance?,
        };
        instance.get_export(&mut *self, name)
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.store.opaque.id
    }
}

/// What a host function's code record points at.
struct HostFuncRecord<T> {
    func: Arc<HostFn<T>>,
    cells: usize,
    store: *mut StoreInner<T>,
}

/// The array entry of every host function of stores with data `T`.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`]; `code.data` must point at a live
/// `HostFuncRecord<T>` whose store is not borrowed elsewhere while the closure runs.
unsafe extern "sysv64" fn host_trampoline<T: 'static>(
    _callee: *const FuncEntry,
    code: *const FuncCode,
    caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32 {
    // SAFETY: the code record of a host function points at its live record (the store owns
    // both); the buffer holds `cells` cells (the caller's contract).
    let (record, cells) = unsafe {
        let record = &*((*code).data as *const HostFuncRecord<T>);
        let cells: &mut [ValRaw] = if record.cells == 0 || args_results.is_null() {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(args_results, record.cells)
        };
        (record, cells)
    };
    let instance = if caller.is_null() {
        None
    } else {
        // SAFETY: a non-null caller context belongs to a live instance of the same store.
        unsafe {
            let inst = (*caller).instance as *const InstanceData;
            (!inst.is_null()).then(|| (*inst).index)
        }
    };
    // For a sampling profiler: this thread runs a host function.
    let _running = tierup_abi::running::enter(tierup_abi::running::HOST);
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the store outlives its host functions; wasm code running on this thread
        // holds no Rust borrow of it while it calls out.
        let store = unsafe { &mut *record.store };
        (record.func)(Caller { store, instance }, cells)
    }));
    match result {
        Ok(Ok(())) if caller.is_null() => STATUS_OK,
        // Optimized code does not test the word after its calls: where the deadline passed
        // while the host function ran, the store does what it was set to do before the
        // code goes on.
        // SAFETY: the closure's borrow of the store has ended; `caller` is the live context
        // of the calling instance, in this store.
        Ok(Ok(())) => unsafe { (*record.store).opaque.interrupts.at_host_boundary(caller) },
        Ok(Err(e)) => tierup_abi::trap::record_host_error(Box::new(e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tierup_abi::trap::record_host_error(Box::new(anyhow::anyhow!(
                "host function panicked: {msg}"
            )))
        }
    }
}

impl Func {
    /// A host function of type `ty` that receives and returns [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = dynamic_host_fn(ty.clone(), func);
        Func::from_host(store.as_context_mut().0, ty, host)
    }

    /// A host function from a typed closure (`Fn(A1..An) -> R` or
    /// `Fn(Caller<'_, T>, A1..An) -> R`).
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host();
        Func::from_host(store.as_context_mut().0, ty, host)
    }

    /// Registers a host closure in the store.
    pub(crate) fn from_host<T: 'static>(
        store: &mut StoreInner<T>,
        ty: FuncType,
        func: Arc<HostFn<T>>,
    ) -> Func {
        let record = Box::new(HostFuncRecord {
            func,
            cells: ty.cells(),
            store: store as *mut StoreInner<T>,
        });
        let type_id = store.opaque.engine.signature_id(&ty);
        let code = Box::new(FuncCode {
            array_entry: host_trampoline::<T>,
            register_entry: store.opaque.engine.array_code_register_entry(),
            data: &*record as *const HostFuncRecord<T> as *const (),
            tier: Tier::Host,
            variant: 0,
        });
        let opaque = &mut store.opaque;
        let index = u32::try_from(opaque.host_funcs.len()).unwrap_or(u32::MAX);
        // SAFETY: `code` is the valid record just made.
        let entry = Box::new(unsafe {
            FuncEntry::new(
                &*code,
                core::ptr::null_mut(),
                &*opaque.limits,
                type_id,
                index,
                0,
            )
        });
        let ptr = &*entry as *const FuncEntry as usize;
        opaque.host_funcs.push(HostFuncSlot {
            _entry: entry,
            _code: code,
            _record: record,
        });
        Func {
            store: opaque.id,
            entry: ptr,
        }
    }

    pub(crate) fn from_entry(store: StoreId, entry: *const FuncEntry) -> Option<Func> {
        (!entry.is_null()).then_some(Func {
            store,
            entry: entry as usize,
        })
    }

    pub(crate) fn entry(&self) -> *const FuncEntry {
        self.entry as *const FuncEntry
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        self.ty_in(store)
    }

    pub(crate) fn ty_in(&self, store: &StoreOpaque) -> FuncType {
        store.check(self.store);
        // SAFETY: the slot lives as long as the store, which is alive.
        let id = unsafe { (*self.entry()).type_id };
        store.engine.signature(id)
    }

    /// The function's entry slot, for tier management.
    pub fn slot(&self, store: impl AsContext) -> crate::tiering::SlotHandle {
        store.as_context().0.opaque.check(self.store);
        crate::tiering::SlotHandle::from_raw(self.entry())
    }

    /// Calls the function with `params`, writing its results into `results`.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let ty = self.ty_in(store);
        if params.len() != ty.params().len() {
            anyhow::bail!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            );
        }
        if results.len() != ty.results().len() {
            anyhow::bail!(
                "expected {} results, got {}",
                ty.results().len(),
                results.len()
            );
        }
        let mut cells = vec![ValRaw::ZERO; ty.cells()];
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if p.ty() != *t {
                anyhow::bail!("argument {i} has type {}, expected {t}", p.ty());
            }
            cells[i] = p.to_raw(store)?;
        }
        let id = store.id;
        let wasm = store.wasm_entry();
        // SAFETY: the slot is live and the buffer has `max(params, results)` cells.
        unsafe { call_raw(self.entry(), &wasm, &mut cells)? };
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = Val::from_raw(id, *t, cells[i]);
        }
        Ok(())
    }

    /// A typed view of the function; fails if the types differ.
    pub fn typed<P: WasmTyList, R: WasmTyList>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let ty = self.ty(store);
        TypedFunc::new(*self, &ty)
    }
}

/// Calls the slot `entry` with the cells, turning a trap into an error. This is where Rust
/// enters wasm: the thread's stack limit for the store (`limits`) is set here.
///
/// The caller must not hold a Rust borrow of the store that it uses after the call begins:
/// host functions reached from the callee borrow the store themselves.
///
/// # Safety
///
/// `entry` must be a live slot of the live store that `wasm` is of, and `cells` at least
/// `max(params, results)` long.
pub(crate) unsafe fn call_raw(
    entry: *const FuncEntry,
    wasm: &crate::store::WasmEntry,
    cells: &mut [ValRaw],
) -> Result<()> {
    let ptr = cells.as_mut_ptr();
    // SAFETY: the caller's contract: the limits and interrupts live as long as the store.
    let (limits, interrupts) = unsafe { (&*wasm.limits, &*wasm.interrupts) };
    let _entered = crate::code::enter_wasm(limits, wasm.max_wasm_stack);
    let _running = interrupts.enter();
    // SAFETY: the caller's contract.
    let vmctx = unsafe { (*entry).vmctx };
    if !vmctx.is_null() {
        // Optimized code does not test the word at its entries: where the deadline has
        // passed, the store does what it was set to do before the code runs.
        // SAFETY: a live instance's context of this store, which nothing borrows now.
        let status = unsafe { interrupts.at_host_boundary(vmctx) };
        if status != STATUS_OK {
            return Err(crate::trap::from_record(tierup_abi::trap::take(status)));
        }
    }
    // SAFETY: the caller's contract.
    let status = unsafe { FuncEntry::call(entry, core::ptr::null_mut(), ptr) };
    if status == STATUS_OK {
        Ok(())
    } else {
        Err(crate::trap::from_record(tierup_abi::trap::take(status)))
    }
}

/// Wraps a closure over [`Val`]s as a raw host closure.
pub(crate) fn dynamic_host_fn<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn<T>> {
    Arc::new(move |caller: Caller<'_, T>, cells: &mut [ValRaw]| {
        let id = caller.store_id();
        let params: Vec<Val> = ty
            .params()
            .iter()
            .zip(cells.iter())
            .map(|(t, c)| Val::from_raw(id, *t, *c))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let store_ptr: *const StoreOpaque = &caller.store.opaque;
        func(caller, &params, &mut results)?;
        // SAFETY: the caller was consumed; the store is still alive and not borrowed.
        let store = unsafe { &*store_ptr };
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if r.ty() != *t {
                anyhow::bail!("host function result {i} has type {}, expected {t}", r.ty());
            }
            cells[i] = r.to_raw(store)?;
        }
        Ok(())
    })
}
