//! The libcall table ([`LIBCALLS`]) shared by all instances, and the lazy entry every
//! defined function starts with. Every `extern "sysv64"` function here catches panics and
//! turns them into traps, so no unwind crosses generated code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tierup_abi::{FuncCode, FuncEntry, Libcalls, STATUS_OK, Tier, TrapCode, ValRaw, VmContext};
use tierup_abi::{bulk, trap};

use crate::instance::InstanceData;
use crate::store::StoreOpaque;

/// The libcall table every `VmContext` points at.
pub(crate) static LIBCALLS: Libcalls = Libcalls {
    memory_grow,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    translate,
    raise: crate::code::RAISE,
    hot,
    epoch,
    epoch_preserving: crate::code::EPOCH_PRESERVING,
};

/// Runs `f`, turning a panic into `on_panic` with a recorded trap.
fn guard<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            trap::record_with_message(
                TrapCode::Host,
                "internal error: a runtime call panicked".into(),
            );
            on_panic
        }
    }
}

/// The instance and store of a context.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance, and nothing else may use the store
/// while the returned references are alive.
unsafe fn parts<'a>(vmctx: *mut VmContext) -> (&'a mut InstanceData, &'a mut StoreOpaque) {
    // SAFETY: the caller's contract; `instance` and `store` were set at instantiation.
    unsafe {
        (
            &mut *((*vmctx).instance as *mut InstanceData),
            &mut *((*vmctx).store as *mut StoreOpaque),
        )
    }
}

/// `memory.grow`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn memory_grow(vmctx: *mut VmContext, memory: u32, delta: u32) -> u32 {
    guard(u32::MAX, || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let Some(m) = inst.memories.get(memory as usize) else {
            return u32::MAX;
        };
        store.memories[*m]
            .grow(u64::from(delta))
            .map_or(u32::MAX, |old| old as u32)
    })
}

/// `memory.init`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn memory_init(
    vmctx: *mut VmContext,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guard(TrapCode::Host.status(), || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let range = inst.datas.get(data as usize).cloned().unwrap_or(0..0);
        let seg = &inst.module.inner.env.wasm[range];
        let Some(m) = inst.memories.get(memory as usize) else {
            return trap::record(TrapCode::MemoryOutOfBounds);
        };
        let mem = store.memories[*m].data_mut();
        if !bulk::copy_in(seg, mem, dst as usize, src as usize, len as usize) {
            return trap::record(TrapCode::MemoryOutOfBounds);
        }
        STATUS_OK
    })
}

/// `data.drop`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn data_drop(vmctx: *mut VmContext, data: u32) {
    guard((), || {
        // SAFETY: the caller's contract.
        let (inst, _) = unsafe { parts(vmctx) };
        if let Some(d) = inst.datas.get_mut(data as usize) {
            *d = 0..0;
        }
    })
}

/// `table.grow`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn table_grow(
    vmctx: *mut VmContext,
    table: u32,
    init: usize,
    delta: u32,
) -> u32 {
    guard(u32::MAX, || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let Some(t) = inst.tables.get(table as usize) else {
            return u32::MAX;
        };
        store.tables[*t].grow(delta, init).unwrap_or(u32::MAX)
    })
}

/// `table.fill`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn table_fill(
    vmctx: *mut VmContext,
    table: u32,
    dst: u32,
    val: usize,
    len: u32,
) -> u32 {
    guard(TrapCode::Host.status(), || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let Some(t) = inst.tables.get(table as usize) else {
            return trap::record(TrapCode::TableOutOfBounds);
        };
        let elems = store.tables[*t].elements_mut();
        let Some(r) = bulk::range(dst as usize, len as usize, elems.len()) else {
            return trap::record(TrapCode::TableOutOfBounds);
        };
        elems[r].fill(val);
        STATUS_OK
    })
}

/// `table.copy`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn table_copy(
    vmctx: *mut VmContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guard(TrapCode::Host.status(), || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let (Some(dt), Some(st)) = (
            inst.tables.get(dst_table as usize),
            inst.tables.get(src_table as usize),
        ) else {
            return trap::record(TrapCode::TableOutOfBounds);
        };
        let len = len as usize;
        let (Some(dr), Some(sr)) = (
            bulk::range(dst as usize, len, store.tables[*dt].elements().len()),
            bulk::range(src as usize, len, store.tables[*st].elements().len()),
        ) else {
            return trap::record(TrapCode::TableOutOfBounds);
        };
        if dt == st {
            store.tables[*dt].elements_mut().copy_within(sr, dr.start);
        } else {
            let items: Vec<usize> = store.tables[*st].elements()[sr].to_vec();
            store.tables[*dt].elements_mut()[dr].copy_from_slice(&items);
        }
        STATUS_OK
    })
}

