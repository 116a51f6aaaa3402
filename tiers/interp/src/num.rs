//! The numeric operations with exact WebAssembly semantics: trapping integer division,
//! float `min`/`max`/`copysign`, float-to-int truncation (trapping and saturating), and
//! the helpers that apply the instruction table's functions.

use tierup_abi::TrapCode;

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
    use crate::regs::Imm;

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
