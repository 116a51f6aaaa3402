/* Shared helpers of the benchmark programs: the size argument and the checksum line.
 *
 * Every program is a WASI command: `prog [SIZE]` runs the workload at SIZE (a default
 * when absent) and prints one line `checksum: <u32>` that every engine must reproduce.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The size argument, or `def` when absent or not a positive number. */
static long bench_size(int argc, char **argv, long def) {
    if (argc > 1) {
        long n = strtol(argv[1], NULL, 10);
        if (n > 0) return n;
    }
    return def;
}

/* Mixes `v` into the running checksum `h` (FNV-1a over the four bytes). */
static uint32_t bench_mix(uint32_t h, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 16777619u;
    }
    return h;
}

#define BENCH_SEED 2166136261u

static void bench_report(uint32_t h) { printf("checksum: %u\n", (unsigned)h); }

#endif
