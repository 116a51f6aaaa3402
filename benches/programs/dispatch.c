/* dispatch: a `switch`-dispatch interpreter (br_table). A small register bytecode machine
 * runs a program that sums Collatz chain lengths; every instruction goes through one
 * dense switch, so the wasm engine runs one br_table per guest instruction.
 * SIZE = thousands of Collatz starting values.
 */
#include "common.h"

enum op {
    OP_LOADI, /* r[a] = imm */
    OP_MOV,   /* r[a] = r[b] */
    OP_ADD,   /* r[a] = r[b] + r[c] */
    OP_ADDI,  /* r[a] = r[b] + imm */
    OP_SUB,   /* r[a] = r[b] - r[c] */
    OP_MUL,   /* r[a] = r[b] * r[c] */
    OP_SHR,   /* r[a] = r[b] >> imm */
    OP_AND,   /* r[a] = r[b] & imm */
    OP_XOR,   /* r[a] = r[b] ^ r[c] */
    OP_JMP,   /* pc = imm */
    OP_JZ,    /* if r[a] == 0: pc = imm */
    OP_JNZ,   /* if r[a] != 0: pc = imm */
    OP_JEQ,   /* if r[a] == r[b]: pc = imm */
    OP_JLT,   /* if r[a] < r[b]: pc = imm */
    OP_ROTL,  /* r[a] = rotl(r[b], imm) */
    OP_HALT,
};

struct insn {
    uint8_t op, a, b, c;
    int32_t imm;
};

static uint32_t run(const struct insn *code, uint32_t *r) {
    uint32_t pc = 0;
    for (;;) {
        const struct insn *i = &code[pc++];
        switch (i->op) {
        case OP_LOADI: r[i->a] = (uint32_t)i->imm; break;
        case OP_MOV: r[i->a] = r[i->b]; break;
        case OP_ADD: r[i->a] = r[i->b] + r[i->c]; break;
        case OP_ADDI: r[i->a] = r[i->b] + (uint32_t)i->imm; break;
        case OP_SUB: r[i->a] = r[i->b] - r[i->c]; break;
        case OP_MUL: r[i->a] = r[i->b] * r[i->c]; break;
        case OP_SHR: r[i->a] = r[i->b] >> (i->imm & 31); break;
        case OP_AND: r[i->a] = r[i->b] & (uint32_t)i->imm; break;
        case OP_XOR: r[i->a] = r[i->b] ^ r[i->c]; break;
        case OP_JMP: pc = (uint32_t)i->imm; break;
        case OP_JZ: if (r[i->a] == 0) pc = (uint32_t)i->imm; break;
        case OP_JNZ: if (r[i->a] != 0) pc = (uint32_t)i->imm; break;
        case OP_JEQ: if (r[i->a] == r[i->b]) pc = (uint32_t)i->imm; break;
        case OP_JLT: if (r[i->a] < r[i->b]) pc = (uint32_t)i->imm; break;
        case OP_ROTL: {
            uint32_t s = (uint32_t)i->imm & 31;
            r[i->a] = s ? (r[i->b] << s) | (r[i->b] >> (32 - s)) : r[i->b];
            break;
        }
        case OP_HALT: return pc;
        default: return 0;
        }
    }
}

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_size(argc, argv, 45) * 1000;
    /* r0 = i, r1 = n, r2 = x, r3 = steps total, r4 = tmp, r5 = 3, r6 = 1, r7 = hash */
    static const struct insn prog[] = {
        /* 0 */ {OP_LOADI, 0, 0, 0, 1},
        /* 1 */ {OP_LOADI, 3, 0, 0, 0},
        /* 2 */ {OP_LOADI, 5, 0, 0, 3},
        /* 3 */ {OP_LOADI, 6, 0, 0, 1},
        /* 4 */ {OP_LOADI, 7, 0, 0, 0},
        /* loop: 5 */ {OP_JLT, 1, 0, 0, 20},  /* if n < i: halt */
        /* 6 */ {OP_MOV, 2, 0, 0, 0},
        /* inner: 7 */ {OP_JEQ, 2, 6, 0, 14}, /* x == 1 -> next */
        /* 8 */ {OP_ADDI, 3, 3, 0, 1},
        /* 9 */ {OP_AND, 4, 2, 0, 1},
        /* 10 */ {OP_JZ, 4, 0, 0, 18},        /* even */
        /* 11 */ {OP_MUL, 2, 2, 5, 0},        /* odd: x = 3x + 1 */
        /* 12 */ {OP_ADD, 2, 2, 6, 0},
        /* 13 */ {OP_JMP, 0, 0, 0, 7},
        /* next: 14 */ {OP_XOR, 7, 7, 3, 0},
        /* 15 */ {OP_ROTL, 7, 7, 0, 5},
        /* 16 */ {OP_ADDI, 0, 0, 0, 1},
        /* 17 */ {OP_JMP, 0, 0, 0, 5},
        /* even: 18 */ {OP_SHR, 2, 2, 0, 1},
        /* 19 */ {OP_JMP, 0, 0, 0, 7},
        /* 20 */ {OP_HALT, 0, 0, 0, 0},
    };
    uint32_t r[8] = {0};
    r[1] = n;
    uint32_t pc = run(prog, r);
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, r[3]);
    h = bench_mix(h, r[7]);
    h = bench_mix(h, pc);
    bench_report(h);
    return 0;
}
