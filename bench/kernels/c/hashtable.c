/* hashtable: an open-addressing hash table (linear probing, tombstones, growth) from
 * 32-bit keys to 32-bit values: inserts, lookups, deletes and re-inserts.
 * Usage: hashtable [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EMPTY 0u
#define TOMB 1u /* keys 0 and 1 are reserved: the generator never makes them */

struct table {
    uint32_t *keys, *vals;
    uint32_t cap, used, live; /* used counts live keys and tombstones */
};

static uint32_t mix(uint32_t k) {
    k ^= k >> 16; k *= 0x7feb352du; k ^= k >> 15; k *= 0x846ca68bu; k ^= k >> 16;
    return k;
}

static void table_init(struct table *t, uint32_t cap) {
    t->keys = calloc(cap, sizeof(uint32_t));
    t->vals = calloc(cap, sizeof(uint32_t));
    t->cap = cap; t->used = t->live = 0;
    if (!t->keys || !t->vals) exit(1);
}

static void table_put(struct table *t, uint32_t k, uint32_t v);

static void table_grow(struct table *t) {
    struct table old = *t;
    uint32_t cap = old.live * 4 > old.cap ? old.cap * 2 : old.cap; /* rehash; double if crowded */
    table_init(t, cap);
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.keys[i] > TOMB) table_put(t, old.keys[i], old.vals[i]);
    free(old.keys); free(old.vals);
}

static void table_put(struct table *t, uint32_t k, uint32_t v) {
    if ((t->used + 1) * 4 > t->cap * 3) table_grow(t);
    uint32_t mask = t->cap - 1, i = mix(k) & mask, tomb = UINT32_MAX;
    for (;;) {
        uint32_t kk = t->keys[i];
        if (kk == k) { t->vals[i] = v; return; }
        if (kk == EMPTY) break;
        if (kk == TOMB && tomb == UINT32_MAX) tomb = i;
        i = (i + 1) & mask;
    }
    if (tomb != UINT32_MAX) i = tomb; else t->used++;
    t->keys[i] = k; t->vals[i] = v; t->live++;
}

static int table_get(const struct table *t, uint32_t k, uint32_t *v) {
    uint32_t mask = t->cap - 1, i = mix(k) & mask;
    for (;;) {
        uint32_t kk = t->keys[i];
        if (kk == k) { *v = t->vals[i]; return 1; }
        if (kk == EMPTY) return 0;
        i = (i + 1) & mask;
    }
}

static int table_del(struct table *t, uint32_t k) {
    uint32_t mask = t->cap - 1, i = mix(k) & mask;
    for (;;) {
        uint32_t kk = t->keys[i];
        if (kk == k) { t->keys[i] = TOMB; t->live--; return 1; }
        if (kk == EMPTY) return 0;
        i = (i + 1) & mask;
    }
}

#define NKEYS 200000u

static uint32_t key_of(uint32_t i, uint32_t salt) { return (mix(i ^ salt) | 2u) & 0x3fffffffu; }

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 23; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint32_t acc = 0;
    for (int r = 0; r < scale; r++) {
        struct table t;
        table_init(&t, 1024);
        uint32_t salt = 0x5bd1e995u * (uint32_t)(r + 1), found = 0, sum = 0, v;
        for (uint32_t i = 0; i < NKEYS; i++) table_put(&t, key_of(i, salt), i);
        for (uint32_t i = 0; i < 2 * NKEYS; i++) /* half of these miss */
            if (table_get(&t, key_of(i, salt), &v)) { found++; sum += v; }
        for (uint32_t i = 0; i < NKEYS; i += 2) found -= (uint32_t)table_del(&t, key_of(i, salt));
        for (uint32_t i = 0; i < NKEYS; i++)
            if (table_get(&t, key_of(i, salt), &v)) sum ^= v * 2654435761u;
        for (uint32_t i = NKEYS; i < NKEYS + NKEYS / 2; i++) table_put(&t, key_of(i, salt), i ^ 0xabcdu);
        for (uint32_t i = 0; i < 2 * NKEYS; i += 3)
            if (table_get(&t, key_of(i, salt), &v)) sum += v;
        acc = acc * 31u + (found ^ sum ^ t.live ^ t.cap);
        free(t.keys); free(t.vals);
    }
    printf("hashtable %u\n", acc);
    return 0;
}
