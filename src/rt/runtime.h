/*
 * runtime.h - a runtime: the scheduler, the poller, the timers, the
 * environments, and the host modules every module is linked against.
 *
 * The host modules are handed in by whoever builds the runtime (the
 * embedding layer passes WASI and the lunatic::* modules of src/api), so
 * this layer never calls upward.
 */
#ifndef LUNATIC_RT_RUNTIME_H
#define LUNATIC_RT_RUNTIME_H

#include <pthread.h>

#include "rt/base.h"
#include "rt/blocking.h"
#include "rt/poller.h"
#include "rt/remote.h"
#include "rt/sched.h"
#include "rt/timer.h"
#include "wasm/host.h"

typedef struct lt_runtime_opts {
    unsigned threads;                  /* workers; 0 = one per core */
    uint64_t reductions;               /* budget per slice; 0 = 20,000 */
    const lw_host_table *const *hosts; /* host modules imports resolve against */
    size_t nhosts;                     /* (the tables must outlive the runtime) */
} lt_runtime_opts;

/* The exit status of a watched process, kept until lt_runtime_wait. */
typedef struct lt_done {
    struct lt_done *next;
    uint64_t env, pid;
    int status;
} lt_done;

struct lt_runtime {
    lt_sched sched;
    lt_poller poller;
    lt_timers timers;
    lt_pool pool;                /* blocking work (blocking.h) */

    pthread_mutex_t env_lock;
    lt_env *envs;

    /* exit statuses of watched processes */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    lt_done *done;

    const lw_host_table *hosts[8];
    size_t nhosts;
    /* Logging (process.c, lt_log_failure): the level from LUNATIC_LOG or
     * RUST_LOG (LT_LOG_*, default LT_LOG_WARN), and a token bucket that
     * limits failure reports, under log_lock. */
    int log_level;
    atomic_int log_lock;
    double log_tokens;
    int64_t log_refilled;        /* lt_now_ns of the last refill */
    uint64_t log_suppressed;     /* reports dropped since the last one written */
    /* In a cluster (remote.h): this node's id in the node bits of a pid,
     * and the distribution layer's hooks; 0 and NULL outside one. Set
     * before the first spawn, read-only afterwards. */
    uint64_t node_bits;
    const lt_remote_ops *remote;
    void *remote_ud;
    /* remote and remote_ud are set (the workers run before they are, and
     * poll through remote->idle once they see this) */
    atomic_bool remote_set;
};

/* Failure reports beyond LT_LOG_BURST at once are limited to LT_LOG_RATE
 * a second (below debug level; see lt_log_failure). */
#define LT_LOG_BURST 100
#define LT_LOG_RATE 10

/* Log levels, as env_logger's (the original's logger). */
enum { LT_LOG_OFF, LT_LOG_ERROR, LT_LOG_WARN, LT_LOG_INFO, LT_LOG_DEBUG, LT_LOG_TRACE };

/* The most verbose level a LUNATIC_LOG / RUST_LOG value names ("debug",
 * "lunatic=info,other=warn", ...); LT_LOG_WARN for NULL or none. */
int lt_log_level_parse(const char *v);

/* Starts a runtime. NULL with errno when it cannot (threads, epoll,
 * memory: ENOMEM). */
lt_runtime *lt_runtime_new(const lt_runtime_opts *o);
/* Stops running processes: each worker finishes the slice it runs and
 * ends, and no process runs again. What is alive stays alive (and
 * reachable) until lt_runtime_free. For a program about to exit: its exit
 * handlers (OpenSSL's among them) then never run beside guest code. */
void lt_runtime_stop(lt_runtime *rt);
/* Stops everything (the distribution layer's connections first, so no
 * signal comes in while the workers stop), destroys the processes still
 * alive without notifying anyone, and frees the runtime. */
void lt_runtime_free(lt_runtime *rt);
/* Records the exit status of a watched process (preallocated record: it
 * cannot fail). */
void lt_runtime_record_exit(lt_runtime *rt, lt_done *d);
/* Waits until the watched process (env, pid) has ended and returns its
 * status. */
int lt_runtime_wait(lt_runtime *rt, uint64_t env, uint64_t pid);

#endif
