//! Low-level access to entry slots and code records, for the tier-swap tests: read a slot's
//! tier and code, and publish other code into it.

use tierup_abi::{FuncCode, FuncEntry, Tier};

/// A function's entry slot.
///
/// The handle is only a pointer: it is valid while the store that owns the function lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotHandle(*const FuncEntry);

// SAFETY: a slot is a `Sync` structure of atomics; the handle is only dereferenced while the
// owning store lives (the caller's responsibility, see the methods).
unsafe impl Send for SlotHandle {}
// SAFETY: see `Send`.
unsafe impl Sync for SlotHandle {}

impl SlotHandle {
    pub(crate) fn from_raw(entry: *const FuncEntry) -> SlotHandle {
        SlotHandle(entry)
    }

    /// The raw slot pointer.
    pub fn as_ptr(&self) -> *const FuncEntry {
        self.0
    }

    /// The tier of the slot's current code.
    ///
    /// The store owning the slot must still be alive.
    pub fn tier(&self) -> Tier {
        // SAFETY: the slot and every code record it points at live as long as the store
        // (and module), which the caller keeps alive.
        unsafe { (*(*self.0).load_code()).tier }
    }

    /// The slot's current code record.
    ///
    /// The store owning the slot must still be alive.
    pub fn code(&self) -> CodeHandle {
        // SAFETY: as in `tier`.
        CodeHandle(unsafe { (*self.0).load_code() })
    }

    /// Publishes `code` into the slot: the next call through the slot, from any thread and
    /// any tier, runs it.
    ///
    /// # Safety
    ///
    /// * `code` must have the slot's signature (a compiled version of the same function is
    ///   what a tier publishes; tests also publish other functions and host functions of the
    ///   same signature);
    /// * `code` must stay alive as long as the slot's module (records from
    ///   [`crate::Module::compile_fresh`] of that module do);
    /// * the store owning the slot must be alive.
    pub unsafe fn publish(&self, code: CodeHandle) {
        // SAFETY: the caller's contract above is the slot's publication contract.
        unsafe { (*self.0).publish(code.0) }
    }
}

/// An immutable code record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeHandle(*const FuncCode);

// SAFETY: a code record is immutable and `Sync` (see `tierup_abi::entry`).
unsafe impl Send for CodeHandle {}
// SAFETY: see `Send`.
unsafe impl Sync for CodeHandle {}

impl CodeHandle {
    pub(crate) fn from_raw(code: *const FuncCode) -> CodeHandle {
        CodeHandle(code)
    }

    /// The raw record pointer.
    pub fn as_ptr(&self) -> *const FuncCode {
        self.0
    }

    /// The record's tier; the module owning the record must be alive.
    pub fn tier(&self) -> Tier {
        // SAFETY: records live as long as their module, which the caller keeps alive.
        unsafe { (*self.0).tier }
    }
}
