//! The fused instructions outside the table: two wasm operators (or an operator and a
//! load or store) that one handler does, because the first's result has no other reader
//! or the pair has no data between it. Why each exists: `translate/fusions.md`.

use core::ptr;

use tierup_abi::TrapCode;

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, bits, get, second_half, set};
use crate::inst::Inst;
use crate::isa::{Instr, Op};
use crate::regs::Bits;

/// The handlers of two-operand instructions with a constant, `dst = f(a, b, k)`, each
/// from its operand type, the constant's field and `|a, b, k|` expression: the
/// shifted-operand family (`Instr::I32AddShl`; shift counts are below the width) and
/// the multiplications by a constant fused with a `sub` or `xor`.
macro_rules! operands_and_constant_handlers {
    ($( $name:ident($t:ty, $field:ident) = |$a:ident, $b:ident, $k:ident| $e:expr; )*) => {$(
        handler! {
            #[doc = concat!("`", stringify!($e), "`.")]
            $name<F> |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { dst, a, b, $field });
                let $a = operand!(F, bits::A, fp, a, acc, $t) as $t;
                let $b = operand!(F, bits::B, fp, b, acc, $t) as $t;
                let $k = $field as u32;
                result!(F, fp, dst, acc, $t, ($e) as u64);
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
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
    I32DivUMagic<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32DivUMagic { dst, a, magic });
        let a = operand!(F, bits::A, fp, a, acc, u32) as u32;
        let q = ((a as u128 * magic as u128) >> 64) as u64;
        result!(F, fp, dst, acc, u32, q);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = ((a >> shr) & mask) << shl` (i32).
    I32ShiftMask<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32ShiftMask { dst, a, shr, shl, mask });
        let a = operand!(F, bits::A, fp, a, acc, u32) as u32;
        result!(F, fp, dst, acc, u32, (((a >> (shr & 31)) & mask) << (shl & 31)) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = a | (((b >> shr) & mask) << shl)` (i32).
    I32OrShiftMask<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32OrShiftMask { dst, a, b, shr, shl, mask });
        let a = operand!(F, bits::A, fp, a, acc, u32) as u32;
        let b = operand!(F, bits::B, fp, b, acc, u32) as u32;
        let field = (b.wrapping_shr(shr as u32) & mask).wrapping_shl(shl as u32);
        result!(F, fp, dst, acc, u32, (a | field) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = a + imm`, then `dst2 = a2 + imm2` (i32).
    I32AddImm2 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32AddImm2 { dst, a, imm, .. });
        set(fp, dst, (get(fp, a) as u32).wrapping_add(imm.0 as i32 as u32) as u64);
        second_half();
        decode!(ip, I32AddImm2 { dst2, a2, imm2, .. });
        set(fp, dst2, (get(fp, a2) as u32).wrapping_add(imm2.0 as i32 as u32) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = a + b`, then `dst2 = a2 + b2` (i32).
    I32Add2 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32Add2 { dst, a, b, .. });
        set(fp, dst, (get(fp, a) as u32).wrapping_add(get(fp, b) as u32) as u64);
        second_half();
        decode!(ip, I32Add2 { dst2, a2, b2, .. });
        set(fp, dst2, (get(fp, a2) as u32).wrapping_add(get(fp, b2) as u32) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = a + (b << shift)`, then the i32 at `dst + offset` to `val` (form `Form::OUT`: to
    /// the accumulator instead, `TEE`: as well).
    I32AddShlLoad<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I32AddShlLoad { dst, a, b, val, shift, offset });
        let addr = (get(fp, a) as u32).wrapping_add((get(fp, b) as u32).wrapping_shl(shift as u32));
        set(fp, dst, addr as u64);
        let at = checked!(address!(F, addr, offset), 4, ip, fp, mem, mem_len, ctx);
        let bytes = ptr::read_unaligned(at);
        result!(F, fp, val, acc, u32, u32::from_le_bytes(bytes) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `copy = src`, then the i32 at `addr + src * scale + offset` to `dst` (form `Form::OUT`:
    /// to the accumulator instead, `TEE`: as well).
    CopyI32Load<F> |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, CopyI32Load { copy, src, addr, scale, offset, .. });
        let index = get(fp, src);
        set(fp, copy, index);
        const I: u8 = bits::I;
        let ea = address!(I, indexed!(I, get(fp, addr), index, scale), offset);
        let bytes = ptr::read_unaligned(checked!(ea, 4, ip, fp, mem, mem_len, ctx));
        second_half();
        decode!(ip, CopyI32Load { dst, .. });
        result!(F, fp, dst, acc, u32, u32::from_le_bytes(bytes) as u64);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

/// Generates the handlers of an operation whose second operand is loaded from memory
/// (form `Form::A`: the first operand from the accumulator; form `Form::B`: the address from it;
/// form `Access::WRAP`: the address and offset added in 32 bits).
macro_rules! load_op {
    ($($name:ident($t:ty, $n:literal) = $f:expr;)*) => {$(
        handler! {
            /// An operation on a register and a loaded value (see the instruction).
            $name<F> |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { dst, a, addr, offset });
                let ea = address!(F, operand!(F, bits::B, fp, addr, acc, u32), offset);
                let bytes = ptr::read_unaligned(checked!(ea, $n, ip, fp, mem, mem_len, ctx));
                let x = <$t as Bits>::from_reg(operand!(F, bits::A, fp, a, acc, $t));
                let y = <$t>::from_le_bytes(bytes);
                let v: $t = $f(x, y);
                result!(F, fp, dst, acc, $t, v.into_reg());
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
            }
        }
    )*};
}

load_op! {
    F64AddLoad(f64, 8) = |x: f64, y: f64| x + y;
    F64MulLoad(f64, 8) = |x: f64, y: f64| x * y;
    I32AddLoad(u32, 4) = |x: u32, y: u32| x.wrapping_add(y);
}

/// Generates the handlers of an operation that updates memory in place (form `Form::A`: the
/// operand from the accumulator; form `Access::WRAP`: the address and offset added in 32 bits).
macro_rules! op_in_place {
    ($($name:ident($t:ty, $n:literal) = $f:expr;)*) => {$(
        handler! {
            /// A load, an operation with a register and the store of its result back to
            /// the same address (see the instruction).
            $name<F> |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { a, addr, offset });
                let at = checked!(address!(F, get(fp, addr), offset), $n, ip, fp, mem, mem_len, ctx);
                let x = <$t as Bits>::from_reg(operand!(F, bits::A, fp, a, acc, $t));
                let v: $t = $f(x, <$t>::from_le_bytes(ptr::read_unaligned(at)));
                ptr::write_unaligned(at, v.to_le_bytes());
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
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
            $name<F> |ip, fp, mem, mem_len, ctx, acc| {
                decode!(ip, $name { dst, a, b });
                let v: $t = $f(<$t as Bits>::from_reg(get(fp, a)), <$t as Bits>::from_reg(get(fp, b)));
                result!(F, fp, dst, acc, $t, v.into_reg());
                next!(ip.add(1), fp, mem, mem_len, ctx, acc)
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

/// Enters the fused handlers into `t`, each in its forms: one list of forms per group of
/// handlers that read and write the same operands.
pub(super) const fn register(t: &mut HandlerTable) {
    use bits::{A, B, O, T, W};
    // One operand, from a register or the accumulator; the result to either.
    register!(t, [0, O, A, O | A]: I32ShiftMask, I32DivUMagic);
    // Two operands, each from a register or the accumulator; the result to either.
    register!(
        t,
        [0, O, A, O | A, B, O | B]:
        I32OrShiftMask, I32AddShl, I32AddShrU, I32XorShl, I32XorShrU, I32XorRotl, I32OrShl,
        I32OrShrU, I64XorShl, I64XorShrU, I32SubMulImm, I32XorMulImm,
    );
    // Minimum and maximum: operands from registers, the result to either.
    register!(
        t,
        [0, O]: I32MinU, I32MaxU, I32MinS, I32MaxS, I64MinU, I64MaxU, I64MinS, I64MaxS,
    );
    // A load, an add and the store back: the operand from a register or the
    // accumulator, and a wrapping address.
    register!(t, [0, A, W, W | A]: F64AddInPlace, I32AddInPlace);
    // An element's address and its load, a copy of an index and the load at it: operands
    // from registers, the value to either or both.
    register!(t, [0, O, T]: I32AddShlLoad, CopyI32Load);
    // A load fused into its operation: as two operands, and with a wrapping address.
    register!(
        t,
        [0, O, A, O | A, B, O | B, W, W | O, W | A, W | O | A, W | B, W | O | B]:
        F64AddLoad, F64MulLoad, I32AddLoad,
    );
    // Pairs with no data between them, operands and results in registers.
    register!(t, I32AddImm2, I32Add2);
}
