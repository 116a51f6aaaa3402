//! Float lane operations with the scalar instructions' NaN rules: arithmetic results are
//! the hardware's (quiet) NaNs, `min`/`max` propagate NaN and order zeros, rounding quiets
//! a NaN operand, `abs`/`neg` only touch the sign bit, `pmin`/`pmax` return an operand,
//! and the saturating conversions map NaN to 0.

use super::lanes::{cmp, map1, map2};
use crate::num;

map2! {
    f32x4_add: f32, 4 => |a: f32, b: f32| a + b;
    f32x4_sub: f32, 4 => |a: f32, b: f32| a - b;
    f32x4_mul: f32, 4 => |a: f32, b: f32| a * b;
    f32x4_div: f32, 4 => |a: f32, b: f32| a / b;
    f32x4_min: f32, 4 => num::f32_min;
    f32x4_max: f32, 4 => num::f32_max;
    f32x4_pmin: f32, 4 => |a: f32, b: f32| if b < a { b } else { a };
    f32x4_pmax: f32, 4 => |a: f32, b: f32| if a < b { b } else { a };
    f64x2_add: f64, 2 => |a: f64, b: f64| a + b;
    f64x2_sub: f64, 2 => |a: f64, b: f64| a - b;
    f64x2_mul: f64, 2 => |a: f64, b: f64| a * b;
    f64x2_div: f64, 2 => |a: f64, b: f64| a / b;
    f64x2_min: f64, 2 => num::f64_min;
    f64x2_max: f64, 2 => num::f64_max;
    f64x2_pmin: f64, 2 => |a: f64, b: f64| if b < a { b } else { a };
    f64x2_pmax: f64, 2 => |a: f64, b: f64| if a < b { b } else { a };
}

map1! {
    f32x4_abs: f32 => f32, 4 => num::f32_abs;
    f32x4_neg: f32 => f32, 4 => num::f32_neg;
    f32x4_sqrt: f32 => f32, 4 => |a: f32| a.sqrt();
    f32x4_ceil: f32 => f32, 4 => |a: f32| num::quiet_f32(a.ceil());
    f32x4_floor: f32 => f32, 4 => |a: f32| num::quiet_f32(a.floor());
    f32x4_trunc: f32 => f32, 4 => |a: f32| num::quiet_f32(a.trunc());
    f32x4_nearest: f32 => f32, 4 => |a: f32| num::quiet_f32(a.round_ties_even());
    f64x2_abs: f64 => f64, 2 => num::f64_abs;
    f64x2_neg: f64 => f64, 2 => num::f64_neg;
    f64x2_sqrt: f64 => f64, 2 => |a: f64| a.sqrt();
    f64x2_ceil: f64 => f64, 2 => |a: f64| num::quiet_f64(a.ceil());
    f64x2_floor: f64 => f64, 2 => |a: f64| num::quiet_f64(a.floor());
    f64x2_trunc: f64 => f64, 2 => |a: f64| num::quiet_f64(a.trunc());
    f64x2_nearest: f64 => f64, 2 => |a: f64| num::quiet_f64(a.round_ties_even());
    i32x4_trunc_sat_f32x4_s: f32 => i32, 4 => |a: f32| a as i32;
    i32x4_trunc_sat_f32x4_u: f32 => u32, 4 => |a: f32| a as u32;
    f32x4_convert_i32x4_s: i32 => f32, 4 => |a: i32| a as f32;
    f32x4_convert_i32x4_u: u32 => f32, 4 => |a: u32| a as f32;
}

cmp! {
    f32x4_eq: f32 => u32, 4 => |a, b| a == b;
    f32x4_ne: f32 => u32, 4 => |a, b| a != b;
    f32x4_lt: f32 => u32, 4 => |a, b| a < b;
    f32x4_gt: f32 => u32, 4 => |a, b| a > b;
    f32x4_le: f32 => u32, 4 => |a, b| a <= b;
    f32x4_ge: f32 => u32, 4 => |a, b| a >= b;
    f64x2_eq: f64 => u64, 2 => |a, b| a == b;
    f64x2_ne: f64 => u64, 2 => |a, b| a != b;
    f64x2_lt: f64 => u64, 2 => |a, b| a < b;
    f64x2_gt: f64 => u64, 2 => |a, b| a > b;
    f64x2_le: f64 => u64, 2 => |a, b| a <= b;
    f64x2_ge: f64 => u64, 2 => |a, b| a >= b;
}

/// `i32x4.trunc_sat_f64x2_s_zero`.
#[inline(always)]
pub(crate) fn i32x4_trunc_sat_f64x2_s_zero(a: [f64; 2]) -> [i32; 4] {
    [a[0] as i32, a[1] as i32, 0, 0]
}

/// `i32x4.trunc_sat_f64x2_u_zero`.
#[inline(always)]
pub(crate) fn i32x4_trunc_sat_f64x2_u_zero(a: [f64; 2]) -> [u32; 4] {
    [a[0] as u32, a[1] as u32, 0, 0]
}

/// `f64x2.convert_low_i32x4_s`.
#[inline(always)]
pub(crate) fn f64x2_convert_low_i32x4_s(a: [i32; 4]) -> [f64; 2] {
    [a[0] as f64, a[1] as f64]
}

/// `f64x2.convert_low_i32x4_u`.
#[inline(always)]
pub(crate) fn f64x2_convert_low_i32x4_u(a: [u32; 4]) -> [f64; 2] {
    [a[0] as f64, a[1] as f64]
}

/// `f32x4.demote_f64x2_zero`.
#[inline(always)]
pub(crate) fn f32x4_demote_f64x2_zero(a: [f64; 2]) -> [f32; 4] {
    [a[0] as f32, a[1] as f32, 0.0, 0.0]
}

/// `f64x2.promote_low_f32x4`.
#[inline(always)]
pub(crate) fn f64x2_promote_low_f32x4(a: [f32; 4]) -> [f64; 2] {
    [a[0] as f64, a[1] as f64]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmin_pmax_and_saturation() {
        let nan = f32::NAN;
        let r = f32x4_pmin([nan, 1.0, -0.0, 0.0], [1.0, nan, 0.0, -0.0]);
        assert!(r[0].is_nan());
        assert_eq!(r[1], 1.0);
        assert_eq!(r[2].to_bits(), (-0.0f32).to_bits());
        assert_eq!(r[3].to_bits(), 0.0f32.to_bits());
        let r = f64x2_pmax([0.0, nan as f64], [-0.0, 2.0]);
        assert_eq!(r[0].to_bits(), 0.0f64.to_bits());
        assert!(r[1].is_nan());
        let t = i32x4_trunc_sat_f32x4_s([nan, 3e9, -3e9, -1.5]);
        assert_eq!(t, [0, i32::MAX, i32::MIN, -1]);
        assert_eq!(
            i32x4_trunc_sat_f64x2_u_zero([-1.0, 5e9]),
            [0, u32::MAX, 0, 0]
        );
    }

    #[test]
    fn min_max_nan_and_zeros() {
        let r = f32x4_min([0.0, -0.0, f32::NAN, 1.0], [-0.0, 0.0, 1.0, f32::NAN]);
        assert_eq!(r[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(r[1].to_bits(), (-0.0f32).to_bits());
        assert!(r[2].is_nan() && r[3].is_nan());
        let n = f32x4_nearest([f32::from_bits(0x7f80_0001), 2.5, -0.5, 3.5]);
        assert_eq!(n[0].to_bits(), 0x7fc0_0001);
        assert_eq!([n[1], n[2], n[3]], [2.0, -0.0, 4.0]);
    }
}
