/*
 * rt.h - the process runtime: processes, signals, mailboxes, environments,
 * configs, modules, the registry, timers and the scheduler.
 *
 * A process is a Wasm instance (or a native C handler) with an inbox of
 * signals, a private mailbox of messages, links and monitors. It runs on
 * one of the scheduler's workers until its reduction budget runs out or it
 * blocks; it is resumed later, possibly on another worker.
 *
 * Locking contract.
 *  - Environment process tables are sharded; a shard's lock is held while a
 *    process is looked up and a signal is appended to its inbox, and while
 *    a dying process is removed. So a process found in the table cannot be
 *    freed under a sender: after removal nothing new reaches it.
 *  - p->lock (a spinlock) guards p->in_head/in_tail and p->state. Everything
 *    else in a process belongs to the worker running it (state RUNNING), or
 *    to nobody while it is queued or waiting.
 *  - Run queues have their own spinlocks; a process is in at most one
 *    queue (state QUEUED).
 * Lock order: shard lock, then p->lock, then a run-queue lock.
 *
 * Process states (p->state, under p->lock):
 *   QUEUED   in a run queue, or about to be put in one
 *   RUNNING  a worker runs it; a signal arriving sets p->notified
 *   WAITING  parked: a signal, timer or I/O event makes it QUEUED
 *   DEAD     finishing; signals are no longer accepted
 */
#ifndef LUNATIC_RT_H
#define LUNATIC_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lunatic.h"
#include "wasm/lw.h"
#include "wasi/wasi.h"

typedef struct lt_runtime lt_runtime;
typedef struct lt_env lt_env;
typedef struct lt_process lt_process;
typedef struct lt_signal lt_signal;
typedef struct lt_config lt_config;
typedef struct lt_module lt_module;
typedef struct lt_registry lt_registry;
typedef struct lt_timer lt_timer;

/* ---- small utilities -------------------------------------------------- */

static inline void lt_spin_lock(atomic_int *l)
{
    while (atomic_exchange_explicit(l, 1, memory_order_acquire)) {
        while (atomic_load_explicit(l, memory_order_relaxed))
            __builtin_ia32_pause();
    }
}
static inline void lt_spin_unlock(atomic_int *l) { atomic_store_explicit(l, 0, memory_order_release); }

int64_t lt_now_ns(void); /* CLOCK_MONOTONIC */

/* A cheaper clock for run-queue ages, read at every enqueue: the TSC on
 * x86 (10 ns here, clock_gettime 25 ns: 15% of a ping-pong round trip),
 * else lt_now_ns. Its rate is learnt against lt_now_ns (see steal_after). */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline int64_t lt_ticks(void) { return (int64_t)__rdtsc(); }
#else
static inline int64_t lt_ticks(void) { return lt_now_ns(); }
#endif

/* An id -> pointer table for per-process resources: ids count up from 0
 * and are never reused. */
typedef struct lt_idtab {
    uint64_t next_id;
    uint32_t count, cap;      /* entries used / slots */
    uint64_t *ids;
    void **vals;
} lt_idtab;

uint64_t lt_idtab_add(lt_idtab *t, void *val);   /* UINT64_MAX when out of memory */
void *lt_idtab_get(const lt_idtab *t, uint64_t id);
void *lt_idtab_take(lt_idtab *t, uint64_t id);   /* removes; NULL if absent */
int lt_idtab_readd(lt_idtab *t, uint64_t id, void *val); /* puts back a taken id */
void lt_idtab_free(lt_idtab *t, void (*drop)(void *));

/* ---- signals and messages ------------------------------------------------ */

typedef enum lt_sigkind {
    LT_SIG_MESSAGE,            /* a message (below) */
    LT_SIG_KILL,
    LT_SIG_DIE_WHEN_LINK_DIES, /* flag in `flag` */
    LT_SIG_LINK,               /* pid, tag */
    LT_SIG_UNLINK,             /* pid */
    LT_SIG_LINK_DIED,          /* pid, tag, reason */
    LT_SIG_MONITOR,            /* pid */
    LT_SIG_STOP_MONITORING,    /* pid */
    LT_SIG_PROCESS_DIED,       /* pid */
    LT_SIG_WAKE                /* no payload: re-run (timers, I/O) */
} lt_sigkind;

typedef enum lt_reason { LT_REASON_NORMAL, LT_REASON_FAILURE, LT_REASON_NOPROCESS } lt_reason;

