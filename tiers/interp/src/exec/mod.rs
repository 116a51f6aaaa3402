//! The executor: the array entry of every interpreted function, frame setup, and trap
//! unwinding. The instruction loop itself (threaded handlers) is in `run`, `ops` and
//! `control`.
//!
//! Safety rests on the translator's invariants (see [`InterpFunc`]): every register an
//! instruction names lies inside its frame, every branch lands inside the
//! code, every path ends in `Return`/`Trap`/a back edge. A frame occupies `frame_size`
//! registers of the thread's register stack from its frame pointer up, and the executor
//! checks that they fit before it enters the frame. A callee's frame begins at its
//! arguments, so they are not copied, and its results are returned in place.

#[macro_use]
mod dispatch;
mod control;
mod ops;
mod run;
mod stack;
mod vector;

pub(crate) use dispatch::{AccClass, Inst, form, supports};
pub(crate) use vector::{wide_result1, wide_result2};

use tierup_abi::{FuncCode, FuncEntry, TrapCode, TrapFrame, ValRaw, VmContext, trap};

use crate::func::InterpFunc;
use stack::{MAX_NESTING, ThreadStack, thread_stack};

/// The array entry of every interpreted function.
///
/// # Safety
///
/// As for [`tierup_abi::ArrayEntry`]: `callee` and `code` are valid, `code.data` points at a
/// live [`InterpFunc`] of the module `callee.vmctx` instantiates, and `args_results` has
/// `max(params, results)` cells.
pub unsafe extern "sysv64" fn array_entry(
    callee: *const FuncEntry,
    code: *const FuncCode,
    _caller: *mut VmContext,
    args_results: *mut ValRaw,
) -> u32 {
    let Some(ts) = thread_stack() else {
        return trap::record(TrapCode::StackOverflow);
    };
    // SAFETY: the caller guarantees `callee`, `code` and `args_results`; `ts` is this
    // thread's stack, accessed only through the raw pointer.
    unsafe {
        let func = InterpFunc::of_code(code);
        let vmctx = (*callee).vmctx;
        let frames_base = (*ts).frames.len();
        let max_depth = (*vmctx).max_call_depth;
        if (*ts).nesting >= MAX_NESTING
            || (max_depth != 0 && frames_base + (*ts).nesting as usize >= max_depth)
        {
            return trap::record(TrapCode::StackOverflow);
        }
        let saved_top = (*ts).top;
        let fp = saved_top;
        if !enter_frame(ts, fp, &*func) {
            return trap::record(TrapCode::StackOverflow);
        }
        let f = &*func;
        if f.sig_wide == crate::func::NARROW {
            for i in 0..f.num_params as usize {
                *fp.add(i) = (*args_results.add(i)).get_u64();
            }
        } else {
            let wide = &f.wide[f.sig_wide as usize..];
            cells_to_regs(args_results, fp, &wide[..f.num_params as usize]);
        }
        (*ts).nesting += 1;
        let status = run::run(ts, func, vmctx, fp, frames_base, args_results);
        (*ts).nesting -= 1;
        (*ts).top = saved_top;
        (*ts).frames.truncate(frames_base);
        status
    }
}

/// Checks that a frame for `func` fits at `fp` and copies the frame image into it (zeroed
/// locals and the constants, above the parameters, which are the caller's to set). `false`
/// if the register stack is exhausted. (The call depth is the caller's to check.)
///
/// # Safety
///
/// `ts` is this thread's stack and `fp` points into its register buffer.
#[inline(always)]
pub(crate) unsafe fn enter_frame(ts: *mut ThreadStack, fp: *mut u64, func: &InterpFunc) -> bool {
    // SAFETY: guaranteed by the caller; `init_frame` runs only when the frame fits.
    unsafe {
        if !frame_fits(ts, fp, func) {
            return false;
        }
        init_frame(fp, func);
        true
    }
}

/// Whether a frame for `func` fits in the register buffer at `fp` (the first half of
/// [`enter_frame`], which the call handlers do apart: they record the caller's frame in
/// between, so that few values are live across the image copy).
///
/// # Safety
///
/// As for [`enter_frame`].
#[inline(always)]
pub(crate) unsafe fn frame_fits(ts: *mut ThreadStack, fp: *mut u64, func: &InterpFunc) -> bool {
    // SAFETY: `ts` is valid; only addresses are compared.
    unsafe {
        let avail = ((*ts).end as usize - fp as usize) / 8;
        func.frame_size as usize <= avail
    }
}

