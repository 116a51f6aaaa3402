//! How values sit in registers ([`Bits`], [`RegVal`], [`AccClass`], immediates), and the
//! numeric operations with exact WebAssembly semantics: trapping integer division, float
//! `min`/`max`/`copysign`, float-to-int truncation (trapping and saturating).

use tierup_abi::TrapCode;

/// How a register (8 bytes) holds a value of type `Self`.
pub(crate) trait Bits: Copy {
    /// Reads the value from a register.
    fn from_reg(r: u64) -> Self;
    /// The register bits of the value (i32 and f32 zero-extended).
    fn into_reg(self) -> u64;
}

macro_rules! bits_int {
    ($($t:ty => $u:ty),*) => {$(
        impl Bits for $t {
            #[inline(always)]
            fn from_reg(r: u64) -> Self { r as $u as $t }
            #[inline(always)]
            fn into_reg(self) -> u64 { self as $u as u64 }
        }
    )*};
}
bits_int!(u32 => u32, i32 => u32, u64 => u64, i64 => u64);

impl Bits for f32 {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        f32::from_bits(r as u32)
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self.to_bits() as u64
    }
}

impl Bits for f64 {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        f64::from_bits(r)
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self.to_bits()
    }
}

impl Bits for bool {
    #[inline(always)]
    fn from_reg(r: u64) -> Self {
        r != 0
    }
    #[inline(always)]
    fn into_reg(self) -> u64 {
        self as u64
    }
}

/// Which half of the executor's accumulator a value of this type travels in (an integer
/// register, or a vector register for f64, so that float chains need no moves between
/// the register files). The translator links two instructions only where they agree.
pub(crate) trait AccClass {
    /// Whether the value travels in the accumulator's float half.
    const FLOAT: bool;
}

macro_rules! acc_class {
    ($($t:ty => $float:expr),*) => {$(
        impl AccClass for $t {
            const FLOAT: bool = $float;
        }
    )*};
}
acc_class!(u32 => false, i32 => false, u64 => false, i64 => false, f32 => false, f64 => true);

/// How an instruction operand of type `Self` is read from and written to the register
/// file: scalars (any [`Bits`] type) in one register, a `v128` in two adjacent registers
/// (low 64 bits first), either whole as a `u128` or as a lane array such as `[f32; 4]`
/// (those impls are in `simd`).
pub(crate) trait RegVal: Sized {
    /// Whether the value occupies two registers.
    const WIDE: bool;
    /// Reads the value at register `r`.
    ///
    /// # Safety
    ///
    /// `r` (and `r + 1` when wide) lie in the frame of `fp`.
    unsafe fn load(fp: *mut u64, r: crate::isa::Reg) -> Self;
    /// Writes the value at register `r`.
    ///
    /// # Safety
    ///
    /// As for [`RegVal::load`].
    unsafe fn store(self, fp: *mut u64, r: crate::isa::Reg);
}

impl<T: Bits> RegVal for T {
    const WIDE: bool = false;
    #[inline(always)]
    unsafe fn load(fp: *mut u64, r: crate::isa::Reg) -> Self {
        // SAFETY: guaranteed by the caller.
        T::from_reg(unsafe { *fp.offset(r as isize) })
    }
    #[inline(always)]
    unsafe fn store(self, fp: *mut u64, r: crate::isa::Reg) {
        // SAFETY: guaranteed by the caller.
        unsafe { *fp.offset(r as isize) = self.into_reg() }
    }
}

impl RegVal for u128 {
    const WIDE: bool = true;
    #[inline(always)]
    unsafe fn load(fp: *mut u64, r: crate::isa::Reg) -> Self {
        // SAFETY: guaranteed by the caller (both registers are in the frame). On a
        // little-endian target the two registers are the u128's bytes in order, so one
        // 16-byte load reads them (one vector load).
        unsafe {
            let p = fp.offset(r as isize);
            if cfg!(target_endian = "little") {
                core::ptr::read_unaligned(p as *const u128)
            } else {
                (*p as u128) | ((*p.add(1) as u128) << 64)
            }
        }
    }
    #[inline(always)]
    unsafe fn store(self, fp: *mut u64, r: crate::isa::Reg) {
        // SAFETY: as for `load`.
        unsafe {
            let p = fp.offset(r as isize);
            if cfg!(target_endian = "little") {
                core::ptr::write_unaligned(p as *mut u128, self);
            } else {
                *p = self as u64;
                *p.add(1) = (self >> 64) as u64;
            }
        }
    }
}

