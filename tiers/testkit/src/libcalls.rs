//! The kit's libcall table ([`LIBCALLS`]) and the entry of not-yet-compiled functions
//! ([`lazy_entry`]). The semantics and trap codes are the runtime's: bounds are checked
//! before anything is written, an out-of-bounds range traps with
//! [`TrapCode::MemoryOutOfBounds`] or [`TrapCode::TableOutOfBounds`] (recorded with
//! `tierup_abi::trap::record`), a failed grow returns -1. Every function catches panics
//! (of the kit or of the compiler under test) and turns them into traps, so no unwind
//! leaves through generated code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tierup_abi::{FuncCode, FuncEntry, Libcalls, STATUS_OK, TrapCode, ValRaw, VmContext};
use tierup_abi::{bulk, trap};

use crate::runtime::{Runtime, panic_message};

/// The libcall table of every kit instance.
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
    raise,
    hot,
    epoch,
    epoch_preserving,
};

/// Runs `f` on the runtime of `vmctx`. A context without a kit runtime, or a panic (which
/// becomes a recorded `panic_code` trap with the panic's message), returns `fallback`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance whose runtime nothing else
/// borrows while `f` runs (libcalls never run wasm code, so none nests).
unsafe fn with_runtime<R>(
    vmctx: *mut VmContext,
    fallback: R,
    panic_code: TrapCode,
    f: impl FnOnce(&mut Runtime) -> R,
) -> R {
    // SAFETY: the caller's contract: null or a live context.
    let instance = unsafe { vmctx.as_ref() }.map_or(core::ptr::null_mut(), |v| v.instance);
    // SAFETY: a kit context's `instance` is null or the instance's `Runtime`, which
    // nothing else borrows now (the caller's contract).
    let runtime = unsafe { (instance as *mut Runtime).as_mut() };
    let Some(runtime) = runtime else {
        trap::record_with_message(
            TrapCode::Host,
            "internal error: a libcall on a context without a kit instance".into(),
        );
        return fallback;
    };
    match catch_unwind(AssertUnwindSafe(|| f(runtime))) {
        Ok(r) => r,
        Err(payload) => {
            trap::record_with_message(
                panic_code,
                format!(
                    "internal error: a libcall panicked: {}",
                    panic_message(&*payload)
                ),
            );
            fallback
        }
    }
}

/// `memory.grow`: the old size in pages, or -1.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn memory_grow(vmctx: *mut VmContext, memory: u32, delta: u32) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, u32::MAX, TrapCode::Host, |rt| {
            match rt.memory.as_mut().filter(|_| memory == 0) {
                Some(m) => m.grow(delta),
                None => u32::MAX,
            }
        })
    }
}

/// `memory.init`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn memory_init(
    vmctx: *mut VmContext,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, TrapCode::Host.status(), TrapCode::Host, |rt| {
            let seg = rt.datas.get(data as usize).cloned().unwrap_or(0..0);
            let seg = rt.env.wasm.get(seg).unwrap_or(&[]);
            let Some(mem) = rt.memory.as_mut().filter(|_| memory == 0) else {
                return trap::record(TrapCode::MemoryOutOfBounds);
            };
            if !bulk::copy_in(
                seg,
                mem.bytes_mut(),
                dst as usize,
                src as usize,
                len as usize,
            ) {
                return trap::record(TrapCode::MemoryOutOfBounds);
            }
            STATUS_OK
        })
    }
}

/// `data.drop`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn data_drop(vmctx: *mut VmContext, data: u32) {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, (), TrapCode::Host, |rt| {
            if let Some(d) = rt.datas.get_mut(data as usize) {
                *d = 0..0;
            }
        })
    }
}

/// `table.grow`: the old size, or -1.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn table_grow(
    vmctx: *mut VmContext,
    table: u32,
    init: usize,
    delta: u32,
) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, u32::MAX, TrapCode::Host, |rt| {
            match rt.tables.get_mut(table as usize) {
                Some(t) => t.grow(delta, init),
                None => u32::MAX,
            }
        })
    }
}

/// `table.fill`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn table_fill(
    vmctx: *mut VmContext,
    table: u32,
    dst: u32,
    val: usize,
    len: u32,
) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, TrapCode::Host.status(), TrapCode::Host, |rt| {
            let Some(t) = rt.tables.get_mut(table as usize) else {
                return trap::record(TrapCode::TableOutOfBounds);
            };
            let Some(r) = bulk::range(dst as usize, len as usize, t.elems().len()) else {
                return trap::record(TrapCode::TableOutOfBounds);
            };
            t.update(|e| e[r].fill(val));
            STATUS_OK
        })
    }
}

