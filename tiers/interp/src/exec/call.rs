//! Calls and returns. A call of an interpreted function pushes the caller's frame on
//! the thread's frame stack and continues in the same chain (no host recursion); a call
//! of anything else (host function, another tier, a function not translated yet) goes
//! through its array entry. Returns resume the suspended caller, or end the activation.

use core::ptr;
use core::sync::atomic::Ordering;

use tierup_abi::{FuncCode, FuncEntry, Tier, TrapCode, ValRaw};

use super::dispatch::{Acc, Ctx, Exit, Handler, HandlerTable, bits, get, memory, set};
use super::frame::{cells_to_regs, copy_regs, frame_fits, init_frame, regs_to_cells};
use super::stack::{Frame, ThreadStack};
use crate::func::{CallSite, InterpFunc, NARROW};
use crate::inst::Inst;
use crate::isa::{Instr, Op, Reg};
use crate::regs::KIND;

/// Arguments/results of a call out through an array entry: on the host stack when small.
const INLINE_CELLS: usize = 16;

/// Makes `vmctx` the running context (with its function references) and returns its
/// memory pair.
///
/// # Safety
///
/// `vmctx` is a valid context.
#[inline(always)]
unsafe fn switch_instance(ctx: *mut Ctx, vmctx: *mut tierup_abi::VmContext) -> (*mut u8, u64) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        (*ctx).vmctx = vmctx;
        (*ctx).func_refs = (*vmctx).func_refs;
        memory(vmctx)
    }
}

/// The end of every return handler, once the results are at the bottom of the frame
/// (where the caller passed the arguments): resumes the suspended caller frame, or ends
/// the activation.
macro_rules! return_to_caller {
    ($ip:ident, $fp:ident, $mem:ident, $mem_len:ident, $ctx:ident, $acc:ident) => {{
        let stack = (*$ctx).stack;
        if (*stack).frames.len() <= (*$ctx).frames_base {
            // A tail call: this handler itself then calls nothing, so it needs no
            // register saves.
            return tail_only(TailOnly::ReturnOuter)($ip, $fp, ptr::null_mut(), 0, $ctx, $acc);
        }
        // The frame was pushed with one store per field, often just before (a leaf
        // call), so it is read one field at a time: a wider load that spans two of those
        // stores cannot be forwarded from them and would wait for them to retire.
        let frames = &mut (*stack).frames;
        let top = frames.len() - 1;
        let rec = frames.as_ptr().add(top);
        let frame = Frame {
            func: ptr::read_volatile(&raw const (*rec).func),
            vmctx: ptr::read_volatile(&raw const (*rec).vmctx),
            ip: ptr::read_volatile(&raw const (*rec).ip),
            fp: ptr::read_volatile(&raw const (*rec).fp),
        };
        frames.set_len(top);
        let same = frame.vmctx == (*$ctx).vmctx;
        (*$ctx).func = frame.func;
        let (mem, mem_len) = if same {
            ($mem, $mem_len)
        } else {
            switch_instance($ctx, frame.vmctx)
        };
        next!(frame.ip.add(1), frame.fp, mem, mem_len, $ctx, $acc)
    }};
}

handler! {
    /// Counts a call of the running function in its slot in the running instance (the
    /// slot every caller's call goes through: an importer's reference is the exporter's
    /// slot). A plain read-modify-write, as `FuncEntry::calls` allows.
    CountCall |ip, fp, mem, mem_len, ctx, acc| {
        let slot = *(*ctx).func_refs.add((*(*ctx).func).func_index as usize);
        let calls = &(*slot).calls;
        calls.store(calls.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// Returns any number of results.
    Return |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Return { src, len });
        copy_regs(fp, fp.offset(src as isize), len as usize);
        return_to_caller!(ip, fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// Returns one scalar (in form `Form::A` from the accumulator's integer half): the common
    /// case, without `Return`'s copy loop.
    ReturnOne<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, ReturnOne { src });
        *fp = operand!(F, bits::A, fp, src, acc, u64);
        return_to_caller!(ip, fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// The return of the activation's outermost frame: writes the results (at the bottom
    /// of the frame) to the activation's cells and ends the chain.
    #[inline(never)]
    ReturnOuter |ip, fp, mem, mem_len, ctx, acc| {
        write_results((*ctx).func, fp, (*ctx).results);
        leave!(ip, fp, ctx, Exit::DONE)
    }
}

/// Writes the outermost frame's results (registers from `s`) to the activation's cells.
///
/// # Safety
///
/// `s` holds `func`'s results; `results` has a cell for each.
#[inline(never)]
unsafe fn write_results(func: *const InterpFunc, s: *const u64, results: *mut ValRaw) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let f = &*func;
        if f.sig_wide == NARROW {
            for i in 0..f.num_results as usize {
                *results.add(i) = ValRaw::from_u64(*s.add(i));
            }
        } else {
            let p = f.sig_wide as usize + f.num_params as usize;
            regs_to_cells(s, results, &f.wide[p..p + f.num_results as usize]);
        }
    }
}

