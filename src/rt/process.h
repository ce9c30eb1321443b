/*
 * process.h - processes: a Wasm instance (or a native C handler) with an
 * inbox of signals, a mailbox, links and monitors, and its resources.
 *
 * lt_process_run is the seed's biased loop: a worker first takes every
 * signal from the inbox and handles it (messages to the mailbox, links,
 * monitors, kill, link-died), and only then runs code until the budget is
 * used up or the process blocks. So a kill takes effect at the next slice
 * boundary even while the guest spins, and at once while it is blocked.
 *
 * Locking contract.
 *  - env.h: a shard's lock covers lookup + append to the inbox, and
 *    removal of a dying process.
 *  - p->lock (a spinlock) guards in_head/in_tail, state, notified,
 *    over_limit and woken.
 *    Everything else in a process belongs to the worker running it (state
 *    RUNNING), or to nobody while it is queued or waiting.
 *  - A run queue has its own spinlock; a process is in at most one queue
 *    (state QUEUED).
 * Lock order: shard lock, then p->lock, then a run-queue lock.
 *
 * States (p->state, under p->lock):
 *   QUEUED   in a run queue, or about to be put in one
 *   RUNNING  a worker runs it; a signal arriving sets p->notified
 *   WAITING  parked: a signal, timer or I/O event makes it QUEUED
 *   DEAD     finishing; signals are no longer accepted
 *
 * Host functions (src/api) run on the worker that runs the process and
 * use its fields directly: the scratch message, the mailbox, the resource
 * tables, the wait state.
 */
#ifndef LUNATIC_RT_PROCESS_H
#define LUNATIC_RT_PROCESS_H

#include "rt/account.h"
#include "rt/base.h"
#include "rt/idtab.h"
#include "rt/mailbox.h"
#include "rt/signal.h"
#include "wasi/wasi.h"
#include "wasm/lw.h"

enum { LT_PS_QUEUED, LT_PS_RUNNING, LT_PS_WAITING, LT_PS_DEAD };

/* What a waiting process waits for (p->wait_kind), for observers
 * (snapshot.h): set when a blocking call starts, cleared when it ends. */
typedef enum lt_waitkind {
    LT_WAIT_NONE,       /* nothing known (another blocking call) */
    LT_WAIT_RECEIVE,    /* a message: any, or one with a tag of its set */
    LT_WAIT_SLEEP,      /* a deadline only */
    LT_WAIT_IO          /* a file descriptor (lt_poll_wait) or blocking work (blocking.h) */
} lt_waitkind;

/* A link or a monitor holds the signal the process sends when it ends
 * (LinkDied to the linked process, ProcessDied to the watcher), reserved
 * when the link or monitor is made: a process that dies allocates nothing
 * to notify, so no notification is lost for memory. A Link or Monitor
 * signal that arrives becomes that reserved signal itself. */
typedef struct lt_link {
    uint64_t pid;
    int64_t tag;
    bool has_tag;
    lt_signal *died;            /* the LinkDied for pid */
} lt_link;

typedef struct lt_monitor {
    uint64_t pid;               /* the watcher */
    lt_signal *died;            /* its ProcessDied */
} lt_monitor;

/* A native process's view of a message (valid during the call). */
typedef struct lt_native_msg {
    int kind;                /* LT_MSG_* */
    int64_t tag;             /* 0 when the message has no tag */
    uint64_t pid;            /* process-died: the process that died */
    const uint8_t *data;
    size_t len;
} lt_native_msg;

/* A native process: called with msg NULL when it starts, then once per
 * message. Returns LT_NATIVE_CONTINUE, LT_NATIVE_DONE or LT_NATIVE_FAILED.
 * It must not block. */
enum { LT_NATIVE_CONTINUE = 0, LT_NATIVE_DONE = 1, LT_NATIVE_FAILED = -1 };
typedef int (*lt_native_fn)(lt_process *self, const lt_native_msg *msg, void *ud);

/* Resource tables of the host API layer, allocated at first use
 * (lt_process_resources): an idle process pays one pointer for them. */
typedef enum lt_reskind {
    LT_RK_DNS,          /* DNS iterators (lists of socket addresses) */
    LT_RK_TCP_LISTENER,
    LT_RK_TCP_STREAM,
    LT_RK_TLS_LISTENER,
    LT_RK_TLS_STREAM,
    LT_RK_UDP,
    LT_RK_SQLITE_CONN,
    LT_RK_SQLITE_STMT,
    LT_RK_LOOKUP,       /* distributed node lookups */
    LT_RK_COUNT
} lt_reskind;

typedef struct lt_restabs {
    lt_idtab tab[LT_RK_COUNT];
    void (*drop[LT_RK_COUNT])(void *);  /* set by whoever adds the first entry */
} lt_restabs;

struct lt_process {
    uint64_t pid;
    lt_env *env;
    lt_runtime *rt;
    lt_process *next_run;       /* run-queue link */
    uint16_t home;              /* the worker that ran it last (sched.c) */
    int64_t queued_at;          /* when it joined that queue (lt_ticks) */

