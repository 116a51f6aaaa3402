//! The per-thread register stack and call-frame stack shared by all interpreter
//! activations on a thread (nested activations, from host functions calling back into
//! wasm, continue above the registers of the activation that called out).

use core::cell::UnsafeCell;

use tierup_abi::VmContext;

use crate::func::InterpFunc;

/// The number of 8-byte registers a thread may use (8 MiB; 64 MiB in the wide form, whose
/// one frame may need millions: a 7,654,321-byte body can keep about as many values on
/// its operand stack). The buffer is allocated zeroed in one piece on first use; the
/// operating system backs its pages only when they are touched, so the stack effectively
/// grows on demand up to this bound.
pub(crate) const MAX_REGISTERS: usize = if crate::regs::WIDE { 1 << 23 } else { 1 << 20 };

/// How many interpreter activations may nest on one host stack (host -> wasm -> host ->
/// wasm ..., or interpreted and compiled code calling each other) before the next one
/// traps with `StackOverflow`, where the host set no stack limit
/// (`RuntimeLimits::stack_limit`); with one, the limit alone bounds them. A bound of 200
/// everywhere made a recursion through interpreted and compiled functions (random tier
/// masks, `tests/differential.rs`) exhaust the stack at a depth of 400 where each tier
/// alone went on.
pub(crate) const MAX_NESTING: u32 = 200;

/// A suspended caller frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub func: *const InterpFunc,
    pub vmctx: *mut VmContext,
    /// The caller's call instruction (execution resumes after it).
    pub ip: *const crate::inst::Inst,
    pub fp: *mut u64,
}

/// The stacks of one thread.
pub(crate) struct ThreadStack {
    regs: Vec<u64>,
    /// One past the last register of the buffer.
    pub end: *mut u64,
    /// The first register no live activation uses (where a nested activation starts).
    pub top: *mut u64,
    /// Suspended frames of every activation on this thread, innermost last.
    pub frames: Vec<Frame>,
    /// Number of live activations.
    pub nesting: u32,
}

thread_local! {
    static STACK: UnsafeCell<ThreadStack> = const {
        UnsafeCell::new(ThreadStack {
            regs: Vec::new(),
            end: core::ptr::null_mut(),
            top: core::ptr::null_mut(),
            frames: Vec::new(),
            nesting: 0,
        })
    };
}

/// This thread's stacks, allocated on first use; `None` while the thread is being torn
/// down (its thread-locals are gone).
///
/// The pointer stays valid for the life of the thread. Callers never hold a Rust reference
/// into it across a call out of the interpreter (a nested activation uses it too); they
/// access fields through the raw pointer.
pub(crate) fn thread_stack() -> Option<*mut ThreadStack> {
    let stack = STACK.try_with(|s| s.get()).ok()?;
    // SAFETY: `stack` is this thread's stack; no reference to it is live here (callers only
    // keep raw pointers), so this short exclusive access does not alias.
    unsafe {
        if (*stack).regs.is_empty() {
            (*stack).regs = vec![0u64; MAX_REGISTERS];
            let base = (*stack).regs.as_mut_ptr();
            (*stack).top = base;
            (*stack).end = base.add(MAX_REGISTERS);
            (*stack).frames.reserve(1024);
        }
    }
    Some(stack)
}
