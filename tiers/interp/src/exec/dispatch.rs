//! The plumbing of threaded dispatch that every handler uses: the handler signature, the
//! accumulator, the per-activation context, register access, and the macros that decode
//! an instruction, read operands and write results in the handler's form, continue with
//! the next handler (a call in tail position) or leave the chain. It names no handler.

use core::ptr;

use tierup_abi::{FuncEntry, TrapCode, ValRaw, VmContext};

use super::stack::ThreadStack;
use crate::func::InterpFunc;
use crate::inst::{Form, Inst};
use crate::isa::{Op, Reg};

/// One instruction handler: `(ip, fp, mem, mem_len, ctx, acc)`.
///
/// All six arguments travel in registers. `ip` points at an instruction whose handler
/// is this one, `fp` is the frame pointer of `(*ctx).func`, `mem` and `mem_len` are the
/// base and length of the memory of `(*ctx).vmctx` (length 0 when it has none). The
/// accumulator ([`Acc`]: one integer and one float machine register) carries a value
/// from an instruction that produced it to the next one, which consumes it (see
/// `inst::Form`).
pub(crate) type Handler = unsafe fn(*const Inst, *mut u64, *mut u8, u64, *mut Ctx, Acc) -> Exit;

/// Handlers by form, then by instruction tag: form [`Form::NONE`] for every tag, others
/// where the tag has them. Form-major: the loader relocates only the pages that hold a
/// handler, and a form that no tag has (most combinations of bits) leaves its row
/// untouched, so the table costs resident memory only for the forms in use.
pub(super) type HandlerTable = [[Option<Handler>; Op::COUNT]; Form::COUNT];

impl Inst {
    /// The handler of this instruction.
    #[inline(always)]
    pub(super) fn handler(&self) -> Handler {
        // SAFETY: `handler` is only ever written by `encode::encode`, from a `Handler`.
        unsafe { core::mem::transmute::<*const (), Handler>(self.handler) }
    }
}

/// The accumulator: integers and f32 (by their bits) travel in `i`, a general register,
/// f64 in `f`, a vector register, so that float chains need no moves between the two
/// register files (`regs::AccClass` says which a type uses). A handler takes and passes
/// it by value: the pair travels in two argument registers.
#[derive(Clone, Copy, Default)]
pub(crate) struct Acc {
    pub i: u64,
    pub f: f64,
}

/// Why a handler chain returned to the trampoline, packed in one integer register: a
/// kind in the low 32 bits and a payload in the high 32. (A Rust enum with payloads is
/// returned in a way that keeps the compiler from turning the handlers' tail calls into
/// jumps; a transparent integer is not.)
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Exit(u64);

/// [`Exit`] unpacked.
pub(super) enum Outcome {
    /// The chain returned to the trampoline (see `exec::run`); execution continues at
    /// `Ctx::ip` / `Ctx::fp`.
    Yield,
    /// The outermost frame returned; results are in the argument buffer.
    Done,
    /// The interpreter raised a trap (not recorded yet) at `Ctx::ip`.
    Trap(TrapCode),
    /// A callee or libcall trapped and recorded it; this is its status.
    Propagate(u32),
    /// The running function's hotness budget ran out at `Ctx::ip` (its entry, or the target
    /// of a backward branch); execution continues there once it is reported.
    Hot,
    /// The activation's loop budget (`Ctx::loop_budget`) ran out at `Ctx::ip`, the target
    /// of a backward branch: the trampoline charges the running function and continues.
    Sample,
}

impl Exit {
    /// See [`Outcome::Yield`].
    pub const YIELD: Exit = Exit(0);
    /// See [`Outcome::Done`].
    pub const DONE: Exit = Exit(1);
    /// See [`Outcome::Hot`].
    pub const HOT: Exit = Exit(4);
    /// See [`Outcome::Sample`].
    pub const SAMPLE: Exit = Exit(5);

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
            4 => Outcome::Hot,
            5 => Outcome::Sample,
            _ => Outcome::Propagate(payload),
        }
    }
}

