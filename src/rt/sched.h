/*
 * sched.h - the M:N scheduler: one worker thread per core, each with its
 * own run queues; an idle worker steals from the others, spins briefly,
 * then sleeps until work arrives, so an idle runtime uses no CPU.
 */
#ifndef LUNATIC_RT_SCHED_H
#define LUNATIC_RT_SCHED_H

#include <pthread.h>

#include "rt/base.h"

typedef struct lt_worker {
    lt_runtime *rt;
    pthread_t thread;
    unsigned index;
    atomic_int qlock;
    /* Two FIFO run queues under qlock: [0] processes spawned or woken,
     * [1] processes that used up their slice; the owner takes the older
     * head, a thief prefers [1] (see steal() in sched.c). */
    lt_process *qhead[2], *qtail[2];
    atomic_uint qlen;                /* both */
    atomic_int_fast64_t head_since;  /* when the oldest head was queued (lt_ticks), 0 if empty */
    atomic_int activity;             /* IDLE, BETWEEN_SLICES or RUNNING; see steal() */
} lt_worker;

typedef struct lt_sched {
    unsigned nworkers;
    lt_worker *workers;
    uint64_t reductions;         /* budget per slice */
    /* STEAL_AFTER_NS in lt_ticks, 0 until the ticks' rate is known: it is
     * measured between the start (ticks0, ns0) and the first steal attempt
     * 1 ms or more later, so that starting costs nothing */
    atomic_int_fast64_t steal_after;
    int64_t ticks0, ns0;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    atomic_int sleeping;         /* workers waiting on idle_cond */
    atomic_bool stopping;
} lt_sched;

/* Starts nworkers threads running rt's processes. 0, or -1 (nothing
 * started). */
int lt_sched_start(lt_runtime *rt, unsigned nworkers, uint64_t reductions);
/* Stops the workers (each finishes the slice it runs) and joins them. */
void lt_sched_stop(lt_runtime *rt);
/* The worker running the calling thread, or NULL outside the workers. */
lt_worker *lt_current_worker(void);
/* Makes a QUEUED process runnable: on the current worker's queue (or
 * worker 0's from outside the workers). */
void lt_schedule(lt_runtime *rt, lt_process *p);
/* Wakes p if it waits (a signal, timer or I/O event arrived). Call with
 * p->lock held. */
void lt_wake_locked(lt_process *p);

#endif
