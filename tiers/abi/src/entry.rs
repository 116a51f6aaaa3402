//! Entry slots ([`FuncEntry`]), the immutable code records they point at ([`FuncCode`]) and
//! the uniform array calling convention ([`ArrayEntry`]).
//!
//! # Invariants
//!
//! 1. A `FuncEntry` lives at a stable address for as long as its instance (for host
//!    functions: its store) lives. Funcref table elements and `funcref` values are
//!    `*const FuncEntry`.
//! 2. `FuncEntry::code` always points at a valid `FuncCode`. A `FuncCode` is never mutated
//!    after it is first published, and it (with everything its `data` points at) stays
//!    alive until its owner is dropped (the module for code of its functions, the store for
//!    a host function), so an activation still running old code stays valid after a newer
//!    record is published.
//! 3. Publishing new code is one `code.store(new, Release)`; callers load with `Acquire`.
//!    Nothing else on the call path takes a lock.

use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};

use crate::val::ValRaw;
use crate::vmctx::{RuntimeLimits, VmContext};

/// The uniform "array" entry every tier provides for every function.
///
/// * `callee` — the entry slot through which the function is called; `callee.vmctx` is the
///   callee instance's context (null for host functions).
/// * `code` — the record loaded from `callee.code`, whose `data` the callee uses.
/// * `caller` — the calling instance's context, or null when the runtime calls in from Rust.
/// * `args_results` — at least `max(params, results)` cells: parameters on entry, results
///   on a normal return.
///
/// Returns [`crate::STATUS_OK`] or a trap status (a [`crate::TrapCode`] as `u32`), whose
/// details sit in the per-thread [`crate::trap`] record.
///
/// # Safety
///
/// `callee` and `code` must be valid (see the module invariants), `args_results` must point
/// at enough cells, and the callee's store must not be in use by another thread.
pub type ArrayEntry = unsafe extern "sysv64" fn(
    callee: *const FuncEntry,
    code: *const FuncCode,
    caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32;

/// Which tier produced a [`FuncCode`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Not translated yet: the entry translates the function on its first call, publishes
    /// the result and runs it.
    Lazy = 0,
    /// A function defined by the host (an imported closure, WASI, `spectest`).
    Host = 1,
    /// Register bytecode run by `tierup-interp`.
    Interp = 2,
    /// Single-pass baseline machine code (`tierup-baseline`).
    Baseline = 3,
    /// Cranelift-optimised machine code (`tierup-optimizing`).
    Optimizing = 4,
}

impl Tier {
    /// The tier stored as `u8`, or `None` for a value no tier uses.
    pub const fn from_u8(v: u8) -> Option<Tier> {
        Some(match v {
            0 => Tier::Lazy,
            1 => Tier::Host,
            2 => Tier::Interp,
            3 => Tier::Baseline,
            4 => Tier::Optimizing,
            _ => return None,
        })
    }

    /// A short lower-case name, as the CLI and tier events spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Tier::Lazy => "lazy",
            Tier::Host => "host",
            Tier::Interp => "interp",
            Tier::Baseline => "baseline",
            Tier::Optimizing => "optimizing",
        }
    }
}

/// An immutable description of one piece of executable code for one function.
#[repr(C)]
#[derive(Debug)]
pub struct FuncCode {
    /// The array entry to call.
    pub array_entry: ArrayEntry,
    /// The register entry (see [`crate::regcall`]) that JIT code calls: the function's own
    /// for machine code, otherwise an entry of the runtime that calls `array_entry` by
    /// the signature's adapter. In the runtime, that is one resolving entry for every
    /// signature, which finds (or first compiles) the adapter of the callee slot's
    /// `type_id`, stores it into the slot's `register_entry` and continues into it, so
    /// that no adapter is made before a call needs it. Null only where no JIT tier can
    /// call the function (an engine that runs the interpreter alone, the test kit).
    pub register_entry: *const (),
    /// Tier-private data; only the tier that made the record reads it. The runtime's host
    /// functions keep their closure record here; the interpreter leaves it null (its record
    /// is the first field of the translated function, so the record's address is the
    /// function's); machine code keeps the address of its array shim (see
    /// [`crate::compile`]) here.
    pub data: *const (),
    /// The tier this code belongs to.
    pub tier: Tier,
    /// Which form of its tier's code this is, for a tier with more than one; 0 for every
    /// other. The interpreter translates a function whose registers do not fit its
    /// compact 16-bit operands into a wide form with 32-bit ones (see `tierup-interp`'s
    /// crate docs); each form runs its own records directly and calls the other's
    /// through their array entry, and tells them apart by [`FuncCode::kind`].
    pub variant: u8,
}

