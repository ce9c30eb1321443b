/*
 * idtab.h - id -> pointer tables for the resources of a process (configs,
 * modules, errors, timers, sockets, ...): ids count up from 0 and are
 * never reused, as in the original (ABI.md §0, "Resources").
 *
 * A table belongs to its process: no locking. An empty table allocates
 * nothing, so an idle process pays only the struct.
 */
#ifndef LUNATIC_RT_IDTAB_H
#define LUNATIC_RT_IDTAB_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lt_account lt_account;

typedef struct lt_idtab {
    uint64_t next_id;
    uint32_t used, live, cap; /* slots used (tombstones included), entries, slots */
    uint32_t cost;            /* bytes charged to acct per entry */
    uint64_t *ids;
    void **vals;
    lt_account *acct;         /* the owner's memory account (account.h), or NULL */
} lt_idtab;

/* Charges each entry of t to acct at cost bytes from now on: an add that
 * would take acct over its limit fails as if out of memory. An estimate
 * per kind of entry (what the object and its table slots hold), so that a
 * process cannot hold host memory without bound through a table (a
 * million configs were 176 MB, FINDINGS 2). */
void lt_idtab_charge_to(lt_idtab *t, lt_account *acct, uint32_t cost);

/* Adds val under the next id, written to *id. 0, or -1 when out of memory
 * or over the account's limit (nothing added). */
int lt_idtab_add(lt_idtab *t, void *val, uint64_t *id);
/* Ids the table uses to mark empty and removed slots (never handed out). */
#define LT_IDTAB_EMPTY UINT64_MAX
#define LT_IDTAB_GONE (UINT64_MAX - 1)

/* The home slot of id in a table of cap (a power of two) slots. */
static inline uint32_t lt_idtab_slot(uint64_t id, uint32_t cap)
{
    return (uint32_t)(id * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
}

/* lt_idtab_get when id is not in its home slot. */
void *lt_idtab_get_probe(const lt_idtab *t, uint64_t id);

/* The value under id, or NULL. Inline for an id in its home slot, the
 * usual case: host functions look up the resource they are given at every
 * call (three times per row of an SQLite insert loop). The marker ids must
 * not match an empty or removed slot. */
static inline void *lt_idtab_get(const lt_idtab *t, uint64_t id)
{
    if (t->cap && id < LT_IDTAB_GONE) {
        uint32_t s = lt_idtab_slot(id, t->cap);
        if (t->ids[s] == id)
            return t->vals[s];
    }
    return lt_idtab_get_probe(t, id);
}

/* Removes id and returns its value (ownership passes to the caller), or
 * NULL if absent. */
void *lt_idtab_take(lt_idtab *t, uint64_t id);
/* Puts val under id in place of its value, which it returns (the caller
 * owns it then); NULL, with nothing changed, if id is absent. */
void *lt_idtab_swap(lt_idtab *t, uint64_t id, void *val);
/* Calls fn(id, val, ud) for every entry, in no particular order; an entry
 * for which fn returns true is removed (fn then owns its value). */
void lt_idtab_filter(lt_idtab *t, bool (*fn)(uint64_t id, void *val, void *ud), void *ud);
/* Number of entries. */
uint32_t lt_idtab_len(const lt_idtab *t);
/* Drops every value with drop (if not NULL) and frees the table; it is
 * empty (and reusable) afterwards. */
void lt_idtab_free(lt_idtab *t, void (*drop)(void *));

#endif
