/*
 * sched.c - the M:N scheduler: one worker thread per core, each with its
 * own FIFO run queue; an idle worker steals from the others, spins briefly,
 * then sleeps until work arrives, so an idle runtime uses no CPU.
 *
 * A process made runnable by a signal, timer or I/O event goes to the queue
 * of the worker that woke it (a ping-pong pair stays on one core) or, from
 * outside the workers, to worker 0's. A process that used up its budget
 * goes to the back of its worker's queue, so a guest spinning in `loop {}`
 * shares its core fairly.
 *
 * The poller thread owns the timer heap and an epoll set: it sleeps in
 * epoll_wait until the earliest deadline or an fd event, and wakes the
 * processes concerned. An eventfd interrupts it when an earlier timer is
 * added.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rt/rt.h"

static _Thread_local lt_worker *current_worker;

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
    if (atomic_load(&rt->sleeping) > 0) {
        pthread_mutex_lock(&rt->idle_lock);
        pthread_cond_signal(&rt->idle_cond);
        pthread_mutex_unlock(&rt->idle_lock);
    }
}

void lt_schedule(lt_runtime *rt, lt_process *p)
{
    lt_worker *w = current_worker;
    if (!w || w->rt != rt)
        w = &rt->workers[0];
    queue_push(w, p);
    /* Another worker may be asleep while this one is busy: let it steal. */
    if (atomic_load_explicit(&w->qlen, memory_order_relaxed) > 1 || current_worker != w)
        wake_sleeper(rt);
}

void lt_wake_locked(lt_process *p)
{
    if (p->state == LT_PS_WAITING) {
        p->state = LT_PS_QUEUED;
        lt_schedule(p->rt, p);
    } else if (p->state == LT_PS_RUNNING) {
        p->notified = true;
    }
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
    int64_t t = atomic_load_explicit(&rt->steal_after, memory_order_relaxed);
    if (t)
        return t;
    int64_t dn = lt_now_ns() - rt->ns0, dt = lt_ticks() - rt->ticks0;
    if (dn < 1000000)
        return STEAL_AFTER_NS; /* as if a tick were a ns: at most a bit early */
    t = (int64_t)((double)STEAL_AFTER_NS * (double)dt / (double)dn);
    atomic_store_explicit(&rt->steal_after, t > 0 ? t : 1, memory_order_relaxed);
    return t > 0 ? t : 1;
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
    for (unsigned k = 1; k < rt->nworkers; k++) {
        lt_worker *v = &rt->workers[(self->index + k) % rt->nworkers];
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
    for (unsigned i = 0; i < rt->nworkers; i++) {
        lt_worker *v = &rt->workers[i];
        if (v == self)
            continue;
        if (worth_stealing(v, &now))
            return STEAL_NOW;
        if (atomic_load_explicit(&v->qlen, memory_order_relaxed) > 1)
            o = STEAL_SOON;
    }
    return o;
}

static void *worker_main(void *arg)
{
    lt_worker *w = arg;
    lt_runtime *rt = w->rt;
    current_worker = w;
    unsigned idle = 0;
    while (!atomic_load(&rt->stopping)) {
        lt_process *p = queue_pop(w);
        if (!p)
            p = steal(w);
        if (p) {
            idle = 0;
            atomic_store_explicit(&w->activity, RUNNING, memory_order_relaxed);
            lt_process_run(p);
            atomic_store_explicit(&w->activity, BETWEEN_SLICES, memory_order_relaxed);
            continue;
        }
        atomic_store_explicit(&w->activity, IDLE, memory_order_relaxed);
        /* Spin a little before sleeping, a message is often on its way, but
         * back off: polling other workers' queues steals their cache lines. */
        if (++idle < 12) {
            for (unsigned i = 0; i < (32u << idle / 2); i++)
                __builtin_ia32_pause();
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
        pthread_mutex_lock(&rt->idle_lock);
        atomic_fetch_add(&rt->sleeping, 1);
        /* Sleep unless there is work this worker could take; a lone
         * process of a busy worker is left to it (see steal). */
        if (!atomic_load(&w->qlen) && outlook(w) == STEAL_NOTHING && !atomic_load(&rt->stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000 * 1000; /* a safety net, not a poll */
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&rt->idle_cond, &rt->idle_lock, &ts);
        }
        atomic_fetch_sub(&rt->sleeping, 1);
        pthread_mutex_unlock(&rt->idle_lock);
    }
    return NULL;
}

/* ---- timers -------------------------------------------------------------- */

enum { TIMER_WAKE, TIMER_SEND };
enum { T_PENDING, T_FIRED, T_CANCELLED };

struct lt_timer {
    int64_t deadline;
    uint32_t heap_index;        /* position in the heap, under timer_lock */
    bool in_heap;
    atomic_int refs;
    atomic_int state;
    uint8_t kind;
    lt_env *env;
    uint64_t pid, seq;
    lt_signal *msg;
};

static bool heap_less(const lt_timer *a, const lt_timer *b) { return a->deadline < b->deadline; }

/* The heap keeps each timer's index so a cancelled one can be removed at
 * once: a guest that sets and cancels long timers in a loop must not grow
 * the heap. All under timer_lock. */
static void heap_set(lt_runtime *rt, uint32_t i, lt_timer *t)
{
    rt->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(lt_runtime *rt, uint32_t i)
{
    lt_timer *t = rt->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(t, rt->heap[parent]))
            break;
        heap_set(rt, i, rt->heap[parent]);
        i = parent;
    }
    heap_set(rt, i, t);
}

static void sift_down(lt_runtime *rt, uint32_t i)
{
    lt_timer *t = rt->heap[i];
    uint32_t n = rt->nheap;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(rt->heap[c + 1], rt->heap[c]))
            c++;
        if (!heap_less(rt->heap[c], t))
            break;
        heap_set(rt, i, rt->heap[c]);
        i = c;
    }
    heap_set(rt, i, t);
}