/// Integer operand types a compare may take as a 16-bit immediate.
pub(crate) trait Imm: Sized {
    /// The immediate for the register bits of a constant, if it fits.
    fn to_imm(bits: u64) -> Option<i16>;
    /// The operand value of an immediate (sign-extended).
    fn from_imm(imm: i16) -> Self;
}

macro_rules! imm {
    ($($t:ty => $s:ty),*) => {$(
        impl Imm for $t {
            #[inline(always)]
            fn to_imm(bits: u64) -> Option<i16> {
                i16::try_from(<$t as Bits>::from_reg(bits) as $s).ok()
            }
            #[inline(always)]
            fn from_imm(imm: i16) -> Self {
                imm as $s as $t
            }
        }
    )*};
}
imm!(u32 => i32, i32 => i32, u64 => i64, i64 => i64);

/// Applies a unary operator with its operand type fixed by `A` (lets table closures
/// infer their parameter types).
#[inline(always)]
pub(crate) fn call1<A, R, F: Fn(A) -> R>(f: F, a: A) -> R {
    f(a)
}

/// Applies a binary operator; see [`call1`].
#[inline(always)]
pub(crate) fn call2<A, B, R, F: Fn(A, B) -> R>(f: F, a: A, b: B) -> R {
    f(a, b)
}

macro_rules! int_div {
    ($div_s:ident, $div_u:ident, $rem_s:ident, $rem_u:ident, $s:ty, $u:ty) => {
        #[inline(always)]
        pub(crate) fn $div_s(a: $s, b: $s) -> Result<$s, TrapCode> {
            if b == 0 {
                return Err(TrapCode::IntegerDivideByZero);
            }
            a.checked_div(b).ok_or(TrapCode::IntegerOverflow)
        }
        #[inline(always)]
        pub(crate) fn $div_u(a: $u, b: $u) -> Result<$u, TrapCode> {
            a.checked_div(b).ok_or(TrapCode::IntegerDivideByZero)
        }
        #[inline(always)]
        pub(crate) fn $rem_s(a: $s, b: $s) -> Result<$s, TrapCode> {
            if b == 0 {
                return Err(TrapCode::IntegerDivideByZero);
            }
            Ok(a.wrapping_rem(b))
        }
        #[inline(always)]
        pub(crate) fn $rem_u(a: $u, b: $u) -> Result<$u, TrapCode> {
            a.checked_rem(b).ok_or(TrapCode::IntegerDivideByZero)
        }
    };
}
int_div!(i32_div_s, i32_div_u, i32_rem_s, i32_rem_u, i32, u32);
int_div!(i64_div_s, i64_div_u, i64_rem_s, i64_rem_u, i64, u64);

macro_rules! float_ops {
    ($quiet:ident, $min:ident, $max:ident, $copysign:ident, $abs:ident, $neg:ident, $t:ty, $bits:ty) => {
        /// `min` with NaN propagation and `-0 < +0`.
        #[inline(always)]
        pub(crate) fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return $quiet(a, b);
            }
            if a == b {
                // Distinguishes -0 and +0: the result has the sign bit if either has it.
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }
        /// `max` with NaN propagation and `-0 < +0`.
        #[inline(always)]
        pub(crate) fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return $quiet(a, b);
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }
        /// The NaN operand (`a` first) made quiet: an arithmetic NaN. Written with bit
        /// operations because the compiler may fold `a + b` to a signalling `a`.
        #[inline(always)]
        fn $quiet(a: $t, b: $t) -> $t {
            const QUIET: $bits = 1 << (<$t>::MANTISSA_DIGITS - 2);
            let n = if a.is_nan() { a } else { b };
            <$t>::from_bits(n.to_bits() | QUIET)
        }
        /// `copysign` as a bit operation (NaN payloads preserved).
        #[inline(always)]
        pub(crate) fn $copysign(a: $t, b: $t) -> $t {
            const SIGN: $bits = 1 << (<$bits>::BITS - 1);
            <$t>::from_bits((a.to_bits() & !SIGN) | (b.to_bits() & SIGN))
        }
        /// `abs` as a bit operation.
        #[inline(always)]
        pub(crate) fn $abs(a: $t) -> $t {
            const SIGN: $bits = 1 << (<$bits>::BITS - 1);
            <$t>::from_bits(a.to_bits() & !SIGN)
        }
        /// `neg` as a bit operation.
        #[inline(always)]
        pub(crate) fn $neg(a: $t) -> $t {
            const SIGN: $bits = 1 << (<$bits>::BITS - 1);
            <$t>::from_bits(a.to_bits() ^ SIGN)
        }
    };
}
float_ops!(
    f32_quiet,
    f32_min,
    f32_max,
    f32_copysign,
    f32_abs,
    f32_neg,
    f32,
    u32
);
float_ops!(
    f64_quiet,
    f64_min,
    f64_max,
    f64_copysign,
    f64_abs,
    f64_neg,
    f64,
    u64
);

