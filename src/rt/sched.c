/*
 * sched.c - the M:N scheduler (sched.h): one worker thread per core, each
 * with its own FIFO run queues; an idle worker steals from the others,
 * spins briefly, then sleeps until work arrives, so an idle runtime uses no
 * CPU.
 *
 * A process made runnable by a signal, timer or I/O event goes to the queue
 * of the worker that woke it (a ping-pong pair stays on one core) or, from
 * outside the workers, to that of the worker that ran it last. A process
 * that used up its budget goes to the back of its worker's queue, so a
 * guest spinning in `loop {}` shares its core fairly.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/sched.h"
#include "rt/stats.h"

/* An idle worker's spin rounds, then its yields, before it sleeps (see
 * worker_main). */
#ifndef SPIN_ROUNDS
#define SPIN_ROUNDS 8
#endif
#ifndef YIELD_ROUNDS
#define YIELD_ROUNDS 100
#endif

static _Thread_local lt_worker *current_worker;
/* This thread gave its worker to another (lt_hand_off): it ends after the
 * slice it runs. */
static _Thread_local bool detached;

lt_worker *lt_current_worker(void) { return current_worker; }

/* ---- run queues ---------------------------------------------------------- */

/* Under qlock: publishes when the older of the two heads was queued. */
static void update_head_since(lt_worker *w)
{
    lt_process *a = w->qhead[0], *b = w->qhead[1];
    int64_t t = a && b ? (a->queued_at < b->queued_at ? a->queued_at : b->queued_at)
                : a   ? a->queued_at
                : b   ? b->queued_at
                      : 0;
    atomic_store_explicit(&w->head_since, t, memory_order_relaxed);
}

static void queue_push(lt_worker *w, lt_process *p)
{
    int k = p->resume; /* it used up its slice */
    p->next_run = NULL;
    p->queued_at = lt_ticks();
    lt_spin_lock(&w->qlock);
    if (w->qtail[k]) {
        w->qtail[k]->next_run = p;
    } else {
        w->qhead[k] = p;
        update_head_since(w);
    }
    w->qtail[k] = p;
    atomic_fetch_add_explicit(&w->qlen, 1, memory_order_relaxed);
    lt_spin_unlock(&w->qlock);
}

/* Takes the head of queue k, or of the one whose head is older (k < 0). */
static lt_process *queue_take(lt_worker *w, int k)
{
    if (!atomic_load_explicit(&w->qlen, memory_order_relaxed))
        return NULL;
    lt_spin_lock(&w->qlock);
    lt_process *a = w->qhead[0], *b = w->qhead[1];
    if (k < 0 || !w->qhead[k])
        k = !a ? 1 : !b ? 0 : b->queued_at < a->queued_at;
    lt_process *p = w->qhead[k];
    if (p) {
        w->qhead[k] = p->next_run;
        if (!w->qhead[k])
            w->qtail[k] = NULL;
        update_head_since(w);
        atomic_fetch_sub_explicit(&w->qlen, 1, memory_order_relaxed);
    }
    lt_spin_unlock(&w->qlock);
    return p;
}

static lt_process *queue_pop(lt_worker *w) { return queue_take(w, -1); }

static void wake_sleeper(lt_runtime *rt)
{
    if (atomic_load(&rt->sched.sleeping) > 0) {
        pthread_mutex_lock(&rt->sched.idle_lock);
        pthread_cond_signal(&rt->sched.idle_cond);
        pthread_mutex_unlock(&rt->sched.idle_lock);
    }
}

void lt_schedule(lt_runtime *rt, lt_process *p)
{
    lt_worker *w = current_worker;
    /* From outside the workers (the poller, the pool, an embedder): the
     * worker that ran p last, whose cache still holds it; this also spreads
     * I/O wakeups over the workers instead of piling them on one. */
    if (!w || w->rt != rt)
        w = &rt->sched.workers[p->home < rt->sched.nworkers ? p->home : 0];
    queue_push(w, p);
    /* Another worker may be asleep while this one is busy: let it steal.
     * A thread that handed w off (detached) does not run w's queue any
     * more: the thread that does may be asleep, and without a signal p
     * would wait there for the sleep's 50 ms safety net (a process
     * requeued after a long SQLite call did, at every hand-off). */
    if (atomic_load_explicit(&w->qlen, memory_order_relaxed) > 1 || current_worker != w || detached)
        wake_sleeper(rt);
}

