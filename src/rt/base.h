/*
 * base.h - what every file of the process runtime (src/rt) shares: the
 * names of its types, the clocks and the spinlock.
 *
 * The runtime layer sits above the engine (src/wasm) and WASI (src/wasi)
 * and below the host API (src/api). Its headers are internal and narrow,
 * one per concept; docs/ARCHITECTURE.md shows how they fit.
 *
 * Error convention of the layer: a function that can fail returns int, 0
 * on success and -1 on failure (with a one-line reason in an err buffer
 * where the caller needs one), and hands results back through pointers; a
 * function returning a pointer returns NULL on failure; bool is only for
 * questions (lt_env_exists). Nothing in the layer exits or aborts.
 */
#ifndef LUNATIC_RT_BASE_H
#define LUNATIC_RT_BASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lt_runtime lt_runtime;
typedef struct lt_env lt_env;
typedef struct lt_process lt_process;
typedef struct lt_signal lt_signal;
typedef struct lt_config lt_config;
typedef struct lt_module lt_module;
typedef struct lt_registry lt_registry;
typedef struct lt_timer lt_timer;

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t lt_now_ns(void);

/* A cheaper clock for run-queue ages, read at every enqueue: the TSC on
 * x86 (10 ns here, clock_gettime 25 ns: 15% of a ping-pong round trip),
 * else lt_now_ns. Its rate is learnt against lt_now_ns (sched.c). */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline int64_t lt_ticks(void) { return (int64_t)__rdtsc(); }
static inline void lt_cpu_relax(void) { __builtin_ia32_pause(); }
#else
static inline int64_t lt_ticks(void) { return lt_now_ns(); }
static inline void lt_cpu_relax(void) {}
#endif

/* A test-and-test-and-set spinlock, for sections of a few instructions.
 * A holder preempted inside one (more threads than cores: workers, the
 * poller, the blocking pool) would keep a waiter spinning for the rest of
 * its time slice, so after a few hundred pauses the waiter gives its core
 * away. */
void lt_spin_wait(atomic_int *l);
static inline void lt_spin_lock(atomic_int *l)
{
    while (atomic_exchange_explicit(l, 1, memory_order_acquire))
        lt_spin_wait(l);
}
static inline void lt_spin_unlock(atomic_int *l) { atomic_store_explicit(l, 0, memory_order_release); }

#endif
