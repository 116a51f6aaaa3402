//! The handlers of the v128 instructions: one per vector row of the instruction table
//! (lane operations, lane access, v128 loads and stores), and the hand-written v128
//! instructions (copy, `select`, globals, `v128.bitselect`, `i8x16.shuffle`). Operand and
//! result types come from each operation's signature (see `regs::RegVal`); the lane
//! arrays of `simd` compile to SSE instructions.

use core::ptr;

use tierup_abi::TrapCode;

use tierup_abi::ValRaw;

use super::dispatch::{Ctx, Exit, Handler, HandlerTable, get};
use crate::inst::Inst;
use crate::isa::{Instr, Op, Reg, for_each_row};
use crate::regs::RegVal;

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

/// The handler of one vector row of the table, by group (scalar rows have none here).
macro_rules! vector_handler {
    (vbinary $name:ident {} = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, a, b });
            binary($f, fp, dst, a, b);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (vunary $name:ident {} = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, src });
            unary($f, fp, dst, src);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (extract $name:ident { lane } = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, src, lane });
            extract($f, fp, dst, src, lane);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (replace $name:ident { lane } = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, a, b, lane });
            replace($f, fp, dst, a, b, lane);
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (vload $name:ident { memarg } [$n:literal] = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, addr, offset });
            if let Err(code) = load::<$n, _>($f, fp, dst, addr, offset, mem, mem_len) {
                leave!(ip, fp, ctx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (vstore $name:ident { memarg } [$n:literal] = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { addr, val, offset });
            if let Err(code) = store::<$n, _>($f, fp, addr, val, offset, mem, mem_len) {
                leave!(ip, fp, ctx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (load_lane $name:ident { memarg, lane } [$n:literal] = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { dst, addr, src, lane, offset });
            let at = (mem, mem_len);
            if let Err(code) = load_lane::<$n, _, _>($f, fp, dst, addr, src, lane, offset, at) {
                leave!(ip, fp, ctx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    (store_lane $name:ident { memarg, lane } [$n:literal] = $f:expr) => {
        handler! { $name |ip, fp, mem, mem_len, ctx, acc| {
            decode!(ip, $name { addr, val, lane, offset });
            if let Err(code) = store_lane::<$n, _>($f, fp, addr, val, lane, offset, mem, mem_len) {
                leave!(ip, fp, ctx, Exit::trap(code));
            }
            next!(ip.add(1), fp, mem, mem_len, ctx, acc)
        }}
    };
    ($scalar:ident $($row:tt)*) => {};
}

/// Enters the handler of one vector row into the table, in form 0 (scalar rows: none).
macro_rules! vector_register {
    ($t:ident, vbinary $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, vunary $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, extract $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, replace $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, vload $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, vstore $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, load_lane $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, store_lane $name:ident $($row:tt)*) => {
        register!($t, $name);
    };
    ($t:ident, $scalar:ident $($row:tt)*) => {};
}

/// Generates the vector rows' handlers and `register`, which enters them and the
/// hand-written v128 handlers below into the handler table.
macro_rules! vector_rows {
    (() $( [$group:ident $($row:tt)*] )*) => {
        $( vector_handler! { $group $($row)* } )*

        /// Enters the v128 handlers into `t`.
        pub(super) const fn register(t: &mut HandlerTable) {
            $( vector_register!(t, $group $($row)*); )*
            register!(
                t,
                V128Bitselect,
                I8x16Shuffle,
                CopyV128,
                SelectV128,
                GlobalGetV128,
                GlobalSetV128,
            );
        }
    };
}

for_each_row!(vector_rows!());

handler! {
    /// `dst = v128.bitselect(a, b, c)`.
    V128Bitselect |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, V128Bitselect { dst, a, b, c });
        ternary(crate::simd::v128_bitselect, fp, dst, (a, b, c));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// `dst = i8x16.shuffle(a, b)` with the lanes of constant `mask`.
    I8x16Shuffle |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, I8x16Shuffle { dst, a, b, mask });
        ternary(crate::simd::i8x16_shuffle, fp, dst, (a, b, mask));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// v128 copy.
    CopyV128 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, CopyV128 { dst, src });
        <u128 as RegVal>::load(fp, src).store(fp, dst);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// v128 `select`.
    SelectV128 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, SelectV128 { dst, cond, a, b });
        let v = if get(fp, cond) as u32 != 0 { a } else { b };
        <u128 as RegVal>::load(fp, v).store(fp, dst);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// v128 `global.get`.
    GlobalGetV128 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, GlobalGetV128 { dst, index });
        let cell = *(*(*ctx).vmctx).globals.add(index as usize);
        (*cell).get_v128().store(fp, dst);
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}

handler! {
    /// v128 `global.set`.
    GlobalSetV128 |ip, fp, mem, mem_len, ctx, acc| {
        decode!(ip, GlobalSetV128 { src, index });
        let cell = *(*(*ctx).vmctx).globals.add(index as usize);
        *cell = ValRaw::v128(<u128 as RegVal>::load(fp, src));
        next!(ip.add(1), fp, mem, mem_len, ctx, acc)
    }
}