/// `table.init`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn table_init(
    vmctx: *mut VmContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    guard(TrapCode::Host.status(), || {
        // SAFETY: the caller's contract.
        let (inst, store) = unsafe { parts(vmctx) };
        let seg: &[usize] = inst.elems.get(elem as usize).map_or(&[], |s| &s[..]);
        let Some(t) = inst.tables.get(table as usize) else {
            return trap::record(TrapCode::TableOutOfBounds);
        };
        let elems = store.tables[*t].elements_mut();
        if !bulk::copy_in(seg, elems, dst as usize, src as usize, len as usize) {
            return trap::record(TrapCode::TableOutOfBounds);
        }
        STATUS_OK
    })
}

/// `elem.drop`.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn elem_drop(vmctx: *mut VmContext, elem: u32) {
    guard((), || {
        // SAFETY: the caller's contract.
        let (inst, _) = unsafe { parts(vmctx) };
        if let Some(e) = inst.elems.get_mut(elem as usize) {
            *e = Box::new([]);
        }
    })
}

/// Compiles the function behind `callee` in the tier it runs in (once per module, for the
/// instance's kind of memory), publishes it into the slots of the live instances that still
/// hold its lazy record, and returns the slot's code; null with a recorded `CompileError`
/// trap on failure.
///
/// # Safety
///
/// `callee` must be a live slot of a defined function.
unsafe extern "sysv64" fn translate(callee: *const FuncEntry) -> *const FuncCode {
    guard(core::ptr::null(), || {
        // SAFETY: the caller's contract; a defined function's slot has its instance's context.
        let inst = unsafe { &*((*(*callee).vmctx).instance as *const InstanceData) };
        // SAFETY: as above.
        let func_index = unsafe { (*callee).func_index };
        match inst
            .module
            .inner
            .compile_lazy(func_index, inst.bounds_checks)
        {
            // SAFETY: `callee` is live (caller's contract).
            Ok(_) => unsafe { (*callee).load_code() },
            Err(e) => {
                trap::record_with_message(TrapCode::CompileError, format!("{e:#}"));
                core::ptr::null()
            }
        }
    })
}

/// The array entry of the shared `Lazy` record: translates, publishes, then runs.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`].
pub(crate) unsafe extern "sysv64" fn lazy_entry(
    callee: *const FuncEntry,
    _code: *const FuncCode,
    caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32 {
    // SAFETY: the caller's contract covers `callee`.
    let code = unsafe { translate(callee) };
    if code.is_null() {
        return TrapCode::CompileError.status();
    }
    // SAFETY: `code` is a live record for this function; arguments are passed through.
    unsafe { ((*code).array_entry)(callee, code, caller, args_results) }
}

/// A function of the instance ran out of its hotness budget (see `Libcalls::hot`): the tier
/// manager decides what to compile, and hands back an OSR entry when one is ready.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance.
unsafe extern "sysv64" fn hot(
    vmctx: *mut VmContext,
    func_index: u32,
    at: u32,
    tier: u32,
    outer: u32,
) -> *const FuncCode {
    guard(core::ptr::null(), || {
        let Some(tier) = u8::try_from(tier).ok().and_then(Tier::from_u8) else {
            return core::ptr::null();
        };
        // SAFETY: the caller's contract; the tier manager only reads the instance.
        unsafe { crate::tiering::hot(vmctx, func_index, at, outer, tier) }
    })
}

/// Code found its interrupt word set: where the store's epoch deadline has passed, a trap
/// with `interrupt`, or the store's callback.
///
/// # Safety
///
/// `vmctx` must be the context of a live instance whose store nothing else uses.
pub(crate) unsafe extern "sysv64" fn epoch(vmctx: *mut VmContext) -> u32 {
    guard(TrapCode::Host.status(), || {
        // SAFETY: the caller's contract; the store is only reached through this pointer
        // until the call returns.
        let store = unsafe { (*vmctx).store as *mut StoreOpaque };
        // SAFETY: as above.
        unsafe { crate::interrupt::deadline_passed(store) }
    })
}