static bool heap_push(lt_runtime *rt, lt_timer *t)
{
    if (rt->nheap == rt->heapcap) {
        uint32_t cap = rt->heapcap ? rt->heapcap * 2 : 64;
        lt_timer **h = realloc(rt->heap, cap * sizeof *h);
        if (!h)
            return false;
        rt->heap = h;
        rt->heapcap = cap;
    }
    rt->heap[rt->nheap] = t;
    t->in_heap = true;
    sift_up(rt, rt->nheap++);
    return true;
}

static void heap_remove(lt_runtime *rt, uint32_t i)
{
    lt_timer *t = rt->heap[i];
    t->in_heap = false;
    lt_timer *last = rt->heap[--rt->nheap];
    if (i == rt->nheap)
        return;
    heap_set(rt, i, last);
    sift_down(rt, i);
    sift_up(rt, last->heap_index);
}

static lt_timer *heap_pop(lt_runtime *rt)
{
    lt_timer *top = rt->heap[0];
    heap_remove(rt, 0);
    return top;
}

static void add_timer(lt_runtime *rt, lt_timer *t)
{
    pthread_mutex_lock(&rt->timer_lock);
    bool earliest = rt->nheap == 0 || t->deadline < rt->heap[0]->deadline;
    if (!heap_push(rt, t)) {
        /* out of memory: the timer never fires; drop the heap's reference */
        pthread_mutex_unlock(&rt->timer_lock);
        atomic_store(&t->state, T_CANCELLED);
        lt_timer_release(t);
        return;
    }
    pthread_mutex_unlock(&rt->timer_lock);
    if (earliest) {
        uint64_t one = 1;
        ssize_t r = write(rt->evfd, &one, sizeof one);
        (void)r;
    }
}