/// Makes a NaN result quiet (software rounding returns a signalling NaN operand as is).
#[inline(always)]
pub(crate) fn quiet_f32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | 0x0040_0000)
    } else {
        x
    }
}

/// Makes a NaN result quiet; see [`quiet_f32`].
#[inline(always)]
pub(crate) fn quiet_f64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000)
    } else {
        x
    }
}

/// Trapping float-to-int truncation: NaN is an invalid conversion; values whose truncation
/// lies outside `(lo, hi)` (exclusive bounds, exact in f64) overflow.
macro_rules! trunc {
    ($name:ident, $from:ty, $to:ty, $lo:expr, $hi:expr) => {
        #[inline(always)]
        pub(crate) fn $name(x: $from) -> Result<$to, TrapCode> {
            let v = x as f64;
            if v.is_nan() {
                return Err(TrapCode::BadConversionToInteger);
            }
            if v > $lo && v < $hi {
                Ok(v as $to)
            } else {
                Err(TrapCode::IntegerOverflow)
            }
        }
    };
}
trunc!(i32_trunc_f32_s, f32, i32, -2147483649.0, 2147483648.0);
trunc!(i32_trunc_f32_u, f32, u32, -1.0, 4294967296.0);
trunc!(i32_trunc_f64_s, f64, i32, -2147483649.0, 2147483648.0);
trunc!(i32_trunc_f64_u, f64, u32, -1.0, 4294967296.0);
trunc!(
    i64_trunc_f32_s,
    f32,
    i64,
    -9223372036854777856.0,
    9223372036854775808.0
);
trunc!(i64_trunc_f32_u, f32, u64, -1.0, 18446744073709551616.0);
trunc!(
    i64_trunc_f64_s,
    f64,
    i64,
    -9223372036854777856.0,
    9223372036854775808.0
);
trunc!(i64_trunc_f64_u, f64, u64, -1.0, 18446744073709551616.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zero_and_nan() {
        assert_eq!(f32_min(0.0, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_max(-0.0, 0.0).to_bits(), 0.0f32.to_bits());
        assert!(f64_min(f64::NAN, 1.0).is_nan());
        assert!(f64_max(1.0, f64::NAN).is_nan());
    }

    #[test]
    fn immediates_round_trip() {
        assert_eq!(<u32 as Imm>::to_imm(u32::MAX as u64), Some(-1));
        assert_eq!(<u32 as Imm>::from_imm(-1), u32::MAX);
        assert_eq!(<u32 as Imm>::to_imm(40_000), None);
        assert_eq!(<i64 as Imm>::to_imm(-32_768i64 as u64), Some(i16::MIN));
        assert_eq!(<u64 as Imm>::to_imm(u32::MAX as u64), None);
        assert_eq!(<u64 as Imm>::from_imm(-2), u64::MAX - 1);
    }

    #[test]
    fn trunc_bounds() {
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(
            i32_trunc_f32_s(2147483648.0),
            Err(TrapCode::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_u(-0.9), Ok(0));
        assert_eq!(i64_trunc_f64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_f32_u(f32::NAN),
            Err(TrapCode::BadConversionToInteger)
        );
        assert_eq!(i32_div_s(i32::MIN, -1), Err(TrapCode::IntegerOverflow));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
    }
}

/// Whether `f`'s result is a v128 (for the translator: the width of the result slot).
pub(crate) fn wide_result1<A, R: RegVal>(_: impl Fn(A) -> R) -> bool {
    R::WIDE
}

/// As [`wide_result1`] for a binary operation.
pub(crate) fn wide_result2<A, B, R: RegVal>(_: impl Fn(A, B) -> R) -> bool {
    R::WIDE
}
