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

typedef struct lt_idtab {
    uint64_t next_id;
    uint32_t used, live, cap; /* slots used (tombstones included), entries, slots */
    uint64_t *ids;
    void **vals;
} lt_idtab;

/* Adds val under the next id, written to *id. 0, or -1 when out of memory
 * (nothing added). */
int lt_idtab_add(lt_idtab *t, void *val, uint64_t *id);
/* The value under id, or NULL. */
void *lt_idtab_get(const lt_idtab *t, uint64_t id);
/* Removes id and returns its value (ownership passes to the caller), or
 * NULL if absent. */
void *lt_idtab_take(lt_idtab *t, uint64_t id);
/* Puts a taken id back with a (new) value. 0, or -1 when out of memory. */
int lt_idtab_readd(lt_idtab *t, uint64_t id, void *val);
/* Calls fn(id, val, ud) for every entry, in no particular order; an entry
 * for which fn returns true is removed (fn then owns its value). */
void lt_idtab_filter(lt_idtab *t, bool (*fn)(uint64_t id, void *val, void *ud), void *ud);
/* Number of entries. */
uint32_t lt_idtab_len(const lt_idtab *t);
/* Drops every value with drop (if not NULL) and frees the table; it is
 * empty (and reusable) afterwards. */
void lt_idtab_free(lt_idtab *t, void (*drop)(void *));

#endif
