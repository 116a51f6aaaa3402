//! Integer lane operations: arithmetic, saturation, shifts, compares, narrowing and
//! widening, reductions (`any_true`, `all_true`, `bitmask`), splats, lane access, swizzle
//! and shuffle.

use super::lanes::{cmp, map1, map2};

map2! {
    i8x16_add: u8, 16 => |a: u8, b: u8| a.wrapping_add(b);
    i8x16_sub: u8, 16 => |a: u8, b: u8| a.wrapping_sub(b);
    i8x16_add_sat_s: i8, 16 => |a: i8, b: i8| a.saturating_add(b);
    i8x16_add_sat_u: u8, 16 => |a: u8, b: u8| a.saturating_add(b);
    i8x16_sub_sat_s: i8, 16 => |a: i8, b: i8| a.saturating_sub(b);
    i8x16_sub_sat_u: u8, 16 => |a: u8, b: u8| a.saturating_sub(b);
    i8x16_min_s: i8, 16 => |a: i8, b: i8| a.min(b);
    i8x16_min_u: u8, 16 => |a: u8, b: u8| a.min(b);
    i8x16_max_s: i8, 16 => |a: i8, b: i8| a.max(b);
    i8x16_max_u: u8, 16 => |a: u8, b: u8| a.max(b);
    i8x16_avgr_u: u8, 16 => |a: u8, b: u8| ((a as u16 + b as u16 + 1) >> 1) as u8;
    i16x8_add: u16, 8 => |a: u16, b: u16| a.wrapping_add(b);
    i16x8_sub: u16, 8 => |a: u16, b: u16| a.wrapping_sub(b);
    i16x8_mul: u16, 8 => |a: u16, b: u16| a.wrapping_mul(b);
    i16x8_add_sat_s: i16, 8 => |a: i16, b: i16| a.saturating_add(b);
    i16x8_add_sat_u: u16, 8 => |a: u16, b: u16| a.saturating_add(b);
    i16x8_sub_sat_s: i16, 8 => |a: i16, b: i16| a.saturating_sub(b);
    i16x8_sub_sat_u: u16, 8 => |a: u16, b: u16| a.saturating_sub(b);
    i16x8_min_s: i16, 8 => |a: i16, b: i16| a.min(b);
    i16x8_min_u: u16, 8 => |a: u16, b: u16| a.min(b);
    i16x8_max_s: i16, 8 => |a: i16, b: i16| a.max(b);
    i16x8_max_u: u16, 8 => |a: u16, b: u16| a.max(b);
    i16x8_avgr_u: u16, 8 => |a: u16, b: u16| ((a as u32 + b as u32 + 1) >> 1) as u16;
    i16x8_q15mulr_sat_s: i16, 8 => |a: i16, b: i16| {
        ((a as i32 * b as i32 + 0x4000) >> 15).clamp(i16::MIN as i32, i16::MAX as i32) as i16
    };
    i32x4_add: u32, 4 => |a: u32, b: u32| a.wrapping_add(b);
    i32x4_sub: u32, 4 => |a: u32, b: u32| a.wrapping_sub(b);
    i32x4_mul: u32, 4 => |a: u32, b: u32| a.wrapping_mul(b);
    i32x4_min_s: i32, 4 => |a: i32, b: i32| a.min(b);
    i32x4_min_u: u32, 4 => |a: u32, b: u32| a.min(b);
    i32x4_max_s: i32, 4 => |a: i32, b: i32| a.max(b);
    i32x4_max_u: u32, 4 => |a: u32, b: u32| a.max(b);
    i64x2_add: u64, 2 => |a: u64, b: u64| a.wrapping_add(b);
    i64x2_sub: u64, 2 => |a: u64, b: u64| a.wrapping_sub(b);
    i64x2_mul: u64, 2 => |a: u64, b: u64| a.wrapping_mul(b);
    v128_and: u64, 2 => |a: u64, b: u64| a & b;
    v128_or: u64, 2 => |a: u64, b: u64| a | b;
    v128_xor: u64, 2 => |a: u64, b: u64| a ^ b;
    v128_andnot: u64, 2 => |a: u64, b: u64| a & !b;
}

