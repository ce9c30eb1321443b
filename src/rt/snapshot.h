/*
 * snapshot.h - a picture of a runtime's live processes for observers: the
 * dashboard and /api/processes (src/obs), SIGUSR1's process table and the
 * embedding API (lunatic_snapshot).
 *
 * How it reads processes safely from a thread that runs none of them
 * (process.h's locking contract): it walks each environment's shards
 * under the shard's lock (so no process can be freed meanwhile), and reads
 * a process under its own lock, and only while no worker runs it (state
 * QUEUED or WAITING: a worker takes p->lock before running it, so the
 * fields the running worker owns are quiet while the lock is held). A
 * process that is running at that instant is listed as running with what
 * is safe to read at any time: its pid, kind, module and function, age,
 * names and reductions (an atomic the engine updates once per run). So
 * the hot paths pay nothing for observation beyond a few counters: no
 * status is published at every slice.
 *
 * The walk holds a shard lock for the time it takes to read that shard's
 * processes (about a microsecond each, without lists), so a snapshot of a
 * million processes delays senders to one shard by a few milliseconds at
 * a time; `limit` bounds what is kept, not what is read.
 */
#ifndef LUNATIC_RT_SNAPSHOT_H
#define LUNATIC_RT_SNAPSHOT_H

#include "rt/base.h"

/* A process's state as observed. */
enum { LT_SNAP_RUNNING, LT_SNAP_RUNNABLE, LT_SNAP_WAITING };

#define LT_SNAP_TAGS 8       /* tags of a receive kept per process */
#define LT_SNAP_NAMES 8      /* registered names kept per process */
#define LT_SNAP_TEXT 64      /* bytes kept of module and function names */

typedef struct lt_snaplink {
    uint64_t pid;
    int64_t tag;             /* the tag this process stored for the link (0: none):
                              * what `pid` receives in LinkDied when this one dies
                              * (a spawn link's tag is stored by the child) */
} lt_snaplink;

typedef struct lt_procinfo {
    uint64_t env, pid;
    uint8_t state;           /* LT_SNAP_* */
    uint8_t wait;            /* lt_waitkind (process.h) while WAITING */
    bool native;
    bool detailed;           /* false: it was running, and only env, pid, native,
                              * state, reductions, age, names, module and
                              * function are filled in */
    bool die_when_link_dies;
    uint32_t ntags;          /* a receive's tags: how many (0: any message) */
    int64_t tags[LT_SNAP_TAGS];     /* the first LT_SNAP_TAGS of them */
    int64_t timeout_ns;      /* time left until the wait's deadline; -1: none */
    uint32_t mailbox_len;
    uint64_t mailbox_bytes;
    uint64_t memory_bytes;   /* linear memory */
    uint64_t host_bytes;     /* the runtime's: process, exec, instance, mailbox, tables */
    uint64_t reductions;     /* Wasm reductions run so far */
    int64_t age_ns;
    uint32_t nlinks, nmonitors, nmonitoring;
    /* with lt_snapopts.lists (else NULL): its links, the processes that
     * monitor it, and those it monitors (in its environment) */
    lt_snaplink *links;
    uint64_t *monitors, *monitoring;
    uint32_t nnames;         /* registered names pointing at it */
    char *names[LT_SNAP_NAMES];     /* the first LT_SNAP_NAMES, NUL-terminated */
    char module[LT_SNAP_TEXT];      /* the module's name (lt_module_set_name), or "#<id>" */
    char function[LT_SNAP_TEXT];    /* the exported function it runs; "" for native */
} lt_procinfo;

/* What to keep when there are more than `limit` processes. */
typedef enum lt_snapsort {
    LT_SNAP_BY_PID,          /* the lowest (environment, pid) */
    LT_SNAP_BY_MAILBOX,      /* the longest mailboxes */
    LT_SNAP_BY_MEMORY,       /* the most linear memory */
    LT_SNAP_BY_REDUCTIONS,   /* the most reductions */
    LT_SNAP_BY_AGE           /* the oldest */
} lt_snapsort;

typedef struct lt_snapopts {
    uint64_t env;            /* only this environment; 0 = every one */
    uint64_t pid;            /* only this pid; 0 = every one */
    size_t limit;            /* processes kept at most; 0 = all */
    lt_snapsort sort;        /* which ones, when there are more */
    bool lists;              /* copy links and monitors (and find who each monitors) */
} lt_snapopts;

typedef struct lt_snapshot {
    int64_t taken_ns;        /* lt_now_ns when it was taken */
    size_t n;                /* processes kept */
    lt_procinfo *procs;      /* sorted by (env, pid) */
    /* over every live process matching env and pid, kept or not */
    uint64_t total, running, runnable, waiting;
    uint64_t mailbox_len, mailbox_bytes, memory_bytes, host_bytes;
    uint64_t nenvs;          /* environments of the runtime */
    bool partial;            /* memory ran out: some lists or names are missing */
} lt_snapshot;

/* Takes a snapshot; NULL when out of memory. The caller frees it. Safe to
 * call from any thread while the runtime runs (not during
 * lt_runtime_free). */
lt_snapshot *lt_snapshot_take(lt_runtime *rt, const lt_snapopts *o);
void lt_snapshot_free(lt_snapshot *s);

#endif
