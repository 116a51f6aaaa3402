//! The handlers generated from the instruction table (`isa::for_each_op!`): one function
//! per numeric (register and immediate forms), compare, fused compare-branch, load and
//! store instruction. The v128 rows have theirs in `vector`.

use core::ptr;

use tierup_abi::TrapCode;

use super::dispatch::{Ctx, Exit, Handler, Inst};
use crate::isa::{Instr, Op, for_each_op};
use crate::num::{Bits, Imm, call1, call2};

/// Reads register `r`.
///
/// # Safety
///
/// `r` lies in the current frame or its constant area (translator invariant 2).
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
        load { $( $lname:ident [$ln:literal] = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] = $sf:expr; )* }
        vbinary { $( $wname:ident = $wf:expr; )* }
        vunary { $( $zname:ident = $zf:expr; )* }
        extract { $( $xname:ident = $xf:expr; )* }
        replace { $( $rname:ident = $rf:expr; )* }
        vload { $( $vlname:ident [$vln:literal] = $vlf:expr; )* }
        vstore { $( $vsname:ident [$vsn:literal] = $vsf:expr; )* }
        load_lane { $( $llname:ident [$lln:literal] = $llf:expr; )* }
        store_lane { $( $slname:ident [$sln:literal] = $slf:expr; )* }
    ) => {
        $( handler! { $bname |ip, fp, mb, ml, cx| {
            decode!(ip, $bname { dst, a, b });
            let v = call2::<$ba, $bb, $br, _>(
                $bf,
                <$ba as Bits>::from_reg(get(fp, a)),
                <$bb as Bits>::from_reg(get(fp, b)),
            );
            set(fp, dst, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $tname |ip, fp, mb, ml, cx| {
            decode!(ip, $tname { dst, a, b });
            match call2::<$ta, $tb, Result<$tr, TrapCode>, _>(
                $tf,
                <$ta as Bits>::from_reg(get(fp, a)),
                <$tb as Bits>::from_reg(get(fp, b)),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $biname |ip, fp, mb, ml, cx| {
            decode!(ip, $biname { dst, a, imm });
            let v = call2::<$ba, $bb, $br, _>(
                $bf,
                <$ba as Bits>::from_reg(get(fp, a)),
                <$bb as Bits>::from_reg(imm),
            );
            set(fp, dst, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $tiname |ip, fp, mb, ml, cx| {
            decode!(ip, $tiname { dst, a, imm });
            match call2::<$ta, $tb, Result<$tr, TrapCode>, _>(
                $tf,
                <$ta as Bits>::from_reg(get(fp, a)),
                <$tb as Bits>::from_reg(imm),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $uname |ip, fp, mb, ml, cx| {
            decode!(ip, $uname { dst, src });
            let v = call1::<$ua, $ur, _>($uf, <$ua as Bits>::from_reg(get(fp, src)));
            set(fp, dst, v.into_reg());
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $vname |ip, fp, mb, ml, cx| {
            decode!(ip, $vname { dst, src });
            match call1::<$va, Result<$vr, TrapCode>, _>(
                $vf,
                <$va as Bits>::from_reg(get(fp, src)),
            ) {
                Ok(v) => set(fp, dst, v.into_reg()),
                Err(code) => leave!(ip, fp, cx, Exit::trap(code)),
            }
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $cname |ip, fp, mb, ml, cx| {
            decode!(ip, $cname { dst, a, b });
            let v = call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(get(fp, a)),
                <$ct as Bits>::from_reg(get(fp, b)),
            );
            set(fp, dst, v as u64);
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $cbr |ip, fp, mb, ml, cx| {
            decode!(ip, $cbr { a, b, offset });
            let taken = call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(get(fp, a)),
                <$ct as Bits>::from_reg(get(fp, b)),
            );
            if taken {
                next_spend!(ip.offset(offset as isize), fp, mb, ml, cx)
            }
            next_spend!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $cbrn |ip, fp, mb, ml, cx| {
            decode!(ip, $cbrn { a, b, offset });
            let taken = !call2::<$ct, $ct, bool, _>(
                $cf,
                <$ct as Bits>::from_reg(get(fp, a)),
                <$ct as Bits>::from_reg(get(fp, b)),
            );
            if taken {
                next_spend!(ip.offset(offset as isize), fp, mb, ml, cx)
            }
            next_spend!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( $(
            handler! { $cbi |ip, fp, mb, ml, cx| {
                decode!(ip, $cbi { a, imm, offset });
                let taken = call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(get(fp, a)),
                    <$ct as Imm>::from_imm(imm),
                );
                if taken {
                    next_spend!(ip.offset(offset as isize), fp, mb, ml, cx)
                }
                next_spend!(ip.add(1), fp, mb, ml, cx)
            }}
            handler! { $cbni |ip, fp, mb, ml, cx| {
                decode!(ip, $cbni { a, imm, offset });
                let taken = !call2::<$ct, $ct, bool, _>(
                    $cf,
                    <$ct as Bits>::from_reg(get(fp, a)),
                    <$ct as Imm>::from_imm(imm),
                );
                if taken {
                    next_spend!(ip.offset(offset as isize), fp, mb, ml, cx)
                }
                next_spend!(ip.add(1), fp, mb, ml, cx)
            }}
        )? )*
        $( handler! { $lname |ip, fp, mb, ml, cx| {
            decode!(ip, $lname { dst, addr, offset });
            let ea = get(fp, addr) as u32 as u64 + offset as u64;
            if ea + $ln > ml {
                leave!(ip, fp, cx, Exit::trap(TrapCode::MemoryOutOfBounds));
            }
            let bytes = ptr::read_unaligned(mb.add(ea as usize) as *const [u8; $ln]);
            set(fp, dst, call1::<[u8; $ln], u64, _>($lf, bytes));
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*
        $( handler! { $sname |ip, fp, mb, ml, cx| {
            decode!(ip, $sname { addr, val, offset });
            let ea = get(fp, addr) as u32 as u64 + offset as u64;
            if ea + $sn > ml {
                leave!(ip, fp, cx, Exit::trap(TrapCode::MemoryOutOfBounds));
            }
            let bytes = call1::<u64, [u8; $sn], _>($sf, get(fp, val));
            ptr::write_unaligned(mb.add(ea as usize) as *mut [u8; $sn], bytes);
            next!(ip.add(1), fp, mb, ml, cx)
        }} )*

        /// Enters the handlers of the table's rows into `t`.
        pub(super) const fn register(t: &mut [Option<Handler>; Op::COUNT]) {
            $( t[Op::$bname as usize] = Some($bname as Handler); )*
            $( t[Op::$tname as usize] = Some($tname as Handler); )*
            $( t[Op::$biname as usize] = Some($biname as Handler); )*
            $( t[Op::$tiname as usize] = Some($tiname as Handler); )*
            $( t[Op::$uname as usize] = Some($uname as Handler); )*
            $( t[Op::$vname as usize] = Some($vname as Handler); )*
            $( t[Op::$cname as usize] = Some($cname as Handler); )*
            $( t[Op::$cbr as usize] = Some($cbr as Handler); )*
            $( t[Op::$cbrn as usize] = Some($cbrn as Handler); )*
            $( $(
                t[Op::$cbi as usize] = Some($cbi as Handler);
                t[Op::$cbni as usize] = Some($cbni as Handler);
            )? )*
            $( t[Op::$lname as usize] = Some($lname as Handler); )*
            $( t[Op::$sname as usize] = Some($sname as Handler); )*
        }
    };
}

for_each_op!(table_handlers!());