/// `table.copy`: overlapping ranges of one table copy as if through a temporary.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn table_copy(
    vmctx: *mut VmContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, TrapCode::Host.status(), TrapCode::Host, |rt| {
            let (d, s) = (dst_table as usize, src_table as usize);
            let (Some(dt), Some(st)) = (rt.tables.get(d), rt.tables.get(s)) else {
                return trap::record(TrapCode::TableOutOfBounds);
            };
            let (Some(dr), Some(sr)) = (
                bulk::range(dst as usize, len as usize, dt.elems().len()),
                bulk::range(src as usize, len as usize, st.elems().len()),
            ) else {
                return trap::record(TrapCode::TableOutOfBounds);
            };
            if d == s {
                rt.tables[d].update(|e| e.copy_within(sr, dr.start));
            } else {
                let (to, from) = if d < s {
                    let (low, high) = rt.tables.split_at_mut(s);
                    (&mut low[d], &high[0])
                } else {
                    let (low, high) = rt.tables.split_at_mut(d);
                    (&mut high[0], &low[s])
                };
                let from = &from.elems()[sr];
                to.update(|e| e[dr].copy_from_slice(from));
            }
            STATUS_OK
        })
    }
}

/// `table.init`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn table_init(
    vmctx: *mut VmContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, TrapCode::Host.status(), TrapCode::Host, |rt| {
            let seg: &[usize] = rt.elems.get(elem as usize).map_or(&[], |s| &s[..]);
            let Some(t) = rt.tables.get_mut(table as usize) else {
                return trap::record(TrapCode::TableOutOfBounds);
            };
            if !t.update(|e| bulk::copy_in(seg, e, dst as usize, src as usize, len as usize)) {
                return trap::record(TrapCode::TableOutOfBounds);
            }
            STATUS_OK
        })
    }
}

/// `elem.drop`.
///
/// # Safety
///
/// `vmctx` must be null or the context of a live kit instance.
unsafe extern "sysv64" fn elem_drop(vmctx: *mut VmContext, elem: u32) {
    // SAFETY: the caller's contract.
    unsafe {
        with_runtime(vmctx, (), TrapCode::Host, |rt| {
            if let Some(e) = rt.elems.get_mut(elem as usize) {
                *e = Box::new([]);
            }
        })
    }
}

/// Compiles the function behind `callee` with the instance's compiler, publishes the code
/// into the slot if it still holds the lazy record, and returns the slot's code; null with a
/// recorded [`TrapCode::CompileError`] (the compiler's message attached) on failure.
///
/// # Safety
///
/// `callee` must be a live slot of a kit instance.
unsafe extern "sysv64" fn translate(callee: *const FuncEntry) -> *const FuncCode {
    // SAFETY: the caller's contract: a live slot.
    let (vmctx, func_index) = unsafe { ((*callee).vmctx, (*callee).func_index) };
    let failed = core::ptr::null();
    if vmctx.is_null() {
        trap::record_with_message(
            TrapCode::CompileError,
            format!("function {func_index} is a host function, not one to compile"),
        );
        return failed;
    }
    let work = |rt: &mut Runtime| {
        let lazy = rt.lazy.ptr();
        // SAFETY: the slot is live (the caller's contract).
        let current = unsafe { (*callee).load_code() };
        if current != lazy.cast_const() {
            return current;
        }
        let code = match rt.compile(func_index) {
            Ok(code) => code,
            Err(message) => {
                trap::record_with_message(
                    TrapCode::CompileError,
                    format!("function {func_index} failed to compile: {message}"),
                );
                return failed;
            }
        };
        // SAFETY: the slot is live; `code` is the record of code the runtime keeps until
        // the instance drops, valid by the `OwnedCode` contract.
        unsafe { (*callee).publish(code) };
        code
    };
    // SAFETY: a defined function's slot holds its instance's live context.
    unsafe { with_runtime(vmctx, failed, TrapCode::CompileError, work) }
}

/// The array entry of the lazy record: compiles, publishes, then runs the new code.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`]; `callee` is a slot of a kit instance.
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
    // SAFETY: `code` is the slot's live record for this function; the arguments are
    // passed through unchanged.
    unsafe { ((*code).array_entry)(callee, code, caller, args_results) }
}

/// `raise`: only machine code calls it, to unwind its frames to the runtime's entry
/// trampoline, and the kit loads no machine code (see `compiler`), so a call means a tier
/// broke the contract. It cannot return, and there is no trampoline to unwind to, so it
/// aborts the test process with the status.
unsafe extern "sysv64" fn raise(status: u32) {
    eprintln!("tierup-testkit: `raise({status})` called, but the kit runs no machine code");
    std::process::abort();
}

/// The kit has one tier per instance and never tiers up: a hot function stays where it is.
unsafe extern "sysv64" fn hot(
    _: *mut VmContext,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
) -> *const FuncCode {
    core::ptr::null()
}

/// The kit has no epoch (its limits point at none), so no code calls this; should one, it
/// traps with `interrupt`.
unsafe extern "sysv64" fn epoch(_vmctx: *mut VmContext) -> u32 {
    tierup_abi::trap::record(tierup_abi::TrapCode::Interrupt)
}

/// The kit has no epoch, so no code calls this; should one, it ends the process (it cannot
/// return a status, and the kit has nothing to raise to).
unsafe extern "sysv64" fn epoch_preserving(_vmctx: *mut VmContext) {
    eprintln!("tierup: `epoch_preserving` called without an epoch");
    std::process::abort();
}
