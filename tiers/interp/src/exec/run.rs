//! The trampoline: enters an activation's handler chain and runs it until the outermost
//! frame returns or a trap, re-entering the chain whenever it returns early (see
//! [`STACK_SLACK`]). Each handler ends by calling the next instruction's handler in tail
//! position, which the compiler turns into an indirect jump, so each handler has its own
//! dispatch jump and the branch predictor learns instruction pairs.

use tierup_abi::{ValRaw, VmContext, running, trap};

use super::WORD_TAG;
use super::dispatch::{Acc, Ctx, Exit, LOOP_SAMPLE, Outcome, memory};
use super::frame::{push_backtrace, push_suspended};
use super::hot::tier_up;
use super::stack::ThreadStack;
use crate::func::InterpFunc;

/// How far below the trampoline's frame a chain may take the host stack before a call
/// sends it back.
///
/// An optimising build compiles every handler's tail call into a jump, so a chain runs in
/// the trampoline's stack frame however long it is. Where that does not happen (a
/// compiler that keeps some call, an unusual build), calls compare the host stack pointer
/// with `Ctx::stack_limit` (this far below the trampoline's) and return `Exit::YIELD` to
/// the trampoline when it is below, which re-enters the chain where it stopped; backward
/// branches return to it with `Exit::SAMPLE` every `LOOP_SAMPLE` bytes of loop work
/// (1,365 branches at most). Every endless run of instructions passes a backward branch or
/// a call, and between two of them a chain runs forward through one function's code or
/// returns: the host stack stays bounded by the slack plus the handler frames of 1,365
/// loop iterations of one function. An unoptimised build (no `tierup_tail_dispatch` cfg,
/// see the build script) returns to the trampoline after every instruction.
const STACK_SLACK: usize = 256 << 10;

/// Runs `func` (whose frame is set up at `fp`) until its outermost frame returns or a trap.
/// Returns the status; on a trap the record is made and the backtrace pushed.
///
/// # Safety
///
/// `stack` is this thread's stack, `fp` a frame for `func` entered with `enter_frame`,
/// `vmctx` the context `func` runs in, `results` has room for the results.
pub(super) unsafe fn run(
    stack: *mut ThreadStack,
    func: *const InterpFunc,
    vmctx: *mut VmContext,
    fp: *mut u64,
    frames_base: usize,
    results: *mut ValRaw,
) -> u32 {
    // SAFETY: the handlers rely on the translator invariants stated on `InterpFunc` and in
    // the module docs of `exec`; the context is only accessed through `ctx` while a chain
    // runs, and the chain is entered with the state the handler contract requires.
    unsafe {
        let max_depth = (*(*vmctx).limits).max_call_depth;
        let loop_sample = LOOP_SAMPLE.min((*func).hotness.budget).max(0);
        let mut ctx = Ctx {
            stack,
            func,
            vmctx,
            func_refs: (*vmctx).func_refs,
            frames_base,
            frames_limit: 0,
            depth_limit: if max_depth == 0 {
                usize::MAX
            } else {
                max_depth.saturating_sub((*stack).nesting as usize)
            },
            results,
            ip: (*func).code.as_ptr(),
            fp,
            acc: Acc::default(),
            stack_limit: super::dispatch::stack_pointer().saturating_sub(STACK_SLACK),
            loop_budget: loop_sample,
            loop_sample,
        };
        ctx.set_frames_limit();
        let ctx: *mut Ctx = &mut ctx;
        // For a sampling profiler: this thread runs the function `ctx` names.
        let _running = running::enter(ctx as usize | WORD_TAG);
        // Entered from outside the interpreter: the entry spends as a call would.
        let mut exit = if (*func).spend((*func).hotness.entry_delta) {
            Exit::HOT
        } else {
            Exit::YIELD
        };
        let exit = loop {
            // The epoch, where the engine interrupts: checked at each return to the
            // trampoline for loop work or a hotness report, so a function that loops or
            // calls without end passes here (`tierup_abi`'s crate docs).
            if (exit == Exit::SAMPLE || exit == Exit::HOT) && (*(*ctx).vmctx).interrupted() {
                let vmctx = (*ctx).vmctx;
                let status = {
                    let _runtime = running::enter(running::NOTHING);
                    ((*(*vmctx).libcalls).epoch)(vmctx)
                };
                if status != tierup_abi::STATUS_OK {
                    push_backtrace(stack, frames_base, (*ctx).func, vmctx, (*ctx).ip);
                    return status;
                }
            }
            if exit == Exit::SAMPLE {
                // A sample of loop work, charged to the function whose back edge ended it.
                let spent = (*ctx).loop_sample.wrapping_sub((*ctx).loop_budget);
                (*ctx).loop_budget = (*ctx).loop_sample;
                if (*(*ctx).func).spend(spent.wrapping_neg()) {
                    exit = Exit::HOT;
                }
            }
            if exit == Exit::HOT
                && let Err(status) = {
                    // Tiering up is the runtime's work (an OSR entry it calls runs under
                    // its own tier), not the function's.
                    let _runtime = running::enter(running::NOTHING);
                    tier_up(ctx)
                }
            {
                // The OSR entry stood for the moving frame, and its frames are in the
                // backtrace: the suspended frames follow.
                push_suspended(stack, frames_base);
                return status;
            }
            let ip = (*ctx).ip;
            let (mem, mem_len) = memory((*ctx).vmctx);
            exit = (*ip).handler()(ip, (*ctx).fp, mem, mem_len, ctx, (*ctx).acc);
            if exit != Exit::YIELD && exit != Exit::HOT && exit != Exit::SAMPLE {
                break exit;
            }
        };
        match exit.outcome() {
            Outcome::Yield | Outcome::Done | Outcome::Hot | Outcome::Sample => {
                tierup_abi::STATUS_OK
            }
            Outcome::Trap(code) => {
                let status = trap::record(code);
                push_backtrace(stack, frames_base, (*ctx).func, (*ctx).vmctx, (*ctx).ip);
                status
            }
            Outcome::Propagate(status) => {
                push_backtrace(stack, frames_base, (*ctx).func, (*ctx).vmctx, (*ctx).ip);
                status
            }
        }
    }
}