map1! {
    v128_not: u64 => u64, 2 => |a: u64| !a;
    i8x16_abs: i8 => i8, 16 => |a: i8| a.wrapping_abs();
    i8x16_neg: i8 => i8, 16 => |a: i8| a.wrapping_neg();
    i8x16_popcnt: u8 => u8, 16 => |a: u8| a.count_ones() as u8;
    i16x8_abs: i16 => i16, 8 => |a: i16| a.wrapping_abs();
    i16x8_neg: i16 => i16, 8 => |a: i16| a.wrapping_neg();
    i32x4_abs: i32 => i32, 4 => |a: i32| a.wrapping_abs();
    i32x4_neg: i32 => i32, 4 => |a: i32| a.wrapping_neg();
    i64x2_abs: i64 => i64, 2 => |a: i64| a.wrapping_abs();
    i64x2_neg: i64 => i64, 2 => |a: i64| a.wrapping_neg();
}

cmp! {
    i8x16_eq: u8 => u8, 16 => |a, b| a == b;
    i8x16_ne: u8 => u8, 16 => |a, b| a != b;
    i8x16_lt_s: i8 => u8, 16 => |a, b| a < b;
    i8x16_lt_u: u8 => u8, 16 => |a, b| a < b;
    i8x16_gt_s: i8 => u8, 16 => |a, b| a > b;
    i8x16_gt_u: u8 => u8, 16 => |a, b| a > b;
    i8x16_le_s: i8 => u8, 16 => |a, b| a <= b;
    i8x16_le_u: u8 => u8, 16 => |a, b| a <= b;
    i8x16_ge_s: i8 => u8, 16 => |a, b| a >= b;
    i8x16_ge_u: u8 => u8, 16 => |a, b| a >= b;
    i16x8_eq: u16 => u16, 8 => |a, b| a == b;
    i16x8_ne: u16 => u16, 8 => |a, b| a != b;
    i16x8_lt_s: i16 => u16, 8 => |a, b| a < b;
    i16x8_lt_u: u16 => u16, 8 => |a, b| a < b;
    i16x8_gt_s: i16 => u16, 8 => |a, b| a > b;
    i16x8_gt_u: u16 => u16, 8 => |a, b| a > b;
    i16x8_le_s: i16 => u16, 8 => |a, b| a <= b;
    i16x8_le_u: u16 => u16, 8 => |a, b| a <= b;
    i16x8_ge_s: i16 => u16, 8 => |a, b| a >= b;
    i16x8_ge_u: u16 => u16, 8 => |a, b| a >= b;
    i32x4_eq: u32 => u32, 4 => |a, b| a == b;
    i32x4_ne: u32 => u32, 4 => |a, b| a != b;
    i32x4_lt_s: i32 => u32, 4 => |a, b| a < b;
    i32x4_lt_u: u32 => u32, 4 => |a, b| a < b;
    i32x4_gt_s: i32 => u32, 4 => |a, b| a > b;
    i32x4_gt_u: u32 => u32, 4 => |a, b| a > b;
    i32x4_le_s: i32 => u32, 4 => |a, b| a <= b;
    i32x4_le_u: u32 => u32, 4 => |a, b| a <= b;
    i32x4_ge_s: i32 => u32, 4 => |a, b| a >= b;
    i32x4_ge_u: u32 => u32, 4 => |a, b| a >= b;
    i64x2_eq: u64 => u64, 2 => |a, b| a == b;
    i64x2_ne: u64 => u64, 2 => |a, b| a != b;
    i64x2_lt_s: i64 => u64, 2 => |a, b| a < b;
    i64x2_gt_s: i64 => u64, 2 => |a, b| a > b;
    i64x2_le_s: i64 => u64, 2 => |a, b| a <= b;
    i64x2_ge_s: i64 => u64, 2 => |a, b| a >= b;
}

/// `v128.bitselect`: bits of `a` where `c` is set, else bits of `b`.
#[inline(always)]
pub(crate) fn v128_bitselect(a: [u64; 2], b: [u64; 2], c: [u64; 2]) -> [u64; 2] {
    [
        (a[0] & c[0]) | (b[0] & !c[0]),
        (a[1] & c[1]) | (b[1] & !c[1]),
    ]
}

