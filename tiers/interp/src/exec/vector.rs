//! The handlers of the v128 instructions, one per vector row of the instruction table
//! (lane operations, lane access, v128 loads and stores), plus `v128.bitselect` and
//! `i8x16.shuffle`. Operand and result types come from each operation's signature (see
//! `num::RegVal`); the lane arrays of `simd` compile to SSE instructions.

use core::ptr;

use tierup_abi::TrapCode;

use super::dispatch::{Ctx, Exit, Handler, Inst};
use super::run::HandlerTable;
use crate::isa::{Instr, Op, Reg, for_each_op};
use crate::num::RegVal;

/// `dst = f(a, b)`.
///
/// # Safety
///
/// The registers lie in the frame of `fp` for the operand and result types.
#[inline(always)]
unsafe fn binary<A: RegVal, B: RegVal, R: RegVal>(
    f: impl Fn(A, B) -> R,
    fp: *mut u64,
    dst: Reg,
    a: Reg,
    b: Reg,
) {
    // SAFETY: guaranteed by the caller.
    unsafe { f(A::load(fp, a), B::load(fp, b)).store(fp, dst) }
}

/// `dst = f(src)`.
///
/// # Safety
///
/// As for [`binary`].
#[inline(always)]
unsafe fn unary<A: RegVal, R: RegVal>(f: impl Fn(A) -> R, fp: *mut u64, dst: Reg, src: Reg) {
    // SAFETY: guaranteed by the caller.
    unsafe { f(A::load(fp, src)).store(fp, dst) }
}

/// `dst = f(src, lane)`.
///
/// # Safety
///
/// As for [`binary`].
#[inline(always)]
unsafe fn extract<A: RegVal, R: RegVal>(
    f: impl Fn(A, u8) -> R,
    fp: *mut u64,
    dst: Reg,
    src: Reg,
    lane: u8,
) {
    // SAFETY: guaranteed by the caller.
    unsafe { f(A::load(fp, src), lane).store(fp, dst) }
}

/// `dst = f(a, b, lane)`.
///
/// # Safety
///
/// As for [`binary`].
#[inline(always)]
unsafe fn replace<A: RegVal, B: RegVal, R: RegVal>(
    f: impl Fn(A, B, u8) -> R,
    fp: *mut u64,
    dst: Reg,
    a: Reg,
    b: Reg,
    lane: u8,
) {
    // SAFETY: guaranteed by the caller.
    unsafe { f(A::load(fp, a), B::load(fp, b), lane).store(fp, dst) }
}

/// The address of an `N`-byte access at `addr + offset`, if it lies in the memory.
#[inline(always)]
fn effective<const N: usize>(addr: u64, offset: u32, mem_len: u64) -> Option<usize> {
    let ea = addr as u32 as u64 + offset as u64;
    (ea + N as u64 <= mem_len).then_some(ea as usize)
}

/// `dst = f(load N bytes at addr + offset)`.
///
/// # Safety
///
/// As for [`binary`]; `mem_base` points at `mem_len` bytes of memory.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn load<const N: usize, R: RegVal>(
    f: impl Fn([u8; N]) -> R,
    fp: *mut u64,
    dst: Reg,
    addr: Reg,
    offset: u32,
    mem_base: *mut u8,
    mem_len: u64,
) -> Result<(), TrapCode> {
    // SAFETY: registers as guaranteed by the caller; the access is bounds-checked.
    unsafe {
        let ea = effective::<N>(*fp.offset(addr as isize), offset, mem_len)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        let bytes = ptr::read_unaligned(mem_base.add(ea) as *const [u8; N]);
        f(bytes).store(fp, dst);
        Ok(())
    }
}

/// `store N bytes f(val) at addr + offset`.
///
/// # Safety
///
/// As for [`load`].
#[inline(always)]
unsafe fn store<const N: usize, A: RegVal>(
    f: impl Fn(A) -> [u8; N],
    fp: *mut u64,
    addr: Reg,
    val: Reg,
    offset: u32,
    mem_base: *mut u8,
    mem_len: u64,
) -> Result<(), TrapCode> {
    // SAFETY: registers as guaranteed by the caller; the access is bounds-checked.
    unsafe {
        let ea = effective::<N>(*fp.offset(addr as isize), offset, mem_len)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        let bytes = f(A::load(fp, val));
        ptr::write_unaligned(mem_base.add(ea) as *mut [u8; N], bytes);
        Ok(())
    }
}

/// `dst = f(src, load N bytes at addr + offset, lane)`.
///
/// # Safety
///
/// As for [`load`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn load_lane<const N: usize, A: RegVal, R: RegVal>(
    f: impl Fn(A, [u8; N], u8) -> R,
    fp: *mut u64,
    dst: Reg,
    addr: Reg,
    src: Reg,
    lane: u8,
    offset: u32,
    mem: (*mut u8, u64),
) -> Result<(), TrapCode> {
    // SAFETY: registers as guaranteed by the caller; the access is bounds-checked.
    unsafe {
        let ea = effective::<N>(*fp.offset(addr as isize), offset, mem.1)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        let bytes = ptr::read_unaligned(mem.0.add(ea) as *const [u8; N]);
        f(A::load(fp, src), bytes, lane).store(fp, dst);
        Ok(())
    }
}

