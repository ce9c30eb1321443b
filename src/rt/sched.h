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
    /* ns per 2^20 ticks, learnt like steal_after (0 until then) */
    atomic_int_fast64_t ns_per_mticks;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    atomic_int sleeping;         /* workers waiting on idle_cond */
    atomic_bool stopping;
    /* Hand-offs (lt_hand_off), under hand_lock: each worker's current
     * thread (lt_worker.thread), and how many threads that gave their
     * worker away still finish a slice on their own. Those are detached
     * (pthread_detach: a program may exit without stopping the runtime,
     * and nobody would join them); stop waits on hand_cond until the
     * last has said it is done, which is its last use of the runtime. */
    pthread_mutex_t hand_lock;
    pthread_cond_t hand_cond;
    unsigned ndetached;
    atomic_uint handoffs;        /* how many so far (LUNATIC_LOG=debug) */
} lt_sched;

/* Starts nworkers threads running rt's processes. 0, or -1 (nothing
 * started). */
int lt_sched_start(lt_runtime *rt, unsigned nworkers, uint64_t reductions);
/* Stops the workers (each finishes the slice it runs) and joins them. */
void lt_sched_stop(lt_runtime *rt);
/* Stops (if not yet) and frees the workers. Processes queued afterwards
 * (a late wake from the poller) stay queued: nothing runs them. */
void lt_sched_free(lt_runtime *rt);
/* A duration in lt_ticks as nanoseconds (the ticks' rate is learnt from
 * the runtime's start; within the first millisecond a tick counts as 1 ns
 * on x86, where it is shorter: durations come out too long, never
 * negative). */
int64_t lt_ticks_to_ns(lt_runtime *rt, int64_t ticks);
/* The worker running the calling thread, or NULL outside the workers. */
lt_worker *lt_current_worker(void);
/* Makes a QUEUED process runnable: on the current worker's queue (or
 * worker 0's from outside the workers). */
void lt_schedule(lt_runtime *rt, lt_process *p);
/* Marks p woken if it waits (a signal, timer or I/O event arrived); call
 * with p->lock held. Returns true when p went from WAITING to QUEUED: the
 * caller then calls lt_schedule(p) after releasing its locks. Queueing
 * under p->lock made the process's own worker spin on that lock while the
 * sender pushed, and signalled a sleeping worker's condition variable; on
 * a busy machine the sender was preempted in between (perf on the HTTP
 * benchmark: lt_process_run spinning on p->lock). A QUEUED process on no
 * queue yet is safe: nothing runs it, so nothing frees it. */
bool lt_wake_locked(lt_process *p);
/* For a host call that runs long or is about to block on the thread of
 * the worker running p (a long SQLite query, a lock wait): gives that
 * worker's run queues to a new thread, so the processes queued there keep
 * running, while the calling thread finishes p's slice on its own and
 * then ends (Go's hand-off of a P at a blocking system call). The host
 * call should end the slice soon after (return LW_YIELD) so the extra
 * thread does not linger. Returns 0 when handed off (or when this thread
 * already had), -1 when it cannot be: not on one of rt's worker threads,
 * the runtime is stopping, or no thread could be started; the caller then
 * simply goes on. */
int lt_hand_off(lt_process *p);

#endif