/// The common case of a call, inline in the call handlers: an interpreted callee and room
/// on the frame stack. It calls no function, and copies the callee's frame image after
/// the caller's frame is recorded (with a loop the compiler does not unroll), so that few
/// values are live at once and the handler saves few machine registers (three, against
/// six when the image came first); every other case continues in `tail_only($slow)`, a
/// handler for the same instruction, by a tail call.
macro_rules! call_fast {
    (
        $ip:ident, $fp:ident, $mem:ident, $mem_len:ident, $ctx:ident, $acc:ident,
        $callee:expr, $base:expr, $slow:expr
    ) => {{
        let callee: *const FuncEntry = $callee;
        let code = (*callee).load_code();
        let stack = (*$ctx).stack;
        if (*code).kind() != KIND || (*stack).frames.len() >= (*$ctx).frames_limit {
            // The slow paths reload the memory themselves (the pair is not needed
            // here, which leaves registers free).
            return tail_only($slow)($ip, $fp, ptr::null_mut(), 0, $ctx, $acc);
        }
        let func = (*$ctx).func;
        let cf = InterpFunc::of_code(code);
        // The arguments are the top of the caller's operand stack: its registers above
        // them are dead, so the callee's frame begins at them (they are its parameters).
        let new_fp = $fp.offset($base as isize);
        let cvm = (*callee).vmctx;
        if !frame_fits(stack, new_fp, &*cf) {
            leave!($ip, $fp, $ctx, Exit::trap(TrapCode::StackOverflow));
        }
        // Room was checked above, so this push does not reallocate.
        let frames = &mut (*stack).frames;
        let len = frames.len();
        frames.as_mut_ptr().add(len).write(Frame {
            func,
            vmctx: (*$ctx).vmctx,
            ip: $ip,
            fp: $fp,
        });
        frames.set_len(len + 1);
        let same = cvm == (*$ctx).vmctx;
        (*$ctx).func = cf;
        // A call within the instance keeps the memory; another instance has its own.
        let (mem, mem_len) = if same {
            ($mem, $mem_len)
        } else {
            switch_instance($ctx, cvm)
        };
        // The caller's frame is recorded: only the callee's values are live across the
        // image copy. A function's first instruction reads no accumulator (the
        // translator links only within a function), so the caller's is not kept.
        let entry = (*cf).code.as_ptr();
        init_frame(new_fp, &*cf);
        if (*cf).spend((*cf).hotness.entry_delta) {
            (*$ctx).acc = Acc::default();
            leave!(entry, new_fp, $ctx, Exit::HOT);
        }
        next_spend!(entry, new_fp, mem, mem_len, $ctx, Acc::default())
    }};
}

handler! {
    /// Direct call.
    Call<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Call { base, func, arg, step, .. });
        if F & bits::P != 0 {
            let v = get(fp, arg);
            let sum = (v as u32).wrapping_add(step.0 as i32 as u32) as u64;
            set(fp, base, if step.0 == 0 { v } else { sum });
        }
        let callee = *(*ctx).func_refs.add(func as usize);
        call_fast!(ip, fp, mem, mem_len, ctx, acc, callee, base, TailOnly::CallSlow)
    }
}