lt_timer *lt_timer_wake(lt_runtime *rt, lt_process *p, int64_t deadline)
{
    lt_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->deadline = deadline;
    atomic_init(&t->refs, 2); /* the heap and the process */
    t->kind = TIMER_WAKE;
    t->env = p->env;
    t->pid = p->pid;
    t->seq = p->wait_seq;
    add_timer(rt, t);
    /* already fired (or lost to a full heap): nothing left to cancel; our
     * reference kept it alive until here */
    if (lt_timer_done(t)) {
        lt_timer_release(t);
        return NULL;
    }
    return t;
}

void lt_disarm(lt_process *p)
{
    if (p->wake_timer) {
        lt_timer_cancel(p->rt, p->wake_timer);
        lt_timer_release(p->wake_timer);
        p->wake_timer = NULL;
    }
    p->armed_deadline = -1;
}

lt_timer *lt_timer_send_after(lt_runtime *rt, lt_env *env, uint64_t pid, lt_signal *msg,
                              int64_t deadline)
{
    lt_timer *t = calloc(1, sizeof *t);
    if (!t) {
        lt_signal_free(msg);
        return NULL;
    }
    t->deadline = deadline;
    atomic_init(&t->refs, 2); /* the heap and the caller */
    t->kind = TIMER_SEND;
    t->env = env;
    t->pid = pid;
    t->msg = msg;
    add_timer(rt, t);
    return t;
}

void lt_timer_release(lt_timer *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        lt_signal_free(t->msg);
        free(t);
    }
}

int lt_timer_cancel(lt_runtime *rt, lt_timer *t)
{
    int expect = T_PENDING;
    if (!atomic_compare_exchange_strong(&t->state, &expect, T_CANCELLED))
        return 0;
    pthread_mutex_lock(&rt->timer_lock);
    bool removed = t->in_heap;
    if (removed)
        heap_remove(rt, t->heap_index);
    pthread_mutex_unlock(&rt->timer_lock);
    if (removed)
        lt_timer_release(t); /* the heap's reference */
    return 1;
}

bool lt_timer_done(const lt_timer *t) { return atomic_load(&t->state) != T_PENDING; }

/* Wakes pid if it still waits for the wait numbered seq. */
static void wake_for(lt_env *env, uint64_t pid, uint64_t seq)
{
    lt_signal *s = lt_signal_new(LT_SIG_WAKE);
    if (!s)
        return;
    s->tag = (int64_t)seq;
    lt_send(env, pid, s);
}

static void fire(lt_timer *t)
{
    int expect = T_PENDING;
    if (!atomic_compare_exchange_strong(&t->state, &expect, T_FIRED)) {
        lt_timer_release(t);
        return;
    }
    if (t->kind == TIMER_SEND) {
        lt_signal *m = t->msg;
        t->msg = NULL;
        lt_send(t->env, t->pid, m);
    } else {
        wake_for(t->env, t->pid, t->seq);
    }
    lt_timer_release(t);
}

/* ---- the poller thread ------------------------------------------------------ */

/* Processes waiting for an fd. One epoll registration per fd (the
 * original descriptor, not a duplicate: a duplicate would keep a file or
 * socket open after its wait ended), armed one-shot with the union of the
 * events wanted, and a waiter list without duplicates: a process parked
 * again on the same fd adds nothing. When the fd fires, every waiter is
 * woken and the entry goes; a waiter that has died meanwhile is simply not
 * found. Indexed by fd, under rt->poll_lock. */
typedef struct fd_waiter {
    lt_env *env;
    uint64_t pid, seq;
} fd_waiter;

typedef struct fd_entry {
    uint32_t events;
    uint32_t n, cap;
    fd_waiter *w;
} fd_entry;

