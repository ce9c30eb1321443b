/*
 * timer.h - timers: a process's wake-up at a deadline (receive timeouts,
 * sleep_ms, WASI sleeps) and messages sent later (send_after). The poller
 * thread (poller.c) fires them.
 *
 * A timer is refcounted: the heap holds one reference while it is pending,
 * the creator another. Firing and cancelling race through an atomic state,
 * so exactly one of them wins.
 */
#ifndef LUNATIC_RT_TIMER_H
#define LUNATIC_RT_TIMER_H

#include <pthread.h>

#include "rt/base.h"

/* The pending timers of a runtime: a binary heap by deadline, each timer
 * knowing its index so a cancelled one leaves at once. */
typedef struct lt_timers {
    pthread_mutex_t lock;
    lt_timer **heap;
    uint32_t n, cap;
    /* when the poller wakes by itself (INT64_MAX: never); a new timer
     * kicks it only if it is due earlier */
    int64_t sleep_until;
} lt_timers;

int lt_timers_init(lt_timers *ts);
/* Drops every pending timer and frees the heap. */
void lt_timers_free(lt_timers *ts);
/* The earliest deadline (CLOCK_MONOTONIC ns), or -1 when none; the
 * poller's, which then sleeps until that deadline. */
int64_t lt_timers_next(lt_timers *ts);
/* Fires every timer due at now. */
void lt_timers_fire_due(lt_timers *ts, int64_t now);

/* Wakes p at deadline for its current wait (a wake for a wait that is
 * over is ignored). 0 with a reference for lt_timer_cancel in *t (NULL if
 * it fired already), or -1 when out of memory (no timer). */
int lt_timer_wake(lt_runtime *rt, lt_process *p, int64_t deadline, lt_timer **t);
/* Cancels and drops p's wake timer, if any (its wait is over). */
void lt_disarm(lt_process *p);
/* Sends msg (owned by the timer from now on) to pid at deadline. Returns
 * the caller's reference, or NULL when out of memory (msg freed). */
lt_timer *lt_timer_send_after(lt_runtime *rt, lt_env *env, uint64_t pid, lt_signal *msg,
                              int64_t deadline);
/* 1 if t was still pending (it will not fire now), else 0. */
int lt_timer_cancel(lt_runtime *rt, lt_timer *t);
/* Fired or cancelled. */
bool lt_timer_done(const lt_timer *t);
/* Drops a reference. NULL is ignored. */
void lt_timer_release(lt_timer *t);
/* What the creator's memory account (account.h) holds for t: its message,
 * from send_after until the creator drops its handle (api/timer.c). */
void lt_timer_set_charged(lt_timer *t, uint64_t bytes);
uint64_t lt_timer_charged(const lt_timer *t);

#endif
