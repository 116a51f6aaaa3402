//! The handlers of the scalar rows of the instruction table (`isa::for_each_row!`): for
//! each numeric operator its register and immediate forms, for each compare its value
//! and fused compare-branch forms, for each load and store its access. The v128 rows
//! have theirs in `vector`.

use core::ptr;

use tierup_abi::TrapCode;

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, bits, get, set};
use crate::inst::Inst;
use crate::isa::{Instr, Op, for_each_row};
use crate::num::{call1, call2};
use crate::regs::{Bits, Imm};

/// The handlers of one scalar row of the table, by group (vector rows have none here).
macro_rules! scalar_handlers {
    (binary $name:ident {} / $imm:ident ($a:ty, $b:ty) -> $r:ty = $f:expr) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, a, b });
            let v = call2::<$a, $b, $r, _>(
                $f,
                <$a as Bits>::from_reg(operand!(F, bits::A, fp, a, acc, $a)),
                <$b as Bits>::from_reg(operand!(F, bits::B, fp, b, acc, $b)),
            );
            result!(F, fp, dst, acc, $r, v.into_reg());
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
        handler! { $imm<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $imm { dst, a, imm });
            let v = call2::<$a, $b, $r, _>(
                $f,
                <$a as Bits>::from_reg(operand!(F, bits::A, fp, a, acc, $a)),
                <$b as Bits>::from_reg(imm),
            );
            result!(F, fp, dst, acc, $r, v.into_reg());
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (binary_trap $name:ident {} / $imm:ident ($a:ty, $b:ty) -> $r:ty = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, a, b });
            match call2::<$a, $b, Result<$r, TrapCode>, _>(
                $f,
                <$a as Bits>::from_reg(get(fp, a)),
                <$b as Bits>::from_reg(get(fp, b)),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, ctx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
        handler! { $imm |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $imm { dst, a, imm });
            match call2::<$a, $b, Result<$r, TrapCode>, _>(
                $f,
                <$a as Bits>::from_reg(get(fp, a)),
                <$b as Bits>::from_reg(imm),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, ctx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (unary $name:ident {} ($a:ty) -> $r:ty = $f:expr) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, src });
            let v = call1::<$a, $r, _>(
                $f,
                <$a as Bits>::from_reg(operand!(F, bits::A, fp, src, acc, $a)),
            );
            result!(F, fp, dst, acc, $r, v.into_reg());
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (unary_trap $name:ident {} ($a:ty) -> $r:ty = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, src });
            match call1::<$a, Result<$r, TrapCode>, _>($f, <$a as Bits>::from_reg(get(fp, src))) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, ctx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (
        compare $name:ident {} / $br:ident / $br_not:ident ($t:ty)
        $([$br_imm:ident / $br_not_imm:ident])? = $f:expr
    ) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, a, b });
            let v = call2::<$t, $t, bool, _>(
                $f,
                <$t as Bits>::from_reg(operand!(F, bits::A, fp, a, acc, $t)),
                <$t as Bits>::from_reg(operand!(F, bits::B, fp, b, acc, $t)),
            );
            result!(F, fp, dst, acc, u32, v as u64);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
        compare_branch! { $br ($t) { b } [] = $f }
        compare_branch! { $br_not ($t) { b } [!] = $f }
        $(
            compare_branch! { $br_imm ($t) { imm } [] = $f }
            compare_branch! { $br_not_imm ($t) { imm } [!] = $f }
        )?
    };
    (load $name:ident { memarg } [$n:literal] -> $t:ty = $f:expr) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, addr, index, scale, offset });
            let base = indexed!(
                F,
                operand!(F, bits::A, fp, addr, acc, u32),
                operand!(F, bits::B, fp, index, acc, u32),
                scale
            );
            let at = checked!(address!(F, base, offset), $n, ip, fp, mem, mem_len, ctx);
            let bytes = ptr::read_unaligned(at);
            result!(F, fp, dst, acc, $t, call1::<[u8; $n], u64, _>($f, bytes));
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (store $name:ident { memarg } [$n:literal] ($t:ty) = $f:expr) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { addr, val, index, scale, offset });
            let base = indexed!(F, operand!(F, bits::A, fp, addr, acc, u32), get(fp, index), scale);
            let at = checked!(address!(F, base, offset), $n, ip, fp, mem, mem_len, ctx);
            let bytes = call1::<u64, [u8; $n], _>($f, operand!(F, bits::B, fp, val, acc, $t));
            ptr::write_unaligned(at, bytes);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    ($vector:ident $($row:tt)*) => {};
}

