/*
 * registry.h - process names (ABI.md §2.4): name -> (node id, pid), shared
 * by a process and every descendant it spawns. Thread-safe (one mutex, never
 * held across a spawn). get_or_spawn reserves its name with a pending entry
 * while the child's start function runs in slices (lt_registry_reserve);
 * lookups of a pending name are told to wait (LT_REG_PENDING), as they
 * would wait for the original's write lock.
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
enum { LT_REG_FOUND = 0, LT_REG_ABSENT = 1, LT_REG_PENDING = 2 };
/* LT_REG_FOUND with *node and *pid, LT_REG_ABSENT, or LT_REG_PENDING (a
 * get_or_spawn is spawning for the name: ask again later). */
int lt_registry_get(lt_registry *r, const char *name, size_t len, uint64_t *node, uint64_t *pid);
/* get_or_spawn's lookup: as lt_registry_get, but an absent name is
 * reserved for owner (a pending entry) and LT_REG_ABSENT returned; -1 when
 * out of memory. The owner ends the reservation with lt_registry_settle,
 * or by dying (lt_registry_remove_pid). */
int lt_registry_reserve(lt_registry *r, const char *name, size_t len, uint64_t owner,
                        uint64_t *node, uint64_t *pid);
/* Ends owner's reservation of name: registers pid when ok, else removes
 * the name. Nothing if a put or remove took the name over meanwhile. */
void lt_registry_settle(lt_registry *r, const char *name, size_t len, uint64_t owner, bool ok,
                        uint64_t pid);
/* As lt_registry_get (its LT_REG_* codes), also accepting a name
 * lunatic-rs made: name is then the part after its third '/' (the name
 * the guest gave). */
int lt_registry_get_short(lt_registry *r, const char *name, size_t len, uint64_t *node,
                          uint64_t *pid);
void lt_registry_remove(lt_registry *r, const char *name, size_t len);
/* Removes every local name that points at pid (decision 6), and the
 * names pid had reserved. */
void lt_registry_remove_pid(lt_registry *r, uint64_t pid);
/* The first name pointing at pid, quoted and shortened as the original
 * prints it, in buf; NULL if none (for failure logs). */
const char *lt_registry_name_of(lt_registry *r, uint64_t pid, char *buf, size_t size);
/* Calls fn for every name of r (name not NUL-terminated), under r's
 * lock: fn must not use r. For observers (snapshot.c). */
void lt_registry_each(lt_registry *r,
                      void (*fn)(const char *name, size_t len, uint64_t node, uint64_t pid, void *ud),
                      void *ud);

#endif
