//! The stack limit of the thread that runs wasm, set on entry from Rust
//! ([`enter_wasm`]).
//!
//! The limit is `max_wasm_stack` below the stack pointer at the outermost entry, but never
//! closer than [`HOST_RESERVE`] to the end of the thread's stack: generated code stops at
//! the limit, and the Rust code it calls (libcalls, host functions, the interpreter's
//! run, which checks the same limit when it is entered) runs below it, within the
//! reserve. Nested entries (a host function calling back into wasm) keep the limit of the
//! outermost one.

use core::cell::Cell;
use core::sync::atomic::Ordering;

use tierup_abi::RuntimeLimits;

/// The stack kept free below the limit for Rust code called from wasm.
pub(crate) const HOST_RESERVE: usize = 512 << 10;

thread_local! {
    /// The lowest address of this thread's stack, 0 before it was asked for, 1 when the
    /// system does not say.
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// The lowest address of this thread's stack, if the system says.
fn stack_low() -> Option<usize> {
    let cached = STACK_LOW.with(Cell::get);
    if cached != 0 {
        return (cached != 1).then_some(cached);
    }
    let low = query_stack_low();
    STACK_LOW.with(|c| c.set(low.unwrap_or(1)));
    low
}

#[cfg(target_os = "linux")]
fn query_stack_low() -> Option<usize> {
    // SAFETY: `pthread_getattr_np` fills the attribute object for the calling thread, which
    // is destroyed after use; `pthread_attr_getstack` only writes the two out-pointers.
    unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = core::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        (ok && !addr.is_null()).then_some(addr as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn query_stack_low() -> Option<usize> {
    None
}

/// An approximation of the current stack pointer.
#[inline(always)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    core::ptr::addr_of!(marker) as usize
}

/// The limit for an outermost entry at the current stack depth.
fn limit_here(max_wasm_stack: usize) -> usize {
    let sp = stack_pointer();
    let by_budget = sp.saturating_sub(max_wasm_stack);
    match stack_low() {
        Some(low) => by_budget.max(low.saturating_add(HOST_RESERVE)),
        None => by_budget,
    }
    .max(1)
}

/// Resets the limit when the outermost entry returns.
pub(crate) struct EntryGuard<'a> {
    limits: &'a RuntimeLimits,
    outermost: bool,
}

impl Drop for EntryGuard<'_> {
    fn drop(&mut self) {
        if self.outermost {
            self.limits.stack_limit.store(0, Ordering::Relaxed);
        }
    }
}

/// Prepares this thread to run wasm of the store whose limits are `limits`: sets the stack
/// limit if this is the outermost entry, and (once machine code may run) makes sure the
/// thread has an alternate signal stack. The limit stays until the guard is dropped.
pub(crate) fn enter_wasm(limits: &RuntimeLimits, max_wasm_stack: usize) -> EntryGuard<'_> {
    if super::signals::installed() {
        super::signals::ensure_alt_stack();
    }
    let outermost = limits.stack_limit.load(Ordering::Relaxed) == 0;
    if outermost {
        limits
            .stack_limit
            .store(limit_here(max_wasm_stack), Ordering::Relaxed);
    }
    EntryGuard { limits, outermost }
}