/// A fused compare-branch: taken when `compare(a, b)` holds (or, with `[!]`, does not),
/// where `a` is the counter operand (see `counter_operand!`) and `b` register `b` (or the
/// accumulator) or the immediate `imm`, as the instruction's second field says.
macro_rules! compare_branch {
    ($name:ident ($t:ty) { $second:ident } [$($not:tt)?] = $compare:expr) => {
        handler! { $name<F> |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { a, $second, add_reg, offset, add });
            let taken = $($not)? call2::<$t, $t, bool, _>(
                $compare,
                <$t as Bits>::from_reg(counter_operand!(F, fp, a, add, add_reg, acc, $t)),
                compare_branch!(@second $second $second, F, fp, acc, $t),
            );
            if taken {
                branch!(ip, offset, fp, mem, mem_len, ctx, acc)
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (@second b $b:ident, $f:ident, $fp:ident, $acc:ident, $t:ty) => {
        <$t as Bits>::from_reg(operand!($f, bits::B, $fp, $b, $acc, $t))
    };
    (@second imm $imm:ident, $f:ident, $fp:ident, $acc:ident, $t:ty) => {
        <$t as Imm>::from_imm($imm)
    };
}

/// The forms each scalar row's handlers have, by group.
macro_rules! scalar_forms {
    ($t:ident, binary $name:ident {} / $imm:ident $($row:tt)*) => {
        forms!($t, $name, [0, O, A, O | A, B, O | B, T, T | A, T | B]);
        forms!($t, $imm, [0, O, A, O | A, T, T | A]);
    };
    ($t:ident, binary_trap $name:ident {} / $imm:ident $($row:tt)*) => {
        register!($t, $name, $imm);
    };
    ($t:ident, unary $name:ident $($row:tt)*) => {
        forms!($t, $name, [0, O, A, O | A, T, T | A]);
    };
    ($t:ident, unary_trap $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    (
        $t:ident,
        compare $name:ident {} / $br:ident / $br_not:ident ($ty:ty)
        $([$br_imm:ident / $br_not_imm:ident])? = $f:expr
    ) => {
        forms!($t, $name, [0, O, A, O | A, B, O | B, T, T | A, T | B]);
        forms!($t, $br, [0, A, B]);
        forms!($t, $br_not, [0, A, B]);
        // Integer compares (those with immediate forms) also count.
        $(
            forms!($t, $br_imm, [0, A, P, P | R, P | T, P | R | T]);
            forms!($t, $br_not_imm, [0, A, P, P | R, P | T, P | R | T]);
            forms!($t, $br, [P, P | R, P | T, P | R | T]);
            forms!($t, $br_not, [P, P | R, P | T, P | R | T]);
        )?
    };
    ($t:ident, load $name:ident $($row:tt)*) => {
        forms!($t, $name, [0, O, A, O | A, W, W | O, W | A, W | O | A]);
        forms!($t, $name, [I, I | O, I | A, I | O | A, I | B, I | O | B]);
        forms!($t, $name, [I | W, I | W | O, I | W | B, I | W | O | B]);
        forms!($t, $name, [T, T | A, T | W, T | W | A, T | I, T | I | B, T | I | W]);
    };
    ($t:ident, store $name:ident $($row:tt)*) => {
        forms!($t, $name, [0, A, B, W, W | A, W | B, I, I | A, I | B, I | W, I | W | B]);
    };
    ($t:ident, $vector:ident $($row:tt)*) => {};
}

/// Generates every scalar row's handlers and `register`, which enters them into the
/// handler table.
macro_rules! scalar_rows {
    (() $( [$group:ident $($row:tt)*] )*) => {
        $( scalar_handlers! { $group $($row)* } )*

        /// Enters the handlers of the table's scalar rows into `t`, each in its forms.
        pub(super) const fn register(t: &mut HandlerTable) {
            use bits::{A, B, I, O, P, R, T, W};
            $( scalar_forms!(t, $group $($row)*); )*
        }
    };
}

for_each_row!(scalar_rows!());
