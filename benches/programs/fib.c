/* fib: recursive calls. Naive doubly recursive Fibonacci plus a mutually recursive
 * even/odd pair and Ackermann(2, k): measures call and return overhead, argument passing
 * and shallow frames. SIZE = the Fibonacci argument.
 */
#include "common.h"

static uint32_t __attribute__((noinline)) fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int __attribute__((noinline)) is_odd(uint32_t n);
static int __attribute__((noinline)) is_even(uint32_t n) { return n == 0 ? 1 : is_odd(n - 1); }
static int __attribute__((noinline)) is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

static uint32_t __attribute__((noinline)) ack(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_size(argc, argv, 35);
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, fib(n));
    for (uint32_t i = 0; i < 200; i++) h = bench_mix(h, (uint32_t)is_even(100 + i));
    h = bench_mix(h, ack(2, n));
    bench_report(h);
    return 0;
}
