//! The instruction loop, as threaded code: every instruction has its own handler function
//! (`ops` for the rows of the instruction table, `control` for the rest), and every
//! handler ends by calling the handler of the next instruction in tail position, which the
//! compiler turns into an indirect jump. So each handler has its own dispatch jump, and
//! the branch predictor learns instruction pairs instead of sharing one jump for all.
//! The handler of an instruction is `HANDLERS[tag]`, where the tag is the first two
//! bytes of the `repr(u16)` [`Instr`].
//!
//! Bounded host stack: the chain is entered by the trampoline [`run`] with `FUEL`
//! units of fuel. Every branch, call, return and the `Fuel` instruction spend one unit
//! (`Instr::spends_fuel`), and a handler that finds the fuel spent returns `Exit::YIELD`
//! to the trampoline, which re-enters the chain where it stopped. The other handlers do
//! not touch the fuel, and the translator guarantees that no more than
//! `translate::MAX_RUN` of them follow each other in the code (it appends a `Fuel`
//! instruction after such a run), so a chain enters at most `FUEL * (MAX_RUN + 1)`
//! handlers. Even when the compiler does not turn a tail call into a jump (an unoptimised
//! build, or a handler it cannot optimise), at most that many handler frames are live
//! above the trampoline: the host stack stays bounded by that number times the largest
//! handler frame, whatever the code generation. Calls between interpreted functions do
//! not recurse on the host stack either: they push a `Frame` on the thread's frame stack
//! and continue in the same chain. The yield is also where tier-up hotness counters and
//! interrupt checks (epochs, fuel metering) are meant to hook in.

use tierup_abi::{ValRaw, VmContext, trap};

use super::dispatch::{Ctx, Exit, Handler, Outcome, memory};
use super::push_backtrace;
use super::stack::ThreadStack;
use super::{control, ops};
use crate::func::InterpFunc;
use crate::isa::Op;

/// How many fuel-spending handlers one chain may enter before it returns to the
/// trampoline.
const FUEL: u32 = 64;

/// The handler of each instruction tag.
pub(super) static HANDLERS: [Handler; Op::COUNT] = handler_table();

/// Builds [`HANDLERS`]; a tag without a handler is a compile-time error.
const fn handler_table() -> [Handler; Op::COUNT] {
    let mut t: [Option<Handler>; Op::COUNT] = [None; Op::COUNT];
    ops::register(&mut t);
    control::register(&mut t);
    let mut out: [Handler; Op::COUNT] = [control::Trap as Handler; Op::COUNT];
    let mut i = 0;
    while i < Op::COUNT {
        match t[i] {
            Some(h) => out[i] = h,
            None => panic!("an instruction without a handler"),
        }
        i += 1;
    }
    out
}

/// Runs `func` (whose frame is set up at `fp`) until its outermost frame returns or a trap.
/// Returns the status; on a trap the record is made and the backtrace pushed.
///
/// # Safety
///
/// `ts` is this thread's stack, `fp` a frame for `func` entered with `enter_frame`,
/// `vmctx` the context `func` runs in, `results` has room for the results.
pub(super) unsafe fn run(
    ts: *mut ThreadStack,
    func: *const InterpFunc,
    vmctx: *mut VmContext,
    fp: *mut u64,
    frames_base: usize,
    results: *mut ValRaw,
) -> u32 {
    // SAFETY: the handlers rely on the translator invariants stated on `InterpFunc` and in
    // the module docs of `exec`; the context is only accessed through `cx` while a chain
    // runs, and the chain is entered with the state the handler contract requires.
    unsafe {
        let mut ctx = Ctx {
            ts,
            func,
            vmctx,
            frames_base,
            results,
            ip: (*func).code.as_ptr(),
            fp,
        };
        let cx: *mut Ctx = &mut ctx;
        let exit = loop {
            let ip = (*cx).ip;
            let (mb, ml) = memory((*cx).vmctx);
            let h = HANDLERS[(*ip).tag() as usize];
            let exit = h(ip, (*cx).fp, mb, ml, cx, FUEL);
            if exit != Exit::YIELD {
                break exit;
            }
        };
        match exit.outcome() {
            Outcome::Yield | Outcome::Done => tierup_abi::STATUS_OK,
            Outcome::Trap(code) => {
                let status = trap::record(code);
                push_backtrace(ts, frames_base, (*cx).func, (*cx).vmctx, (*cx).ip);
                status
            }
            Outcome::Propagate(status) => {
                push_backtrace(ts, frames_base, (*cx).func, (*cx).vmctx, (*cx).ip);
                status
            }
        }
    }
}