impl FuncCode {
    /// `tier` and `variant` as one number (`tier` in the low byte): the two adjacent
    /// bytes of the record, which a check for one kind of code compares in one load.
    #[inline(always)]
    pub fn kind(&self) -> u16 {
        FuncCode::kind_of(self.tier, self.variant)
    }

    /// The [`FuncCode::kind`] of records of `tier` in `variant`.
    pub const fn kind_of(tier: Tier, variant: u8) -> u16 {
        tier as u16 | (variant as u16) << 8
    }
}

// SAFETY: a `FuncCode` is immutable once published (module invariant 2), and the data it
// points at is owned by a module or store that outlives every use and is itself `Sync`.
unsafe impl Send for FuncCode {}
// SAFETY: see `Send`.
unsafe impl Sync for FuncCode {}

/// The entry slot of one function of one instance.
#[repr(C)]
#[derive(Debug)]
pub struct FuncEntry {
    /// The current code. Published with `Release`, read with `Acquire`.
    pub code: AtomicPtr<FuncCode>,
    /// The register entry of the current code (`code.register_entry`), which JIT code
    /// calls; published just before `code` (see invariant 3). Where that is the runtime's
    /// resolving entry (see [`FuncCode::register_entry`]), the entry may replace itself
    /// here with the adapter it resolved to, by a compare-and-swap from itself: both call
    /// the array entry of whatever `code` holds at the call.
    pub register_entry: AtomicPtr<()>,
    /// The instance context the function runs in; null for host functions.
    pub vmctx: *mut VmContext,
    /// The limits of the store the slot belongs to (`vmctx.limits` for a function of an
    /// instance), so that a prologue reaches the stack limit in two loads from the slot.
    pub limits: *const RuntimeLimits,
    /// The canonical id of the function's signature (engine-wide in the runtime), which
    /// `call_indirect` compares with the id of the type it expects.
    pub type_id: u32,
    /// The function's index in its defining module (for host functions: an index in the
    /// store's host function list).
    pub func_index: u32,
    /// The hotness counter of machine code that counts its own
    /// ([`crate::CompileOptions::hotness_budget`], the baseline tier in the tiered mode):
    /// the code subtracts the work it does from it (`sub dword [slot + hotness], work`
    /// at its entry and at loop headers) and reports itself hot through
    /// [`crate::Libcalls::hot`] when it drops below zero, setting it back to its budget
    /// first. It starts at the value given to [`FuncEntry::new`] (the runtime gives that
    /// budget; 0 from the test kit). Per slot, so per instance: the manager adds the
    /// reports of all instances up per module function. Racy by design (plain
    /// read-modify-write from whichever thread runs the code): a lost update costs a
    /// report, never correctness.
    pub hotness: AtomicI32,
    /// The OSR request, the high half of the 64-bit value whose low half is `hotness`
    /// (so it follows it in memory): negative when the runtime wants an activation of
    /// code that counts its hotness at the next outermost loop header it passes, 0
    /// otherwise. Such a header spends the two halves as one (`sub qword [slot +
    /// hotness], work; jl report`), so that a request makes it report whatever the
    /// counter says, at no cost on its fast path; its report sets both halves back. 0
    /// from [`FuncEntry::new`]; the runtime sets it at each report of such code.
    pub osr_request: AtomicI32,
    /// How many times the function was called through this slot, counted by code compiled
    /// with [`crate::CompileOptions::count_calls`] (every tier: an increment at the
    /// function's entry; entries into OSR code are not calls). Racy like `hotness`: each
    /// thread that runs the code adds with a plain read-modify-write, so calls from
    /// threads that run one instance at once may be lost (a store is used by one thread
    /// at a time, so within a store none are). 0 from [`FuncEntry::new`].
    pub calls: AtomicU64,
}

// SAFETY: every mutable field is atomic; `vmctx` is only dereferenced by the thread that
// uses the owning store.
unsafe impl Send for FuncEntry {}
// SAFETY: see `Send`.
unsafe impl Sync for FuncEntry {}

impl FuncEntry {
    /// A slot whose code is `code`, in the instance of `vmctx` (null for a host function) of
    /// the store whose limits are `limits`, with its hotness counter at `hotness` and no
    /// OSR request.
    ///
    /// # Safety
    ///
    /// `code` must point at a valid record (its register entry is copied into the slot).
    pub unsafe fn new(
        code: *const FuncCode,
        vmctx: *mut VmContext,
        limits: *const RuntimeLimits,
        type_id: u32,
        func_index: u32,
        hotness: i32,
    ) -> FuncEntry {
        FuncEntry {
            code: AtomicPtr::new(code as *mut FuncCode),
            // SAFETY: the caller's contract.
            register_entry: AtomicPtr::new(unsafe { (*code).register_entry } as *mut ()),
            vmctx,
            limits,
            type_id,
            func_index,
            hotness: AtomicI32::new(hotness),
            osr_request: AtomicI32::new(0),
            calls: AtomicU64::new(0),
        }
    }