bool lt_wake_locked(lt_process *p)
{
    if (p->state == LT_PS_WAITING) {
        p->state = LT_PS_QUEUED;
        return true;
    }
    if (p->state == LT_PS_RUNNING)
        p->notified = true;
    return false;
}

/* A worker steals only from a worker that would not get to its queue
 * soon: one whose older queue head has waited STEAL_AFTER_NS, or an idle
 * one (and then takes a preempted process first, see steal()). Taking
 * younger processes moves them, and the memory they were just made or
 * woken with, to another core for nothing: a child spawned a
 * microsecond ago would be freed on the other core, a message passed along
 * a ring would make every hop cross cores. Measured on 2 workers (100,000
 * idle children; 200,000 short-lived children from 1 or 8 spawners):
 * waiting 50 us: 3.5 us per spawn, 0.8-1.0 and 0.7-1.2 M spawns/s; 20 us:
 * 2.0-2.6 us; 5 us: 1.9-2.2 us, 0.8-0.9 and 1.2-1.35 M/s; stealing at once
 * (before queues had two kinds): 0.44 M/s with one spawner. Ring and
 * ping-pong are the same with each. */
#ifndef STEAL_AFTER_NS
#define STEAL_AFTER_NS 5000
#endif
enum { IDLE, BETWEEN_SLICES, RUNNING };   /* lt_worker.activity */

static int64_t steal_after(lt_runtime *rt)
{
    int64_t t = atomic_load_explicit(&rt->sched.steal_after, memory_order_relaxed);
    if (t)
        return t;
    int64_t dn = lt_now_ns() - rt->sched.ns0, dt = lt_ticks() - rt->sched.ticks0;
    if (dn < 1000000)
        return STEAL_AFTER_NS; /* as if a tick were a ns: at most a bit early */
    t = (int64_t)((double)STEAL_AFTER_NS * (double)dt / (double)dn);
    atomic_store_explicit(&rt->sched.steal_after, t > 0 ? t : 1, memory_order_relaxed);
    return t > 0 ? t : 1;
}

int64_t lt_ticks_to_ns(lt_runtime *rt, int64_t ticks)
{
    int64_t q = atomic_load_explicit(&rt->sched.ns_per_mticks, memory_order_relaxed);
    if (!q) {
        int64_t dn = lt_now_ns() - rt->sched.ns0, dt = lt_ticks() - rt->sched.ticks0;
        if (dn < 1000000 || dt <= 0)
            return ticks;
        q = (int64_t)((double)dn * (1 << 20) / (double)dt);
        if (q < 1)
            q = 1;
        atomic_store_explicit(&rt->sched.ns_per_mticks, q, memory_order_relaxed);
    }
    return (int64_t)((double)ticks * (double)q / (1 << 20));
}

static bool worth_stealing(lt_worker *v, int64_t *now)
{
    unsigned n = atomic_load_explicit(&v->qlen, memory_order_relaxed);
    if (n == 0)
        return false;
    int a = atomic_load_explicit(&v->activity, memory_order_relaxed);
    if (a == IDLE)
        return true;
    if (a == BETWEEN_SLICES && n == 1)
        return false; /* the owner is about to take it */
    int64_t since = atomic_load_explicit(&v->head_since, memory_order_relaxed);
    if (!since)
        return false;
    if (!*now)
        *now = lt_ticks();
    return *now - since >= steal_after(v->rt);
}

static lt_process *steal(lt_worker *self)
{
    lt_runtime *rt = self->rt;
    int64_t now = 0;
    for (unsigned k = 1; k < rt->sched.nworkers; k++) {
        lt_worker *v = &rt->sched.workers[(self->index + k) % rt->sched.nworkers];
        if (!worth_stealing(v, &now))
            continue;
        /* a process that used up its slice first: it keeps a core busy
         * (a spawner, a computation), while one just spawned or woken is
         * often done within microseconds and best left where its memory is */
        lt_process *p = queue_take(v, 1);
        if (p)
            return p;
    }
    return NULL;
}

/* What another worker has for this one: STEAL_NOW (worth stealing now),
 * STEAL_SOON (two or more queued, too young to take yet) or nothing. A
 * lone young process at a busy worker is left to it. */
enum { STEAL_NOTHING, STEAL_SOON, STEAL_NOW };

