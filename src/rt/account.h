/*
 * account.h - a process's memory account: what it holds outside its
 * linear memory, counted with that memory against one limit (the config's
 * max_memory, capped by the spawner's).
 *
 * Counted ("host" bytes): every signal in its inbox and mailbox (a message
 * with its buffer), the message it builds or reads (the scratch area), and
 * the entries of its resource tables at a fixed estimate per kind
 * (idtab.h). Without this a process could take the machine's memory with
 * its limit untouched: 2.9 M messages to itself, 1 GB in 4 s, or one
 * message written 64 KiB at a time (tests/fuzz/hostcalls/FINDINGS.md 2).
 *
 * Threads: the message path takes no locked instruction of its own (one
 * per message cost ping-pong 15%). `own` and `consumed` change only on the
 * process's own worker, `delivered` only under the process's lock, which a
 * sender (lt_send) holds anyway to append to the inbox: each is changed by
 * a plain load and store. `linear` is written by the process's own worker
 * (the engine's memory.grow hook); senders read them all; `limit` is set
 * before the process can be reached and never changes.
 */
#ifndef LUNATIC_RT_ACCOUNT_H
#define LUNATIC_RT_ACCOUNT_H

#include "rt/base.h"

typedef struct lt_account {
    /* What it made itself (its scratch message, its table entries):
     * changed only by its own thread, by a load and a store (no locked
     * instruction: this is on the message path), read by senders. */
    _Atomic int64_t own;
    /* Bytes of the signals delivered to it, ever (senders, under the
     * process's lock), and of those it has freed (its own thread): the
     * difference is what its inbox and mailbox hold. */
    _Atomic uint64_t delivered, consumed;
    _Atomic uint64_t linear;   /* bytes of linear memory (its own thread writes) */
    uint64_t limit;            /* own + delivered + linear may not exceed it; 0 = no limit */
    bool refused;              /* the owner's last refused charge (for its trap message) */
} lt_account;

/* Bytes held outside linear memory (a racy sum: senders add meanwhile). */
static inline uint64_t lt_account_held(const lt_account *a)
{
    int64_t h = atomic_load_explicit(&a->own, memory_order_relaxed) +
                (int64_t)(atomic_load_explicit(&a->delivered, memory_order_relaxed) -
                          atomic_load_explicit(&a->consumed, memory_order_relaxed));
    return h > 0 ? (uint64_t)h : 0;
}

/* Whether n more bytes fit. */
static inline bool lt_account_fits(const lt_account *a, uint64_t n)
{
    if (!a->limit)
        return true;
    uint64_t used = lt_account_held(a) + atomic_load_explicit(&a->linear, memory_order_relaxed);
    return used <= a->limit && n <= a->limit - used;
}

static inline void own_add(lt_account *a, int64_t n)
{
    atomic_store_explicit(&a->own, atomic_load_explicit(&a->own, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Charges n bytes the process makes itself (its own thread only): 0, or
 * -1 with nothing charged when the limit would be exceeded (a->refused is
 * set then, for the message of the trap that usually follows). */
static inline int lt_account_charge(lt_account *a, uint64_t n)
{
    if (!lt_account_fits(a, n)) {
        a->refused = true;
        return -1;
    }
    own_add(a, (int64_t)n);
    return 0;
}

/* Releases n bytes charged with lt_account_charge (its own thread). */
static inline void lt_account_release(lt_account *a, uint64_t n) { own_add(a, -(int64_t)n); }

/* A sender delivers a signal of n bytes, holding the process's lock
 * (whoever decides to refuse checks lt_account_fits first). */
static inline void lt_account_deliver(lt_account *a, uint64_t n)
{
    atomic_store_explicit(&a->delivered, atomic_load_explicit(&a->delivered, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* The process frees a delivered signal of n bytes (its own thread). */
static inline void lt_account_drop_delivered(lt_account *a, uint64_t n)
{
    atomic_store_explicit(&a->consumed, atomic_load_explicit(&a->consumed, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A delivered message of n bytes becomes the process's own (received into
 * its scratch area, where lt_account_release frees it). */
static inline void lt_account_adopt(lt_account *a, uint64_t n)
{
    lt_account_drop_delivered(a, n);
    own_add(a, (int64_t)n);
}

#endif
