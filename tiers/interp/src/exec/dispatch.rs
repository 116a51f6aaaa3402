//! The plumbing of threaded dispatch: the handler signature, the per-activation context,
//! and the macros every handler uses to decode its instruction, continue with the next
//! handler (a call in tail position) or leave the chain.

use core::ptr;

use tierup_abi::{TrapCode, ValRaw, VmContext};

use super::stack::ThreadStack;
use crate::func::InterpFunc;
use crate::isa::Instr;

/// One instruction handler: `(ip, fp, memory base, memory length, context, fuel)`.
///
/// All six arguments travel in registers. `ip` points at an instruction whose tag selects
/// this handler, `fp` is the frame pointer of `(*cx).func`, the memory pair is that of
/// `(*cx).vmctx` (length 0 when it has none), and `fuel` is how many more handlers the
/// chain may enter before it must return to the trampoline.
pub(super) type Handler = unsafe fn(*const Instr, *mut u64, *mut u8, u64, *mut Ctx, u32) -> Exit;

/// Why a handler chain returned to the trampoline, packed in one integer register: a
/// kind in the low 32 bits and a payload in the high 32. (A Rust enum with payloads is
/// returned in a way that keeps the compiler from turning the handlers' tail calls into
/// jumps; a transparent integer is not.)
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Exit(u64);

/// [`Exit`] unpacked.
pub(super) enum Outcome {
    /// The fuel ran out; execution continues at `Ctx::ip` / `Ctx::fp`.
    Yield,
    /// The outermost frame returned; results are in the argument buffer.
    Done,
    /// The interpreter raised a trap (not recorded yet) at `Ctx::ip`.
    Trap(TrapCode),
    /// A callee or libcall trapped and recorded it; this is its status.
    Propagate(u32),
}

impl Exit {
    /// See [`Outcome::Yield`].
    pub const YIELD: Exit = Exit(0);
    /// See [`Outcome::Done`].
    pub const DONE: Exit = Exit(1);

    /// See [`Outcome::Trap`].
    #[inline(always)]
    pub fn trap(code: TrapCode) -> Exit {
        Exit(2 | (code.status() as u64) << 32)
    }

    /// See [`Outcome::Propagate`].
    #[inline(always)]
    pub fn propagate(status: u32) -> Exit {
        Exit(3 | (status as u64) << 32)
    }

    /// Unpacks the exit.
    pub fn outcome(self) -> Outcome {
        let payload = (self.0 >> 32) as u32;
        match self.0 as u32 {
            0 => Outcome::Yield,
            1 => Outcome::Done,
            // Only `trap` makes kind 2, from a valid code.
            2 => Outcome::Trap(TrapCode::from_status(payload).unwrap_or(TrapCode::Unreachable)),
            _ => Outcome::Propagate(payload),
        }
    }
}

/// The state of one activation that does not travel in registers. Only handlers and the
/// trampoline touch it, always through the raw pointer they are given.
pub(super) struct Ctx {
    /// This thread's stacks.
    pub ts: *mut ThreadStack,
    /// The running function.
    pub func: *const InterpFunc,
    /// The context it runs in.
    pub vmctx: *mut VmContext,
    /// `frames.len()` when the activation started (its outermost frame is not on it).
    pub frames_base: usize,
    /// The argument/result buffer of the activation.
    pub results: *mut ValRaw,
    /// Where the chain stopped: the next instruction after a yield, the trapping or
    /// calling instruction after a trap.
    pub ip: *const Instr,
    /// The frame pointer belonging to `ip`.
    pub fp: *mut u64,
}

/// The base and length of the memory of `vmctx` (length 0 when it has none).
///
/// # Safety
///
/// `vmctx` is a valid context.
#[inline(always)]
pub(super) unsafe fn memory(vmctx: *mut VmContext) -> (*mut u8, u64) {
    // SAFETY: a valid context's memory pointer is null or valid.
    unsafe {
        let m = (*vmctx).memory;
        if m.is_null() {
            (ptr::null_mut(), 0)
        } else {
            (
                (*vmctx).memory_base,
                (*m).length.load(core::sync::atomic::Ordering::Relaxed) as u64,
            )
        }
    }
}

/// Defines a handler `$name` (named after its instruction tag) with the [`Handler`]
/// signature; the body runs inside `unsafe` under the handler contract.
macro_rules! handler {
    ($(#[$m:meta])* $name:ident |$ip:ident, $fp:ident, $mb:ident, $ml:ident, $cx:ident, $fuel:ident| { $($body:tt)* }) => {
        $(#[$m])*
        ///
        /// # Safety
        ///
        /// The handler contract (see [`super::dispatch::Handler`] and the `run` module
        /// docs): `ip` points at an instruction of this tag in the code of `(*cx).func`,
        /// `fp` is that function's frame, the memory pair is current.
        #[allow(non_snake_case, unused_variables, unused_mut)]
        pub(super) unsafe fn $name(
            mut $ip: *const Instr,
            mut $fp: *mut u64,
            mut $mb: *mut u8,
            mut $ml: u64,
            $cx: *mut Ctx,
            $fuel: u32,
        ) -> Exit {
            // SAFETY: the handler contract above, and the translator invariants stated on
            // `InterpFunc`: registers, branch targets, call sites and table entries are in
            // range; memory and table accesses are bounds-checked against current lengths.
            unsafe { $($body)* }
        }
    };
}

/// Binds the fields of the instruction at `$ip`, which the dispatch guarantees has tag
/// `$v`.
macro_rules! decode {
    ($ip:expr, $v:ident { $($f:tt)* }) => {
        // Used inside handler bodies (already `unsafe`). Sound: the handler table maps
        // tag `Op::$v` to this handler only, so the other variants cannot occur.
        let Instr::$v { $($f)* } = *$ip else {
            core::hint::unreachable_unchecked()
        };
    };
}

/// Continues with the handler of the instruction at `$ip`: a call in tail position, which
/// the compiler turns into a jump. For instructions that do not spend fuel.
macro_rules! next {
    ($ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $fuel:expr) => {{
        let ip: *const Instr = $ip;
        // Used inside `unsafe` code. Sound: every instruction's tag is below `Op::COUNT`,
        // the table's length.
        let h = *super::run::HANDLERS.get_unchecked((*ip).tag() as usize);
        return h(ip, $fp, $mb, $ml, $cx, $fuel);
    }};
}

/// As [`next!`], for the instructions that spend fuel (`Instr::spends_fuel`): when the
/// fuel is spent it returns to the trampoline instead, which bounds the host stack if the
/// tail calls are not turned into jumps.
macro_rules! next_spend {
    ($ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $fuel:expr) => {{
        let ip: *const Instr = $ip;
        let fp: *mut u64 = $fp;
        let cx: *mut Ctx = $cx;
        let fuel: u32 = $fuel;
        if fuel == 0 {
            (*cx).ip = ip;
            (*cx).fp = fp;
            return Exit::YIELD;
        }
        next!(ip, fp, $mb, $ml, cx, fuel - 1)
    }};
}

/// Leaves the chain with `$exit`, saving where execution stopped.
macro_rules! leave {
    ($ip:expr, $fp:expr, $cx:expr, $exit:expr) => {{
        (*$cx).ip = $ip;
        (*$cx).fp = $fp;
        return $exit;
    }};
}
