/*
 * idtab.c - id tables: open addressing on the id. Ids are never reused,
 * so a removed slot is a tombstone (LT_IDTAB_GONE) that probes skip;
 * tombstones count towards the load factor and go at the next rebuild.
 */
#include <stdlib.h>

#include "rt/account.h"
#include "rt/idtab.h"

/* Rehashes the live entries into a table of cap slots. */
static int rebuild(lt_idtab *t, uint32_t cap)
{
    uint64_t *ids = malloc(cap * sizeof *ids);
    void **vals = malloc(cap * sizeof *vals);
    if (!ids || !vals) {
        free(ids);
        free(vals);
        return -1;
    }
    for (uint32_t i = 0; i < cap; i++)
        ids[i] = LT_IDTAB_EMPTY;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->ids[i] >= LT_IDTAB_GONE)
            continue;
        uint32_t s = lt_idtab_slot(t->ids[i], cap);
        while (ids[s] != LT_IDTAB_EMPTY)
            s = (s + 1) & (cap - 1);
        ids[s] = t->ids[i];
        vals[s] = t->vals[i];
    }
    free(t->ids);
    free(t->vals);
    t->ids = ids;
    t->vals = vals;
    t->cap = cap;
    t->used = t->live;
    return 0;
}

void lt_idtab_charge_to(lt_idtab *t, lt_account *acct, uint32_t cost)
{
    t->acct = acct;
    t->cost = cost;
}

/* Puts val under id, growing the table first if needed. */
static int insert(lt_idtab *t, uint64_t id, void *val)
{
    if (t->acct && lt_account_charge(t->acct, t->cost) < 0)
        return -1;
    /* used includes tombstones, so probes stay short until the rebuild */
    if ((t->used + 1) * 4 > t->cap * 3) {
        uint32_t cap = 8;
        while (cap < (t->live + 1) * 2)
            cap *= 2;
        if (rebuild(t, cap) < 0) {
            if (t->acct)
                lt_account_release(t->acct, t->cost);
            return -1;
        }
    }
    uint32_t s = lt_idtab_slot(id, t->cap);
    while (t->ids[s] < LT_IDTAB_GONE)
        s = (s + 1) & (t->cap - 1);
    t->ids[s] = id;
    t->vals[s] = val;
    t->used++;
    t->live++;
    return 0;
}

int lt_idtab_add(lt_idtab *t, void *val, uint64_t *id)
{
    if (insert(t, t->next_id, val) < 0)
        return -1;
    *id = t->next_id++;
    return 0;
}

static int64_t find(const lt_idtab *t, uint64_t id)
{
    if (!t->cap || id >= LT_IDTAB_GONE)
        return -1;
    uint32_t s = lt_idtab_slot(id, t->cap);
    for (uint32_t n = 0; n < t->cap && t->ids[s] != LT_IDTAB_EMPTY; n++) {
        if (t->ids[s] == id)
            return s;
        s = (s + 1) & (t->cap - 1);
    }
    return -1;
}

void *lt_idtab_get_probe(const lt_idtab *t, uint64_t id)
{
    int64_t s = find(t, id);
    return s < 0 ? NULL : t->vals[s];
}

void *lt_idtab_take(lt_idtab *t, uint64_t id)
{
    int64_t s = find(t, id);
    if (s < 0)
        return NULL;
    t->ids[s] = LT_IDTAB_GONE;
    t->live--;
    if (t->acct)
        lt_account_release(t->acct, t->cost);
    return t->vals[s];
}

void *lt_idtab_swap(lt_idtab *t, uint64_t id, void *val)
{
    int64_t s = find(t, id);
    if (s < 0)
        return NULL;
    void *old = t->vals[s];
    t->vals[s] = val;
    return old;
}

void lt_idtab_filter(lt_idtab *t, bool (*fn)(uint64_t id, void *val, void *ud), void *ud)
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->ids[i] < LT_IDTAB_GONE && fn(t->ids[i], t->vals[i], ud)) {
            t->ids[i] = LT_IDTAB_GONE;
            t->live--;
            if (t->acct)
                lt_account_release(t->acct, t->cost);
        }
}

uint32_t lt_idtab_len(const lt_idtab *t) { return t->live; }

void lt_idtab_free(lt_idtab *t, void (*drop)(void *))
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->ids[i] < LT_IDTAB_GONE && drop)
            drop(t->vals[i]);
    if (t->acct)
        lt_account_release(t->acct, (uint64_t)t->cost * t->live);
    free(t->ids);
    free(t->vals);
    t->ids = NULL;
    t->vals = NULL;
    t->cap = t->used = t->live = 0;
}
