//! The hand-written handlers: copies, branches, calls and returns (which switch frames
//! without host recursion), globals, memory and table instructions, and the other
//! instructions outside the table of `isa::for_each_op!`.

use core::ptr;

use tierup_abi::{FuncCode, FuncEntry, Tier, TrapCode, ValRaw, WASM_PAGE_SIZE};

use super::dispatch::{Acc, Ctx, Exit, Handler, Inst, form, memory};
use super::ops::{get, set};
use super::run::HandlerTable;
use super::stack::{Frame, ThreadStack};
use super::{cells_to_regs, copy_regs, frame_fits, init_frame, regs_to_cells};
use crate::func::{CallSite, InterpFunc, NARROW};
use crate::isa::{Instr, Op, Reg};
use crate::num::{Bits, RegVal};

/// Arguments/results of a call out through an array entry: on the host stack when small.
const INLINE_CELLS: usize = 16;

handler! {
    /// Traps with the instruction's code.
    Trap |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Trap { code });
        leave!(ip, fp, cx, Exit::trap(code))
    }
}

handler! {
    /// `dst = src`.
    Copy |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Copy { dst, src });
        set(fp, dst, get(fp, src));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

/// Between the two halves of a paired instruction (`Copy2`, `I32AddImm2`, `I32Add2`),
/// whose second half decodes its own fields after it: the fence keeps those loads after
/// the first half's write, so few values are live at once and the handler saves no
/// machine registers. Decoded together, the pairs saved and restored up to three, which
/// cost more than the dispatch they spare (`I32Add2` ran slower than the two adds).
#[inline(always)]
fn second_half() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

handler! {
    /// `dst = src`, then `dst2 = src2`.
    Copy2 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Copy2 { dst, src, .. });
        set(fp, dst, get(fp, src));
        second_half();
        decode!(ip, Copy2 { dst2, src2, .. });
        set(fp, dst2, get(fp, src2));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// Copies a span of registers in ascending order.
    CopySpan |ip, fp, mb, ml, cx, acc| {
        decode!(ip, CopySpan { dst, src, len });
        let d = fp.offset(dst as isize);
        let s = fp.offset(src as isize);
        for i in 0..len as usize {
            *d.add(i) = *s.add(i);
        }
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// Unconditional branch.
    Br |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Br { offset });
        branch!(ip, offset, fp, mb, ml, cx, acc)
    }
}

