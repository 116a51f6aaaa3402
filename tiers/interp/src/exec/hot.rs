//! What the executor does when a function's hotness budget runs out (`Outcome::Hot`): it
//! reports the function to the runtime (`Libcalls::hot`) and, when the runtime hands back
//! an OSR entry for the point where the function stands, moves the activation's frame
//! into it: it writes the wasm state (`tierup_abi::osr`) from the frame's registers, calls
//! the entry, and returns its results as the function's own.

use std::sync::OnceLock;

use tierup_abi::osr::state_len;
use tierup_abi::vmctx::NO_OSR;
use tierup_abi::{STATUS_OK, Tier, ValRaw};

use super::dispatch::{Acc, Ctx};
use super::frame::sig_cells_to_regs;
use crate::func::StateLoc;
use crate::inst::{Form, Inst};
use crate::isa::{Instr, Reg};

/// A `Return` of no registers: the frame's results are already at its bottom, where the
/// caller expects them, and it returns them. Execution continues here after an OSR entry
/// ran the rest of the function.
struct ReturnInst(Inst);

// SAFETY: an instruction is immutable data (a handler address and operands).
unsafe impl Sync for ReturnInst {}
// SAFETY: see `Sync`.
unsafe impl Send for ReturnInst {}

fn return_inst() -> *const Inst {
    static RETURN: OnceLock<ReturnInst> = OnceLock::new();
    &RETURN
        .get_or_init(|| ReturnInst(super::encode(Instr::Return { src: 0, len: 0 }, Form::NONE)))
        .0
}

/// Reports the running function hot at `(*ctx).ip` and starts its budget again; moves it
/// into an OSR entry when the runtime has one for that point. `Err` is the status of a
/// trap in the OSR entry (recorded, with the entry's frames and those it called in the
/// backtrace; the interpreted frames of the activation below it are the caller's to add,
/// but not the moving frame, which the entry's frames stand for).
///
/// # Safety
///
/// `ctx` is a stopped chain's context: `ip` an instruction of `func`, `fp` its frame.
pub(super) unsafe fn tier_up(ctx: *mut Ctx) -> Result<(), u32> {
    // SAFETY: guaranteed by the caller; the state is read from registers of the frame
    // (translator invariant 2: the points' and locals' registers lie in it).
    unsafe {
        let func = &*(*ctx).func;
        func.hotness.refill();
        let vmctx = (*ctx).vmctx;
        let point = func.osr_point((*ctx).ip);
        let at = point.map_or(NO_OSR, |p| p.at);
        // The interpreter reports where it stands: no outer point is preferred.
        let code = ((*(*vmctx).libcalls).hot)(vmctx, func.func_index, at, Tier::Interp as u32, at);
        let Some(point) = point else {
            return Ok(());
        };
        if code.is_null() {
            return Ok(());
        }
        let fp = (*ctx).fp;
        let mut state = Vec::with_capacity(state_len(
            func.locals.len() as u32,
            point.stack.len() as u32,
        ));
        let value = |r: Reg, wide: bool| {
            let lo = *fp.offset(r as isize);
            if wide {
                ValRaw::v128(lo as u128 | (*fp.offset(r as isize + 1) as u128) << 64)
            } else {
                ValRaw::from_u64(lo)
            }
        };
        state.extend(func.locals.iter().map(|&(r, wide)| value(r, wide)));
        state.extend(point.stack.iter().map(|loc| match *loc {
            StateLoc::Reg { r, wide } => value(r, wide),
            StateLoc::Const(v) => ValRaw::v128(v),
        }));
        let mut cells = vec![ValRaw::ZERO; (func.num_results as usize).max(1)];
        cells[0] = ValRaw::from_u64(state.as_ptr() as u64);
        // The entry, and anything it calls in the interpreter, runs above this frame.
        let stack = (*ctx).stack;
        (*stack).top = fp.add(func.frame_size as usize);
        let slot = *(*vmctx).func_refs.add(func.func_index as usize);
        let status = ((*code).array_entry)(slot, code, vmctx, cells.as_mut_ptr());
        if status != STATUS_OK {
            return Err(status);
        }
        // The frame's results are at its bottom.
        sig_cells_to_regs(func, cells.as_ptr(), fp, true);
        (*ctx).ip = return_inst();
        (*ctx).acc = Acc::default();
        Ok(())
    }
}