/// The state of one activation that does not travel in registers. Only handlers and the
/// trampoline touch it, always through the raw pointer they are given.
pub(super) struct Ctx {
    /// This thread's stacks.
    pub stack: *mut ThreadStack,
    /// The running function.
    pub func: *const InterpFunc,
    /// The context it runs in.
    pub vmctx: *mut VmContext,
    /// `vmctx`'s function references (`VmContext::func_refs`), one load nearer for calls.
    pub func_refs: *const *const FuncEntry,
    /// `frames.len()` when the activation started (its outermost frame is not on it).
    pub frames_base: usize,
    /// A call pushes a frame while `frames.len()` is below this: the smaller of the frame
    /// stack's capacity and `depth_limit` (see [`Ctx::set_frames_limit`]).
    pub frames_limit: usize,
    /// A call at a `frames.len()` of this traps with `StackOverflow`: the call depth limit
    /// of the context (`VmContext::max_call_depth`, 0 for none) less the depth of the
    /// activations below.
    pub depth_limit: usize,
    /// The argument/result buffer of the activation.
    pub results: *mut ValRaw,
    /// Where the chain stopped: the next instruction after a yield, the trapping or
    /// calling instruction after a trap.
    pub ip: *const Inst,
    /// The frame pointer belonging to `ip`.
    pub fp: *mut u64,
    /// The accumulator when the chain returned to the trampoline with `Exit::YIELD`.
    pub acc: Acc,
    /// The lowest host stack address a chain may reach before it returns to the
    /// trampoline (see `exec::run`).
    pub stack_limit: usize,
    /// What backward branches may still spend (in bytes of code jumped back over) before
    /// the chain returns to the trampoline with [`Exit::SAMPLE`], which charges what they
    /// spent to the running function's hotness and starts this again at `loop_sample`.
    pub loop_budget: i32,
    /// What `loop_budget` starts at: [`LOOP_SAMPLE`], or the functions' hotness budget
    /// where that is smaller (with a budget of 0, every backward branch is charged at once).
    pub loop_sample: i32,
}

/// The loop work between two returns of a chain to the trampoline with [`Exit::SAMPLE`], in
/// bytes of code (1,365 instructions): the unit in which loops are charged to the function
/// that runs them, and the most backward branches a chain takes without a return to the
/// trampoline (which bounds the host stack, see `exec::run`).
pub(super) const LOOP_SAMPLE: i32 = 32 << 10;

/// Adds `delta` (zero or less) to the activation's loop budget; whether it ran out.
///
/// # Safety
///
/// `ctx` is the running chain's context.
#[inline(always)]
pub(super) unsafe fn spend_loop(ctx: *mut Ctx, delta: i32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `ctx` is valid (the caller's contract), and only this thread uses it.
        unsafe {
            core::arch::asm!(
                "add dword ptr [{ctx} + {budget}], {delta:e}",
                "js {out}",
                ctx = in(reg) ctx,
                budget = const core::mem::offset_of!(Ctx, loop_budget),
                delta = in(reg) delta,
                out = label { return true; },
                options(nostack),
            );
        }
        false
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // SAFETY: as above.
        unsafe {
            (*ctx).loop_budget = (*ctx).loop_budget.wrapping_add(delta);
            (*ctx).loop_budget < 0
        }
    }
}

impl Ctx {
    /// Sets `frames_limit` from the frame stack's current capacity.
    ///
    /// # Safety
    ///
    /// `self.stack` is this thread's stack.
    #[inline(always)]
    pub unsafe fn set_frames_limit(&mut self) {
        // SAFETY: guaranteed by the caller.
        unsafe {
            self.frames_limit = (*self.stack).frames.capacity().min(self.depth_limit);
        }
    }
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

/// Reads register `r`.
///
/// # Safety
///
/// `r` lies in the current frame (translator invariant 2).
#[inline(always)]
pub(super) unsafe fn get(fp: *mut u64, r: Reg) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) }
}

/// Writes register `r`.
///
/// # Safety
///
/// As for [`get`].
#[inline(always)]
pub(super) unsafe fn set(fp: *mut u64, r: Reg, v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) = v }
}