/// Generates the branch-on-condition handlers.
macro_rules! cond_branch {
    ($($name:ident($cond:ident: $t:ty) = $test:expr;)*) => {$(
        handler! {
            /// Branch on one register (or the accumulator, in form `A`; in form `PRE`
            /// the register plus `add`, written back, and with `TEE` passed on in the
            /// accumulator too).
            $name<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { cond, add_reg, offset, add });
                let $cond = counter_operand!(F, fp, cond, add, add_reg, acc, $t);
                if $test {
                    branch!(ip, offset, fp, mb, ml, cx, acc)
                }
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

cond_branch! {
    BrEqz(v: u32) = v as u32 == 0;
    BrNez(v: u32) = v as u32 != 0;
    BrI64Eqz(v: u64) = v == 0;
    BrI64Nez(v: u64) = v != 0;
}

/// The handlers of the compare-branches on a loaded byte (`Instr::BrI32NeLoad8U`).
macro_rules! load_branch_handlers {
    ($($name:ident: $taken:expr;)*) => {$(
        handler! {
            #[doc = concat!("Branch if `", stringify!($taken), "` of `a` and a loaded byte.")]
            $name |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { a, addr, index, offset, mem_offset });
                // The address of an `i32.load8_u` of form `INDEX` (scale 1).
                const F: u8 = form::INDEX;
                let ea = address!(F, indexed!(F, get(fp, addr), get(fp, index), 1), mem_offset);
                let [byte] = *checked!(ea, 1, ip, fp, mb, ml, cx);
                let byte = byte as u32;
                if $taken(get(fp, a) as u32, byte) {
                    branch!(ip, offset, fp, mb, ml, cx, acc)
                }
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

load_branch_handlers! {
    BrI32NeLoad8U: |a, b| a != b;
    BrI32EqLoad8U: |a, b| a == b;
}

handler! {
    /// Jumps to one of the `Br` instructions that follow (form `A`: the index from the
    /// accumulator).
    BrTable<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, BrTable { index, len });
        let i = (operand!(F, form::A, fp, index, acc, u32) as u32).min(len);
        let entry = ip.add(1 + i as usize);
        // Every entry is a `Br` (translator invariant 3): take it here, which saves
        // dispatching it.
        let target = match (*entry).instr {
            Instr::Br { offset } => entry.byte_offset(offset as isize),
            _ => entry,
        };
        if target <= ip {
            next_spend!(target, fp, mb, ml, cx, acc)
        }
        next!(target, fp, mb, ml, cx, acc)
    }
}

/// Makes `vmctx` the running context (with its function references) and returns its
/// memory pair.
///
/// # Safety
///
/// `vmctx` is a valid context.
#[inline(always)]
unsafe fn switch_instance(cx: *mut Ctx, vmctx: *mut tierup_abi::VmContext) -> (*mut u8, u64) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        (*cx).vmctx = vmctx;
        (*cx).func_refs = (*vmctx).func_refs;
        memory(vmctx)
    }
}

/// The end of every return handler, once the results are at the bottom of the frame
/// (where the caller passed the arguments): resumes the suspended caller frame, or ends
/// the activation.
macro_rules! return_to_caller {
    ($ip:ident, $fp:ident, $mb:ident, $ml:ident, $cx:ident, $acc:ident) => {{
        let ts = (*$cx).ts;
        if (*ts).frames.len() <= (*$cx).frames_base {
            // A tail call: this handler itself then calls nothing, so it needs no
            // register saves.
            return tail_only(0)($ip, $fp, ptr::null_mut(), 0, $cx, $acc);
        }
        // The frame was pushed with one store per field, often just before (a leaf
        // call), so it is read one field at a time: a wider load that spans two of those
        // stores cannot be forwarded from them and would wait for them to retire.
        let frames = &mut (*ts).frames;
        let top = frames.len() - 1;
        let rec = frames.as_ptr().add(top);
        let frame = Frame {
            func: ptr::read_volatile(&raw const (*rec).func),
            vmctx: ptr::read_volatile(&raw const (*rec).vmctx),
            ip: ptr::read_volatile(&raw const (*rec).ip),
            fp: ptr::read_volatile(&raw const (*rec).fp),
        };
        frames.set_len(top);
        let same = frame.vmctx == (*$cx).vmctx;
        (*$cx).func = frame.func;
        let (mb, ml) = if same {
            ($mb, $ml)
        } else {
            switch_instance($cx, frame.vmctx)
        };
        next!(frame.ip.add(1), frame.fp, mb, ml, $cx, $acc)
    }};
}

handler! {
    /// Returns any number of results.
    Return |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Return { src, len });
        copy_regs(fp, fp.offset(src as isize), len as usize);
        return_to_caller!(ip, fp, mb, ml, cx, acc)
    }
}

handler! {
    /// Returns one scalar (in form `A` from the accumulator's integer half): the common
    /// case, without `Return`'s copy loop.
    ReturnOne<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, ReturnOne { src });
        *fp = operand!(F, form::A, fp, src, acc, u64);
        return_to_caller!(ip, fp, mb, ml, cx, acc)
    }
}

