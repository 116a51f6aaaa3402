//! Frames: entering one (the fit check and the copy of the frame image), copying
//! registers, converting between registers and the array calling convention's cells, and
//! the backtrace of a trap through the frames of an activation.

use tierup_abi::{FrameOwner, TrapFrame, ValRaw, VmContext, trap};

use super::stack::ThreadStack;
use crate::func::{InterpFunc, NARROW};
use crate::inst::Inst;

/// Checks that a frame for `func` fits at `fp` and copies the frame image into it (zeroed
/// locals and the constants, above the parameters, which are the caller's to set). `false`
/// if the register stack is exhausted. (The call depth is the caller's to check.)
///
/// # Safety
///
/// `stack` is this thread's stack and `fp` points into its register buffer.
#[inline(always)]
pub(crate) unsafe fn enter_frame(stack: *mut ThreadStack, fp: *mut u64, func: &InterpFunc) -> bool {
    // SAFETY: guaranteed by the caller; `init_frame` runs only when the frame fits.
    unsafe {
        if !frame_fits(stack, fp, func) {
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
pub(crate) unsafe fn frame_fits(stack: *mut ThreadStack, fp: *mut u64, func: &InterpFunc) -> bool {
    // SAFETY: `stack` is valid; only addresses are compared.
    unsafe {
        let avail = ((*stack).end as usize - fp as usize) / 8;
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
    stack: *mut ThreadStack,
    frames_base: usize,
    func: *const InterpFunc,
    vmctx: *mut VmContext,
    ip: *const Inst,
) {
    // SAFETY: the caller guarantees `ip` lies in `func`'s code and the frames are valid.
    unsafe {
        trap::push_frame(frame_at(func, vmctx, ip));
        push_suspended(stack, frames_base);
    }
}

/// Pushes the backtrace entries of the suspended frames of this activation, innermost
/// first.
///
/// # Safety
///
/// The frames above `frames_base` are valid.
pub(crate) unsafe fn push_suspended(stack: *mut ThreadStack, frames_base: usize) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        let frames = &(*stack).frames;
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
            owner: FrameOwner::Instance(vmctx),
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

/// Copies `func`'s parameters (`results` false) or results from one cell per value into
/// consecutive registers from `regs`, by the widths of its signature.
///
/// # Safety
///
/// `cells` has a cell per value; `regs` has room for the values' registers.
#[inline(always)]
pub(crate) unsafe fn sig_cells_to_regs(
    func: &InterpFunc,
    cells: *const ValRaw,
    regs: *mut u64,
    results: bool,
) {
    let (first, n) = if results {
        (func.num_params as usize, func.num_results as usize)
    } else {
        (0, func.num_params as usize)
    };
    // SAFETY: guaranteed by the caller.
    unsafe {
        if func.sig_wide == NARROW {
            for i in 0..n {
                *regs.add(i) = (*cells.add(i)).get_u64();
            }
        } else {
            let at = func.sig_wide as usize + first;
            cells_to_regs(cells, regs, &func.wide[at..at + n]);
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