/// Between the two halves of a paired instruction (`Copy2`, `I32AddImm2`, `I32Add2`),
/// whose second half decodes its own fields after it: the fence keeps those loads after
/// the first half's write, so few values are live at once and the handler saves no
/// machine registers. Decoded together, the pairs saved and restored up to three, which
/// cost more than the dispatch they spare (`I32Add2` ran slower than the two adds).
#[inline(always)]
pub(super) fn second_half() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Defines a handler `$name` (named after its instruction tag) with the [`Handler`]
/// signature (generic over its form with `$name<F>`); the body runs inside `unsafe` under
/// the handler contract.
macro_rules! handler {
    (
        $(#[$m:meta])* $name:ident $(<$f:ident>)?
        |$ip:ident, $fp:ident, $mem:ident, $mem_len:ident, $ctx:ident, $acc:ident|
        { $($body:tt)* }
    ) => {
        $(#[$m])*
        ///
        /// # Safety
        ///
        /// The handler contract (see [`Handler`](super::dispatch::Handler) and the `run` module
        /// docs): `ip` points at an instruction of this tag in the code of `(*ctx).func`,
        /// `fp` is that function's frame, the memory pair is current; in a handler generic
        /// over its form `F`, the operands that `F` names (see `inst::Form`) are in `acc`.
        #[allow(non_snake_case, unused_variables, unused_mut)]
        pub(super) unsafe fn $name $(<const $f: u8>)? (
            mut $ip: *const Inst,
            mut $fp: *mut u64,
            mut $mem: *mut u8,
            mut $mem_len: u64,
            $ctx: *mut Ctx,
            mut $acc: $crate::exec::dispatch::Acc,
        ) -> Exit {
            // SAFETY: the handler contract above, and the translator invariants stated on
            // `InterpFunc`: registers, branch targets, call sites and table entries are in
            // range; memory and table accesses are bounds-checked against current lengths.
            unsafe { $($body)* }
        }
    };
}

/// The bits of operand `$r`, of type `$t`, of a handler of form `$f`: the accumulator
/// (the half for `$t`) when the form has `$bit`, else the register.
macro_rules! operand {
    ($f:ident, $bit:expr, $fp:expr, $r:expr, $acc:expr, $t:ty) => {
        if $f & $bit != 0 {
            if <$t as $crate::regs::AccClass>::FLOAT {
                $acc.f.to_bits()
            } else {
                $acc.i
            }
        } else {
            get($fp, $r)
        }
    };
}

/// Writes the result bits `$v`, of type `$t`, of a handler of form `$f`: to the
/// accumulator (the half for `$t`) when the form has `Form::OUT`, else to register `$dst`,
/// and to the accumulator as well when it has `Form::TEE`.
macro_rules! result {
    ($f:ident, $fp:expr, $dst:expr, $acc:ident, $t:ty, $v:expr) => {{
        let v: u64 = $v;
        if $f & ($crate::inst::Form::OUT.bits() | $crate::inst::Form::TEE.bits()) != 0 {
            if <$t as $crate::regs::AccClass>::FLOAT {
                $acc.f = f64::from_bits(v);
            } else {
                $acc.i = v;
            }
        }
        if $f & $crate::inst::Form::OUT.bits() == 0 {
            set($fp, $dst, v);
        }
    }};
}

/// The effective address of a scalar access of form `$f` (see `Access::WRAP`): register
/// bits `$addr` (an i32) plus `$offset`.
macro_rules! address {
    ($f:ident, $addr:expr, $offset:expr) => {
        if $f & $crate::inst::Access::WRAP.bits() != 0 {
            ($addr as u32).wrapping_add($offset) as u64
        } else {
            $addr as u32 as u64 + $offset as u64
        }
    };
}

/// The `$n` bytes of memory at effective address `$ea`, as a pointer, after the bounds
/// check of a scalar access: past the memory's length, the instruction at `$ip` traps
/// with `MemoryOutOfBounds`.
macro_rules! checked {
    ($ea:expr, $n:literal, $ip:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr) => {{
        let ea: u64 = $ea;
        if ea + $n > $mem_len {
            leave!($ip, $fp, $ctx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        $mem.add(ea as usize) as *mut [u8; $n]
    }};
}

/// The address register bits `$addr` of a scalar access of form `$f`, plus `$index *
/// $scale` in 32-bit arithmetic with `Access::INDEX` (`$index` is only evaluated then). A
/// multiplication, not a shift: a shift by a variable needs one particular register
/// (`cl` on x86-64), which a handler holds an argument in.
macro_rules! indexed {
    ($f:ident, $addr:expr, $index:expr, $scale:expr) => {
        if $f & $crate::inst::Access::INDEX.bits() != 0 {
            ($addr as u32).wrapping_add(($index as u32).wrapping_mul($scale as u32)) as u64
        } else {
            $addr
        }
    };
}

/// Enters handler `$name` in each of the forms `$f` into table `$t` (where `Op` and
/// `Handler` are in scope).
macro_rules! forms {
    ($t:ident, $name:ident, [$($f:expr),* $(,)?]) => {
        $( $t[$f as usize][Op::$name as usize] = Some($name::<{ $f }> as Handler); )*
    };
}

/// Enters handlers into table `$t`: with a list of forms, each handler in each of them
/// (the handlers are generic over their form); without one, each in form 0 only.
macro_rules! register {
    ($t:ident, $forms:tt: $($name:ident),* $(,)?) => {
        $( forms!($t, $name, $forms); )*
    };
    ($t:ident, $($name:ident),* $(,)?) => {
        $( $t[0][Op::$name as usize] = Some($name as Handler); )*
    };
}

/// Short names of the form bits, for the lists of forms in the handler registrations.
pub(super) mod bits {
    use crate::inst::{Access, Counting, Form};
    /// [`Form::OUT`].
    pub const O: u8 = Form::OUT.bits();
    /// [`Form::A`].
    pub const A: u8 = Form::A.bits();
    /// [`Form::B`].
    pub const B: u8 = Form::B.bits();
    /// [`Form::TEE`].
    pub const T: u8 = Form::TEE.bits();
    /// [`Access::WRAP`].
    pub const W: u8 = Access::WRAP.bits();
    /// [`Access::INDEX`].
    pub const I: u8 = Access::INDEX.bits();
    /// [`Counting::PRE`].
    pub const P: u8 = Counting::PRE.bits();
    /// [`Counting::ADD_REG`].
    pub const R: u8 = Counting::ADD_REG.bits();
}

/// Binds the fields of the instruction at `$ip`, which the dispatch guarantees has tag
/// `$v`.
macro_rules! decode {
    ($ip:expr, $v:ident { $($f:tt)* }) => {
        // Used inside handler bodies (already `unsafe`). Sound: `Inst::new` gives only
        // instructions of tag `Op::$v` this handler, so the other variants cannot occur.
        let Instr::$v { $($f)* } = (*$ip).instr else {
            core::hint::unreachable_unchecked()
        };
    };
}

/// `r` (register bits of an integer of `T`'s width) plus `addend`, in that width: the
/// fused add of form `Counting::PRE`.
#[inline(always)]
pub(super) fn pre_add<T>(r: u64, addend: u64) -> u64 {
    if core::mem::size_of::<T>() == 4 {
        (r as u32).wrapping_add(addend as u32) as u64
    } else {
        r.wrapping_add(addend)
    }
}

/// The first operand of a compare-branch of form `$f`: with `PRE`, register `$a` plus
/// the step (`$add`, or register `$add_reg` with `Counting::ADD_REG`), written back; else as
/// `operand!`.
macro_rules! counter_operand {
    ($f:ident, $fp:expr, $a:expr, $add:expr, $add_reg:expr, $acc:expr, $t:ty) => {
        if $f & $crate::inst::Counting::PRE.bits() != 0 {
            let addend = if $f & $crate::inst::Counting::ADD_REG.bits() != 0 {
                get($fp, $add_reg)
            } else {
                $add.0 as i64 as u64
            };
            let v = $crate::exec::dispatch::pre_add::<$t>(get($fp, $a), addend);
            set($fp, $a, v);
            if $f & $crate::inst::Form::TEE.bits() != 0 {
                $acc.i = v;
            }
            v
        } else {
            operand!($f, $crate::inst::Form::A.bits(), $fp, $a, $acc, $t)
        }
    };
}

/// Continues with the handler of the instruction at `$ip`: a call in tail position, which
/// an optimising build turns into a jump. In an unoptimised build (`cfg(not
/// tierup_tail_dispatch)`, set by the build script) it returns to the trampoline instead.
#[cfg(tierup_tail_dispatch)]
macro_rules! next {
    ($ip:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr, $acc:expr) => {{
        let ip: *const Inst = $ip;
        let h = (*ip).handler();
        return h(ip, $fp, $mem, $mem_len, $ctx, $acc);
    }};
}

/// See the other definition.
#[cfg(not(tierup_tail_dispatch))]
macro_rules! next {
    ($ip:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr, $acc:expr) => {{
        let _ = ($mem, $mem_len);
        (*$ctx).acc = $acc;
        leave!($ip, $fp, $ctx, Exit::YIELD)
    }};
}

/// As [`next!`], for calls, which nest frames (backward branches, the other transfers that
/// may repeat without bound, return to the trampoline every [`LOOP_SAMPLE`] bytes of loop
/// work instead; straight-line code, forward branches and returns cannot go on without
/// one of them):
/// when the host stack has grown below
/// `Ctx::stack_limit` (which happens only where the compiler did not turn some tail call
/// into a jump), the chain returns to the trampoline instead, which bounds the host stack
/// whatever the code generation.
macro_rules! next_spend {
    ($ip:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr, $acc:expr) => {{
        let ip: *const Inst = $ip;
        let fp: *mut u64 = $fp;
        let ctx: *mut Ctx = $ctx;
        let acc: $crate::exec::dispatch::Acc = $acc;
        if $crate::exec::dispatch::stack_pointer() < (*ctx).stack_limit {
            (*ctx).acc = acc;
            leave!(ip, fp, ctx, Exit::YIELD);
        }
        next!(ip, fp, $mem, $mem_len, ctx, acc)
    }};
}

/// Continues at `$target`, `$offset` bytes of code away (zero or less: a backward branch):
/// spends that much (and one instruction) of the activation's loop budget, and returns to
/// the trampoline with [`Exit::SAMPLE`] at `$target` when it runs out; otherwise as
/// [`next!`]. (A backward branch needs no stack check of its own, see `exec::run`.)
macro_rules! back_edge {
    ($target:expr, $offset:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr, $acc:expr) => {{
        let target: *const Inst = $target;
        let ctx: *mut Ctx = $ctx;
        let delta = ($offset as i32).wrapping_sub(core::mem::size_of::<Inst>() as i32);
        if $crate::exec::dispatch::spend_loop(ctx, delta) {
            (*ctx).acc = $acc;
            leave!(target, $fp, ctx, Exit::SAMPLE);
        }
        next!(target, $fp, $mem, $mem_len, ctx, $acc)
    }};
}

/// Takes the branch of the instruction at `$ip` with `$offset`: backward, as
/// [`back_edge!`], forward, as [`next!`].
macro_rules! branch {
    ($ip:expr, $offset:expr, $fp:expr, $mem:expr, $mem_len:expr, $ctx:expr, $acc:expr) => {{
        let offset: i32 = $offset;
        let target = $ip.byte_offset(offset as isize);
        if offset <= 0 {
            back_edge!(target, offset, $fp, $mem, $mem_len, $ctx, $acc)
        }
        next!(target, $fp, $mem, $mem_len, $ctx, $acc)
    }};
}

/// The current host stack pointer.
#[inline(always)]
pub(super) fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads the stack pointer register; no memory access, no side effect.
        unsafe {
            core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
        }
        sp
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let probe = 0u8;
        core::hint::black_box(&probe) as *const u8 as usize
    }
}

/// Leaves the chain with `$exit`, saving where execution stopped.
macro_rules! leave {
    ($ip:expr, $fp:expr, $ctx:expr, $exit:expr) => {{
        (*$ctx).ip = $ip;
        (*$ctx).fp = $fp;
        return $exit;
    }};
}