handler! {
    /// The return of the activation's outermost frame: writes the results (at the bottom
    /// of the frame) to the activation's cells and ends the chain.
    #[inline(never)]
    ReturnOuter |ip, fp, mb, ml, cx, acc| {
        write_results((*cx).func, fp, (*cx).results);
        leave!(ip, fp, cx, Exit::DONE)
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
/// six when the image came first); every other case continues in `TAIL_ONLY[$slow]`, a
/// handler for the same instruction, by a tail call.
macro_rules! call_fast {
    ($ip:ident, $fp:ident, $mb:ident, $ml:ident, $cx:ident, $acc:ident, $callee:expr, $base:expr, $slow:literal) => {{
        let callee: *const FuncEntry = $callee;
        let code = (*callee).load_code();
        let ts = (*$cx).ts;
        if (*code).tier != Tier::Interp || (*ts).frames.len() >= (*$cx).frames_limit {
            // The slow paths reload the memory themselves (the pair is not needed
            // here, which leaves registers free).
            return tail_only($slow)($ip, $fp, ptr::null_mut(), 0, $cx, $acc);
        }
        let func = (*$cx).func;
        let cf = InterpFunc::of_code(code);
        // The arguments are the top of the caller's operand stack: its registers above
        // them are dead, so the callee's frame begins at them (they are its parameters).
        let new_fp = $fp.offset($base as isize);
        let cvm = (*callee).vmctx;
        if !frame_fits(ts, new_fp, &*cf) {
            leave!($ip, $fp, $cx, Exit::trap(TrapCode::StackOverflow));
        }
        // Room was checked above, so this push does not reallocate.
        let frames = &mut (*ts).frames;
        let len = frames.len();
        frames.as_mut_ptr().add(len).write(Frame {
            func,
            vmctx: (*$cx).vmctx,
            ip: $ip,
            fp: $fp,
        });
        frames.set_len(len + 1);
        let same = cvm == (*$cx).vmctx;
        (*$cx).func = cf;
        // A call within the instance keeps the memory; another instance has its own.
        let (mb, ml) = if same {
            ($mb, $ml)
        } else {
            switch_instance($cx, cvm)
        };
        // The caller's frame is recorded: only the callee's values are live across the
        // image copy. A function's first instruction reads no accumulator (the
        // translator links only within a function), so the caller's is not kept.
        let entry = (*cf).code.as_ptr();
        init_frame(new_fp, &*cf);
        next_spend!(entry, new_fp, mb, ml, $cx, Acc::default())
    }};
}

handler! {
    /// Direct call.
    Call<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Call { base, func, arg, step, .. });
        if F & form::PRE != 0 {
            let v = get(fp, arg);
            let sum = (v as u32).wrapping_add(step.0 as i32 as u32) as u64;
            set(fp, base, if step.0 == 0 { v } else { sum });
        }
        let callee = *(*cx).func_refs.add(func as usize);
        call_fast!(ip, fp, mb, ml, cx, acc, callee, base, 1)
    }
}

handler! {
    /// Direct call: the cases `Call` leaves to this handler (lazy or non-interpreted
    /// callee, frame stack full).
    #[inline(never)]
    CallSlow |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Call { site, base, .. });
        let site = *(*(*cx).func).calls.as_ptr().add(site as usize);
        let callee = *(*cx).func_refs.add(site.index as usize);
        call(ip, fp, cx, acc, callee, site, base)
    }
}

handler! {
    /// Call through a table, with the element and signature checks.
    CallIndirect<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, CallIndirect { site, base, index, arg, ty });
        let element = get(fp, index);
        if F & form::PRE != 0 {
            set(fp, base, get(fp, arg));
        }
        let site = *(*(*cx).func).calls.as_ptr().add(site as usize);
        let callee = match indirect_callee((*cx).vmctx, site.table, element, ty) {
            Ok(callee) => callee,
            Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
        };
        call_fast!(ip, fp, mb, ml, cx, acc, callee, base, 2)
    }
}