/// `v128.any_true`.
#[inline(always)]
pub(crate) fn v128_any_true(a: [u64; 2]) -> u32 {
    (a[0] | a[1] != 0) as u32
}

/// `all_true` and `bitmask` for one lane shape.
macro_rules! reductions {
    ($($all:ident, $mask:ident, $t:ty, $n:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $all(a: [$t; $n]) -> u32 {
            a.iter().all(|&x| x != 0) as u32
        }
        #[inline(always)]
        pub(crate) fn $mask(a: [$t; $n]) -> u32 {
            let mut m = 0;
            for i in 0..$n {
                m |= ((a[i] < 0) as u32) << i;
            }
            m
        }
    )*};
}
reductions!(
    i8x16_all_true, i8x16_bitmask, i8, 16;
    i16x8_all_true, i16x8_bitmask, i16, 8;
    i32x4_all_true, i32x4_bitmask, i32, 4;
    i64x2_all_true, i64x2_bitmask, i64, 2
);

/// Shifts: the count is taken modulo the lane width.
macro_rules! shifts {
    ($($name:ident, $t:ty, $n:literal, $op:tt);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n], n: u32) -> [$t; $n] {
            let n = n % <$t>::BITS;
            let mut r = a;
            for i in 0..$n {
                r[i] = a[i] $op n;
            }
            r
        }
    )*};
}
shifts!(
    i8x16_shl, u8, 16, <<;
    i8x16_shr_s, i8, 16, >>;
    i8x16_shr_u, u8, 16, >>;
    i16x8_shl, u16, 8, <<;
    i16x8_shr_s, i16, 8, >>;
    i16x8_shr_u, u16, 8, >>;
    i32x4_shl, u32, 4, <<;
    i32x4_shr_s, i32, 4, >>;
    i32x4_shr_u, u32, 4, >>;
    i64x2_shl, u64, 2, <<;
    i64x2_shr_s, i64, 2, >>;
    i64x2_shr_u, u64, 2, >>
);

/// Narrowing with signed or unsigned saturation: lanes of `a` then lanes of `b`.
macro_rules! narrow {
    ($($name:ident, $s:ty, $n:literal, $t:ty);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$s; $n], b: [$s; $n]) -> [$t; { 2 * $n }] {
            let mut r = [0; 2 * $n];
            for i in 0..$n {
                r[i] = a[i].clamp(<$t>::MIN.into(), <$t>::MAX.into()) as $t;
                r[i + $n] = b[i].clamp(<$t>::MIN.into(), <$t>::MAX.into()) as $t;
            }
            r
        }
    )*};
}
narrow!(
    i8x16_narrow_i16x8_s, i16, 8, i8;
    i8x16_narrow_i16x8_u, i16, 8, u8;
    i16x8_narrow_i32x4_s, i32, 4, i16;
    i16x8_narrow_i32x4_u, i32, 4, u16
);

/// Widening of the low or high half (`$off` = 0 or half the lanes).
macro_rules! extend {
    ($($name:ident, $s:ty, $off:literal, $t:ty, $n:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$s; { 2 * $n }]) -> [$t; $n] {
            let mut r = [0; $n];
            for i in 0..$n {
                r[i] = a[i + $off] as $t;
            }
            r
        }
    )*};
}
extend!(
    i16x8_extend_low_i8x16_s, i8, 0, i16, 8;
    i16x8_extend_high_i8x16_s, i8, 8, i16, 8;
    i16x8_extend_low_i8x16_u, u8, 0, u16, 8;
    i16x8_extend_high_i8x16_u, u8, 8, u16, 8;
    i32x4_extend_low_i16x8_s, i16, 0, i32, 4;
    i32x4_extend_high_i16x8_s, i16, 4, i32, 4;
    i32x4_extend_low_i16x8_u, u16, 0, u32, 4;
    i32x4_extend_high_i16x8_u, u16, 4, u32, 4;
    i64x2_extend_low_i32x4_s, i32, 0, i64, 2;
    i64x2_extend_high_i32x4_s, i32, 2, i64, 2;
    i64x2_extend_low_i32x4_u, u32, 0, u64, 2;
    i64x2_extend_high_i32x4_u, u32, 2, u64, 2
);

