/*
 * stats.h - the runtime's own metrics (docs/ABI.md §3.3): counters and
 * histograms the runtime records at spawns, signals, messages, links,
 * deaths, compiles, timers and registry calls.
 *
 * Recording must cost next to nothing on the hot paths (send, receive,
 * spawn, a slice), so each worker thread records into a block of its own:
 * a plain load, add and store, with no atomic read-modify-write and no
 * shared cache line. The blocks are merged when someone reads them
 * (lt_stats_visit, from an exporter's thread). Threads that are not
 * workers (the poller, the embedder's threads) share one block and add
 * with atomic read-modify-writes.
 *
 * Concurrency: a block is written only by the thread it is attached to;
 * its cells are relaxed atomics so that readers may load them at any time
 * (on x86 a relaxed load or store is a plain mov). A reader sees each cell
 * at some recent value; a gauge computed as a difference of two counters
 * recorded on different threads may lag for an instant (it is clamped at
 * 0). Blocks are never freed: a thread that ends returns its block, with
 * its counts, for the next thread to continue.
 *
 * The numbers are process-wide, like the metrics store (metrics.h): every
 * runtime in the process adds to the same counters.
 */
#ifndef LUNATIC_RT_STATS_H
#define LUNATIC_RT_STATS_H

#include "rt/base.h"

typedef enum lt_stat {
    LT_STAT_NONE,                 /* never recorded: 0 means "none" in stats.c's tables */
    LT_STAT_SIGNALS_SENT_WASM,    /* signals sent, by the target's kind (not wakes) */
    LT_STAT_SIGNALS_SENT_NATIVE,
    LT_STAT_SIGNALS_CONTROL,      /* signals other than messages handled by their target
                                   * (kill, link, monitor, LinkDied, ...; not wakes) */
    LT_STAT_MSG_LINK_DIED,        /* LinkDied messages put in mailboxes */
    LT_STAT_MSG_PROCESS_DIED,     /* ProcessDied messages put in mailboxes */
    LT_STAT_MAILBOX_OUT,          /* messages that left a mailbox (taken or freed) */
    LT_STAT_LINKS_UP,             /* links gained, at the end with the lower pid */
    LT_STAT_LINKS_DOWN,
    LT_STAT_SPAWNED_WASM,         /* processes that entered an environment */
    LT_STAT_SPAWNED_NATIVE,
    LT_STAT_PROCS_OUT,            /* processes that left an environment */
    LT_STAT_EXIT_NORMAL,          /* processes that ended, by how */
    LT_STAT_EXIT_FAILURE,
    LT_STAT_EXIT_KILLED,
    LT_STAT_ENVS_CREATED,
    LT_STAT_ENVS_FREED,
    LT_STAT_MODULES_COMPILED,
    LT_STAT_MODULES_DROPPED,
    LT_STAT_CONFIGS_CREATED,
    LT_STAT_CONFIGS_DROPPED,
    LT_STAT_TIMERS_STARTED,       /* send_after timers (not internal wake-ups) */
    LT_STAT_TIMERS_COMPLETED,
    LT_STAT_TIMERS_CANCELED,
    LT_STAT_REGISTRY_WRITE,       /* put calls */
    LT_STAT_REGISTRY_READ,        /* get calls */
    LT_STAT_REGISTRY_DELETION,    /* remove calls */
    LT_STAT_NAMES_ADDED,          /* names that came to exist */
    LT_STAT_NAMES_REMOVED,        /* names that went (remove, death, registry freed) */
    LT_STAT_DATA_MESSAGES,        /* not recorded: the count of LT_HIST_MSG_SIZE */
    LT_STAT_COUNT
} lt_stat;

typedef enum lt_hist {
    LT_HIST_MSG_SIZE,       /* bytes of each data message, at delivery */
    LT_HIST_MSG_RESOURCES,  /* resources of each data message; only those with
                             * some are recorded (see stats.c) */
    LT_HIST_LIFETIME,       /* ns from spawn to end */
    LT_HIST_COMPILE,        /* ns per module compile */
    LT_HIST_COUNT
} lt_hist;

/* Buckets per histogram, the last one +Inf (bound UINT64_MAX); shorter
 * bucket lists are padded with UINT64_MAX. */