/* Message kinds as the guest sees them (receive's return value). */
enum { LT_MSG_DATA = 0, LT_MSG_LINK_DIED = 1, LT_MSG_PROCESS_DIED = 2 };

/* A resource carried in a message. */
typedef enum lt_restype { LT_RES_NONE, LT_RES_MODULE, LT_RES_TCP, LT_RES_TLS, LT_RES_UDP } lt_restype;
typedef struct lt_resource {
    lt_restype type;
    void *ptr;
} lt_resource;

/* One allocation per signal; a message is a signal of kind LT_SIG_MESSAGE. */
struct lt_signal {
    lt_signal *next;
    uint8_t kind;
    uint8_t msgkind;        /* LT_SIG_MESSAGE: MSG_* */
    uint8_t reason;         /* LT_SIG_LINK_DIED */
    uint8_t has_tag;
    uint8_t flag;           /* LT_SIG_DIE_WHEN_LINK_DIES */
    int64_t tag;
    uint64_t pid;           /* the other process */
    /* data messages */
    uint8_t *buf;
    uint64_t len, cap, read_ptr;
    uint32_t nres, rescap;
    lt_resource *res;
};

lt_signal *lt_signal_new(lt_sigkind kind);
lt_signal *lt_message_new(int64_t tag, uint64_t capacity);
int lt_message_write(lt_signal *m, const void *data, uint64_t len);
void lt_signal_free(lt_signal *s);

/* ---- configs, modules, registry ----------------------------------------- */

/* A process config (ABI.md 3.2); immutable once a process runs with it:
 * the API mutates only configs that are not yet shared. Refcounted. */
struct lt_config {
    atomic_int refs;
    uint64_t max_memory;
    uint64_t max_fuel;          /* units of 100k instructions; 0 = unlimited */
    bool can_compile, can_create_configs, can_spawn;
    char **args, **envs;
    uint32_t nargs, nenvs;
    char **preopens;            /* guest names = host paths */
    uint32_t npreopens;
    /* Where the guest's stdout/stderr go (test mode's capture): host fds
     * owned by the config (duplicates, >= 3), 0 = the host's fd 1 / 2.
     * Clones and configs created by a process using it inherit them. */
    int stdout_fd, stderr_fd;
    lwasi_shared *wasi;          /* built on first spawn, then shared */
    pthread_mutex_t lwasi_lock;
};

lt_config *lt_config_new(void);
lt_config *lt_config_clone(const lt_config *c);
void lt_config_retain(lt_config *c);
void lt_config_release(lt_config *c);
/* Appends an argument, "KEY=VALUE" environment entry or preopen. A change
 * drops the cached WASI share, so later spawns see it (running processes
 * keep the share they started with). */
typedef enum lt_cfglist { LT_CFG_ARG, LT_CFG_ENV, LT_CFG_PREOPEN } lt_cfglist;
int lt_config_add(lt_config *c, lt_cfglist which, const char *s, size_t len);
/* Sets stdout_fd / stderr_fd to duplicates of out / err (0 = the host's
 * own), closing the previous ones. 0, or -1 (errno set, nothing changed). */
int lt_config_set_stdio(lt_config *c, int out, int err);
/* The config's shared WASI part (args, env, open preopens, stdio), built
 * once and cached; returns a reference the caller must release, or NULL
 * with a reason (e.g. a preopen that cannot be opened). */
lwasi_shared *lt_config_wasi(lt_config *c, char *err, size_t errsize);

/* A compiled module with its imports resolved against the host modules. */
struct lt_module {
    atomic_int refs;
    lw_module *wasm;
    lw_extern *imports;
    uint32_t nimports;
};

lt_module *lt_module_compile(const uint8_t *bytes, size_t len, char *err, size_t errsize);
void lt_module_retain(lt_module *m);
/* Checks that the module exports a function name of type () -> (). */
int lt_check_entry(const lt_module *m, const char *name, char *err, size_t errsize);
void lt_module_release(lt_module *m);

/* Name -> (node id, pid), shared by a process and its descendants. */
lt_registry *lt_registry_new(void);
void lt_registry_retain(lt_registry *r);
void lt_registry_release(lt_registry *r);
void lt_registry_put(lt_registry *r, const char *name, size_t len, uint64_t node, uint64_t pid);
int lt_registry_get(lt_registry *r, const char *name, size_t len, uint64_t *node, uint64_t *pid);
void lt_registry_remove(lt_registry *r, const char *name, size_t len);
/* Removes every name that points at pid (decision 6). */
void lt_registry_remove_pid(lt_registry *r, uint64_t pid);
/* The first name pointing at pid, or NULL (for failure logs). */
const char *lt_registry_name_of(lt_registry *r, uint64_t pid, char *buf, size_t size);
void lt_registry_lock(lt_registry *r);
void lt_registry_unlock(lt_registry *r);