    /// The current code record (an `Acquire` load).
    #[inline]
    pub fn load_code(&self) -> *const FuncCode {
        self.code.load(Ordering::Acquire)
    }

    /// Publishes `code` as the function's code (a `Release` store). The next call of the
    /// function through this slot, from any thread and any tier, runs it.
    ///
    /// # Safety
    ///
    /// `code` must satisfy the module invariants: valid, immutable, and alive until the
    /// owning module is dropped.
    #[inline]
    pub unsafe fn publish(&self, code: *const FuncCode) {
        // SAFETY: the caller's contract makes `code` valid.
        let entry = unsafe { (*code).register_entry };
        self.register_entry
            .store(entry as *mut (), Ordering::Release);
        self.code.store(code as *mut FuncCode, Ordering::Release);
    }

    /// Publishes `code` only if the slot still holds `expected` (one compare-and-swap of
    /// the record, then the register entry); returns whether it did.
    ///
    /// # Safety
    ///
    /// As for [`FuncEntry::publish`].
    #[inline]
    pub unsafe fn publish_if(&self, expected: *const FuncCode, code: *const FuncCode) -> bool {
        let swapped = self
            .code
            .compare_exchange(
                expected as *mut FuncCode,
                code as *mut FuncCode,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if swapped {
            // SAFETY: the caller's contract makes `code` valid. Until this store, callers
            // through the register entry still run the previous code, which is valid.
            let entry = unsafe { (*code).register_entry };
            self.register_entry
                .store(entry as *mut (), Ordering::Release);
        }
        swapped
    }

    /// Calls the function through its slot.
    ///
    /// # Safety
    ///
    /// As for [`ArrayEntry`].
    #[inline]
    pub unsafe fn call(
        this: *const FuncEntry,
        caller: *mut VmContext,
        args_results: *mut ValRaw,
    ) -> u32 {
        // SAFETY: the caller guarantees `this` is a valid slot; invariant 2 makes the loaded
        // record valid.
        unsafe {
            let code = (*this).load_code();
            ((*code).array_entry)(this, code, caller, args_results)
        }
    }
}

/// Byte offsets of [`FuncEntry`] and [`FuncCode`] fields, for generated code.
pub mod offsets {
    use super::{FuncCode, FuncEntry};
    use core::mem::offset_of;

    pub const ENTRY_CODE: usize = offset_of!(FuncEntry, code);
    pub const ENTRY_REGISTER_ENTRY: usize = offset_of!(FuncEntry, register_entry);
    pub const ENTRY_VMCTX: usize = offset_of!(FuncEntry, vmctx);
    pub const ENTRY_LIMITS: usize = offset_of!(FuncEntry, limits);
    pub const ENTRY_TYPE_ID: usize = offset_of!(FuncEntry, type_id);
    pub const ENTRY_FUNC_INDEX: usize = offset_of!(FuncEntry, func_index);
    pub const ENTRY_HOTNESS: usize = offset_of!(FuncEntry, hotness);
    pub const ENTRY_OSR_REQUEST: usize = offset_of!(FuncEntry, osr_request);
    pub const ENTRY_CALLS: usize = offset_of!(FuncEntry, calls);
    pub const ENTRY_SIZE: usize = core::mem::size_of::<FuncEntry>();
    pub const CODE_ARRAY_ENTRY: usize = offset_of!(FuncCode, array_entry);
    pub const CODE_REGISTER_ENTRY: usize = offset_of!(FuncCode, register_entry);
    pub const CODE_DATA: usize = offset_of!(FuncCode, data);
    pub const CODE_TIER: usize = offset_of!(FuncCode, tier);
}

#[cfg(test)]
mod tests {
    use super::offsets::*;

    #[test]
    fn entry_layout() {
        assert_eq!(ENTRY_CODE, 0);
        assert_eq!(ENTRY_REGISTER_ENTRY, 8);
        assert_eq!(ENTRY_VMCTX, 16);
        assert_eq!(ENTRY_LIMITS, 24);
        assert_eq!(ENTRY_TYPE_ID, 32);
        assert_eq!(ENTRY_FUNC_INDEX, 36);
        assert_eq!(ENTRY_HOTNESS, 40);
        // The OSR request is the high half of the counter's 64-bit value.
        assert_eq!(ENTRY_OSR_REQUEST, ENTRY_HOTNESS + 4);
        assert_eq!(ENTRY_CALLS, 48);
        assert_eq!(ENTRY_SIZE, 56);
        assert_eq!(CODE_ARRAY_ENTRY, 0);
        assert_eq!(CODE_REGISTER_ENTRY, 8);
        assert_eq!(CODE_DATA, 16);
        assert_eq!(CODE_TIER, 24);
    }
}