#define LT_HIST_NB 12
extern const uint64_t lt_hist_bounds[LT_HIST_COUNT][LT_HIST_NB];

typedef struct lt_stats {
    _Atomic uint64_t c[LT_STAT_COUNT];
    struct {
        _Atomic uint64_t sum;
        _Atomic uint64_t b[LT_HIST_NB];    /* not cumulative */
    } h[LT_HIST_COUNT];
    struct lt_stats *next;                 /* every block, under the list's lock */
    bool attached;
} lt_stats;

/* The calling thread's block, or NULL (not attached: the shared block). */
extern _Thread_local lt_stats *lt_stats_self;

/* Attaches a block to the calling thread (a worker, the poller) if
 * recording is on; a no-op when out of memory (the thread then records
 * into the shared block). Detach before the thread ends. */
void lt_stats_attach(void);
void lt_stats_detach(void);

/* Turns recording on or off for the whole process (default on). Set it
 * before starting runtimes: threads attached meanwhile keep recording. */
void lt_stats_set_enabled(bool on);
bool lt_stats_enabled(void);

/* The out-of-line halves of the recorders below (shared block), called
 * while recording is on (lt_stats_on is lt_stats_enabled's flag: checked
 * inline, so that off costs the hot paths no call). */
extern atomic_bool lt_stats_on;
void lt_stat_add_shared(lt_stat s, uint64_t v);
void lt_hist_add_shared(lt_hist h, size_t bucket, uint64_t v);

static inline void lt_stat_cell_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* Adds v to counter s. */
static inline void lt_stat_add(lt_stat s, uint64_t v)
{
    lt_stats *b = lt_stats_self;
    if (__builtin_expect(b != NULL, 1))
        lt_stat_cell_add(&b->c[s], v);
    else if (atomic_load_explicit(&lt_stats_on, memory_order_relaxed))
        lt_stat_add_shared(s, v);
}

/* Records v in histogram h. */
static inline void lt_hist_record(lt_hist h, uint64_t v)
{
    size_t i = 0;
    while (v > lt_hist_bounds[h][i])
        i++;   /* ends at the +Inf bucket at the latest */
    lt_stats *b = lt_stats_self;
    if (__builtin_expect(b != NULL, 1)) {
        lt_stat_cell_add(&b->h[h].b[i], 1);
        lt_stat_cell_add(&b->h[h].sum, v);
    } else if (atomic_load_explicit(&lt_stats_on, memory_order_relaxed)) {
        lt_hist_add_shared(h, i, v);
    }
}

/* Records a data message of len bytes in LT_HIST_MSG_SIZE, whose bounds
 * are 16 * 4^k: the bucket comes from the bit length, not a search (this
 * runs for every message delivered). */
static inline size_t lt_msg_size_bucket(uint64_t len)
{
    if (len <= 16)
        return 0;
    unsigned bits = 64u - (unsigned)__builtin_clzll(len - 1);   /* ceil(log2(len)) */
    size_t i = (bits - 3) / 2;
    return i < LT_HIST_NB - 1 ? i : LT_HIST_NB - 1;
}

static inline void lt_stat_msg_size(uint64_t len)
{
    lt_stats *b = lt_stats_self;
    if (__builtin_expect(b != NULL, 1)) {
        size_t i = lt_msg_size_bucket(len);
        lt_stat_cell_add(&b->h[LT_HIST_MSG_SIZE].b[i], 1);
        lt_stat_cell_add(&b->h[LT_HIST_MSG_SIZE].sum, len);
    } else if (atomic_load_explicit(&lt_stats_on, memory_order_relaxed)) {
        lt_hist_add_shared(LT_HIST_MSG_SIZE, lt_msg_size_bucket(len), len);
    }
}

/* The merged values (readers): every counter (LT_STAT_DATA_MESSAGES
 * filled in), and each histogram's sum and non-cumulative buckets. */
typedef struct lt_stats_totals {
    uint64_t c[LT_STAT_COUNT];
    uint64_t hsum[LT_HIST_COUNT];
    uint64_t hb[LT_HIST_COUNT][LT_HIST_NB];
} lt_stats_totals;
void lt_stats_read(lt_stats_totals *t);

#endif