static int outlook(lt_worker *self)
{
    lt_runtime *rt = self->rt;
    int64_t now = 0;
    int o = STEAL_NOTHING;
    for (unsigned i = 0; i < rt->sched.nworkers; i++) {
        lt_worker *v = &rt->sched.workers[i];
        if (v == self)
            continue;
        if (worth_stealing(v, &now))
            return STEAL_NOW;
        if (atomic_load_explicit(&v->qlen, memory_order_relaxed) > 1)
            o = STEAL_SOON;
    }
    return o;
}

/* The worker stops polling (see the idle rounds of worker_main): it leaves
 * the pollers it was counted in. */
static void stop_polling(lt_runtime *rt, const lt_remote_ops *remote, bool *polling, bool *rpolling,
                         bool sleeping)
{
    if (*polling)
        lt_poller_idle_end(rt, sleeping);
    if (*rpolling)
        remote->idle_end(rt->remote_ud, sleeping);
    *polling = *rpolling = false;
}

static void *worker_main(void *arg)
{
    lt_worker *w = arg;
    lt_runtime *rt = w->rt;
    current_worker = w;
    char name[16];
    snprintf(name, sizeof name, "lunatic-w%u", w->index);
    pthread_setname_np(pthread_self(), name); /* for ps, top, gdb and perf */
    lt_stats_attach();
    unsigned idle = 0;
    const lt_remote_ops *remote = NULL;
    bool polling = false, rpolling = false; /* counted in the pollers */
    while (!atomic_load(&rt->sched.stopping)) {
        lt_process *p = queue_pop(w);
        if (!p)
            p = steal(w);
        if (p) {
            idle = 0;
            stop_polling(rt, remote, &polling, &rpolling, false);
            atomic_store_explicit(&w->activity, RUNNING, memory_order_relaxed);
            p->home = (uint16_t)w->index;
            lt_process_run(p);
            if (detached)
                break; /* w belongs to another thread now */
            atomic_store_explicit(&w->activity, BETWEEN_SLICES, memory_order_relaxed);
            continue;
        }
        atomic_store_explicit(&w->activity, IDLE, memory_order_relaxed);
        /* Look for ready fds, and in a cluster for what came from other
         * nodes: the processes they wake then run here at once, with no
         * thread woken on the way. */
        if (!remote && atomic_load_explicit(&rt->remote_set, memory_order_acquire))
            remote = rt->remote->idle ? rt->remote : NULL;
        bool got = lt_poller_idle(rt, !polling);
        if (remote) {
            got |= remote->idle(rt->remote_ud, !rpolling);
            rpolling = true;
        }
        polling = true;
        if (got) {
            idle = 0;
            continue;
        }
        /* Spin a little before sleeping, a message is often on its way, but
         * back off: polling other workers' queues steals their cache lines.
         * Then yield the core for a while longer before sleeping: the
         * answer from another node comes within a round trip (~100 us),
         * and finding the worker awake saves a wake-up as long again, while
         * yielding (not spinning) leaves the core to the threads that bring
         * it (the distribution layer's, the other node's) on a machine with
         * few cores. Measured on 2 cores, cross-node round trips with the
         * machine loaded: 250-330 us with 12 spin rounds and no yield (p99
         * 1.5-4 ms), 98-116 us with 8 and 100 yields (p99 < 0.2 ms). */
        if (++idle < SPIN_ROUNDS) {
            for (unsigned i = 0; i < (32u << idle / 2); i++)
                lt_cpu_relax();
            continue;
        }
        if (idle < SPIN_ROUNDS + YIELD_ROUNDS) {
            sched_yield();
            continue;
        }
        if (atomic_load_explicit(&w->qlen, memory_order_relaxed))
            continue;
        int o = outlook(w);
        if (o == STEAL_NOW)
            continue;
        if (o == STEAL_SOON) {
            /* Work elsewhere that its owner keeps taking within
             * STEAL_AFTER_NS: nap instead of spinning for as long as that
             * lasts, without counting as asleep (which would make the
             * owner signal this worker at every enqueue). */
            struct timespec nap = {0, 20000};
            nanosleep(&nap, NULL);
            continue;
        }
        idle = 0;
        stop_polling(rt, remote, &polling, &rpolling, true);
        pthread_mutex_lock(&rt->sched.idle_lock);
        atomic_fetch_add(&rt->sched.sleeping, 1);
        /* Sleep unless there is work this worker could take; a lone
         * process of a busy worker is left to it (see steal). */
        if (!atomic_load(&w->qlen) && outlook(w) == STEAL_NOTHING && !atomic_load(&rt->sched.stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000 * 1000; /* a safety net, not a poll */
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&rt->sched.idle_cond, &rt->sched.idle_lock, &ts);
        }
        atomic_fetch_sub(&rt->sched.sleeping, 1);
        pthread_mutex_unlock(&rt->sched.idle_lock);
    }
    stop_polling(rt, remote, &polling, &rpolling, true);
    lt_stats_detach();
    if (detached) {
        /* the last use of rt by this thread: lt_sched_stop may free it
         * as soon as the lock is released */
        lt_sched *s = &rt->sched;
        pthread_mutex_lock(&s->hand_lock);
        if (--s->ndetached == 0)
            pthread_cond_broadcast(&s->hand_cond);
        pthread_mutex_unlock(&s->hand_lock);
    }
    return NULL;
}

