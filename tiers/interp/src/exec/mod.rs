//! The executor: the array entry of every interpreted function ([`array_entry`], here),
//! the trampoline (`run`), the plumbing every handler shares (`dispatch`), frames
//! (`frame`, `stack`), the handler table (`encode`) and the handlers by family: the
//! table's rows (`ops`, `vector`), branches (`branch`), calls and returns (`call`),
//! copies and selects (`values`), fused operators (`fused`), and globals, memory and
//! tables (`instance`).
//!
//! Safety rests on the translator's invariants (see [`InterpFunc`]): every register an
//! instruction names lies inside its frame, every branch lands inside the
//! code, every path ends in `Return`/`Trap`/a back edge. A frame occupies `frame_size`
//! registers of the thread's register stack from its frame pointer up, and the executor
//! checks that they fit before it enters the frame. A callee's frame begins at its
//! arguments, so they are not copied, and its results are returned in place.

#[macro_use]
mod dispatch;
mod branch;
mod call;
mod encode;
mod frame;
mod fused;
mod hot;
mod instance;
mod ops;
mod run;
mod stack;
mod values;
mod vector;

pub(crate) use encode::{encode, supports};

use core::sync::atomic::Ordering;

use tierup_abi::{FuncCode, FuncEntry, TrapCode, ValRaw, VmContext, trap};

use crate::func::InterpFunc;
use frame::{enter_frame, sig_cells_to_regs};
use stack::{MAX_NESTING, thread_stack};

/// The low bits of a thread's [`tierup_abi::running`] word that tell whose it is: an
/// activation's state is 8-byte aligned, and each register form sets its own tag in them
/// ([`WORD_TAG`]), so that one form never reads the other's state. (`HOST` is 1, which is
/// neither form's tag.)
const WORD_TAG_MASK: usize = 7;

/// This form's tag in the running word: 0 in the compact form, 2 in the wide one.
pub(crate) const WORD_TAG: usize = if crate::regs::WIDE { 2 } else { 0 };

/// The function an interpreter activation of this thread runs, from the thread's
/// [`tierup_abi::running`] word, if the word is an interpreter's (not `NOTHING` or `HOST`):
/// the context it runs in and its index in its module. Reads only, allocates nothing and
/// takes no lock: a signal handler on this thread may call it.
///
/// # Safety
///
/// `word` is this thread's current word ([`tierup_abi::running::current`]), read on this
/// thread (the activation it names is live until the word changes).
pub unsafe fn running_function(word: usize) -> Option<(*const VmContext, u32)> {
    if word == tierup_abi::running::NOTHING || word & WORD_TAG_MASK != WORD_TAG {
        return None;
    }
    let ctx = (word & !WORD_TAG_MASK) as *const dispatch::Ctx;
    // SAFETY: the word names the live state of this thread's innermost activation
    // (`run` sets it for as long as the state lives); its function is valid while it runs.
    // The reads are volatile: the activation writes these fields as it calls and returns,
    // on this same thread, and the reader may have interrupted it anywhere.
    unsafe {
        let func = core::ptr::read_volatile(&raw const (*ctx).func);
        let vmctx = core::ptr::read_volatile(&raw const (*ctx).vmctx);
        if func.is_null() {
            return None;
        }
        Some((vmctx as *const VmContext, (*func).func_index))
    }
}

/// The array entry of every interpreted function.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`]: `callee` and `code` are valid, `code` is the record
/// of a live [`InterpFunc`] (its first field, see `InterpFunc::code`) of the module
/// `callee.vmctx` instantiates, and `args_results` has `max(params, results)` cells.
pub unsafe extern "sysv64" fn array_entry(
    callee: *const FuncEntry,
    code: *const FuncCode,
    _caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32 {
    let Some(stack) = thread_stack() else {
        return trap::record(TrapCode::StackOverflow);
    };
    // SAFETY: the caller guarantees `callee`, `code` and `args_results`; `stack` is this
    // thread's stack, accessed only through the raw pointer.
    unsafe {
        let func = InterpFunc::of_code(code);
        let vmctx = (*callee).vmctx;
        let frames_base = (*stack).frames.len();
        let limits = &*(*vmctx).limits;
        let max_depth = limits.max_call_depth;
        // The host stack limit is what every tier checks on entry: below it, the
        // interpreter's own run and what it calls could reach the end of the host stack
        // (the runtime leaves room below the limit for Rust code, see `RuntimeLimits`).
        // Where no limit is set (a host that runs the interpreter without one), the
        // nesting of activations is bounded instead.
        let stack_limit = limits.stack_limit.load(Ordering::Relaxed);
        if (stack_limit == 0 && (*stack).nesting >= MAX_NESTING)
            || (max_depth != 0 && frames_base + (*stack).nesting as usize >= max_depth)
            || dispatch::stack_pointer() < stack_limit
        {
            return trap::record(TrapCode::StackOverflow);
        }
        let saved_top = (*stack).top;
        let fp = saved_top;
        if !enter_frame(stack, fp, &*func) {
            return trap::record(TrapCode::StackOverflow);
        }
        sig_cells_to_regs(&*func, args_results, fp, false);
        (*stack).nesting += 1;
        let status = run::run(stack, func, vmctx, fp, frames_base, args_results);
        (*stack).nesting -= 1;
        (*stack).top = saved_top;
        (*stack).frames.truncate(frames_base);
        status
    }
}