int lt_poll_fd(lt_runtime *rt, lt_process *p, int fd, uint32_t events)
{
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&rt->poll_lock);
    if (fd >= rt->fd_table_len) {
        int n = rt->fd_table_len ? rt->fd_table_len : 64;
        while (n <= fd)
            n *= 2;
        fd_entry *t = realloc(rt->fd_table, (size_t)n * sizeof *t);
        if (!t) {
            pthread_mutex_unlock(&rt->poll_lock);
            return -1;
        }
        memset(t + rt->fd_table_len, 0, (size_t)(n - rt->fd_table_len) * sizeof *t);
        rt->fd_table = t;
        rt->fd_table_len = n;
    }
    fd_entry *e = &rt->fd_table[fd];
    uint32_t i = 0;
    while (i < e->n && !(e->w[i].env == p->env && e->w[i].pid == p->pid))
        i++;
    bool added = i == e->n;
    if (added) {
        if (e->n == e->cap) {
            uint32_t cap = e->cap ? e->cap * 2 : 2;
            fd_waiter *w = realloc(e->w, cap * sizeof *w);
            if (!w) {
                pthread_mutex_unlock(&rt->poll_lock);
                return -1;
            }
            e->w = w;
            e->cap = cap;
        }
        e->n++;
    }
    e->w[i] = (fd_waiter){p->env, p->pid, p->wait_seq};
    uint32_t want = e->events | events;
    struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.fd = fd};
    int r = epoll_ctl(rt->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (r < 0) /* first wait on it, or the guest closed and reopened it */
        r = epoll_ctl(rt->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (r == 0)
        e->events = want;
    else if (added)
        e->n--;
    pthread_mutex_unlock(&rt->poll_lock);
    return r;
}

/* The fd fired: wake everyone waiting for it. */
static void fd_fired(lt_runtime *rt, int fd)
{
    pthread_mutex_lock(&rt->poll_lock);
    if (fd < 0 || fd >= rt->fd_table_len) {
        pthread_mutex_unlock(&rt->poll_lock);
        return;
    }
    fd_entry *e = &rt->fd_table[fd];
    fd_waiter *w = e->w;
    uint32_t n = e->n;
    e->w = NULL;
    e->n = e->cap = 0;
    e->events = 0;
    epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
    pthread_mutex_unlock(&rt->poll_lock);
    for (uint32_t i = 0; i < n; i++)
        wake_for(w[i].env, w[i].pid, w[i].seq);
    free(w);
}

static void *poller_main(void *arg)
{
    lt_runtime *rt = arg;
    struct epoll_event evs[64];
    while (!atomic_load(&rt->stopping)) {
        int timeout = -1;
        pthread_mutex_lock(&rt->timer_lock);
        if (rt->nheap) {
            int64_t d = rt->heap[0]->deadline - lt_now_ns();
            int64_t ms = (d + 999999) / 1000000;
            timeout = d <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
        }
        pthread_mutex_unlock(&rt->timer_lock);
        int n = epoll_wait(rt->epfd, evs, 64, timeout);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == rt->evfd) {
                uint64_t v;
                ssize_t r = read(rt->evfd, &v, sizeof v);
                (void)r;
                continue;
            }
            fd_fired(rt, evs[i].data.fd);
        }
        /* fire what is due */
        int64_t now = lt_now_ns();
        for (;;) {
            pthread_mutex_lock(&rt->timer_lock);
            lt_timer *t = NULL;
            if (rt->nheap && rt->heap[0]->deadline <= now)
                t = heap_pop(rt);
            pthread_mutex_unlock(&rt->timer_lock);
            if (!t)
                break;
            fire(t);
        }
    }
    return NULL;
}

/* ---- runtime creation ------------------------------------------------------- */