static int start_thread(lt_worker *w, pthread_t *t)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1 << 20);
    int r = pthread_create(t, &a, worker_main, w);
    pthread_attr_destroy(&a);
    return r;
}

int lt_hand_off(lt_process *p)
{
    lt_worker *w = current_worker;
    if (detached)
        return 0;
    if (!w || w->rt != p->rt)
        return -1;
    lt_sched *s = &p->rt->sched;
    pthread_mutex_lock(&s->hand_lock);
    int r = -1;
    if (atomic_load(&s->stopping))
        goto out;
    pthread_t t;
    if (start_thread(w, &t) != 0)
        goto out;
    s->ndetached++;
    w->thread = t;
    pthread_detach(pthread_self());
    detached = true;
    atomic_fetch_add_explicit(&s->handoffs, 1, memory_order_relaxed);
    r = 0;
out:
    pthread_mutex_unlock(&s->hand_lock);
    return r;
}


int lt_sched_start(lt_runtime *rt, unsigned nworkers, uint64_t reductions)
{
    lt_sched *s = &rt->sched;
    s->nworkers = nworkers;
    s->reductions = reductions;
    s->ticks0 = lt_ticks();
    s->ns0 = lt_now_ns();
    pthread_mutex_init(&s->idle_lock, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    pthread_mutex_init(&s->hand_lock, NULL);
    pthread_cond_init(&s->hand_cond, NULL);
    s->workers = calloc(nworkers, sizeof *s->workers);
    if (!s->workers) {
        errno = ENOMEM;
        return -1;
    }
    /* every worker's fields first: a worker that starts looks at the
     * others' queues at once */
    for (unsigned i = 0; i < nworkers; i++) {
        s->workers[i].rt = rt;
        s->workers[i].index = i;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        pthread_mutex_lock(&s->hand_lock);
        int r = start_thread(&s->workers[i], &s->workers[i].thread);
        pthread_mutex_unlock(&s->hand_lock);
        if (r != 0) {
            s->nworkers = i;   /* stop the ones that started */
            lt_sched_free(rt);
            errno = r;
            return -1;
        }
    }
    return 0;
}

void lt_sched_stop(lt_runtime *rt)
{
    lt_sched *s = &rt->sched;
    /* under hand_lock: no hand-off starts after this, so the threads
     * read below are the last ones */
    pthread_mutex_lock(&s->hand_lock);
    bool first = !atomic_exchange(&s->stopping, true);
    pthread_mutex_unlock(&s->hand_lock);
    if (!first)
        return; /* stopped before (lt_runtime_stop, then lt_runtime_free) */
    pthread_mutex_lock(&s->idle_lock);
    pthread_cond_broadcast(&s->idle_cond);
    pthread_mutex_unlock(&s->idle_lock);
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i].thread, NULL);
    pthread_mutex_lock(&s->hand_lock);
    while (s->ndetached)
        pthread_cond_wait(&s->hand_cond, &s->hand_lock);
    pthread_mutex_unlock(&s->hand_lock);
    if (rt->log_level >= LT_LOG_DEBUG && atomic_load(&s->handoffs))
        fprintf(stderr, "[debug] %u hand-offs of a worker's queues to a new thread\n",
                atomic_load(&s->handoffs));
}

void lt_sched_free(lt_runtime *rt)
{
    lt_sched *s = &rt->sched;
    lt_sched_stop(rt);
    pthread_mutex_destroy(&s->hand_lock);
    pthread_cond_destroy(&s->hand_cond);
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
    pthread_mutex_destroy(&s->idle_lock);
    pthread_cond_destroy(&s->idle_cond);
}
