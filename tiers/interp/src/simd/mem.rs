//! Memory forms of the `v128` instructions: conversions between the bytes read from or
//! written to linear memory and the vector (widening loads, splats, zero-filling loads,
//! single-lane loads and stores).

/// `v128.load`.
#[inline(always)]
pub(crate) fn load(b: [u8; 16]) -> [u8; 16] {
    b
}

/// `v128.store`.
#[inline(always)]
pub(crate) fn store(v: [u8; 16]) -> [u8; 16] {
    v
}

/// Widening loads of 8 bytes: the bytes viewed as `$n` narrow little-endian lanes of
/// `$w` bytes, each extended.
macro_rules! load_extend {
    ($($name:ident, $s:ty, $w:literal, $t:ty, $n:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $name(b: [u8; 8]) -> [$t; $n] {
            let mut r = [0; $n];
            for i in 0..$n {
                let mut lane = [0u8; $w];
                lane.copy_from_slice(&b[i * $w..i * $w + $w]);
                r[i] = <$s>::from_le_bytes(lane) as $t;
            }
            r
        }
    )*};
}
load_extend!(
    load8x8_s, i8, 1, i16, 8;
    load8x8_u, u8, 1, u16, 8;
    load16x4_s, i16, 2, i32, 4;
    load16x4_u, u16, 2, u32, 4;
    load32x2_s, i32, 4, i64, 2;
    load32x2_u, u32, 4, u64, 2
);

/// `v128.load8_splat`.
#[inline(always)]
pub(crate) fn load8_splat(b: [u8; 1]) -> [u8; 16] {
    [b[0]; 16]
}

/// `v128.load16_splat`.
#[inline(always)]
pub(crate) fn load16_splat(b: [u8; 2]) -> [u16; 8] {
    [u16::from_le_bytes(b); 8]
}

/// `v128.load32_splat`.
#[inline(always)]
pub(crate) fn load32_splat(b: [u8; 4]) -> [u32; 4] {
    [u32::from_le_bytes(b); 4]
}

/// `v128.load64_splat`.
#[inline(always)]
pub(crate) fn load64_splat(b: [u8; 8]) -> [u64; 2] {
    [u64::from_le_bytes(b); 2]
}

/// `v128.load32_zero`.
#[inline(always)]
pub(crate) fn load32_zero(b: [u8; 4]) -> [u32; 4] {
    [u32::from_le_bytes(b), 0, 0, 0]
}

/// `v128.load64_zero`.
#[inline(always)]
pub(crate) fn load64_zero(b: [u8; 8]) -> [u64; 2] {
    [u64::from_le_bytes(b), 0]
}

/// Single-lane loads (into lane `lane` of `v`) and stores (of lane `lane`); the lane
/// index is masked to the lane count.
macro_rules! lane_mem {
    ($($load:ident, $store:ident, $n:literal, $w:literal);*) => {$(
        #[inline(always)]
        pub(crate) fn $load(v: [u8; 16], b: [u8; $w], lane: u8) -> [u8; 16] {
            let mut r = v;
            let at = (lane as usize % $n) * $w;
            r[at..at + $w].copy_from_slice(&b);
            r
        }
        #[inline(always)]
        pub(crate) fn $store(v: [u8; 16], lane: u8) -> [u8; $w] {
            let at = (lane as usize % $n) * $w;
            let mut out = [0u8; $w];
            out.copy_from_slice(&v[at..at + $w]);
            out
        }
    )*};
}
lane_mem!(
    load8_lane, store8_lane, 16, 1;
    load16_lane, store16_lane, 8, 2;
    load32_lane, store32_lane, 4, 4;
    load64_lane, store64_lane, 2, 8
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_and_lanes() {
        assert_eq!(load8x8_s([0xff, 1, 2, 3, 4, 5, 6, 0x80])[7], -128);
        assert_eq!(load8x8_u([0xff, 1, 2, 3, 4, 5, 6, 0x80])[0], 255);
        assert_eq!(
            load32x2_s([0, 0, 0, 0x80, 1, 0, 0, 0]),
            [i32::MIN as i64, 1]
        );
        let v = load16_lane([0; 16], [0x34, 0x12], 3);
        assert_eq!((v[6], v[7]), (0x34, 0x12));
        assert_eq!(store16_lane(v, 3), [0x34, 0x12]);
        assert_eq!(load32_zero([1, 0, 0, 0]), [1, 0, 0, 0]);
    }
}