    atomic_int lock;            /* guards in_head/in_tail, state, notified, over_limit, woken */
    uint8_t state;
    bool notified;
    /* native != NULL, immutable: here, on the line lt_send touches anyway,
     * so that counting signals by the target's kind costs a sender no
     * cache miss on a cold target (a ring of 10,000 processes showed it) */
    bool is_native;
    /* a data message was refused for the limit (lt_send): it dies with
     * "mailbox limit exceeded" when it next handles its signals */
    bool over_limit;
    /* 1 + the number of the latest wait a wake came for (lt_send_wake),
     * 0 none: taken and cleared when it next runs */
    uint64_t woken;
    lt_signal *in_head, *in_tail;
    lt_account acct;            /* its memory (account.h); senders charge it */

    /* owned by the running worker */
    bool started, watched, die_when_link_dies, killed;
    bool resume;                /* requeued to continue (yield), not to re-check a wait */
    bool exited_in_start;       /* proc_exit ran in the start function */
    /* A child whose start function this process's spawn call is running in
     * slices (lt_spawn_continue); owned here until the spawn ends. */
    lt_process *spawning;
    lt_signal *spawn_died;      /* the LinkDied reserved for that child (api/process.c) */
    bool wait_started;          /* the blocking host call has set its deadline */
    bool again;                 /* the host call yields and goes on (lt_again) */
    uint8_t wait_kind;          /* lt_waitkind of the current wait */
    bool remote;                /* has had a link or monitor with another node (remote.h) */
    uint32_t nparams;
    uint64_t slice_work;        /* reductions charged by host calls this slice */
    lt_mailbox mailbox;
    lt_signal *scratch;         /* the message being built or read (ABI.md §1.8) */
    lt_link *links;
    uint32_t nlinks, linkcap;
    lt_monitor *monitors;       /* who monitors this process */
    uint32_t nmonitors, moncap;
    /* a failure found while handling signals (out of memory recording a
     * link or monitor): it dies with this, as of a trap */
    const char *fatal;

    /* blocking: what the process waits for */
    int64_t wait_deadline;      /* CLOCK_MONOTONIC ns, -1 none */
    uint64_t wait_seq;          /* bumps at each wait; stale wakeups are ignored */
    int64_t armed_deadline;     /* the wake timer already set for this wait */
    uint64_t armed_seq;
    lt_timer *wake_timer;       /* that timer (a reference), cancelled when the wait ends */
    int io_fd;                  /* a registered fd the process may wait on (lt_poll_wait), -1 */
    struct lt_job *job;         /* blocking work it waits for or last waited for (blocking.h) */
    /* a receive's tags: wait_ntags i64 values at wait_tags_ptr in guest
     * memory, or (wait_tags_ptr == LT_TAGS_INLINE) the one in wait_tag */
    uint32_t wait_tags_ptr, wait_ntags;
    int64_t wait_tag;

    /* observed from other threads (snapshot.c, stats.h) */
    int64_t born;               /* lt_ticks at spawn; immutable */

    /* Wasm */
    lt_module *module;
    lt_config *config;
    lt_registry *registry;
    lw_instance *inst;
    lw_exec *x;
    lwasi_ctx *wasi;            /* made from wasi_share at the first WASI call */
    lwasi_shared *wasi_share;   /* the config's WASI part as of the spawn */
    lw_func *entry;
    lw_val *params;             /* nparams of them; params_inline for up to two */
    lw_val params_inline[2];

    /* native */
    lt_native_fn native;
    void *native_ud;
    void (*native_ud_free)(void *);

    /* per-process resources */
    lt_idtab configs, modules, errors, timers;
    uint32_t timers_swept;      /* timers left after the last sweep (api/timer.c) */
    lt_restabs *res;

    /* result */
    struct lt_done *done;       /* watched: the exit record, made at spawn */
    int exit_code;
    lt_reason reason;
};

#define LT_TAGS_INLINE UINT32_MAX

/* Exit statuses (lt_runtime_wait): 0 for a normal end, the proc_exit
 * code, or these. */
enum { LT_STATUS_FAILED = 134, LT_STATUS_KILLED = 137 };

/* A name the spawner reserved for the child (lt_registry_reserve, by
 * get_or_spawn): registered to it in the child's registry just before the
 * child can run, so that its death cannot come before the name. */
typedef struct lt_spawn_name {
    const char *name;
    size_t len;
    uint64_t owner;
} lt_spawn_name;

