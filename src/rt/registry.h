/*
 * registry.h - process names (ABI.md §2.4): name -> (node id, pid), shared
 * by a process and every descendant it spawns. Thread-safe: one mutex,
 * recursive, so that get_or_spawn can hold it across its lookup and spawn
 * (lt_registry_lock) while the spawn registers nothing itself.
 */
#ifndef LUNATIC_RT_REGISTRY_H
#define LUNATIC_RT_REGISTRY_H

#include "rt/base.h"

/* An empty registry with one reference; NULL when out of memory. */
lt_registry *lt_registry_new(void);
void lt_registry_retain(lt_registry *r);
/* Drops a reference; the last one frees it. NULL is ignored. */
void lt_registry_release(lt_registry *r);
/* Inserts or overwrites name. 0, or -1 when out of memory. */
int lt_registry_put(lt_registry *r, const char *name, size_t len, uint64_t node, uint64_t pid);
/* 0 with *node and *pid when name is registered, else -1. */
int lt_registry_get(lt_registry *r, const char *name, size_t len, uint64_t *node, uint64_t *pid);
void lt_registry_remove(lt_registry *r, const char *name, size_t len);
/* Removes every local name that points at pid (decision 6). */
void lt_registry_remove_pid(lt_registry *r, uint64_t pid);
/* The first name pointing at pid, quoted and shortened as the original
 * prints it, in buf; NULL if none (for failure logs). */
const char *lt_registry_name_of(lt_registry *r, uint64_t pid, char *buf, size_t size);
/* Calls fn for every name of r (name not NUL-terminated), under r's
 * lock: fn must not use r. For observers (snapshot.c). */
void lt_registry_each(lt_registry *r,
                      void (*fn)(const char *name, size_t len, uint64_t node, uint64_t pid, void *ud),
                      void *ud);
void lt_registry_lock(lt_registry *r);
void lt_registry_unlock(lt_registry *r);

#endif
