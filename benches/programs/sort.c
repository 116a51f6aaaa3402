/* sort: branchy sorting. Quicksort (median of three, insertion sort for short ranges),
 * heapsort and a merge sort of pseudo-random keys: data-dependent branches, swaps and
 * recursion. SIZE = thousands of keys.
 */
#include "common.h"

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng = rng * 1103515245u + 12345u;
    return rng >> 1;
}

static void insertion(uint32_t *a, long n) {
    for (long i = 1; i < n; i++) {
        uint32_t v = a[i];
        long j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void quick(uint32_t *a, long n) {
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint32_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i >= j) break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        quick(a, j + 1);
        a += j + 1;
        n -= j + 1;
    }
    insertion(a, n);
}

static void sift(uint32_t *a, long root, long n) {
    for (;;) {
        long c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[root] >= a[c]) return;
        uint32_t t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

static void heap(uint32_t *a, long n) {
    for (long i = n / 2; i-- > 0;) sift(a, i, n);
    for (long end = n - 1; end > 0; end--) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

static void merge(uint32_t *a, uint32_t *tmp, long n) {
    if (n < 2) return;
    long h = n / 2;
    merge(a, tmp, h);
    merge(a + h, tmp, n - h);
    long i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    for (long q = 0; q < n; q++) a[q] = tmp[q];
}

static uint32_t digest(const uint32_t *a, long n, uint32_t h) {
    for (long i = 1; i < n; i++)
        if (a[i - 1] > a[i]) return 0;
    for (long i = 0; i < n; i += 97) h = bench_mix(h, a[i]);
    return h;
}

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 400) * 1000;
    uint32_t *a = malloc(sizeof(uint32_t) * n);
    uint32_t *tmp = malloc(sizeof(uint32_t) * n);
    if (!a || !tmp) return 1;
    uint32_t h = BENCH_SEED;
    for (long i = 0; i < n; i++) a[i] = next();
    quick(a, n);
    h = digest(a, n, h);
    for (long i = 0; i < n; i++) a[i] = next() % 1000;
    heap(a, n);
    h = digest(a, n, h);
    for (long i = 0; i < n; i++) a[i] = next();
    merge(a, tmp, n);
    h = digest(a, n, h);
    bench_report(h);
    return 0;
}
