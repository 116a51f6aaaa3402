/* simd: a 128-bit SIMD kernel over byte images. Rounding averages, a signed 16-bit dot
 * product and a sum of absolute differences, in rounds that feed each other. Built twice:
 * `simd.wasm` (-msimd128, wasm_simd128.h intrinsics) and `simd_scalar.wasm` (the same
 * source without SIMD, the plain C path); both print the same checksum.
 * SIZE = rounds over two 64 KiB images.
 */
#include "common.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define N (1 << 16)

static uint8_t a[N], b[N], c[N];

/* One round: c = avg(a, b); a = sat(c + (b >> 3)); returns dot(a0 - 128, b - 128) + sad(c, a0). */
static uint32_t round_kernel(void) {
    uint32_t dot = 0, sad = 0;
#ifdef __wasm_simd128__
    v128_t vdot = wasm_i32x4_splat(0), vsad = wasm_i32x4_splat(0);
    const v128_t bias = wasm_i16x8_splat(128);
    for (int i = 0; i < N; i += 16) {
        v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
        v128_t vc = wasm_u8x16_avgr(va, vb);
        wasm_v128_store(c + i, vc);
        v128_t alo = wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(va), bias);
        v128_t ahi = wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(va), bias);
        v128_t blo = wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(vb), bias);
        v128_t bhi = wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(vb), bias);
        vdot = wasm_i32x4_add(vdot, wasm_i32x4_dot_i16x8(alo, blo));
        vdot = wasm_i32x4_add(vdot, wasm_i32x4_dot_i16x8(ahi, bhi));
        v128_t diff = wasm_v128_or(wasm_u8x16_sub_sat(vc, va), wasm_u8x16_sub_sat(va, vc));
        v128_t d16 = wasm_u16x8_extadd_pairwise_u8x16(diff);
        vsad = wasm_i32x4_add(vsad, wasm_u32x4_extadd_pairwise_u16x8(d16));
        wasm_v128_store(a + i, wasm_u8x16_add_sat(vc, wasm_u8x16_shr(vb, 3)));
    }
    for (int l = 0; l < 4; l++) {
        dot += (uint32_t)wasm_i32x4_extract_lane(vdot, 0);
        sad += (uint32_t)wasm_i32x4_extract_lane(vsad, 0);
        vdot = wasm_i32x4_shuffle(vdot, vdot, 1, 2, 3, 0);
        vsad = wasm_i32x4_shuffle(vsad, vsad, 1, 2, 3, 0);
    }
#else
    for (int i = 0; i < N; i++) {
        uint32_t x = a[i], y = b[i];
        uint32_t z = (x + y + 1) >> 1;
        c[i] = (uint8_t)z;
        dot += (uint32_t)(((int32_t)x - 128) * ((int32_t)y - 128));
        sad += z > x ? z - x : x - z;
        uint32_t s = z + (y >> 3);
        a[i] = (uint8_t)(s > 255 ? 255 : s);
    }
#endif
    return dot + sad;
}

int main(int argc, char **argv) {
    long rounds = bench_size(argc, argv, 450);
    uint32_t rng = 5;
    for (int i = 0; i < N; i++) {
        rng = rng * 1103515245u + 12345u;
        a[i] = (uint8_t)(rng >> 16);
        b[i] = (uint8_t)(rng >> 24);
    }
    uint32_t h = BENCH_SEED;
    for (long r = 0; r < rounds; r++) {
        h = bench_mix(h, round_kernel());
        /* Perturb b so that rounds differ and a does not converge. */
        b[(r * 7919) & (N - 1)] ^= (uint8_t)(r | 1);
        a[(r * 104729) & (N - 1)] = (uint8_t)r;
    }
    for (int i = 0; i < N; i += 251) h = bench_mix(h, c[i]);
    bench_report(h);
    return 0;
}
