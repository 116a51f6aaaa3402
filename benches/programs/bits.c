/* bits: bit manipulation. A xorshift generator feeding population counts, leading and
 * trailing zero counts, rotations, bit reversal and a bitwise CRC-32: i32/i64 shifts,
 * masks and the count instructions. SIZE = millions of generated words.
 */
#include "common.h"

static uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static uint32_t reverse(uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    return (x >> 16) | (x << 16);
}

static uint32_t crc32_byte(uint32_t crc, uint8_t b) {
    crc ^= b;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    return crc;
}

int main(int argc, char **argv) {
    long m = bench_size(argc, argv, 10);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    uint32_t pop = 0, lz = 0, tz = 0, rot = 0, rev = 0, crc = 0xffffffffu;
    for (long i = 0; i < m * 1000000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32);
        pop += (uint32_t)__builtin_popcountll(s);
        lz += lo ? (uint32_t)__builtin_clz(lo) : 32;
        tz += hi ? (uint32_t)__builtin_ctz(hi) : 32;
        rot ^= rotl(lo, (int)(hi & 31) | 1);
        rev += reverse(hi) >> (lo & 7);
        if ((i & 7) == 0) crc = crc32_byte(crc, (uint8_t)lo);
    }
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, pop);
    h = bench_mix(h, lz);
    h = bench_mix(h, tz);
    h = bench_mix(h, rot);
    h = bench_mix(h, rev);
    h = bench_mix(h, ~crc);
    bench_report(h);
    return 0;
}
