/*
 * types.c - interned function types.
 *
 * Every distinct signature exists once for the life of the program, so
 * signature checks (imports, call_indirect) compare pointers. The table is
 * a chained hash set under one mutex: interning happens at module load and
 * host function creation, never on a hot path.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

typedef struct interned {
    struct interned *next;
    uint64_t hash;
    lw_functype t;
    uint8_t types[];
} interned;

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static interned **types_buckets;
static size_t types_nbuckets, types_count;

static uint64_t types_hash(uint32_t np, const uint8_t *p, uint32_t nr, const uint8_t *r)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)np << 32 | nr);
    for (uint32_t i = 0; i < np; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (uint32_t i = 0; i < nr; i++)
        h = (h ^ r[i]) * 1099511628211ull;
    return h;
}

static void types_rehash(void)
{
    size_t n = types_nbuckets ? types_nbuckets * 2 : 64;
    interned **b = calloc(n, sizeof *b);
    if (!b)
        return; /* keep the old table: only lookups get slower */
    for (size_t i = 0; i < types_nbuckets; i++) {
        interned *e = types_buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(types_buckets);
    types_buckets = b;
    types_nbuckets = n;
}

const lw_functype *lw_functype_get(uint32_t np, const uint8_t *params,
                                   uint32_t nr, const uint8_t *results)
{
    uint64_t h = types_hash(np, params, nr, results);
    const lw_functype *found = NULL;
    pthread_mutex_lock(&types_lock);
    if (types_count >= types_nbuckets)
        types_rehash();
    if (!types_nbuckets)
        goto out;
    for (interned *e = types_buckets[h & (types_nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->t.nparams == np && e->t.nresults == nr &&
            (!np || !memcmp(e->t.params, params, np)) &&
            (!nr || !memcmp(e->t.results, results, nr))) {
            found = &e->t;
            goto out;
        }
    }
    interned *e = malloc(sizeof *e + np + nr + 1);
    if (!e)
        goto out;
    e->hash = h;
    e->t.nparams = np;
    e->t.nresults = nr;
    if (np)
        memcpy(e->types, params, np);
    if (nr)
        memcpy(e->types + np, results, nr);
    e->t.params = e->types;
    e->t.results = e->types + np;
    e->next = types_buckets[h & (types_nbuckets - 1)];
    types_buckets[h & (types_nbuckets - 1)] = e;
    types_count++;
    found = &e->t;
out:
    pthread_mutex_unlock(&types_lock);
    return found;
}
