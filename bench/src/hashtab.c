/* hashtab: an open-addressing hash table (linear probing, tombstones,
 * power-of-two capacity with rehash on growth) mapping uint64 keys to
 * uint32 values. Inserts, successful and failed lookups, deletes and
 * re-inserts. 64-bit multiplies, unpredictable branches, cache misses. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "common.h"

#define EMPTY 0u
#define TOMB 1u
#define LIVE 2u

typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    uint8_t *state;
    size_t cap, live, used;   /* used = live + tombstones */
} table;

static inline size_t hash64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return (size_t)k;
}

static void tinit(table *t, size_t cap)
{
    t->cap = cap;
    t->live = t->used = 0;
    t->keys = malloc(cap * sizeof *t->keys);
    t->vals = malloc(cap * sizeof *t->vals);
    t->state = calloc(cap, 1);
}
static void tfree(table *t) { free(t->keys); free(t->vals); free(t->state); }

static void tput(table *t, uint64_t k, uint32_t v);

static void grow(table *t)
{
    table n;
    tinit(&n, t->live * 2 >= t->cap ? t->cap * 2 : t->cap);
    for (size_t i = 0; i < t->cap; i++)
        if (t->state[i] == LIVE) tput(&n, t->keys[i], t->vals[i]);
    tfree(t);
    *t = n;
}

static void tput(table *t, uint64_t k, uint32_t v)
{
    if ((t->used + 1) * 4 > t->cap * 3) grow(t);
    size_t mask = t->cap - 1, i = hash64(k) & mask, tomb = (size_t)-1;
    for (;;) {
        uint8_t s = t->state[i];
        if (s == EMPTY) break;
        if (s == LIVE && t->keys[i] == k) { t->vals[i] = v; return; }
        if (s == TOMB && tomb == (size_t)-1) tomb = i;
        i = (i + 1) & mask;
    }
    if (tomb != (size_t)-1) i = tomb; else t->used++;
    t->state[i] = LIVE;
    t->keys[i] = k;
    t->vals[i] = v;
    t->live++;
}

static int tget(const table *t, uint64_t k, uint32_t *v)
{
    size_t mask = t->cap - 1, i = hash64(k) & mask;
    for (;;) {
        uint8_t s = t->state[i];
        if (s == EMPTY) return 0;
        if (s == LIVE && t->keys[i] == k) { *v = t->vals[i]; return 1; }
        i = (i + 1) & mask;
    }
}

static int tdel(table *t, uint64_t k)
{
    size_t mask = t->cap - 1, i = hash64(k) & mask;
    for (;;) {
        uint8_t s = t->state[i];
        if (s == EMPTY) return 0;
        if (s == LIVE && t->keys[i] == k) { t->state[i] = TOMB; t->live--; return 1; }
        i = (i + 1) & mask;
    }
}

#define NKEYS 200000
#define ROUNDS 3

int main(void)
{
    uint64_t *keys = malloc(NKEYS * sizeof *keys);
    uint64_t check = BENCH_FNV_INIT;
    unsigned long found = 0, missed = 0, deleted = 0;
    for (int r = 0; r < ROUNDS; r++) {
        table t;
        tinit(&t, 16);
        bench_seed(1000 + (uint64_t)r);
        for (uint32_t i = 0; i < NKEYS; i++) {
            keys[i] = bench_rand64();
            tput(&t, keys[i], i);
        }
        /* lookups: hits on known keys, misses on fresh random keys */
        for (uint32_t i = 0; i < NKEYS * 2; i++) {
            uint32_t v;
            uint64_t k = (i & 1) ? keys[(i * 2654435761u) % NKEYS] : bench_rand64();
            if (tget(&t, k, &v)) { found++; check = bench_fnv(check, &v, 4); }
            else missed++;
        }
        /* delete every third key, then look everything up again */
        for (uint32_t i = 0; i < NKEYS; i += 3) deleted += (unsigned long)tdel(&t, keys[i]);
        for (uint32_t i = 0; i < NKEYS; i++) {
            uint32_t v;
            if (tget(&t, keys[i], &v)) { found++; check += v; } else missed++;
        }
        /* re-insert the deleted keys with new values (reuses tombstones) */
        for (uint32_t i = 0; i < NKEYS; i += 3) tput(&t, keys[i], i ^ 0x5555u);
        for (uint32_t i = 0; i < NKEYS; i += 7) {
            uint32_t v;
            if (tget(&t, keys[i], &v)) check = bench_fnv(check, &v, 4);
        }
        uint64_t live = t.live;   /* size_t differs between wasm32 and x86-64 */
        check = bench_fnv(check, &live, sizeof live);
        tfree(&t);
    }
    printf("hashtab: found=%lu missed=%lu deleted=%lu check=%016llx\n", found, missed, deleted,
           (unsigned long long)check);
    free(keys);
    return 0;
}