/// Copies the frame image of `func` (zeroed locals, then the constants, above the
/// parameters) into the frame at `fp`: the second half of [`enter_frame`].
///
/// # Safety
///
/// [`frame_fits`] holds for `fp` and `func`.
#[inline(always)]
pub(crate) unsafe fn init_frame(fp: *mut u64, func: &InterpFunc) {
    // SAFETY: the frame fits (guaranteed by the caller), and the image lies within it.
    unsafe {
        copy_regs_short(
            fp.add(func.image_at as usize),
            func.image.as_ptr(),
            func.image.len(),
        );
    }
    // Hotness: a tier-up counter would be decremented here, at function entry.
}

/// Copies `n` registers from `src` to `dst` in ascending order (so `dst` may overlap
/// `src` from below). An element loop with volatile writes: the areas are a few
/// registers, and a `memcpy` call, or a vectorised loop, would cost more than the copy
/// and make the call and return handlers save and restore registers every time.
///
/// # Safety
///
/// Both ranges are valid for `n` registers.
#[inline(always)]
pub(crate) unsafe fn copy_regs(dst: *mut u64, src: *const u64, n: usize) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        for i in 0..n {
            dst.add(i).write_volatile(*src.add(i));
        }
    }
}

/// [`copy_regs`] as one register-at-a-time loop that the compiler does not unroll: a
/// frame image is a few registers, and the unrolled loop (with its remainder loop) needs
/// so many machine registers that the call handlers saved and restored five every call.
///
/// # Safety
///
/// As for [`copy_regs`].
#[inline(always)]
unsafe fn copy_regs_short(dst: *mut u64, src: *const u64, n: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: guaranteed by the caller: `n` registers are read from `src` and written to
    // `dst`, in ascending order; nothing else is touched.
    unsafe {
        core::arch::asm!(
            "test {n}, {n}",
            "jz 3f",
            "2:",
            "mov {t}, qword ptr [{s}]",
            "mov qword ptr [{d}], {t}",
            "add {s}, 8",
            "add {d}, 8",
            "dec {n}",
            "jnz 2b",
            "3:",
            n = inout(reg) n => _,
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            t = out(reg) _,
            options(nostack),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: as above.
    unsafe {
        copy_regs(dst, src, n)
    }
}

/// Pushes the backtrace of a trap: the current frame, then every suspended frame of this
/// activation, innermost first.
///
/// # Safety
///
/// `ip` points into `func`'s code; the frames above `frames_base` are valid.
pub(crate) unsafe fn push_backtrace(
    ts: *mut ThreadStack,
    frames_base: usize,
    func: *const InterpFunc,
    vmctx: *mut VmContext,
    ip: *const Inst,
) {
    // SAFETY: the caller guarantees `ip` lies in `func`'s code and the frames are valid.
    unsafe {
        trap::push_frame(frame_at(func, vmctx, ip));
        let frames = &(*ts).frames;
        for f in frames[frames_base..].iter().rev() {
            trap::push_frame(frame_at(f.func, f.vmctx, f.ip));
        }
    }
}

/// The trap frame of instruction `ip` of `func`.
///
/// # Safety
///
/// `ip` points into `func`'s code.
unsafe fn frame_at(func: *const InterpFunc, vmctx: *mut VmContext, ip: *const Inst) -> TrapFrame {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let f = &*func;
        let idx = ip.offset_from(f.code.as_ptr()) as usize;
        TrapFrame {
            vmctx,
            func_index: f.func_index,
            code_offset: f.offsets.get(idx).copied().unwrap_or(0),
        }
    }
}

/// Copies one value per cell into consecutive registers (two for each wide value).
///
/// # Safety
///
/// `cells` has `wide.len()` cells; `regs` has room for the values' registers.
#[inline(never)]
pub(crate) unsafe fn cells_to_regs(cells: *const ValRaw, regs: *mut u64, wide: &[bool]) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let mut r = regs;
        for (i, &w) in wide.iter().enumerate() {
            let cell = &*cells.add(i);
            if w {
                let v = cell.get_v128();
                *r = v as u64;
                *r.add(1) = (v >> 64) as u64;
                r = r.add(2);
            } else {
                *r = cell.get_u64();
                r = r.add(1);
            }
        }
    }
}

/// Copies consecutive registers into one cell per value (the inverse of [`cells_to_regs`]).
///
/// # Safety
///
/// `cells` has `wide.len()` cells; `regs` holds the values' registers.
#[inline(never)]
pub(crate) unsafe fn regs_to_cells(regs: *const u64, cells: *mut ValRaw, wide: &[bool]) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let mut r = regs;
        for (i, &w) in wide.iter().enumerate() {
            if w {
                let v = (*r as u128) | ((*r.add(1) as u128) << 64);
                *cells.add(i) = ValRaw::v128(v);
                r = r.add(2);
            } else {
                *cells.add(i) = ValRaw::from_u64(*r);
                r = r.add(1);
            }
        }
    }
}
