/* sieve: tight integer loops over memory. The sieve of Eratosthenes over a byte array,
 * then a prefix sum and a strided gather over a word array: loads, stores, compares and
 * counted loops with little else. SIZE = the sieve limit in thousands.
 */
#include "common.h"

int main(int argc, char **argv) {
    long k = bench_size(argc, argv, 6000);
    uint32_t limit = (uint32_t)(k * 1000);
    uint8_t *composite = calloc(limit + 1, 1);
    uint32_t *words = malloc(sizeof(uint32_t) * (limit / 4 + 1));
    if (!composite || !words) return 1;
    uint32_t h = BENCH_SEED;
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i <= limit; i++) composite[i] = 0;
        uint32_t count = 0;
        for (uint32_t i = 2; i <= limit; i++) {
            if (composite[i]) continue;
            count++;
            for (uint64_t j = (uint64_t)i * i; j <= limit; j += i) composite[j] = 1;
        }
        h = bench_mix(h, count);
        uint32_t n = limit / 4;
        uint32_t acc = 0;
        for (uint32_t i = 0; i < n; i++) {
            acc += composite[4 * i] + (composite[4 * i + 1] << 1) + round;
            words[i] = acc;
        }
        uint32_t g = 0;
        for (uint32_t i = 0, j = 0; i < n; i++) {
            g ^= words[j];
            j += 7919;
            while (j >= n) j -= n; /* more than once only when n < 7919 (small sizes) */
        }
        h = bench_mix(h, g);
    }
    bench_report(h);
    free(words);
    free(composite);
    return 0;
}
