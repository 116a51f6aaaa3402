//! The lanes of a `v128`: how a lane array sits in the two registers of a v128
//! ([`LaneBits`], and the `RegVal` impl for lane arrays), and the macros that define lane
//! operations from one lane's function (`map1!`, `map2!`, `cmp!`).

use crate::regs::Reg;
use crate::regs::RegVal;

/// A lane type and the unsigned integer of its bits.
pub(crate) trait LaneBits: Copy {
    /// The unsigned integer type of the lane's bits.
    type Bits: Copy;
    fn from_le_bits(b: Self::Bits) -> Self;
    fn to_le_bits(self) -> Self::Bits;
}

macro_rules! lane_bits {
    ($($t:ty => $b:ty, $from:expr, $to:expr);*) => {$(
        impl LaneBits for $t {
            type Bits = $b;
            #[inline(always)]
            fn from_le_bits(b: $b) -> Self {
                ($from)(<$b>::from_le(b))
            }
            #[inline(always)]
            fn to_le_bits(self) -> $b {
                ($to)(self).to_le()
            }
        }
    )*};
}
lane_bits!(
    u8 => u8, |b| b, |x| x;
    i8 => u8, |b: u8| b as i8, |x: i8| x as u8;
    u16 => u16, |b| b, |x| x;
    i16 => u16, |b: u16| b as i16, |x: i16| x as u16;
    u32 => u32, |b| b, |x| x;
    i32 => u32, |b: u32| b as i32, |x: i32| x as u32;
    u64 => u64, |b| b, |x| x;
    i64 => u64, |b: u64| b as i64, |x: i64| x as u64;
    f32 => u32, f32::from_bits, f32::to_bits;
    f64 => u64, f64::from_bits, f64::to_bits
);

/// A v128 viewed as `N` lanes of `T` occupies two registers: registers `r` and `r + 1`
/// hold bytes 0..8 and 8..16 of the vector as little-endian u64s, i.e. the register file
/// holds the vector's bytes in order on a little-endian host.
impl<T: LaneBits, const N: usize> RegVal for [T; N]
where
    [T::Bits; N]: Copy,
{
    const WIDE: bool = true;
    #[inline(always)]
    unsafe fn load(fp: *mut u64, r: Reg) -> Self {
        // SAFETY: the caller guarantees registers `r` and `r + 1` lie in the frame; lane
        // arrays used as operands are 16 bytes (checked by `lanes_are_16_bytes`), and
        // `read_unaligned` has no alignment requirement. On a big-endian host the
        // registers hold the bytes in another order, so there the value is rebuilt.
        const { assert!(core::mem::size_of::<[T::Bits; N]>() == 16) };
        unsafe {
            let p = fp.offset(r as isize);
            let raw: [T::Bits; N] = if cfg!(target_endian = "little") {
                core::ptr::read_unaligned(p as *const [T::Bits; N])
            } else {
                let bytes = ((*p as u128) | ((*p.add(1) as u128) << 64)).to_le_bytes();
                core::ptr::read_unaligned(bytes.as_ptr() as *const [T::Bits; N])
            };
            raw.map(T::from_le_bits)
        }
    }
    #[inline(always)]
    unsafe fn store(self, fp: *mut u64, r: Reg) {
        const { assert!(core::mem::size_of::<[T::Bits; N]>() == 16) };
        // SAFETY: as for `load`.
        unsafe {
            let p = fp.offset(r as isize);
            let raw: [T::Bits; N] = self.map(T::to_le_bits);
            if cfg!(target_endian = "little") {
                core::ptr::write_unaligned(p as *mut [T::Bits; N], raw);
            } else {
                let mut bytes = [0u8; 16];
                core::ptr::write_unaligned(bytes.as_mut_ptr() as *mut [T::Bits; N], raw);
                let v = u128::from_le_bytes(bytes);
                *p = v as u64;
                *p.add(1) = (v >> 64) as u64;
            }
        }
    }
}

/// Lane-wise binary operations: `name: lane type, lanes => |a, b| expr`.
macro_rules! map2 {
    ($($name:ident: $t:ty, $n:literal => $f:expr;)*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n], b: [$t; $n]) -> [$t; $n] {
            let mut r = a;
            for i in 0..$n {
                r[i] = ($f)(a[i], b[i]);
            }
            r
        }
    )*};
}
pub(crate) use map2;

/// Lane-wise unary operations: `name: lane type, lanes => |a| expr`.
macro_rules! map1 {
    ($($name:ident: $t:ty => $r:ty, $n:literal => $f:expr;)*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n]) -> [$r; $n] {
            let mut r = [<$r>::default(); $n];
            for i in 0..$n {
                r[i] = ($f)(a[i]);
            }
            r
        }
    )*};
}
pub(crate) use map1;

/// Lane-wise compares producing all-ones or all-zeros lanes:
/// `name: lane type => mask type, lanes => cmp`.
macro_rules! cmp {
    ($($name:ident: $t:ty => $m:ty, $n:literal => $f:expr;)*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n], b: [$t; $n]) -> [$m; $n] {
            let mut r = [0; $n];
            for i in 0..$n {
                r[i] = if ($f)(a[i], b[i]) { <$m>::MAX } else { 0 };
            }
            r
        }
    )*};
}
pub(crate) use cmp;
