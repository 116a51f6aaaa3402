//! The plumbing of threaded dispatch: the handler signature, the per-activation context,
//! and the macros every handler uses to decode its instruction, continue with the next
//! handler (a call in tail position) or leave the chain.

use core::ptr;

use tierup_abi::{FuncEntry, TrapCode, ValRaw, VmContext};

use super::stack::ThreadStack;
use crate::func::InterpFunc;
use crate::isa::Instr;

/// One instruction handler: `(ip, fp, memory base, memory length, context, accumulator)`.
///
/// All six arguments travel in registers. `ip` points at an instruction whose handler
/// is this one, `fp` is the frame pointer of `(*cx).func`, and the memory pair is that of
/// `(*cx).vmctx` (length 0 when it has none). The accumulator ([`Acc`]: one integer and
/// one float machine register) carries a value from an
/// instruction that produced it to the next one, which consumes it (see `Form`).
pub(crate) type Handler = unsafe fn(*const Inst, *mut u64, *mut u8, u64, *mut Ctx, Acc) -> Exit;

/// The accumulator: integers and f32 (by their bits) travel in `i`, a general register,
/// f64 in `f`, a vector register, so that float chains need no moves between the two
/// register files. A handler takes and passes it by value: the pair travels in two
/// argument registers.
#[derive(Clone, Copy, Default)]
pub(crate) struct Acc {
    pub i: u64,
    pub f: f64,
}

/// Which half of [`Acc`] a value of this type travels in: `FLOAT` for f64.
pub(crate) trait AccClass {
    /// Whether the value travels in `Acc::f`.
    const FLOAT: bool;
}

macro_rules! acc_class {
    ($($t:ty => $float:expr),*) => {$(
        impl AccClass for $t {
            const FLOAT: bool = $float;
        }
    )*};
}
acc_class!(u32 => false, i32 => false, u64 => false, i64 => false, f32 => false, f64 => true);

/// Forms: which operands of an instruction travel in the accumulator (the sixth handler
/// argument, a machine register) instead of a frame register. The translator links an
/// instruction whose result is a temporary read only by the very next instruction: the
/// first gets `OUT`, the second `A` or `B` for the operand it reads. Each instruction tag
/// has a handler for some forms (see `run::HANDLERS`); form 0 (all registers) always.
pub(crate) mod form {
    /// The result goes to the accumulator (the register operand `dst` is not written).
    pub const OUT: u8 = 1;
    /// The first operand (`a`, `src`, `addr` or `cond`) comes from the accumulator.
    pub const A: u8 = 2;
    /// The second operand (`b`, or a store's `val`) comes from the accumulator.
    pub const B: u8 = 4;
    /// Loads and stores: the address is `addr + offset` in 32-bit arithmetic (wrapping),
    /// not the unbounded sum of a memory argument. The offset is then the constant of an
    /// `i32.add` the translator fused into the access, which wraps like the add did.
    pub const WRAP: u8 = 8;
    /// Integer compare-branches: first `a += add` (in the operands' width), the loop
    /// counter's `i32.add`/`i64.add` of a constant fused into its back edge (or an
    /// increment into a forward branch). Calls: first set the first argument (see
    /// `Instr::Call`). The same bit as `WRAP`: no instruction has both.
    pub const PRE: u8 = 8;
    /// With `PRE`: the addend is register `add_reg` (a step held in a local), not the
    /// constant `add`.
    pub const ADD_REG: u8 = 16;
    /// Loads and stores: the address is `addr + index * scale` in 32-bit arithmetic
    /// (wrapping), plus the offset: the `i32.add` (or `I32AddShl` by up to 3) of an
    /// indexed access fused into it. A load's `B` then reads `index` from the
    /// accumulator. With `WRAP` too, the offset is added in 32 bits as well. The same bit
    /// as `ADD_REG`: no instruction has both.
    pub const INDEX: u8 = 16;
    /// Operators (binary, with an immediate, unary, compares) and loads: the result goes
    /// to register `dst` (a load fused with its address arithmetic: `val` or `dst`, the
    /// loaded value) and to the accumulator, for the next instruction, which reads it
    /// from there (a local written and read at once: `c = 2 * c + 1; if c < n`, or
    /// `x = a[i]; if x < p`). Integer branches of form `PRE`: the counter after its
    /// add goes to the accumulator as well, for the instruction after the branch (the
    /// path that falls through; a branch target never reads the accumulator). Its own
    /// bit: loads have all the others.
    pub const TEE: u8 = 32;
    /// The number of forms (all bits plus one).
    pub const COUNT: usize = 64;
}

/// An instruction as the executor runs it: the address of its handler, then the
/// instruction. Dispatch is one load of `handler` and an indirect jump (direct threading);
/// handlers read their operands from `instr`, whose variant the handler knows.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Inst {
    pub(super) handler: Handler,
    pub(crate) instr: Instr,
}

