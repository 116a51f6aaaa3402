//! The branch handlers: `unreachable` and other traps, `br`, branches on one register
//! (plain, or counting a loop counter first), compare-branches on a loaded byte, and
//! `br_table`. Compare-branches of the table's rows are in `ops`.

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, bits, get, set};
use crate::inst::Inst;
use crate::isa::{Instr, Op};
use tierup_abi::TrapCode;

handler! {
    /// Traps with the instruction's code.
    Trap |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Trap { code });
        leave!(ip, fp, ctx, Exit::trap(code))
    }
}

handler! {
    /// Unconditional branch.
    Br |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Br { offset });
        branch!(ip, offset, fp, mem, mem_len, ctx, acc)
    }
}

/// Generates the branch-on-condition handlers.
macro_rules! cond_branch {
    ($($name:ident($cond:ident: $t:ty) = $test:expr;)*) => {$(
        handler! {
            /// Branch on one register (or the accumulator, in form `Form::A`; in form `Counting::PRE`
            /// the register plus `add`, written back, and with `TEE` passed on in the
            /// accumulator too).
            $name<F> |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { cond, add_reg, offset, add });
                let $cond = counter_operand!(F, fp, cond, add, add_reg, acc, $t);
                if $test {
                    branch!(ip, offset, fp, mem, mem_len, ctx, acc)
                }
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
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
            $name |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { a, addr, index, offset, mem_offset });
                // The address of an `i32.load8_u` of form `Access::INDEX` (scale 1).
                const F: u8 = bits::I;
                let ea = address!(F, indexed!(F, get(fp, addr), get(fp, index), 1), mem_offset);
                let [byte] = *checked!(ea, 1, ip, fp, mem, mem_len, ctx);
                let byte = byte as u32;
                if $taken(get(fp, a) as u32, byte) {
                    branch!(ip, offset, fp, mem, mem_len, ctx, acc)
                }
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
            }
        }
    )*};
}

load_branch_handlers! {
    BrI32NeLoad8U: |a, b| a != b;
    BrI32EqLoad8U: |a, b| a == b;
}

handler! {
    /// Jumps to one of the `Br` instructions that follow (form `Form::A`: the index from the
    /// accumulator).
    BrTable<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, BrTable { index, len });
        let i = (operand!(F, bits::A, fp, index, acc, u32) as u32).min(len);
        let entry = ip.add(1 + i as usize);
        // Every entry is a `Br` (translator invariant 3): take it here, which saves
        // dispatching it.
        let target = match (*entry).instr {
            Instr::Br { offset } => entry.byte_offset(offset as isize),
            _ => entry,
        };
        if target <= ip {
            back_edge!(target, (target as isize).wrapping_sub(ip as isize), fp, mem, mem_len, ctx, acc)
        }
        next!(target, fp, mem, mem_len, ctx, acc)
    }
}

/// Enters the branch handlers into `t`, each in its forms.
pub(super) const fn register(t: &mut HandlerTable) {
    use bits::{A, P, R, T};
    // Branches on one register: from the accumulator, or counting.
    register!(t, [0, A, P, P | R, P | T, P | R | T]: BrEqz, BrNez, BrI64Eqz, BrI64Nez);
    register!(t, [0, A]: BrTable);
    register!(t, Trap, Br, BrI32NeLoad8U, BrI32EqLoad8U);
}
