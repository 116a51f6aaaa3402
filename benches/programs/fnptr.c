/* fnptr: indirect calls through function pointers (call_indirect). A table of small
 * operations is applied along pseudo-random paths, and a "virtual" shape interface with
 * per-type method tables computes areas and perimeters: one indirect call per step.
 * SIZE = millions of indirect calls (roughly).
 */
#include "common.h"

typedef uint32_t (*op_fn)(uint32_t, uint32_t);

#define OP(name, expr) \
    static uint32_t __attribute__((noinline)) name(uint32_t a, uint32_t b) { return expr; }
OP(op_add, a + b)
OP(op_sub, a - b)
OP(op_xor, a ^ b)
OP(op_mul, a * (b | 1))
OP(op_rotl, (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)))
OP(op_min, a < b ? a : b)
OP(op_max, a > b ? a : b)
OP(op_avg, (a >> 1) + (b >> 1))

static op_fn ops[8] = {op_add, op_sub, op_xor, op_mul, op_rotl, op_min, op_max, op_avg};

struct shape;
struct shape_vtable {
    int32_t (*area)(const struct shape *);
    int32_t (*perimeter)(const struct shape *);
};
struct shape {
    const struct shape_vtable *vt;
    int32_t a, b;
};

static int32_t rect_area(const struct shape *s) { return s->a * s->b; }
static int32_t rect_perim(const struct shape *s) { return 2 * (s->a + s->b); }
static int32_t square_area(const struct shape *s) { return s->a * s->a; }
static int32_t square_perim(const struct shape *s) { return 4 * s->a; }
static int32_t tri_area(const struct shape *s) { return s->a * s->b / 2; }
static int32_t tri_perim(const struct shape *s) { return s->a + s->b + (s->a > s->b ? s->a : s->b); }

static const struct shape_vtable vts[3] = {
    {rect_area, rect_perim}, {square_area, square_perim}, {tri_area, tri_perim}};

int main(int argc, char **argv) {
    long m = bench_size(argc, argv, 16);
    uint32_t acc = 1, rng = 42;
    for (long i = 0; i < m * 500000; i++) {
        rng = rng * 1664525u + 1013904223u;
        acc = ops[rng >> 29](acc, rng);
    }
    struct shape shapes[64];
    for (int i = 0; i < 64; i++) {
        shapes[i].vt = &vts[i % 3];
        shapes[i].a = 1 + i % 13;
        shapes[i].b = 2 + i % 7;
    }
    int32_t area = 0, perim = 0;
    for (long r = 0; r < m * 4000; r++)
        for (int i = 0; i < 64; i++) {
            const struct shape *s = &shapes[(i * 7 + r) & 63];
            area += s->vt->area(s);
            perim ^= s->vt->perimeter(s) + (int32_t)r;
        }
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, acc);
    h = bench_mix(h, (uint32_t)area);
    h = bench_mix(h, (uint32_t)perim);
    bench_report(h);
    return 0;
}