/* ---- processes -------------------------------------------------------------- */

enum { LT_PS_QUEUED, LT_PS_RUNNING, LT_PS_WAITING, LT_PS_DEAD };

typedef struct lt_link {
    uint64_t pid;
    int64_t tag;
    bool has_tag;
} lt_link;

struct lt_process {
    uint64_t pid;
    lt_env *env;
    lt_runtime *rt;
    lt_process *next_run;       /* run-queue link */
    int64_t queued_at;          /* when it joined that queue (lt_ticks) */

    atomic_int lock;            /* guards in_head/in_tail, state, notified */
    uint8_t state;
    bool notified;
    lt_signal *in_head, *in_tail;

    /* owned by the running worker */
    bool started, watched, die_when_link_dies, killed;
    bool resume;                /* requeued to continue (yield), not to re-check a wait */
    bool exited_in_start;       /* proc_exit ran in the start function */
    bool wait_started;          /* the blocking host call has set its deadline */
    bool timed_out;             /* (both: see "blocking" below) */
    uint32_t mb_len;
    uint32_t nparams;
    uint64_t slice_work;        /* reductions charged by host calls this slice */
    lt_signal *mb_head, *mb_tail;  /* mailbox: messages in arrival order */
    /* selective receive: the last message already scanned without a match
     * for the tag set below; a resumed receive continues after it */
    lt_signal *scan_after;
    uint64_t scan_key;
    lt_signal *scratch;
    lt_link *links;
    uint32_t nlinks, linkcap;
    uint64_t *monitors;
    uint32_t nmonitors, moncap;

    /* blocking: what the process waits for */
    int64_t wait_deadline;      /* CLOCK_MONOTONIC ns, -1 none */
    uint64_t wait_seq;          /* bumps at each wait; stale timers ignored */
    int64_t armed_deadline;     /* the wake timer already set for this wait */
    uint64_t armed_seq;
    lt_timer *wake_timer;       /* that timer (a reference), cancelled when the wait ends */

    /* Wasm */
    lt_module *module;
    lt_config *config;
    lt_registry *registry;
    lw_instance *inst;
    lw_exec *x;
    lwasi_ctx *wasi;             /* made from lwasi_share at the first WASI call */
    lwasi_shared *lwasi_share;    /* the config's WASI part as of the spawn */
    lw_func *entry;
    lw_val *params;           /* nparams of them; params_inline for up to two */
    lw_val params_inline[2];

    /* native */
    lunatic_native_fn native;
    void *native_ud;

    /* per-process resources */
    lt_idtab configs, modules, errors, timers;

    /* result */
    int exit_code;
    lt_reason reason;
};

/* ---- environments ---------------------------------------------------------- */

#define LT_SHARDS 64

typedef struct lt_shard {
    pthread_mutex_t lock;
    uint64_t *keys;       /* pid, 0 = empty, UINT64_MAX = deleted */
    lt_process **vals;
    uint32_t cap, count, used;
} lt_shard;

struct lt_env {
    uint64_t id;
    atomic_uint_fast64_t next_pid;
    atomic_long nprocs;
    lt_shard shards[LT_SHARDS];
    lt_env *next;
};

lt_env *lt_env_get(lt_runtime *rt, uint64_t id);   /* created on first use */
int lt_env_insert(lt_env *e, lt_process *p);
void lt_env_remove(lt_env *e, lt_process *p);
bool lt_env_exists(lt_env *e, uint64_t pid);
/* Delivers a signal to pid; takes ownership of s. Returns false (and frees
 * s) when there is no such process. */
bool lt_send(lt_env *e, uint64_t pid, lt_signal *s);

/* ---- the runtime and scheduler ------------------------------------------------ */

/* The exit status of a process spawned through the embedding API, kept
 * until lunatic_wait takes it. */
typedef struct lt_done {
    struct lt_done *next;
    uint64_t env, pid;
    int status;
} lt_done;