/// `store N bytes f(val, lane) at addr + offset`.
///
/// # Safety
///
/// As for [`load`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn store_lane<const N: usize, A: RegVal>(
    f: impl Fn(A, u8) -> [u8; N],
    fp: *mut u64,
    addr: Reg,
    val: Reg,
    lane: u8,
    offset: u32,
    mem_base: *mut u8,
    mem_len: u64,
) -> Result<(), TrapCode> {
    // SAFETY: registers as guaranteed by the caller; the access is bounds-checked.
    unsafe {
        let ea = effective::<N>(*fp.offset(addr as isize), offset, mem_len)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        let bytes = f(A::load(fp, val), lane);
        ptr::write_unaligned(mem_base.add(ea) as *mut [u8; N], bytes);
        Ok(())
    }
}

/// `dst = f(a, b, c)`.
///
/// # Safety
///
/// As for [`binary`].
#[inline(always)]
unsafe fn ternary<A: RegVal, B: RegVal, C: RegVal, R: RegVal>(
    f: impl Fn(A, B, C) -> R,
    fp: *mut u64,
    dst: Reg,
    abc: (Reg, Reg, Reg),
) {
    // SAFETY: guaranteed by the caller.
    unsafe { f(A::load(fp, abc.0), B::load(fp, abc.1), C::load(fp, abc.2)).store(fp, dst) }
}

/// Whether `f`'s result is a v128 (for the translator: the width of the result slot).
pub(crate) fn wide_result1<A, R: RegVal>(_: impl Fn(A) -> R) -> bool {
    R::WIDE
}

/// As [`wide_result1`] for a binary operation.
pub(crate) fn wide_result2<A, B, R: RegVal>(_: impl Fn(A, B) -> R) -> bool {
    R::WIDE
}

/// Generates one handler per vector row of the table, and `register`.
macro_rules! vector_exec {
    (
        ( $($extra:tt)* )
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
        $( handler! { $wname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $wname { dst, a, b });
            binary($wf, fp, dst, a, b);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $zname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $zname { dst, src });
            unary($zf, fp, dst, src);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $xname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $xname { dst, src, lane });
            extract($xf, fp, dst, src, lane);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $rname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $rname { dst, a, b, lane });
            replace($rf, fp, dst, a, b, lane);
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $vlname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $vlname { dst, addr, offset });
            if let Err(code) = load::<$vln, _>($vlf, fp, dst, addr, offset, mb, ml) {
                leave!(ip, fp, cx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $vsname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $vsname { addr, val, offset });
            if let Err(code) = store::<$vsn, _>($vsf, fp, addr, val, offset, mb, ml) {
                leave!(ip, fp, cx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $llname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $llname { dst, addr, src, lane, offset });
            if let Err(code) = load_lane::<$lln, _, _>(
                $llf, fp, dst, addr, src, lane, offset, (mb, ml),
            ) {
                leave!(ip, fp, cx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        $( handler! { $slname |ip, fp, mb, ml, cx, acc| {
            decode!(ip, $slname { addr, val, lane, offset });
            if let Err(code) = store_lane::<$sln, _>($slf, fp, addr, val, lane, offset, mb, ml) {
                leave!(ip, fp, cx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }} )*
        handler! { V128Bitselect |ip, fp, mb, ml, cx, acc| {
            decode!(ip, V128Bitselect { dst, a, b, c });
            ternary(crate::simd::v128_bitselect, fp, dst, (a, b, c));
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }}
        handler! { I8x16Shuffle |ip, fp, mb, ml, cx, acc| {
            decode!(ip, I8x16Shuffle { dst, a, b, mask });
            ternary(crate::simd::i8x16_shuffle, fp, dst, (a, b, mask));
            next!(ip.add(1), fp, mb, ml, cx, acc)
        }}

        /// Enters the v128 handlers into `t`.
        pub(super) const fn register(t: &mut HandlerTable) {
            $( t[0][Op::$wname as usize] = Some($wname as Handler); )*
            $( t[0][Op::$zname as usize] = Some($zname as Handler); )*
            $( t[0][Op::$xname as usize] = Some($xname as Handler); )*
            $( t[0][Op::$rname as usize] = Some($rname as Handler); )*
            $( t[0][Op::$vlname as usize] = Some($vlname as Handler); )*
            $( t[0][Op::$vsname as usize] = Some($vsname as Handler); )*
            $( t[0][Op::$llname as usize] = Some($llname as Handler); )*
            $( t[0][Op::$slname as usize] = Some($slname as Handler); )*
            t[0][Op::V128Bitselect as usize] = Some(V128Bitselect as Handler);
            t[0][Op::I8x16Shuffle as usize] = Some(I8x16Shuffle as Handler);
        }
    };
}
for_each_op!(vector_exec!());
