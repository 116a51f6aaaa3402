/* hashmap: hashing with a hash table. Generates short string keys, hashes them with
 * FNV-1a and counts them in an open-addressing table (linear probing, resized as it
 * fills), then looks up present and absent keys: byte loops, multiplies, unpredictable
 * memory accesses and malloc. SIZE = thousands of insertions.
 */
#include <string.h>

#include "common.h"

struct slot {
    uint32_t hash;
    uint32_t count;
    char key[16];
};

struct table {
    struct slot *slots;
    uint32_t cap, used;
};

static uint32_t fnv(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h | 1; /* 0 marks an empty slot */
}

static struct slot *find(struct table *t, const char *key, uint32_t h) {
    uint32_t mask = t->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &t->slots[i];
        if (s->hash == 0 || (s->hash == h && strcmp(s->key, key) == 0)) return s;
    }
}

static int grow(struct table *t) {
    struct table n = {calloc(t->cap * 2, sizeof(struct slot)), t->cap * 2, t->used};
    if (!n.slots) return 0;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].hash) *find(&n, t->slots[i].key, t->slots[i].hash) = t->slots[i];
    free(t->slots);
    *t = n;
    return 1;
}

static void make_key(char *buf, uint32_t v) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int len = 3 + (int)(v % 9);
    for (int i = 0; i < len; i++) {
        buf[i] = alphabet[v % 36];
        v = v / 36 + (uint32_t)i * 7919u;
    }
    buf[len] = 0;
}

int main(int argc, char **argv) {
    uint32_t n = (uint32_t)bench_size(argc, argv, 800) * 1000;
    struct table t = {calloc(1024, sizeof(struct slot)), 1024, 0};
    if (!t.slots) return 1;
    char key[16];
    uint32_t rng = 7;
    for (uint32_t i = 0; i < n; i++) {
        rng = rng * 1664525u + 1013904223u;
        make_key(key, (rng >> 8) % (n / 2 + 1));
        uint32_t h = fnv(key);
        struct slot *s = find(&t, key, h);
        if (s->hash == 0) {
            s->hash = h;
            memcpy(s->key, key, sizeof key);
            t.used++;
            if (t.used * 4 > t.cap * 3 && !grow(&t)) return 1;
        } else {
            s->count++;
        }
    }
    uint32_t found = 0, repeats = 0;
    for (uint32_t i = 0; i < n; i++) {
        make_key(key, i * 2654435761u);
        struct slot *s = find(&t, key, fnv(key));
        if (s->hash) {
            found++;
            repeats += s->count;
        }
    }
    uint32_t h = BENCH_SEED;
    h = bench_mix(h, t.used);
    h = bench_mix(h, t.cap);
    h = bench_mix(h, found);
    h = bench_mix(h, repeats);
    bench_report(h);
    return 0;
}