/// Extended multiplication of the low or high halves.
macro_rules! extmul {
    ($($name:ident, $s:ty, $off:literal, $t:ty, $n:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$s; { 2 * $n }], b: [$s; { 2 * $n }]) -> [$t; $n] {
            let mut r = [0; $n];
            for i in 0..$n {
                r[i] = (a[i + $off] as $t).wrapping_mul(b[i + $off] as $t);
            }
            r
        }
    )*};
}
extmul!(
    i16x8_extmul_low_i8x16_s, i8, 0, i16, 8;
    i16x8_extmul_high_i8x16_s, i8, 8, i16, 8;
    i16x8_extmul_low_i8x16_u, u8, 0, u16, 8;
    i16x8_extmul_high_i8x16_u, u8, 8, u16, 8;
    i32x4_extmul_low_i16x8_s, i16, 0, i32, 4;
    i32x4_extmul_high_i16x8_s, i16, 4, i32, 4;
    i32x4_extmul_low_i16x8_u, u16, 0, u32, 4;
    i32x4_extmul_high_i16x8_u, u16, 4, u32, 4;
    i64x2_extmul_low_i32x4_s, i32, 0, i64, 2;
    i64x2_extmul_high_i32x4_s, i32, 2, i64, 2;
    i64x2_extmul_low_i32x4_u, u32, 0, u64, 2;
    i64x2_extmul_high_i32x4_u, u32, 2, u64, 2
);

/// Pairwise widening addition.
macro_rules! extadd {
    ($($name:ident, $s:ty, $t:ty, $n:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$s; { 2 * $n }]) -> [$t; $n] {
            let mut r = [0; $n];
            for i in 0..$n {
                r[i] = (a[2 * i] as $t).wrapping_add(a[2 * i + 1] as $t);
            }
            r
        }
    )*};
}
extadd!(
    i16x8_extadd_pairwise_i8x16_s, i8, i16, 8;
    i16x8_extadd_pairwise_i8x16_u, u8, u16, 8;
    i32x4_extadd_pairwise_i16x8_s, i16, i32, 4;
    i32x4_extadd_pairwise_i16x8_u, u16, u32, 4
);

/// `i32x4.dot_i16x8_s`.
#[inline(always)]
pub(crate) fn i32x4_dot_i16x8_s(a: [i16; 8], b: [i16; 8]) -> [i32; 4] {
    let mut r = [0; 4];
    for i in 0..4 {
        let lo = a[2 * i] as i32 * b[2 * i] as i32;
        let hi = a[2 * i + 1] as i32 * b[2 * i + 1] as i32;
        r[i] = lo.wrapping_add(hi);
    }
    r
}

/// `i8x16.splat`.
#[inline(always)]
pub(crate) fn i8x16_splat(x: u32) -> [u8; 16] {
    [x as u8; 16]
}

/// `i16x8.splat`.
#[inline(always)]
pub(crate) fn i16x8_splat(x: u32) -> [u16; 8] {
    [x as u16; 8]
}

/// `i32x4.splat` (also `f32x4.splat` of the f32 bits).
#[inline(always)]
pub(crate) fn i32x4_splat(x: u32) -> [u32; 4] {
    [x; 4]
}

/// `i64x2.splat` (also `f64x2.splat` of the f64 bits).
#[inline(always)]
pub(crate) fn i64x2_splat(x: u64) -> [u64; 2] {
    [x; 2]
}

/// Lane extraction (the lane index is masked to the lane count; validation keeps it in
/// range). f32 and f64 lanes are extracted as their bits.
macro_rules! extract {
    ($($name:ident, $t:ty, $n:literal, $r:ty);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n], lane: u8) -> $r {
            a[lane as usize % $n] as $r
        }
    )*};
}
extract!(
    i8x16_extract_lane_s, i8, 16, i32;
    i8x16_extract_lane_u, u8, 16, u32;
    i16x8_extract_lane_s, i16, 8, i32;
    i16x8_extract_lane_u, u16, 8, u32;
    i32x4_extract_lane, u32, 4, u32;
    i64x2_extract_lane, u64, 2, u64
);

