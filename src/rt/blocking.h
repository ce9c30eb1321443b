/*
 * blocking.h - a pool of threads for work that blocks or takes long and
 * must not run on a scheduler worker: DNS lookups (getaddrinfo), SQLite
 * statements, compiling large modules.
 *
 * A host function that needs such work makes a job, submits it and parks
 * its process (LW_SUSPEND); a pool thread runs the job, marks it done and
 * wakes the process, whose host function is called again and takes the
 * result. The process keeps its reference in p->job, so if it dies or its
 * wait times out first, the job still completes on the pool and the last
 * reference frees it: nothing waits for a process that is gone.
 *
 * The pool starts its threads on demand: one more whenever a job is queued
 * and every thread is busy, up to LT_POOL_MAX (a slow lookup cannot starve
 * the others), and they stay for the runtime's life.
 */
#ifndef LUNATIC_RT_BLOCKING_H
#define LUNATIC_RT_BLOCKING_H

#include <pthread.h>

#include "rt/base.h"

#define LT_POOL_MAX 16

typedef struct lt_job lt_job;
struct lt_job {
    void (*run)(lt_job *j);     /* the work, on a pool thread */
    void (*free)(lt_job *j);    /* frees the job and whatever result it holds */
    atomic_int refs;
    atomic_bool done;
    lt_env *env;                /* whom to wake when done */
    uint64_t pid, seq;
    lt_job *next;               /* the pool's queue */
};

typedef struct lt_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lt_job *head, *tail;
    unsigned nthreads, idle, queued;
    bool stopping;
    pthread_t threads[LT_POOL_MAX];
} lt_pool;

int lt_pool_init(lt_pool *pool);
/* Stops and joins the threads; jobs still queued are dropped. */
void lt_pool_free(lt_pool *pool);

/* Queues j (run and free set, refs 1: the caller's) to wake p's current
 * wait when done. The pool takes its own reference; the caller keeps its
 * one, usually in p->job (or inside an object there), so that it goes
 * with the process. 0, or -1 when no thread can be started (nothing
 * queued). */
int lt_job_submit(lt_runtime *rt, lt_process *p, lt_job *j);
bool lt_job_done(const lt_job *j);
/* Drops a reference; the last one frees the job. NULL is ignored. */
void lt_job_release(lt_job *j);

#endif
