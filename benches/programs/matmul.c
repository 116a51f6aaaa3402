/* matmul: f64 kernels. Dense matrix multiply (i-k-j order), then a few Jacobi relaxation
 * sweeps over the result: f64 loads, multiply-add chains and stores. The checksum sums
 * the result scaled to integers. SIZE = the matrix dimension.
 */
#include "common.h"

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 350);
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) return 1;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.25;
            c[i * n + j] = 0.0;
        }
    for (long i = 0; i < n; i++)
        for (long k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (long j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
        }
    for (int sweep = 0; sweep < 10; sweep++) {
        for (long i = 1; i + 1 < n; i++)
            for (long j = 1; j + 1 < n; j++)
                a[i * n + j] = 0.25 * (c[(i - 1) * n + j] + c[(i + 1) * n + j] +
                                       c[i * n + j - 1] + c[i * n + j + 1]);
        double *t = a;
        a = c;
        c = t;
    }
    uint32_t h = BENCH_SEED;
    for (long i = 0; i < n * n; i++) h = bench_mix(h, (uint32_t)(int64_t)(c[i] * 1024.0));
    bench_report(h);
    return 0;
}