/// Lane replacement (the lane index is masked to the lane count). f32 and f64 lanes are
/// replaced with bits.
macro_rules! replace {
    ($($name:ident, $t:ty, $n:literal, $x:ty);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(a: [$t; $n], x: $x, lane: u8) -> [$t; $n] {
            let mut r = a;
            r[lane as usize % $n] = x as $t;
            r
        }
    )*};
}
replace!(
    i8x16_replace_lane, u8, 16, u32;
    i16x8_replace_lane, u16, 8, u32;
    i32x4_replace_lane, u32, 4, u32;
    i64x2_replace_lane, u64, 2, u64
);

/// `i8x16.swizzle`: lanes of `a` selected by `s`; out-of-range indices give 0. A table
/// lookup without branches: indices from 16 up read the zero half of the table.
#[inline(always)]
pub(crate) fn i8x16_swizzle(a: [u8; 16], s: [u8; 16]) -> [u8; 16] {
    let mut t = [0u8; 32];
    t[..16].copy_from_slice(&a);
    let mut r = [0; 16];
    for i in 0..16 {
        r[i] = t[s[i].min(16) as usize];
    }
    r
}

/// `i8x16.shuffle` with lane indices `m` (each below 32 after validation; masked): a
/// lookup in the 32-byte table `a ++ b`.
#[inline(always)]
pub(crate) fn i8x16_shuffle(a: [u8; 16], b: [u8; 16], m: [u8; 16]) -> [u8; 16] {
    let mut t = [0u8; 32];
    t[..16].copy_from_slice(&a);
    t[16..].copy_from_slice(&b);
    let mut r = [0; 16];
    for i in 0..16 {
        r[i] = t[(m[i] & 31) as usize];
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_and_narrowing() {
        let a = [300i16, -300, 5, -5, 127, -128, 0, 1];
        let n = i8x16_narrow_i16x8_u(a, a);
        assert_eq!(&n[..8], &[255, 0, 5, 0, 127, 0, 0, 1]);
        let s = i8x16_narrow_i16x8_s(a, [0; 8]);
        assert_eq!(&s[..8], &[127, -128, 5, -5, 127, -128, 0, 1]);
        assert_eq!(i16x8_q15mulr_sat_s([i16::MIN; 8], [i16::MIN; 8])[0], 32767);
        assert_eq!(i8x16_add_sat_s([100; 16], [100; 16])[3], 127);
    }

    #[test]
    fn shifts_bitmask_shuffle() {
        assert_eq!(i8x16_shl([1; 16], 9)[3], 2);
        assert_eq!(i64x2_shr_s([-8, 8], 65), [-4, 4]);
        let mut m = [0i8; 16];
        m[0] = -1;
        m[2] = -1;
        m[15] = -128;
        assert_eq!(i8x16_bitmask(m), 0x8005);
        let a: [u8; 16] = core::array::from_fn(|i| i as u8);
        let b: [u8; 16] = core::array::from_fn(|i| 16 + i as u8);
        let m: [u8; 16] = core::array::from_fn(|i| 31 - i as u8);
        assert_eq!(i8x16_shuffle(a, b, m)[0], 31);
        assert_eq!(i8x16_shuffle(a, b, m)[15], 16);
        assert_eq!(i8x16_swizzle(a, [200; 16])[0], 0);
        assert_eq!(i8x16_swizzle(a, [7; 16])[9], 7);
    }

    #[test]
    fn widening() {
        assert_eq!(i32x4_dot_i16x8_s([i16::MIN; 8], [i16::MIN; 8])[0], i32::MIN);
        assert_eq!(i16x8_extend_high_i8x16_s([-1; 16])[7], -1);
        assert_eq!(
            i64x2_extmul_high_i32x4_u([u32::MAX; 4], [2; 4])[1],
            0x1_ffff_fffe
        );
        assert_eq!(i16x8_extadd_pairwise_i8x16_u([255; 16])[0], 510);
    }
}