impl Inst {
    /// `instr` with its handler for form `form` (see [`form`]), and its branch offset (in
    /// instructions) turned into bytes, which saves the handlers a multiplication. The
    /// translator asks [`supports`] before it gives an instruction a form; should it not
    /// have, the instruction becomes a trap (`CompileError`) rather than run with the wrong
    /// operands. Offsets cannot overflow: see `translate::MAX_INSTRS`.
    pub(crate) fn new(mut instr: Instr, form: u8) -> Inst {
        if let Some(offset) = instr.offset_mut() {
            *offset = offset.saturating_mul(core::mem::size_of::<Inst>() as i32);
        }
        match handler_of(&instr, form) {
            Some(handler) => Inst { handler, instr },
            None => Inst {
                handler: super::control::Trap as Handler,
                instr: Instr::Trap {
                    code: tierup_abi::TrapCode::CompileError,
                },
            },
        }
    }
}

/// The handler of `instr` in form `form`, if it has one.
fn handler_of(instr: &Instr, form: u8) -> Option<Handler> {
    // Every tag is below the rows' length (`Op::COUNT`).
    *super::run::HANDLERS
        .get(form as usize)?
        .get(instr.tag() as usize)?
}

/// Whether `instr` has a handler for form `form` (for the translator).
pub(crate) fn supports(instr: &Instr, form: u8) -> bool {
    handler_of(instr, form).is_some()
}

impl core::fmt::Debug for Inst {
    /// The instruction, then its form when not 0: the names of its bits, e.g.
    /// `F64AddLoad { .. } [A|WRAP]`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.instr.fmt(f)?;
        let tag = self.instr.tag() as usize;
        let Some(bits) = super::run::HANDLERS.iter().position(|row| {
            row.get(tag)
                .is_some_and(|h| h.is_some_and(|h| h as usize == self.handler as usize))
        }) else {
            return Ok(());
        };
        if bits == 0 {
            return Ok(());
        }
        // Bits 8 and 16 are `PRE` and `ADD_REG` on a branch or call, `WRAP` and `INDEX` on
        // an access.
        let mut instr = self.instr;
        let branch = instr.offset_mut().is_some()
            || matches!(instr, Instr::Call { .. } | Instr::CallIndirect { .. });
        let names = [
            (form::OUT, "OUT"),
            (form::A, "A"),
            (form::B, "B"),
            (form::WRAP, if branch { "PRE" } else { "WRAP" }),
            (form::ADD_REG, if branch { "ADD_REG" } else { "INDEX" }),
            (form::TEE, "TEE"),
        ];
        let mut sep = " [";
        for (bit, name) in names {
            if bits as u8 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        f.write_str("]")
    }
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
}