handler! {
    /// Call through a table: the cases `CallIndirect` leaves to this handler (it repeats
    /// the checks, which passed).
    #[inline(never)]
    CallIndirectSlow |ip, fp, mb, ml, cx, acc| {
        decode!(ip, CallIndirect { site, base, index, ty, .. });
        let site = *(*(*cx).func).calls.as_ptr().add(site as usize);
        let callee = match indirect_callee((*cx).vmctx, site.table, get(fp, index), ty) {
            Ok(callee) => callee,
            Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
        };
        call(ip, fp, cx, acc, callee, site, base)
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
    cx: *mut Ctx,
    acc: Acc,
    callee: *const FuncEntry,
    site: CallSite,
    base: Reg,
) -> Exit {
    // SAFETY: guaranteed by the caller; the new frame is checked by `enter_frame`.
    unsafe {
        let ts = (*cx).ts;
        let func = (*cx).func;
        let vmctx = (*cx).vmctx;
        let mut code = (*callee).load_code();
        if (*code).tier == Tier::Lazy {
            code = ((*(*vmctx).libcalls).translate)(callee);
            if code.is_null() {
                leave!(ip, fp, cx, Exit::propagate(TrapCode::CompileError.status()));
            }
        }
        let args = fp.offset(base as isize);
        if (*code).tier == Tier::Interp {
            if (*ts).frames.len() >= (*cx).depth_limit {
                leave!(ip, fp, cx, Exit::trap(TrapCode::StackOverflow));
            }
            (*ts).frames.reserve(1);
            (*cx).set_frames_limit();
            let (mb, ml) = memory(vmctx);
            next_spend!(ip, fp, mb, ml, cx, acc)
        }
        if let Err(status) = call_out(ts, func, vmctx, fp, callee, code, site, args) {
            leave!(ip, fp, cx, Exit::propagate(status));
        }
        let (mb, ml) = memory(vmctx);
        next!(ip.add(1), fp, mb, ml, cx, acc)
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
    ts: *mut ThreadStack,
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
        (*ts).top = fp.add((*func).frame_size as usize);
        let status = ((*code).array_entry)(callee, code, vmctx, buf);
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

/// The handlers of two-operand instructions with a constant, `dst = f(a, b, k)`, each
/// from its operand type, the constant's field and `|a, b, k|` expression: the
/// shifted-operand family (`Instr::I32AddShl`; shift counts are below the width) and
/// the multiplications by a constant fused with a `sub` or `xor`.
macro_rules! operands_and_constant_handlers {
    ($( $name:ident($t:ty, $field:ident) = |$a:ident, $b:ident, $k:ident| $e:expr; )*) => {$(
        handler! {
            #[doc = concat!("`", stringify!($e), "`.")]
            $name<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { dst, a, b, $field });
                let $a = operand!(F, form::A, fp, a, acc, $t) as $t;
                let $b = operand!(F, form::B, fp, b, acc, $t) as $t;
                let $k = $field as u32;
                result!(F, fp, dst, acc, $t, ($e) as u64);
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

operands_and_constant_handlers! {
    I32AddShl(u32, shift) = |a, b, k| a.wrapping_add(b.wrapping_shl(k));
    I32AddShrU(u32, shift) = |a, b, k| a.wrapping_add(b.wrapping_shr(k));
    I32XorShl(u32, shift) = |a, b, k| a ^ b.wrapping_shl(k);
    I32XorShrU(u32, shift) = |a, b, k| a ^ b.wrapping_shr(k);
    I32XorRotl(u32, shift) = |a, b, k| a ^ b.rotate_left(k);
    I32OrShl(u32, shift) = |a, b, k| a | b.wrapping_shl(k);
    I32OrShrU(u32, shift) = |a, b, k| a | b.wrapping_shr(k);
    I64XorShl(u64, shift) = |a, b, k| a ^ b.wrapping_shl(k);
    I64XorShrU(u64, shift) = |a, b, k| a ^ b.wrapping_shr(k);
    I32SubMulImm(u32, imm) = |a, b, k| a.wrapping_sub(b.wrapping_mul(k));
    I32XorMulImm(u32, imm) = |a, b, k| (a ^ b).wrapping_mul(k);
}

handler! {
    /// `dst = a / d` (i32, unsigned) as `(a * magic) >> 64`.
    I32DivUMagic<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32DivUMagic { dst, a, magic });
        let a = operand!(F, form::A, fp, a, acc, u32) as u32;
        let q = ((a as u128 * magic as u128) >> 64) as u64;
        result!(F, fp, dst, acc, u32, q);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `dst = ((a >> shr) & mask) << shl` (i32).
    I32ShiftMask<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32ShiftMask { dst, a, shr, shl, mask });
        let a = operand!(F, form::A, fp, a, acc, u32) as u32;
        result!(F, fp, dst, acc, u32, (((a >> (shr & 31)) & mask) << (shl & 31)) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `dst = a | (((b >> shr) & mask) << shl)` (i32).
    I32OrShiftMask<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32OrShiftMask { dst, a, b, shr, shl, mask });
        let a = operand!(F, form::A, fp, a, acc, u32) as u32;
        let b = operand!(F, form::B, fp, b, acc, u32) as u32;
        let field = (b.wrapping_shr(shr as u32) & mask).wrapping_shl(shl as u32);
        result!(F, fp, dst, acc, u32, (a | field) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `dst = a + imm`, then `dst2 = a2 + imm2` (i32).
    I32AddImm2 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32AddImm2 { dst, a, imm, .. });
        set(fp, dst, (get(fp, a) as u32).wrapping_add(imm.0 as i32 as u32) as u64);
        second_half();
        decode!(ip, I32AddImm2 { dst2, a2, imm2, .. });
        set(fp, dst2, (get(fp, a2) as u32).wrapping_add(imm2.0 as i32 as u32) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `dst = a + b`, then `dst2 = a2 + b2` (i32).
    I32Add2 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32Add2 { dst, a, b, .. });
        set(fp, dst, (get(fp, a) as u32).wrapping_add(get(fp, b) as u32) as u64);
        second_half();
        decode!(ip, I32Add2 { dst2, a2, b2, .. });
        set(fp, dst2, (get(fp, a2) as u32).wrapping_add(get(fp, b2) as u32) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `dst = a + (b << shift)`, then the i32 at `dst + offset` to `val` (form `OUT`: to
    /// the accumulator instead, `TEE`: as well).
    I32AddShlLoad<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32AddShlLoad { dst, a, b, val, shift, offset });
        let addr = (get(fp, a) as u32).wrapping_add((get(fp, b) as u32).wrapping_shl(shift as u32));
        set(fp, dst, addr as u64);
        let at = checked!(address!(F, addr, offset), 4, ip, fp, mb, ml, cx);
        let bytes = ptr::read_unaligned(at);
        result!(F, fp, val, acc, u32, u32::from_le_bytes(bytes) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `copy = src`, then the i32 at `addr + src * scale + offset` to `dst` (form `OUT`:
    /// to the accumulator instead, `TEE`: as well).
    CopyI32Load<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, CopyI32Load { copy, src, addr, scale, offset, .. });
        let index = get(fp, src);
        set(fp, copy, index);
        const I: u8 = form::INDEX;
        let ea = address!(I, indexed!(I, get(fp, addr), index, scale), offset);
        let bytes = ptr::read_unaligned(checked!(ea, 4, ip, fp, mb, ml, cx));
        second_half();
        decode!(ip, CopyI32Load { dst, .. });
        result!(F, fp, dst, acc, u32, u32::from_le_bytes(bytes) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

/// Generates the handlers of an operation whose second operand is loaded from memory
/// (form `A`: the first operand from the accumulator; form `B`: the address from it;
/// form `WRAP`: the address and offset added in 32 bits).
macro_rules! load_op {
    ($($name:ident($t:ty, $n:literal) = $f:expr;)*) => {$(
        handler! {
            /// An operation on a register and a loaded value (see the instruction).
            $name<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { dst, a, addr, offset });
                let ea = address!(F, operand!(F, form::B, fp, addr, acc, u32), offset);
                let bytes = ptr::read_unaligned(checked!(ea, $n, ip, fp, mb, ml, cx));
                let x = <$t as Bits>::from_reg(operand!(F, form::A, fp, a, acc, $t));
                let y = <$t>::from_le_bytes(bytes);
                let v: $t = $f(x, y);
                result!(F, fp, dst, acc, $t, v.into_reg());
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

load_op! {
    F64AddLoad(f64, 8) = |x: f64, y: f64| x + y;
    F64MulLoad(f64, 8) = |x: f64, y: f64| x * y;
    I32AddLoad(u32, 4) = |x: u32, y: u32| x.wrapping_add(y);
}

/// Generates the handlers of an operation that updates memory in place (form `A`: the
/// operand from the accumulator; form `WRAP`: the address and offset added in 32 bits).
macro_rules! op_in_place {
    ($($name:ident($t:ty, $n:literal) = $f:expr;)*) => {$(
        handler! {
            /// A load, an operation with a register and the store of its result back to
            /// the same address (see the instruction).
            $name<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { a, addr, offset });
                let at = checked!(address!(F, get(fp, addr), offset), $n, ip, fp, mb, ml, cx);
                let x = <$t as Bits>::from_reg(operand!(F, form::A, fp, a, acc, $t));
                let v: $t = $f(x, <$t>::from_le_bytes(ptr::read_unaligned(at)));
                ptr::write_unaligned(at, v.to_le_bytes());
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

op_in_place! {
    F64AddInPlace(f64, 8) = |x: f64, y: f64| x + y;
    I32AddInPlace(u32, 4) = |x: u32, y: u32| x.wrapping_add(y);
}

/// Generates the minimum and maximum handlers (forms 0 and `OUT`).
macro_rules! min_max {
    ($($name:ident($t:ty) = $f:expr;)*) => {$(
        handler! {
            /// A minimum or maximum (see the instruction).
            $name<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $name { dst, a, b });
                let v: $t = $f(<$t as Bits>::from_reg(get(fp, a)), <$t as Bits>::from_reg(get(fp, b)));
                result!(F, fp, dst, acc, $t, v.into_reg());
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }
        }
    )*};
}

min_max! {
    I32MinU(u32) = u32::min;
    I32MaxU(u32) = u32::max;
    I32MinS(i32) = i32::min;
    I32MaxS(i32) = i32::max;
    I64MinU(u64) = u64::min;
    I64MaxU(u64) = u64::max;
    I64MinS(i64) = i64::min;
    I64MaxS(i64) = i64::max;
}

handler! {
    /// `i32.eqz`.
    I32Eqz<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I32Eqz { dst, src });
        result!(F, fp, dst, acc, u32, (operand!(F, form::A, fp, src, acc, u32) as u32 == 0) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `i64.eqz`.
    I64Eqz<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, I64Eqz { dst, src });
        result!(F, fp, dst, acc, u32, (operand!(F, form::A, fp, src, acc, u64) == 0) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `select` (in form `A` the condition is in the accumulator).
    Select<F> |ip, fp, mb, ml, cx, acc| {
        decode!(ip, Select { dst, cond, a, b });
        let c = operand!(F, form::A, fp, cond, acc, u32);
        let v = if c as u32 != 0 { get(fp, a) } else { get(fp, b) };
        result!(F, fp, dst, acc, u64, v);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `global.get`.
    GlobalGet |ip, fp, mb, ml, cx, acc| {
        decode!(ip, GlobalGet { dst, index });
        let cell = *(*(*cx).vmctx).globals.add(index as usize);
        set(fp, dst, (*cell).get_u64());
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `global.set`.
    GlobalSet |ip, fp, mb, ml, cx, acc| {
        decode!(ip, GlobalSet { src, index });
        let cell = *(*(*cx).vmctx).globals.add(index as usize);
        *cell = ValRaw::from_u64(get(fp, src));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `memory.size`.
    MemorySize |ip, fp, mb, ml, cx, acc| {
        decode!(ip, MemorySize { dst });
        set(fp, dst, ml / WASM_PAGE_SIZE as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `memory.grow` (a libcall; the memory is reloaded after it).
    MemoryGrow |ip, fp, mb, ml, cx, acc| {
        decode!(ip, MemoryGrow { dst, delta });
        let vmctx = (*cx).vmctx;
        let old = ((*(*vmctx).libcalls).memory_grow)(vmctx, 0, get(fp, delta) as u32);
        set(fp, dst, old as u64);
        let (mb, ml) = memory(vmctx);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `memory.fill`.
    MemoryFill |ip, fp, mb, ml, cx, acc| {
        decode!(ip, MemoryFill { dst, val, len });
        let d = get(fp, dst) as u32 as u64;
        let n = get(fp, len) as u32 as u64;
        if d + n > ml {
            leave!(ip, fp, cx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        ptr::write_bytes(mb.add(d as usize), get(fp, val) as u8, n as usize);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `memory.copy`.
    MemoryCopy |ip, fp, mb, ml, cx, acc| {
        decode!(ip, MemoryCopy { dst, src, len });
        let d = get(fp, dst) as u32 as u64;
        let s = get(fp, src) as u32 as u64;
        let n = get(fp, len) as u32 as u64;
        if d + n > ml || s + n > ml {
            leave!(ip, fp, cx, Exit::trap(TrapCode::MemoryOutOfBounds));
        }
        ptr::copy(mb.add(s as usize), mb.add(d as usize), n as usize);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

/// Ends the handler with `Propagate` when a libcall's status is not OK.
macro_rules! check_status {
    ($ip:expr, $fp:expr, $cx:expr, $status:expr) => {{
        let status: u32 = $status;
        if status != tierup_abi::STATUS_OK {
            leave!($ip, $fp, $cx, Exit::propagate(status));
        }
    }};
}

handler! {
    /// `memory.init` (a libcall).
    MemoryInit |ip, fp, mb, ml, cx, acc| {
        decode!(ip, MemoryInit { data, dst, src, len });
        let vmctx = (*cx).vmctx;
        check_status!(ip, fp, cx, ((*(*vmctx).libcalls).memory_init)(
            vmctx,
            0,
            data,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `data.drop` (a libcall).
    DataDrop |ip, fp, mb, ml, cx, acc| {
        decode!(ip, DataDrop { data });
        let vmctx = (*cx).vmctx;
        ((*(*vmctx).libcalls).data_drop)(vmctx, data);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.get`.
    TableGet |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableGet { dst, index, table });
        let t = *(*(*cx).vmctx).tables.add(table as usize);
        let i = get(fp, index) as u32 as usize;
        if i >= (*t).length {
            leave!(ip, fp, cx, Exit::trap(TrapCode::TableOutOfBounds));
        }
        set(fp, dst, *(*t).elements.add(i) as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.set`.
    TableSet |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableSet { index, val, table });
        let t = *(*(*cx).vmctx).tables.add(table as usize);
        let i = get(fp, index) as u32 as usize;
        if i >= (*t).length {
            leave!(ip, fp, cx, Exit::trap(TrapCode::TableOutOfBounds));
        }
        *(*t).elements.add(i) = get(fp, val) as usize;
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.size`.
    TableSize |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableSize { dst, table });
        let t = *(*(*cx).vmctx).tables.add(table as usize);
        set(fp, dst, (*t).length as u32 as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.grow` (a libcall).
    TableGrow |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableGrow { dst, init, delta, table });
        let vmctx = (*cx).vmctx;
        let old = ((*(*vmctx).libcalls).table_grow)(
            vmctx,
            table,
            get(fp, init) as usize,
            get(fp, delta) as u32,
        );
        set(fp, dst, old as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.fill` (a libcall).
    TableFill |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableFill { dst, val, len, table });
        let vmctx = (*cx).vmctx;
        check_status!(ip, fp, cx, ((*(*vmctx).libcalls).table_fill)(
            vmctx,
            table,
            get(fp, dst) as u32,
            get(fp, val) as usize,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.copy` (a libcall).
    TableCopy |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableCopy { dst, src, len, dst_table, src_table });
        let vmctx = (*cx).vmctx;
        check_status!(ip, fp, cx, ((*(*vmctx).libcalls).table_copy)(
            vmctx,
            dst_table,
            src_table,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `table.init` (a libcall).
    TableInit |ip, fp, mb, ml, cx, acc| {
        decode!(ip, TableInit { dst, src, len, table, elem });
        let vmctx = (*cx).vmctx;
        check_status!(ip, fp, cx, ((*(*vmctx).libcalls).table_init)(
            vmctx,
            table,
            elem,
            get(fp, dst) as u32,
            get(fp, src) as u32,
            get(fp, len) as u32,
        ));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `elem.drop` (a libcall).
    ElemDrop |ip, fp, mb, ml, cx, acc| {
        decode!(ip, ElemDrop { elem });
        let vmctx = (*cx).vmctx;
        ((*(*vmctx).libcalls).elem_drop)(vmctx, elem);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// `ref.func`.
    RefFunc |ip, fp, mb, ml, cx, acc| {
        decode!(ip, RefFunc { dst, func });
        set(fp, dst, *(*(*cx).vmctx).func_refs.add(func as usize) as usize as u64);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// v128 copy.
    CopyV128 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, CopyV128 { dst, src });
        <u128 as RegVal>::load(fp, src).store(fp, dst);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// v128 `select`.
    SelectV128 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, SelectV128 { dst, cond, a, b });
        let v = if get(fp, cond) as u32 != 0 { a } else { b };
        <u128 as RegVal>::load(fp, v).store(fp, dst);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// v128 `global.get`.
    GlobalGetV128 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, GlobalGetV128 { dst, index });
        let cell = *(*(*cx).vmctx).globals.add(index as usize);
        (*cell).get_v128().store(fp, dst);
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

handler! {
    /// v128 `global.set`.
    GlobalSetV128 |ip, fp, mb, ml, cx, acc| {
        decode!(ip, GlobalSetV128 { src, index });
        let cell = *(*(*cx).vmctx).globals.add(index as usize);
        *cell = ValRaw::v128(<u128 as RegVal>::load(fp, src));
        next!(ip.add(1), fp, mb, ml, cx, acc)
    }
}

/// Enters the hand-written handlers into `t`, each in the forms it has: one list of forms
/// per group of handlers that read and write the same operands.
pub(super) const fn register(t: &mut HandlerTable) {
    use form::{A, ADD_REG as R, B, OUT as O, PRE as P, TEE as T, WRAP as W};
    // Enters each handler of the list in the forms `$forms`.
    macro_rules! each {
        ($forms:tt: $($name:ident),* $(,)?) => {
            $( forms!(t, $name, $forms); )*
        };
    }
    // Branches on one register: from the accumulator, or counting (`PRE`).
    each!([0, A, P, P | R, P | T, P | R | T]: BrEqz, BrNez, BrI64Eqz, BrI64Nez);
    // One operand, from a register or the accumulator; the result to either.
    each!([0, O, A, O | A]: Select, I32Eqz, I64Eqz, I32ShiftMask, I32DivUMagic);
    // Two operands, each from a register or the accumulator; the result to either.
    each!(
        [0, O, A, O | A, B, O | B]:
        I32OrShiftMask, I32AddShl, I32AddShrU, I32XorShl, I32XorShrU, I32XorRotl, I32OrShl,
        I32OrShrU, I64XorShl, I64XorShrU, I32SubMulImm, I32XorMulImm,
    );
    // Minimum and maximum: operands from registers, the result to either.
    each!(
        [0, O]:
        I32MinU, I32MaxU, I32MinS, I32MaxS, I64MinU, I64MaxU, I64MinS, I64MaxS,
    );
    // A load, an add and the store back: the operand from a register or the
    // accumulator, and a wrapping address.
    each!([0, A, W, W | A]: F64AddInPlace, I32AddInPlace);
    // An element's address and its load, a copy of an index and the load at it: operands
    // from registers, the value to either or both.
    each!([0, O, T]: I32AddShlLoad, CopyI32Load);
    // A load fused into its operation: as two operands, and with a wrapping address.
    each!(
        [0, O, A, O | A, B, O | B, W, W | O, W | A, W | O | A, W | B, W | O | B]:
        F64AddLoad, F64MulLoad, I32AddLoad,
    );
    each!([0, A]: BrTable, ReturnOne);
    // Calls: the first argument set by the call itself, or not.
    each!([0, P]: Call, CallIndirect);
    macro_rules! reg {
        ($($name:ident),* $(,)?) => {
            $( t[0][Op::$name as usize] = Some($name as Handler); )*
        };
    }
    reg!(
        Trap,
        BrI32NeLoad8U,
        BrI32EqLoad8U,
        Copy,
        Copy2,
        I32AddImm2,
        I32Add2,
        CopySpan,
        Br,
        Return,
        GlobalGet,
        GlobalSet,
        MemorySize,
        MemoryGrow,
        MemoryFill,
        MemoryCopy,
        MemoryInit,
        DataDrop,
        TableGet,
        TableSet,
        TableSize,
        TableGrow,
        TableFill,
        TableCopy,
        TableInit,
        ElemDrop,
        RefFunc,
        CopyV128,
        SelectV128,
        GlobalGetV128,
        GlobalSetV128,
    );
}

/// The handlers reached only by tail calls from other handlers: the outermost `Return`,
/// and the slow paths of `Call` and `CallIndirect`. They are passed a null memory pair
/// and do not use it (they reload the memory where they need it). They are called through this table
/// (see [`tail_only`]) like every other handler: a direct call would let the compiler
/// inline them or give them a private calling convention, and then it does not turn the
/// call into a jump.
static TAIL_ONLY: [Handler; 3] = [
    ReturnOuter as Handler,
    CallSlow as Handler,
    CallIndirectSlow as Handler,
];

/// Entry `i` of [`TAIL_ONLY`], read so that the compiler cannot see which function it is.
#[inline(always)]
fn tail_only(i: usize) -> Handler {
    // SAFETY: a volatile read of an element of a static array (`i` is a constant below
    // its length at every use).
    unsafe { ptr::read_volatile(&TAIL_ONLY[i]) }
}