handler! {
    /// Direct call: the cases `Call` leaves to this handler (lazy or non-interpreted
    /// callee, frame stack full).
    #[inline(never)]
    CallSlow |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Call { site, base, .. });
        let site = *(*(*ctx).func).calls.as_ptr().add(site as usize);
        let callee = *(*ctx).func_refs.add(site.index as usize);
        call(ip, fp, ctx, acc, callee, site, base)
    }
}

handler! {
    /// Call through a table, with the element and signature checks.
    CallIndirect<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, CallIndirect { site, base, index, arg, ty });
        let element = get(fp, index);
        if F & bits::P != 0 {
            set(fp, base, get(fp, arg));
        }
        let site = *(*(*ctx).func).calls.as_ptr().add(site as usize);
        let callee = match indirect_callee((*ctx).vmctx, site.table, element, ty) {
            Ok(callee) => callee,
            Err(code) => leave!(ip, fp, ctx, Exit::trap(code)),
        };
        call_fast!(ip, fp, mem, mem_len, ctx, acc, callee, base, TailOnly::CallIndirectSlow)
    }
}

handler! {
    /// Call through a table: the cases `CallIndirect` leaves to this handler (it repeats
    /// the checks, which passed).
    #[inline(never)]
    CallIndirectSlow |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, CallIndirect { site, base, index, ty, .. });
        let site = *(*(*ctx).func).calls.as_ptr().add(site as usize);
        let callee = match indirect_callee((*ctx).vmctx, site.table, get(fp, index), ty) {
            Ok(callee) => callee,
            Err(code) => leave!(ip, fp, ctx, Exit::trap(code)),
        };
        call(ip, fp, ctx, acc, callee, site, base)
    }
}

/// The callee of a `call_indirect` through element `index` of table `table`, checked:
/// in bounds, not null, of type `ty`.
///
/// # Safety
///
/// `vmctx` is a valid context with tables up to `table` and type ids up to `ty`
/// (translator invariants).
#[inline(always)]
unsafe fn indirect_callee(
    vmctx: *mut tierup_abi::VmContext,
    table: u32,
    index: u64,
    ty: u32,
) -> Result<*const FuncEntry, TrapCode> {
    // SAFETY: guaranteed by the caller; the element index is checked against the length.
    unsafe {
        let table = *(*vmctx).tables.add(table as usize);
        let i = index as u32 as usize;
        if i >= (*table).length {
            return Err(TrapCode::UndefinedElement);
        }
        let callee = *(*table).elements.add(i) as *const FuncEntry;
        if callee.is_null() {
            return Err(TrapCode::UninitializedElement);
        }
        if (*callee).type_id != *(*vmctx).type_ids.add(ty as usize) {
            return Err(TrapCode::IndirectCallTypeMismatch);
        }
        Ok(callee)
    }
}