/* What a spawn needs besides the module: */
typedef struct lt_spawn_opts {
    lt_registry *registry;      /* shared with the child; NULL = a new one */
    const lt_link *link;        /* the child's link to its parent, or NULL */
    bool watched;               /* keep its exit status for lt_runtime_wait */
    /* Caps on what the config grants (capabilities only narrow: a child
     * gets at most its spawner's limits), 0 = none: memory in bytes, fuel
     * in the engine's charges (what the spawner has left). */
    uint64_t memory_cap, fuel_cap;
    /* NULL: the module's start function runs to its end inside the call
     * (bounded by START_REDUCTIONS). Else it runs one slice, and when it
     * needs more the call returns 1 with the half-spawned child here: the
     * caller (a process's host call) yields and runs the next slices with
     * lt_spawn_continue, so a long start function shares the worker and
     * holds no lock. */
    lt_process **pending;
    const lt_spawn_name *name;  /* or NULL */
} lt_spawn_opts;

/* Spawns a Wasm process running func(params) of m with config c (both
 * retained). The start function runs inside the call. 0 with the pid in
 * *pid (the process may already run, or even be gone, when this returns),
 * 1 with *o->pending set (see above), or -1 with a reason in err. */
int lt_spawn_wasm(lt_runtime *rt, lt_env *env, lt_module *m, lt_config *c,
                  const char *func, size_t funclen, const lw_val *params, uint32_t nparams,
                  const lt_spawn_opts *o, uint64_t *pid, char *err, size_t errsize);
/* The next slice of a pending child's start function: 0 when the child is
 * spawned (its pid in *pid), 1 when it needs another slice, -1 with a
 * reason in err when the spawn failed (the child is freed). */
int lt_spawn_continue(lt_process *child, const lt_spawn_name *name, uint64_t *pid, char *err,
                      size_t errsize);
/* Spawns a native process; ud_free (may be NULL) frees ud when it ends.
 * 0 with *pid, or -1 when out of memory (ud is not freed then). */
int lt_spawn_native(lt_runtime *rt, lt_env *env, lt_native_fn fn, void *ud,
                    void (*ud_free)(void *), bool watched, uint64_t *pid);
/* Frees a process without notifying anyone (runtime shutdown). */
void lt_process_destroy(lt_process *p);
/* Runs p for one slice (a worker calls it for a QUEUED process). */
void lt_process_run(lt_process *p);
/* The process a host function runs for. */
lt_process *lt_self(lw_exec *x);

/* The resource table of kind k, created on first use with drop as the
 * function that frees its values; NULL when out of memory. */
lt_idtab *lt_process_restab(lt_process *p, lt_reskind k, void (*drop)(void *));

/* Links a and b (both store `tag`, 0 = none), by signals: a side that
 * does not exist gives the other LinkDied(NoProcess). Monitor: watcher
 * gets ProcessDied when target dies, at once if it does not exist. Both
 * return -1 when out of memory, having done nothing; once they return 0
 * the notification will come (its signal is made: see lt_link). b and
 * target may be processes of other nodes (remote.h); a and watcher are of
 * this one. */
int lt_link_pids(lt_env *env, uint64_t a, uint64_t b, int64_t tag);
int lt_monitor_pid(lt_env *env, uint64_t watcher, uint64_t target);
/* Registers p's side of a link at once (the running process itself): 0,
 * or -1 when out of memory (nothing registered). In two steps for a
 * caller that must not fail after some other step (a spawn):
 * lt_link_reserve makes the room for one more link and, if *died is
 * NULL, the LinkDied in *died (0, or -1 when out of memory; lt_signal_free
 * gives the signal back); lt_link_add_reserved then cannot fail, provided
 * nothing changed p's links in between. */
int lt_add_link(lt_process *p, uint64_t pid, bool has_tag, int64_t tag);
int lt_link_reserve(lt_process *p, lt_signal **died);
void lt_link_add_reserved(lt_process *p, uint64_t pid, bool has_tag, int64_t tag, lt_signal *died);
/* Charges a host call's work to the calling process's slice, in
 * reductions (the unit of the interpreter's budget, which does not see
 * host calls): LW_OK while the slice lasts, then LW_YIELD so that a
 * process making many costly calls (a spawn loop) lets the others run.
 * Fuel is not charged. */
int lt_charge(lt_process *p, uint32_t reductions);
/* For a host call that has done a slice's worth of work and is not done:
 * returns LW_SUSPEND, and the process goes to the back of its run queue
 * (not parked); the call is made again with the same arguments when its
 * turn comes, and goes on from the state it kept. */
int lt_again(lt_process *p);

/* Whether a signal already queued to p will end it once handled (a kill,
 * or the failure of a link while die_when_link_dies), or the runtime is
 * stopping (it waits for the slice p runs): a host call that runs long on
 * p's thread polls it to stop early. Call only from the thread running p. */
bool lt_process_doomed(lt_process *p);

/* Logs the end of p on its stderr, at the level README's "Logging" gives
 * it: a failure like the original ("Process <name or id> failed,
 * notifying: N links: <what>", warn, rate limited), a kill (info; warn if
 * p is watched), a proc_exit(n != 0) (what NULL; debug). */
void lt_log_failure(lt_process *p, const char *what);

#endif