impl Ctx {
    /// Sets `frames_limit` from the frame stack's current capacity.
    ///
    /// # Safety
    ///
    /// `self.ts` is this thread's stack.
    #[inline(always)]
    pub unsafe fn set_frames_limit(&mut self) {
        // SAFETY: guaranteed by the caller.
        unsafe {
            self.frames_limit = (*self.ts).frames.capacity().min(self.depth_limit);
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

/// Defines a handler `$name` (named after its instruction tag) with the [`Handler`]
/// signature (generic over its form with `$name<F>`); the body runs inside `unsafe` under
/// the handler contract.
macro_rules! handler {
    ($(#[$m:meta])* $name:ident $(<$f:ident>)? |$ip:ident, $fp:ident, $mb:ident, $ml:ident, $cx:ident, $acc:ident| { $($body:tt)* }) => {
        $(#[$m])*
        ///
        /// # Safety
        ///
        /// The handler contract (see [`super::dispatch::Handler`] and the `run` module
        /// docs): `ip` points at an instruction of this tag in the code of `(*cx).func`,
        /// `fp` is that function's frame, the memory pair is current; in a handler generic
        /// over its form `F`, the operands that `F` names (see `form`) are in `acc`.
        #[allow(non_snake_case, unused_variables, unused_mut)]
        pub(super) unsafe fn $name $(<const $f: u8>)? (
            mut $ip: *const Inst,
            mut $fp: *mut u64,
            mut $mb: *mut u8,
            mut $ml: u64,
            $cx: *mut Ctx,
            mut $acc: super::dispatch::Acc,
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
            if <$t as super::dispatch::AccClass>::FLOAT {
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
/// accumulator (the half for `$t`) when the form has `form::OUT`, else to register `$dst`,
/// and to the accumulator as well when it has `form::TEE`.
macro_rules! result {
    ($f:ident, $fp:expr, $dst:expr, $acc:ident, $t:ty, $v:expr) => {{
        let v: u64 = $v;
        if $f & (super::dispatch::form::OUT | super::dispatch::form::TEE) != 0 {
            if <$t as super::dispatch::AccClass>::FLOAT {
                $acc.f = f64::from_bits(v);
            } else {
                $acc.i = v;
            }
        }
        if $f & super::dispatch::form::OUT == 0 {
            set($fp, $dst, v);
        }
    }};
}

/// The effective address of a scalar access of form `$f` (see `form::WRAP`): register
/// bits `$addr` (an i32) plus `$offset`.
macro_rules! address {
    ($f:ident, $addr:expr, $offset:expr) => {
        if $f & super::dispatch::form::WRAP != 0 {
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
    ($ea:expr, $n:literal, $ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr) => {{
        let ea: u64 = $ea;
        if ea + $n > $ml {
            leave!($ip, $fp, $cx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        $mb.add(ea as usize) as *mut [u8; $n]
    }};
}

/// The address register bits `$addr` of a scalar access of form `$f`, plus `$index *
/// $scale` in 32-bit arithmetic with `form::INDEX` (`$index` is only evaluated then). A
/// multiplication, not a shift: a shift by a variable needs one particular register
/// (`cl` on x86-64), which a handler holds an argument in.
macro_rules! indexed {
    ($f:ident, $addr:expr, $index:expr, $scale:expr) => {
        if $f & super::dispatch::form::INDEX != 0 {
            ($addr as u32).wrapping_add(($index as u32).wrapping_mul($scale as u32)) as u64
        } else {
            $addr
        }
    };
}

/// Enters handler `$name` in each of the forms `$f` into table `$t` (where `Op` and
/// `Handler` are in scope).
macro_rules! forms {
    ($t:ident, $name:ident, [$($f:expr),*]) => {
        $( $t[$f as usize][Op::$name as usize] = Some($name::<{ $f }> as Handler); )*
    };
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
/// fused add of form `PRE`.
#[inline(always)]
pub(super) fn pre_add<T>(r: u64, addend: u64) -> u64 {
    if core::mem::size_of::<T>() == 4 {
        (r as u32).wrapping_add(addend as u32) as u64
    } else {
        r.wrapping_add(addend)
    }
}

/// The first operand of a compare-branch of form `$f`: with `PRE`, register `$a` plus
/// the step (`$add`, or register `$add_reg` with `ADD_REG`), written back; else as
/// `operand!`.
macro_rules! counter_operand {
    ($f:ident, $fp:expr, $a:expr, $add:expr, $add_reg:expr, $acc:expr, $t:ty) => {
        if $f & super::dispatch::form::PRE != 0 {
            let addend = if $f & super::dispatch::form::ADD_REG != 0 {
                get($fp, $add_reg)
            } else {
                $add.0 as i64 as u64
            };
            let v = super::dispatch::pre_add::<$t>(get($fp, $a), addend);
            set($fp, $a, v);
            if $f & super::dispatch::form::TEE != 0 {
                $acc.i = v;
            }
            v
        } else {
            operand!($f, super::dispatch::form::A, $fp, $a, $acc, $t)
        }
    };
}

/// Continues with the handler of the instruction at `$ip`: a call in tail position, which
/// an optimising build turns into a jump. In an unoptimised build (`cfg(not
/// tierup_tail_dispatch)`, set by the build script) it returns to the trampoline instead.
#[cfg(tierup_tail_dispatch)]
macro_rules! next {
    ($ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $acc:expr) => {{
        let ip: *const Inst = $ip;
        let h = (*ip).handler;
        return h(ip, $fp, $mb, $ml, $cx, $acc);
    }};
}

/// See the other definition.
#[cfg(not(tierup_tail_dispatch))]
macro_rules! next {
    ($ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $acc:expr) => {{
        let _ = ($mb, $ml);
        (*$cx).acc = $acc;
        leave!($ip, $fp, $cx, Exit::YIELD)
    }};
}

/// As [`next!`], for the transfers that may repeat without bound or nest frames
/// (backward branches and calls; every endless run of instructions passes one, and the
/// rest, straight-line code, forward branches and returns, cannot go on without one):
/// when the host stack has grown below
/// `Ctx::stack_limit` (which happens only where the compiler did not turn some tail call
/// into a jump), the chain returns to the trampoline instead, which bounds the host stack
/// whatever the code generation.
macro_rules! next_spend {
    ($ip:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $acc:expr) => {{
        let ip: *const Inst = $ip;
        let fp: *mut u64 = $fp;
        let cx: *mut Ctx = $cx;
        let acc: super::dispatch::Acc = $acc;
        if super::dispatch::stack_pointer() < (*cx).stack_limit {
            (*cx).acc = acc;
            leave!(ip, fp, cx, Exit::YIELD);
        }
        next!(ip, fp, $mb, $ml, cx, acc)
    }};
}

/// Takes the branch of the instruction at `$ip` with `$offset`: backward, as
/// [`next_spend!`], forward, as [`next!`].
macro_rules! branch {
    ($ip:expr, $offset:expr, $fp:expr, $mb:expr, $ml:expr, $cx:expr, $acc:expr) => {{
        let offset: i32 = $offset;
        let target = $ip.byte_offset(offset as isize);
        if offset <= 0 {
            next_spend!(target, $fp, $mb, $ml, $cx, $acc)
        }
        next!(target, $fp, $mb, $ml, $cx, $acc)
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
    ($ip:expr, $fp:expr, $cx:expr, $exit:expr) => {{
        (*$cx).ip = $ip;
        (*$cx).fp = $fp;
        return $exit;
    }};
}