/// The cases of a call its fast path (`call_fast!`) leaves: a callee not translated yet
/// is translated; a full frame stack grows. An interpreted callee then runs the call
/// instruction again, which takes the fast path (so frames are entered in one place);
/// any other tier is called through its array entry.
///
/// # Safety
///
/// The handler contract; `ip` is the call instruction, `callee` a valid slot whose
/// signature matches `site`.
#[inline(always)]
unsafe fn call(
    ip: *const Inst,
    fp: *mut u64,
    ctx: *mut Ctx,
    acc: Acc,
    callee: *const FuncEntry,
    site: CallSite,
    base: Reg,
) -> Exit {
    // SAFETY: guaranteed by the caller; the new frame is checked by `enter_frame`.
    unsafe {
        let stack = (*ctx).stack;
        let func = (*ctx).func;
        let vmctx = (*ctx).vmctx;
        let mut code = (*callee).load_code();
        if (*code).tier == Tier::Lazy {
            code = ((*(*vmctx).libcalls).translate)(callee);
            if code.is_null() {
                leave!(
                    ip,
                    fp,
                    ctx,
                    Exit::propagate(TrapCode::CompileError.status())
                );
            }
        }
        let args = fp.offset(base as isize);
        if (*code).kind() == KIND {
            if (*stack).frames.len() >= (*ctx).depth_limit {
                leave!(ip, fp, ctx, Exit::trap(TrapCode::StackOverflow));
            }
            (*stack).frames.reserve(1);
            (*ctx).set_frames_limit();
            let (mem, mem_len) = memory(vmctx);
            next_spend!(ip, fp, mem, mem_len, ctx, acc)
        }
        if let Err(status) = call_out(stack, func, vmctx, fp, callee, code, site, args) {
            leave!(ip, fp, ctx, Exit::propagate(status));
        }
        let (mem, mem_len) = memory(vmctx);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

/// Calls a non-interpreted callee (host function, another tier) through its array entry,
/// converting the arguments at `args` to cells and the results back.
///
/// # Safety
///
/// As for [`call`]; `code` is the callee's published code.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn call_out(
    stack: *mut ThreadStack,
    func: *const InterpFunc,
    vmctx: *mut tierup_abi::VmContext,
    fp: *mut u64,
    callee: *const FuncEntry,
    code: *const FuncCode,
    site: CallSite,
    args: *mut u64,
) -> Result<(), u32> {
    // SAFETY: guaranteed by the caller; the buffer has `max(params, results)` cells.
    unsafe {
        let cells = (site.params.max(site.results)) as usize;
        let mut inline = [ValRaw::ZERO; INLINE_CELLS];
        let mut heap = Vec::new();
        let buf: *mut ValRaw = if cells <= INLINE_CELLS {
            inline.as_mut_ptr()
        } else {
            heap.resize(cells, ValRaw::ZERO);
            heap.as_mut_ptr()
        };
        let wide: &[bool] = if site.wide == NARROW {
            &[]
        } else {
            &(&(*func).wide)[site.wide as usize..]
        };
        if site.wide == NARROW {
            for i in 0..site.params as usize {
                *buf.add(i) = ValRaw::from_u64(*args.add(i));
            }
        } else {
            regs_to_cells(args, buf, &wide[..site.params as usize]);
        }
        (*stack).top = fp.add((*func).frame_size as usize);
        // The callee is no longer this function: machine code is told by its PC, a host
        // function marks itself, the rest is the runtime's.
        let runtime = tierup_abi::running::enter(tierup_abi::running::NOTHING);
        let status = ((*code).array_entry)(callee, code, vmctx, buf);
        drop(runtime);
        if status != tierup_abi::STATUS_OK {
            return Err(status);
        }
        if site.wide == NARROW {
            for i in 0..site.results as usize {
                *args.add(i) = (*buf.add(i)).get_u64();
            }
        } else {
            let p = site.params as usize;
            cells_to_regs(buf, args, &wide[p..p + site.results as usize]);
        }
        Ok(())
    }
}

/// The handlers reached only by tail calls from other handlers: the outermost `Return`,
/// and the slow paths of `Call` and `CallIndirect`. They are passed a null memory pair
/// and do not use it (they reload the memory where they need it). They are called
/// through a table (see [`tail_only`]) like every other handler: a direct call would let
/// the compiler inline them or give them a private calling convention, and then it does
/// not turn the call into a jump.
#[derive(Clone, Copy)]
enum TailOnly {
    ReturnOuter,
    CallSlow,
    CallIndirectSlow,
}

/// The handlers of [`TailOnly`], in its order.
static TAIL_ONLY: [Handler; 3] = [
    ReturnOuter as Handler,
    CallSlow as Handler,
    CallIndirectSlow as Handler,
];

/// The handler `which`, read so that the compiler cannot see which function it is.
#[inline(always)]
fn tail_only(which: TailOnly) -> Handler {
    // SAFETY: a volatile read of an element of a static array (every `TailOnly` is below
    // its length).
    unsafe { ptr::read_volatile(&TAIL_ONLY[which as usize]) }
}

/// Enters the call and return handlers into `t` (the tail-only ones are reached through
/// [`tail_only`]).
pub(super) const fn register(t: &mut HandlerTable) {
    use bits::{A, P};
    register!(t, [0, A]: ReturnOne);
    // Calls: the first argument set by the call itself, or not.
    register!(t, [0, P]: Call, CallIndirect);
    register!(t, Return, CountCall);
}
