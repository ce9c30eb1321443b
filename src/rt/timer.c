/*
 * timer.c - timers (timer.h): a binary heap by deadline under one mutex,
 * fired by the poller thread.
 *
 * The heap keeps each timer's index, so a cancelled timer leaves it at
 * once: a guest that sets and cancels long timers in a loop does not grow
 * the heap, and every operation costs O(log n) in the number of pending
 * timers.
 */
#include <stdlib.h>

#include "rt/env.h"
#include "rt/poller.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/signal.h"
#include "rt/stats.h"
#include "rt/timer.h"

enum { TIMER_WAKE, TIMER_SEND };
enum { T_PENDING, T_FIRED, T_CANCELLED };

struct lt_timer {
    int64_t deadline;
    uint32_t heap_index;        /* position in the heap, under the heap's lock */
    bool in_heap;
    atomic_int refs;
    atomic_int state;
    uint8_t kind;
    lt_env *env;
    uint64_t pid, seq;
    lt_signal *msg;
    uint64_t charged;           /* lt_timer_set_charged */
};

void lt_timer_set_charged(lt_timer *t, uint64_t bytes) { t->charged = bytes; }
uint64_t lt_timer_charged(const lt_timer *t) { return t->charged; }

/* ---- the heap (all under ts->lock) ------------------------------------------- */

static bool heap_less(const lt_timer *a, const lt_timer *b) { return a->deadline < b->deadline; }

static void heap_set(lt_timers *ts, uint32_t i, lt_timer *t)
{
    ts->heap[i] = t;
    t->heap_index = i;
}

static void sift_up(lt_timers *ts, uint32_t i)
{
    lt_timer *t = ts->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(t, ts->heap[parent]))
            break;
        heap_set(ts, i, ts->heap[parent]);
        i = parent;
    }
    heap_set(ts, i, t);
}

static void sift_down(lt_timers *ts, uint32_t i)
{
    lt_timer *t = ts->heap[i];
    uint32_t n = ts->n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(ts->heap[c + 1], ts->heap[c]))
            c++;
        if (!heap_less(ts->heap[c], t))
            break;
        heap_set(ts, i, ts->heap[c]);
        i = c;
    }
    heap_set(ts, i, t);
}

static int heap_push(lt_timers *ts, lt_timer *t)
{
    if (ts->n == ts->cap) {
        uint32_t cap = ts->cap ? ts->cap * 2 : 64;
        lt_timer **h = realloc(ts->heap, cap * sizeof *h);
        if (!h)
            return -1;
        ts->heap = h;
        ts->cap = cap;
    }
    ts->heap[ts->n] = t;
    t->in_heap = true;
    sift_up(ts, ts->n++);
    return 0;
}

static void heap_remove(lt_timers *ts, uint32_t i)
{
    lt_timer *t = ts->heap[i];
    t->in_heap = false;
    lt_timer *last = ts->heap[--ts->n];
    if (i == ts->n)
        return;
    heap_set(ts, i, last);
    sift_down(ts, i);
    sift_up(ts, last->heap_index);
}

/* ---- the runtime's timers ------------------------------------------------------ */

int lt_timers_init(lt_timers *ts)
{
    ts->heap = NULL;
    ts->n = ts->cap = 0;
    ts->sleep_until = INT64_MAX;
    return pthread_mutex_init(&ts->lock, NULL) == 0 ? 0 : -1;
}

void lt_timers_free(lt_timers *ts)
{
    /* what is left: send_after timers, stale wake timers */
    for (uint32_t i = 0; i < ts->n; i++) {
        if (ts->heap[i]->kind == TIMER_SEND)
            lt_stat_add(LT_STAT_TIMERS_CANCELED, 1);
        lt_timer_release(ts->heap[i]);
    }
    free(ts->heap);
    ts->heap = NULL;
    ts->n = ts->cap = 0;
    pthread_mutex_destroy(&ts->lock);
}

int64_t lt_timers_next(lt_timers *ts)
{
    pthread_mutex_lock(&ts->lock);
    int64_t d = ts->n ? ts->heap[0]->deadline : -1;
    ts->sleep_until = d < 0 ? INT64_MAX : d;
    pthread_mutex_unlock(&ts->lock);
    return d;
}

/* 0, or -1 when out of memory (t is not in the heap, nobody else saw it). */
static int add_timer(lt_runtime *rt, lt_timer *t)
{
    lt_timers *ts = &rt->timers;
    pthread_mutex_lock(&ts->lock);
    if (heap_push(ts, t) < 0) {
        pthread_mutex_unlock(&ts->lock);
        return -1;
    }
    /* Not "earlier than the heap's first": a receive with a timeout in a
     * loop arms a timer into an empty heap each time (its last one was
     * cancelled), and a kick per receive was a wake-up of the poller per
     * message. The poller sleeps until an older deadline then, and wakes
     * once to find nothing due. */
    bool earliest = t->deadline < ts->sleep_until;
    if (earliest)
        ts->sleep_until = t->deadline;
    pthread_mutex_unlock(&ts->lock);
    if (earliest)
        lt_poller_kick(rt);
    return 0;
}

int lt_timer_wake(lt_runtime *rt, lt_process *p, int64_t deadline, lt_timer **out)
{
    *out = NULL;
    lt_timer *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->deadline = deadline;
    atomic_init(&t->refs, 2); /* the heap and the process */
    t->kind = TIMER_WAKE;
    t->env = p->env;
    t->pid = p->pid;
    t->seq = p->wait_seq;
    if (add_timer(rt, t) < 0) {
        free(t);
        return -1;
    }
    /* already fired: nothing left to cancel; our reference kept it alive
     * until here */
    if (lt_timer_done(t))
        lt_timer_release(t);
    else
        *out = t;
    return 0;
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
    lt_stat_add(LT_STAT_TIMERS_STARTED, 1);
    if (add_timer(rt, t) < 0) {
        lt_stat_add(LT_STAT_TIMERS_CANCELED, 1);
        lt_signal_free(msg);
        free(t);
        return NULL;
    }
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
    if (t->kind == TIMER_SEND)
        lt_stat_add(LT_STAT_TIMERS_CANCELED, 1);
    lt_timers *ts = &rt->timers;
    pthread_mutex_lock(&ts->lock);
    bool removed = t->in_heap;
    if (removed)
        heap_remove(ts, t->heap_index);
    pthread_mutex_unlock(&ts->lock);
    if (removed)
        lt_timer_release(t); /* the heap's reference */
    return 1;
}

bool lt_timer_done(const lt_timer *t) { return atomic_load(&t->state) != T_PENDING; }

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
        lt_stat_add(LT_STAT_TIMERS_COMPLETED, 1);
        lt_send(t->env, t->pid, m);
    } else {
        lt_send_wake(t->env, t->pid, t->seq);
    }
    lt_timer_release(t);
}

void lt_timers_fire_due(lt_timers *ts, int64_t now)
{
    for (;;) {
        pthread_mutex_lock(&ts->lock);
        lt_timer *t = NULL;
        if (ts->n && ts->heap[0]->deadline <= now) {
            t = ts->heap[0];
            heap_remove(ts, 0);
        }
        pthread_mutex_unlock(&ts->lock);
        if (!t)
            break;
        fire(t);
    }
}