lunatic_runtime *lunatic_runtime_new(const lunatic_options *opt)
{
    /* glibc gives each worker thread its own arena, which grows its heap
     * by one mprotect call per small step: with a million processes that
     * was a fifth of spawn time. One arena, grown in 8 MiB steps (pages are
     * still committed only when touched), avoids it; with one worker per
     * core the shared arena lock is rarely contended. */
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TOP_PAD, 8 << 20);
    lt_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rt->nworkers = opt && opt->threads ? opt->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    rt->reductions = opt && opt->reductions ? opt->reductions : 20000;
    rt->ticks0 = lt_ticks();
    rt->ns0 = lt_now_ns();
    const char *log = getenv("LUNATIC_LOG");
    if (!log)
        log = getenv("RUST_LOG");
    rt->log_debug = log && (strstr(log, "debug") || strstr(log, "trace"));
    pthread_mutex_init(&rt->idle_lock, NULL);
    pthread_cond_init(&rt->idle_cond, NULL);
    pthread_mutex_init(&rt->env_lock, NULL);
    pthread_mutex_init(&rt->timer_lock, NULL);
    pthread_mutex_init(&rt->done_lock, NULL);
    pthread_mutex_init(&rt->poll_lock, NULL);
    pthread_cond_init(&rt->done_cond, NULL);
    rt->epfd = epoll_create1(EPOLL_CLOEXEC);
    rt->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = rt->evfd};
    if (rt->epfd < 0 || rt->evfd < 0 || epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->evfd, &ev) < 0)
        goto fail;
    rt->workers = calloc(rt->nworkers, sizeof *rt->workers);
    if (!rt->workers)
        goto fail;
    if (pthread_create(&rt->poller, NULL, poller_main, rt) != 0)
        goto fail;
    for (unsigned i = 0; i < rt->nworkers; i++) {
        rt->workers[i].rt = rt;
        rt->workers[i].index = i;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 1 << 20);
        if (pthread_create(&rt->workers[i].thread, &a, worker_main, &rt->workers[i]) != 0) {
            pthread_attr_destroy(&a);
            fprintf(stderr, "lunatic: cannot start worker threads\n");
            exit(1);
        }
        pthread_attr_destroy(&a);
    }
    return rt;
fail:
    if (rt->epfd >= 0)
        close(rt->epfd);
    if (rt->evfd >= 0)
        close(rt->evfd);
    free(rt->workers);
    free(rt);
    return NULL;
}

void lunatic_runtime_free(lunatic_runtime *rt)
{
    if (!rt)
        return;
    atomic_store(&rt->stopping, true);
    pthread_mutex_lock(&rt->idle_lock);
    pthread_cond_broadcast(&rt->idle_cond);
    pthread_mutex_unlock(&rt->idle_lock);
    uint64_t one = 1;
    ssize_t wr = write(rt->evfd, &one, sizeof one);
    (void)wr;
    for (unsigned i = 0; i < rt->nworkers; i++)
        pthread_join(rt->workers[i].thread, NULL);
    pthread_join(rt->poller, NULL);

    /* Every live process is in its environment's table (a queued one too:
     * queues only link processes the tables own). */
    for (lt_env *e = rt->envs, *next; e; e = next) {
        next = e->next;
        for (int s = 0; s < LT_SHARDS; s++) {
            lt_shard *sh = &e->shards[s];
            for (uint32_t i = 0; i < sh->cap; i++)
                if (sh->keys[i] != 0 && sh->keys[i] != UINT64_MAX)
                    lt_process_destroy(sh->vals[i]);
            free(sh->keys);
            free(sh->vals);
            pthread_mutex_destroy(&sh->lock);
        }
        free(e);
    }
    /* what is left in the heap: send_after timers, stale wake timers */
    for (uint32_t i = 0; i < rt->nheap; i++)
        lt_timer_release(rt->heap[i]);
    free(rt->heap);
    for (int fd = 0; fd < rt->fd_table_len; fd++)
        free(rt->fd_table[fd].w);
    free(rt->fd_table);
    while (rt->done) {
        lt_done *d = rt->done;
        rt->done = d->next;
        free(d);
    }
    close(rt->epfd);
    close(rt->evfd);
    free(rt->workers);
    pthread_mutex_destroy(&rt->idle_lock);
    pthread_cond_destroy(&rt->idle_cond);
    pthread_mutex_destroy(&rt->env_lock);
    pthread_mutex_destroy(&rt->timer_lock);
    pthread_mutex_destroy(&rt->done_lock);
    pthread_cond_destroy(&rt->done_cond);
    pthread_mutex_destroy(&rt->poll_lock);
    free(rt);
}
