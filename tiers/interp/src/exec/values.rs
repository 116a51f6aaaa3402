//! Copies between registers, `select`, and the `eqz` tests: the instructions that move
//! or pick values without computing on them.

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, bits, get, second_half, set};
use crate::inst::Inst;
use crate::isa::{Instr, Op};

handler! {
    /// `dst = src`.
    Copy |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Copy { dst, src });
        set(fp, dst, get(fp, src));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = src`, then `dst2 = src2`.
    Copy2 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Copy2 { dst, src, .. });
        set(fp, dst, get(fp, src));
        second_half();
        decode!(ip, Copy2 { dst2, src2, .. });
        set(fp, dst2, get(fp, src2));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// Copies a span of registers in ascending order.
    CopySpan |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, CopySpan { dst, src, len });
        let d = fp.offset(dst as isize);
        let s = fp.offset(src as isize);
        for i in 0..len as usize {
            *d.add(i) = *s.add(i);
        }
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `i32.eqz`.
    I32Eqz<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32Eqz { dst, src });
        result!(F, fp, dst, acc, u32, (operand!(F, bits::A, fp, src, acc, u32) as u32 == 0) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `i64.eqz`.
    I64Eqz<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I64Eqz { dst, src });
        result!(F, fp, dst, acc, u32, (operand!(F, bits::A, fp, src, acc, u64) == 0) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `select` (in form `Form::A` the condition is in the accumulator).
    Select<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, Select { dst, cond, a, b });
        let c = operand!(F, bits::A, fp, cond, acc, u32);
        let v = if c as u32 != 0 { get(fp, a) } else { get(fp, b) };
        result!(F, fp, dst, acc, u64, v);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

/// Enters the copy, `select` and `eqz` handlers into `t`, each in its forms.
pub(super) const fn register(t: &mut HandlerTable) {
    use bits::{A, O};
    // One operand, from a register or the accumulator; the result to either.
    register!(t, [0, O, A, O | A]: Select, I32Eqz, I64Eqz);
    register!(t, Copy, Copy2, CopySpan);
}
