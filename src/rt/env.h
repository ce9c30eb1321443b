/*
 * env.h - environments: namespaces of processes, pids counting from 1
 * (ABI.md §0), and the one way to reach a process: lt_send.
 *
 * The process table of an environment is split into LT_SHARDS hash tables,
 * each under its own mutex. A shard's lock is held while a process is
 * looked up and a signal appended to its inbox, and while a dying process
 * is removed: so a process found in the table cannot be freed under a
 * sender, and after its removal nothing new reaches it.
 */
#ifndef LUNATIC_RT_ENV_H
#define LUNATIC_RT_ENV_H

#include <pthread.h>

#include "rt/base.h"
#include "rt/remote.h"

#define LT_SHARDS 64

typedef struct lt_shard {
    pthread_mutex_t lock;
    uint64_t *keys;       /* pid, 0 = empty, UINT64_MAX = deleted */
    lt_process **vals;
    uint32_t cap, count, used;
} lt_shard;

struct lt_env {
    uint64_t id;
    lt_runtime *rt;
    atomic_uint_fast64_t next_pid;
    atomic_long nprocs;
    lt_shard shards[LT_SHARDS];
    lt_env *next;               /* the runtime's list, under its env_lock */
};

/* The environment with that id, created on first use; NULL when out of
 * memory. Environments live as long as the runtime. */
lt_env *lt_env_get(lt_runtime *rt, uint64_t id);
/* The environment with that id if it exists, else NULL (for ids that come
 * from other nodes: only a spawn creates an environment). */
lt_env *lt_env_find(lt_runtime *rt, uint64_t id);
/* pid as this node names it: a pid given without node bits (remote.h)
 * is one of this node's processes. */
uint64_t lt_pid_of(const lt_env *e, uint64_t pid);
/* Frees every environment of rt, destroying the processes still in them
 * (runtime shutdown: the workers have stopped). */
void lt_env_free_all(lt_runtime *rt);
/* Adds p under p->pid. 0, or -1 when out of memory. */
int lt_env_insert(lt_env *e, lt_process *p);
/* Removes p and marks it dead under its shard's lock. */
void lt_env_remove(lt_env *e, lt_process *p);
/* Whether pid is a live process of this node (a remote pid: false). */
bool lt_env_exists(lt_env *e, uint64_t pid);
/* Calls fn for every process of e (or only for pid, when not 0), each
 * under its shard's lock: fn may take p->lock and read p, but must not
 * call back into the table (no lt_send). For observers (snapshot.c). */
void lt_env_each(lt_env *e, uint64_t pid, void (*fn)(lt_process *p, void *ud), void *ud);
/* Delivers signal s to pid and wakes it if it waits; takes ownership of s
 * (freed when there is no such process). 0, or -1 when pid does not
 * exist. A pid of another node goes to the distribution layer
 * (remote.h): 0 when that node is known, -1 when not. */
int lt_send(lt_env *e, uint64_t pid, lt_signal *s);
/* The same, but a signal for a pid of this node that does not exist stays
 * the caller's (-1): it can answer with it, without allocating (a Link or
 * Monitor of a missing process becomes its LinkDied or ProcessDied). For a
 * pid of an unknown node the distribution layer frees it (-2). */
int lt_send_keep(lt_env *e, uint64_t pid, lt_signal *s);
/* Wakes pid if it still waits for its wait numbered seq (a timer fired,
 * an fd is ready); a stale wake is ignored by the process. Allocates
 * nothing (p->woken), so it cannot fail. */
void lt_send_wake(lt_env *e, uint64_t pid, uint64_t seq);

#endif