typedef struct lt_worker {
    lt_runtime *rt;
    pthread_t thread;
    unsigned index;
    atomic_int qlock;
    /* Two FIFO run queues under qlock: [0] processes spawned or woken,
     * [1] processes that used up their slice; the owner takes the older
     * head, a thief prefers [1] (see steal()). */
    lt_process *qhead[2], *qtail[2];
    atomic_uint qlen;                /* both */
    atomic_int_fast64_t head_since;  /* when the oldest head was queued (lt_ticks), 0 if empty */
    atomic_int activity;             /* IDLE, BETWEEN_SLICES or RUNNING; see steal() */
} lt_worker;

struct lt_runtime {
    unsigned nworkers;
    lt_worker *workers;
    uint64_t reductions;         /* budget per slice */
    /* STEAL_AFTER_NS in lt_ticks, 0 until the ticks' rate is known: it is
     * measured between the runtime's start (ticks0, ns0) and the first
     * steal attempt 1 ms or more later, so that starting costs nothing */
    atomic_int_fast64_t steal_after;
    int64_t ticks0, ns0;

    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    atomic_int sleeping;         /* workers waiting on idle_cond */
    atomic_bool stopping;

    pthread_mutex_t env_lock;
    lt_env *envs;

    /* timers and I/O: one poller thread */
    pthread_t poller;
    int epfd, evfd;
    pthread_mutex_t poll_lock;   /* guards fd_table: who waits for which fd */
    struct fd_entry *fd_table;
    int fd_table_len;
    pthread_mutex_t timer_lock;
    lt_timer **heap;
    uint32_t nheap, heapcap;

    /* processes being waited for by lunatic_wait */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    struct lt_done *done;

    const lw_host_table *hosts;     /* every host module, for import resolution */
    bool log_debug;
};

lt_worker *lt_current_worker(void);
/* Makes a QUEUED process runnable on the current worker (or worker 0). */
void lt_schedule(lt_runtime *rt, lt_process *p);
/* Wakes p if it waits (timers, I/O, signals). Call with p->lock held. */
void lt_wake_locked(lt_process *p);

/* Spawns a Wasm process running func(params) of m with config c. The child
 * inherits registry reg. Returns its pid (the process may already run, or
 * even be gone, when this returns), or 0 with a message in err. */
uint64_t lt_spawn_wasm(lt_runtime *rt, lt_env *env, lt_module *m, lt_config *c,
                          lt_registry *reg, const char *func, size_t funclen,
                          const lw_val *params, uint32_t nparams, const lt_link *link_to_parent,
                          bool watched, char *err, size_t errsize);
uint64_t lt_spawn_native(lt_runtime *rt, lt_env *env, lunatic_native_fn fn, void *ud,
                         bool watched);
/* Frees a process without notifying anyone (runtime shutdown). */
void lt_process_destroy(lt_process *p);
/* Runs p for one slice (a worker calls it for a QUEUED process). */
void lt_process_run(lt_process *p);
/* The process a host function runs for. */
lt_process *lt_self(lw_exec *x);
/* Links a and b (both store `tag`, 0 = none), by signals: a side that
 * does not exist gives the other LinkDied(NoProcess). Monitor: watcher
 * gets ProcessDied when target dies, at once if it does not exist. Both
 * return -1 when out of memory. */
int lt_link_pids(lt_env *env, uint64_t a, uint64_t b, int64_t tag);
int lt_monitor_pid(lt_env *env, uint64_t watcher, uint64_t target);
/* Registers p's links/monitors immediately (owner side). */
void lt_add_link(lt_process *p, uint64_t pid, bool has_tag, int64_t tag);
void lt_remove_link(lt_process *p, uint64_t pid);

/* timers: wake p at deadline (seq must still match; returns a reference
 * for lt_timer_cancel), or send msg later */
lt_timer *lt_timer_wake(lt_runtime *rt, lt_process *p, int64_t deadline);
/* Cancels and drops p's wake timer, if any (its wait is over). */
void lt_disarm(lt_process *p);
lt_timer *lt_timer_send_after(lt_runtime *rt, lt_env *env, uint64_t pid, lt_signal *msg,
                              int64_t deadline);
int lt_timer_cancel(lt_runtime *rt, lt_timer *t);  /* 1 if it was still pending */
bool lt_timer_done(const lt_timer *t);
void lt_timer_release(lt_timer *t);
/* I/O: wake p when fd is ready for events (one shot). */
int lt_poll_fd(lt_runtime *rt, lt_process *p, int fd, uint32_t events);

/* host modules (src/api): one table with every lunatic::* function */
const lw_host_table *lt_api_table(void);

/* logging */
void lt_log_failure(lt_process *p, const char *what);

#endif
