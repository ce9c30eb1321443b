/*
 * util.c - a hash map from two u64 keys to a pointer (internal.h), for the
 * distribution layer's tables keyed by (environment, pid) and the like.
 * Chained buckets, doubled at a load of 1; no locking (the tables' users
 * hold their own locks).
 */
#include <stdlib.h>

#include "dist/internal.h"

static size_t slot(const ld_map *m, uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x7f4a7c159e3779b9ull + (a << 6) + (a >> 2));
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & (m->nb - 1);
}

static ld_mapent **find(const ld_map *m, uint64_t a, uint64_t b)
{
    if (!m->nb)
        return NULL;
    ld_mapent **e = &m->b[slot(m, a, b)];
    while (*e && ((*e)->a != a || (*e)->b != b))
        e = &(*e)->next;
    return *e ? e : NULL;
}

void *ld_map_get(const ld_map *m, uint64_t a, uint64_t b)
{
    ld_mapent **e = find(m, a, b);
    return e ? (*e)->val : NULL;
}

static int grow(ld_map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    ld_mapent **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return -1;
    ld_map tmp = {nbk, nb, m->n};
    for (size_t i = 0; i < m->nb; i++) {
        for (ld_mapent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            size_t s = slot(&tmp, e->a, e->b);
            e->next = nbk[s];
            nbk[s] = e;
        }
    }
    free(m->b);
    *m = tmp;
    return 0;
}

int ld_map_put(ld_map *m, uint64_t a, uint64_t b, void *val)
{
    ld_mapent **e = find(m, a, b);
    if (e) {
        (*e)->val = val;
        return 0;
    }
    if (m->n >= m->nb && grow(m) < 0 && !m->nb)
        return -1;
    ld_mapent *n = malloc(sizeof *n);
    if (!n)
        return -1;
    size_t s = slot(m, a, b);
    *n = (ld_mapent){a, b, val, m->b[s]};
    m->b[s] = n;
    m->n++;
    return 0;
}

void *ld_map_take(ld_map *m, uint64_t a, uint64_t b)
{
    ld_mapent **e = find(m, a, b);
    if (!e)
        return NULL;
    ld_mapent *x = *e;
    void *val = x->val;
    *e = x->next;
    free(x);
    m->n--;
    return val;
}

void ld_map_filter(ld_map *m, bool (*fn)(uint64_t a, uint64_t b, void *val, void *ud), void *ud)
{
    for (size_t i = 0; i < m->nb; i++) {
        ld_mapent **e = &m->b[i];
        while (*e) {
            ld_mapent *x = *e;
            if (fn(x->a, x->b, x->val, ud)) {
                *e = x->next;
                free(x);
                m->n--;
            } else {
                e = &x->next;
            }
        }
    }
}

void ld_map_free(ld_map *m, void (*drop)(void *))
{
    for (size_t i = 0; i < m->nb; i++) {
        for (ld_mapent *e = m->b[i], *next; e; e = next) {
            next = e->next;
            if (drop)
                drop(e->val);
            free(e);
        }
    }
    free(m->b);
    *m = (ld_map){0};
}
