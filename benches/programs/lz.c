/* lz: a compressor. An LZ77 compressor with a hash chain match finder over a generated
 * text-like input, then the matching decompressor, checked against the input: byte
 * compares, hashing, bounded searches and copying. SIZE = input size in KiB.
 */
#include <string.h>

#include "common.h"

#define WINDOW 4096
#define MIN_MATCH 4
#define MAX_MATCH 255
#define HASH_BITS 14
#define MAX_CHAIN 32

static uint32_t hash4(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Output format: literal run `0 len bytes...`, match `1 len off_lo off_hi`. */
static size_t compress(const uint8_t *in, size_t n, uint8_t *out, int32_t *head, int32_t *prev) {
    for (size_t i = 0; i < (1u << HASH_BITS); i++) head[i] = -1;
    size_t o = 0, i = 0, lit_start = 0;
    while (i < n) {
        size_t best_len = 0, best_off = 0;
        if (i + MIN_MATCH <= n) {
            uint32_t h = hash4(in + i);
            int32_t cand = head[h];
            for (int chain = 0; cand >= 0 && chain < MAX_CHAIN; chain++) {
                size_t off = i - (size_t)cand;
                if (off > WINDOW) break;
                size_t len = 0, max = n - i < MAX_MATCH ? n - i : MAX_MATCH;
                while (len < max && in[cand + len] == in[i + len]) len++;
                if (len > best_len) {
                    best_len = len;
                    best_off = off;
                }
                cand = prev[cand];
            }
            prev[i] = head[h];
            head[h] = (int32_t)i;
        }
        if (best_len >= MIN_MATCH) {
            while (lit_start < i) {
                size_t run = i - lit_start < 255 ? i - lit_start : 255;
                out[o++] = 0;
                out[o++] = (uint8_t)run;
                memcpy(out + o, in + lit_start, run);
                o += run;
                lit_start += run;
            }
            out[o++] = 1;
            out[o++] = (uint8_t)best_len;
            out[o++] = (uint8_t)best_off;
            out[o++] = (uint8_t)(best_off >> 8);
            for (size_t k = 1; k < best_len && i + k + MIN_MATCH <= n; k++) {
                uint32_t h = hash4(in + i + k);
                prev[i + k] = head[h];
                head[h] = (int32_t)(i + k);
            }
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    while (lit_start < n) {
        size_t run = n - lit_start < 255 ? n - lit_start : 255;
        out[o++] = 0;
        out[o++] = (uint8_t)run;
        memcpy(out + o, in + lit_start, run);
        o += run;
        lit_start += run;
    }
    return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] == 0) {
            size_t run = in[i + 1];
            memcpy(out + o, in + i + 2, run);
            o += run;
            i += 2 + run;
        } else {
            size_t len = in[i + 1], off = in[i + 2] | (size_t)in[i + 3] << 8;
            for (size_t k = 0; k < len; k++, o++) out[o] = out[o - off];
            i += 4;
        }
    }
    return o;
}

int main(int argc, char **argv) {
    size_t n = (size_t)bench_size(argc, argv, 2048) * 1024;
    static const char *words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ",
                                  "lazy ", "dog ", "and ", "runs ", "far ", "away ",
                                  "while ", "it ", "rains ", "in ", "spain\n", "12345 "};
    uint8_t *in = malloc(n), *comp = malloc(n + n / 128 + 16), *back = malloc(n);
    int32_t *head = malloc(sizeof(int32_t) << HASH_BITS), *prev = malloc(sizeof(int32_t) * n);
    if (!in || !comp || !back || !head || !prev) return 1;
    uint32_t rng = 99;
    for (size_t i = 0; i < n;) {
        rng = rng * 1103515245u + 12345u;
        const char *w = words[(rng >> 16) % 18];
        if ((rng & 0x3f) == 0) {
            in[i++] = (uint8_t)(rng >> 8);
            continue;
        }
        while (*w && i < n) in[i++] = (uint8_t)*w++;
    }
    size_t clen = compress(in, n, comp, head, prev);
    size_t dlen = decompress(comp, clen, back);
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, (uint32_t)clen);
    h = bench_mix(h, (uint32_t)dlen);
    h = bench_mix(h, (uint32_t)(dlen == n && memcmp(in, back, n) == 0));
    for (size_t i = 0; i < clen; i += 61) h = bench_mix(h, comp[i]);
    bench_report(h);
    return 0;
}
