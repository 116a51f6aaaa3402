//! The handlers generated from the instruction table (`isa::for_each_op!`): one function
//! per numeric (register and immediate forms), compare, fused compare-branch, load and
//! store instruction. The v128 rows have theirs in `vector`.

use core::ptr;

use tierup_abi::TrapCode;

use super::dispatch::{Ctx, Exit, Handler, Inst, form};
use super::run::HandlerTable;
use crate::isa::{Instr, Op, for_each_op};
use crate::num::{Bits, Imm, call1, call2};

/// Reads register `r`.
///
/// # Safety
///
/// `r` lies in the current frame (translator invariant 2).
#[inline(always)]
pub(super) unsafe fn get(fp: *mut u64, r: crate::isa::Reg) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) }
}

/// Writes register `r`.
///
/// # Safety
///
/// As for [`get`].
#[inline(always)]
pub(super) unsafe fn set(fp: *mut u64, r: crate::isa::Reg, v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe { *fp.offset(r as isize) = v }
}

/// Generates the handlers of the table's rows and `register`, which enters them (and the
/// shared v128 handler) into the dispatch table.
macro_rules! table_handlers {
    (
        ()
        binary { $( $bname:ident / $biname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap { $( $tname:ident / $tiname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )* }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare { $( $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty) $([ $cbi:ident / $cbni:ident ])? = $cf:expr; )* }
        load { $( $lname:ident [$ln:literal] -> $lt:ty = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] ($st:ty) = $sf:expr; )* }
        vbinary { $( $wname:ident = $wf:expr; )* }
        vunary { $( $zname:ident = $zf:expr; )* }
        extract { $( $xname:ident = $xf:expr; )* }
        replace { $( $rname:ident = $rf:expr; )* }
        vload { $( $vlname:ident [$vln:literal] = $vlf:expr; )* }
        vstore { $( $vsname:ident [$vsn:literal] = $vsf:expr; )* }
        load_lane { $( $llname:ident [$lln:literal] = $llf:expr; )* }
        store_lane { $( $slname:ident [$sln:literal] = $slf:expr; )* }
    ) => {
        $( handler! { $bname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $bname { dst, a, b });
            let v = call2::<$ba, $bb, $br, _>(
                $bf,
                <$ba as Bits>::from_reg(operand!(F, form::A, fp, a, acc, $ba)),
                <$bb as Bits>::from_reg(operand!(F, form::B, fp, b, acc, $bb)),
            );
            result!(F, fp, dst, acc, $br, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $tname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $tname { dst, a, b });
            match call2::<$ta, $tb, Result<$tr, TrapCode>, _>(
                $tf,
                <$ta as Bits>::from_reg(get(fp, a)),
                <$tb as Bits>::from_reg(get(fp, b)),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $biname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $biname { dst, a, imm });
            let v = call2::<$ba, $bb, $br, _>(
                $bf,
                <$ba as Bits>::from_reg(operand!(F, form::A, fp, a, acc, $ba)),
                <$bb as Bits>::from_reg(imm),
            );
            result!(F, fp, dst, acc, $br, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $tiname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $tiname { dst, a, imm });
            match call2::<$ta, $tb, Result<$tr, TrapCode>, _>(
                $tf,
                <$ta as Bits>::from_reg(get(fp, a)),
                <$tb as Bits>::from_reg(imm),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $uname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $uname { dst, src });
            let v = call1::<$ua, $ur, _>(
                $uf,
                <$ua as Bits>::from_reg(operand!(F, form::A, fp, src, acc, $ua)),
            );
            result!(F, fp, dst, acc, $ur, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $vname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $vname { dst, src });
            match call1::<$va, Result<$vr, TrapCode>, _>(
                $vf,
                <$va as Bits>::from_reg(get(fp, src)),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $cname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $cname { dst, a, b });
            let v = call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(operand!(F, form::A, fp, a, acc, $ct)),
                <$ct as Bits>::from_reg(operand!(F, form::B, fp, b, acc, $ct)),
            );
            result!(F, fp, dst, acc, u32, v as u64);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $cbr<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $cbr { a, b, add_reg, offset, add });
            let taken = call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(counter_operand!(F, fp, a, add, add_reg, acc, $ct)),
                <$ct as Bits>::from_reg(operand!(F, form::B, fp, b, acc, $ct)),
            );
            if taken {
                branch!(ip, offset, fp, mb, ml, cx, acc)
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $cbrn<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $cbrn { a, b, add_reg, offset, add });
            let taken = !call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(counter_operand!(F, fp, a, add, add_reg, acc, $ct)),
                <$ct as Bits>::from_reg(operand!(F, form::B, fp, b, acc, $ct)),
            );
            if taken {
                branch!(ip, offset, fp, mb, ml, cx, acc)
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( $(
            handler! { $cbi<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $cbi { a, imm, add_reg, offset, add });
                let taken = call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(counter_operand!(F, fp, a, add, add_reg, acc, $ct)),
                    <$ct as Imm>::from_imm(imm),
                );
                if taken {
                    branch!(ip, offset, fp, mb, ml, cx, acc)
                }
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }}
            handler! { $cbni<F> |ip, fp, mb, ml, cx, acc| {
                decode!(ip, $cbni { a, imm, add_reg, offset, add });
                let taken = !call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(counter_operand!(F, fp, a, add, add_reg, acc, $ct)),
                    <$ct as Imm>::from_imm(imm),
                );
                if taken {
                    branch!(ip, offset, fp, mb, ml, cx, acc)
                }
                next!(ip.add(1), fp, mb, ml, cx, acc)
            }}
        )? )*
        $( handler! { $lname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $lname { dst, addr, index, scale, offset });
            let base = indexed!(
                F,
                operand!(F, form::A, fp, addr, acc, u32),
                operand!(F, form::B, fp, index, acc, u32),
                scale
            );
            let at = checked!(address!(F, base, offset), $ln, ip, fp, mb, ml, cx);
            let bytes = ptr::read_unaligned(at);
            result!(F, fp, dst, acc, $lt, call1::<[u8; $ln], u64, _>($lf, bytes));
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $sname<F> |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $sname { addr, val, index, scale, offset });
            let base = indexed!(F, operand!(F, form::A, fp, addr, acc, u32), get(fp, index), scale);
            let at = checked!(address!(F, base, offset), $sn, ip, fp, mb, ml, cx);
            let bytes = call1::<u64, [u8; $sn], _>($sf, operand!(F, form::B, fp, val, acc, $st));
            ptr::write_unaligned(at, bytes);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*

        /// Enters the handlers of the table's rows into `t`, each in the forms it has.
        pub(super) const fn register(t: &mut HandlerTable) {
            const O: u8 = form::OUT;
            const A: u8 = form::A;
            const B: u8 = form::B;
            const W: u8 = form::WRAP;
            const P: u8 = form::PRE;
            const R: u8 = form::ADD_REG;
            const I: u8 = form::INDEX;
            const T: u8 = form::TEE;
            $( forms!(t, $bname, [0, O, A, O | A, B, O | B, T, T | A, T | B]); )*
            $( t[0][Op::$tname as usize] = Some($tname as Handler); )*
            $( forms!(t, $biname, [0, O, A, O | A, T, T | A]); )*
            $( t[0][Op::$tiname as usize] = Some($tiname as Handler); )*
            $( forms!(t, $uname, [0, O, A, O | A, T, T | A]); )*
            $( t[0][Op::$vname as usize] = Some($vname as Handler); )*
            $( forms!(t, $cname, [0, O, A, O | A, B, O | B, T, T | A, T | B]); )*
            $( forms!(t, $cbr, [0, A, B]); )*
            $( forms!(t, $cbrn, [0, A, B]); )*
            $( $(
                forms!(t, $cbi, [0, A, P, P | R, P | T, P | R | T]);
                forms!(t, $cbni, [0, A, P, P | R, P | T, P | R | T]);
                forms!(t, $cbr, [P, P | R, P | T, P | R | T]);
                forms!(t, $cbrn, [P, P | R, P | T, P | R | T]);
            )? )*
            $( forms!(t, $lname, [0, O, A, O | A, W, W | O, W | A, W | O | A]); )*
            $( forms!(t, $lname, [I, I | O, I | A, I | O | A, I | B, I | O | B]); )*
            $( forms!(t, $lname, [I | W, I | W | O, I | W | B, I | W | O | B]); )*
            $( forms!(t, $lname, [T, T | A, T | W, T | W | A, T | I, T | I | B, T | I | W]); )*
            $( forms!(t, $sname, [0, A, B, W, W | A, W | B, I, I | A, I | B, I | W, I | W | B]); )*
        }
    };
}

for_each_op!(table_handlers!());
