/*
 * metrics.c - the process-wide metrics store (metrics.h) and the reading of
 * every metric for exporters.
 *
 * The store is an open-addressing hash table of pointers to metrics, keyed
 * by (kind, name), under a read-write lock: lookups take the read lock,
 * creation the write lock. Metrics are never removed (except by
 * lt_metrics_reset), so a pointer found stays valid; values are updated
 * with atomics (f64 values as their bit patterns, added with a CAS loop).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rt/metrics.h"
#include "rt/stats.h"

/* 1-2.5-5 steps from 1 ms (or 1 byte / 1 item) up to 10^6: covers the
 * runtime's durations in seconds and its sizes in bytes. */
const double lt_metrics_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,     2.5,   5,
    10,    25,     50,    100,  250,   500,  1e3, 2.5e3, 5e3, 1e4, 2.5e4, 5e4,
    1e5,   2.5e5,  5e5,   1e6,
};
#define NBUCKETS (sizeof lt_metrics_buckets / sizeof lt_metrics_buckets[0])
const size_t lt_metrics_nbuckets = NBUCKETS;

struct lt_metric {
    lt_metric_kind kind;
    uint32_t len;
    uint64_t hash;
    atomic_uint_fast64_t value;        /* counter: u64; gauge: f64 bits */
    atomic_uint_fast64_t count;        /* histogram */
    atomic_uint_fast64_t sum;          /* histogram: f64 bits */
    atomic_uint_fast64_t *buckets;     /* histogram: NBUCKETS, not cumulative */
    char name[];
};

static pthread_rwlock_t store_lock = PTHREAD_RWLOCK_INITIALIZER;
static lt_metric **slots;   /* cap entries, NULL = empty */
static size_t cap, count;

static uint64_t hash_name(lt_metric_kind kind, const char *name, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)name[i];
        h *= 1099511628211ull;
    }
    return h;
}

static lt_metric *find_locked(lt_metric_kind kind, const char *name, size_t len, uint64_t h)
{
    if (!cap)
        return NULL;
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        lt_metric *m = slots[i];
        if (!m)
            return NULL;
        if (m->hash == h && m->kind == kind && m->len == len && !memcmp(m->name, name, len))
            return m;
    }
}

static int grow_locked(void)
{
    size_t ncap = cap ? cap * 2 : 64;
    lt_metric **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < cap; i++) {
        lt_metric *m = slots[i];
        if (!m)
            continue;
        size_t j = m->hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = m;
    }
    free(slots);
    slots = ns;
    cap = ncap;
    return 0;
}

static void metric_free(lt_metric *m)
{
    if (m) {
        free(m->buckets);
        free(m);
    }
}

lt_metric *lt_metrics_get(lt_metric_kind kind, const char *name, size_t len)
{
    if (len > LT_METRICS_NAME_MAX || (len && !name))
        return NULL;
    uint64_t h = hash_name(kind, name, len);
    pthread_rwlock_rdlock(&store_lock);
    lt_metric *m = find_locked(kind, name, len, h);
    pthread_rwlock_unlock(&store_lock);
    if (m)
        return m;

    pthread_rwlock_wrlock(&store_lock);
    m = find_locked(kind, name, len, h);
    if (m || count >= LT_METRICS_MAX)
        goto out;
    if ((count + 1) * 2 > cap && grow_locked() != 0)
        goto out;
    lt_metric *nm = calloc(1, sizeof *nm + len + 1);
    if (!nm)
        goto out;
    nm->kind = kind;
    nm->len = (uint32_t)len;
    nm->hash = h;
    if (len)
        memcpy(nm->name, name, len);
    if (kind == LT_METRIC_HISTOGRAM) {
        nm->buckets = calloc(NBUCKETS, sizeof *nm->buckets);
        if (!nm->buckets) {
            free(nm);
            goto out;
        }
    }
    size_t i = h & (cap - 1);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = nm;
    count++;
    m = nm;
out:
    pthread_rwlock_unlock(&store_lock);
    return m;
}

static uint64_t f2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double u2f(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void atomic_fadd(atomic_uint_fast64_t *a, double v)
{
    uint_fast64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, f2u(u2f(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void lt_metric_counter_add(lt_metric *m, uint64_t v)
{
    if (m && m->kind == LT_METRIC_COUNTER)
        atomic_fetch_add_explicit(&m->value, v, memory_order_relaxed);
}

void lt_metric_gauge_set(lt_metric *m, double v)
{
    if (m && m->kind == LT_METRIC_GAUGE)
        atomic_store_explicit(&m->value, f2u(v), memory_order_relaxed);
}

void lt_metric_gauge_add(lt_metric *m, double v)
{
    if (m && m->kind == LT_METRIC_GAUGE)
        atomic_fadd(&m->value, v);
}

void lt_metric_histogram_record(lt_metric *m, double v)
{
    if (!m || m->kind != LT_METRIC_HISTOGRAM)
        return;
    /* NaN falls in no finite bucket (only +Inf) */
    size_t i = 0;
    while (i < NBUCKETS && !(v <= lt_metrics_buckets[i]))
        i++;
    if (i < NBUCKETS)
        atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
    atomic_fadd(&m->sum, v);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

void lt_metrics_counter_add(const char *name, size_t len, uint64_t v)
{
    lt_metric_counter_add(lt_metrics_get(LT_METRIC_COUNTER, name, len), v);
}

void lt_metrics_gauge_set(const char *name, size_t len, double v)
{
    lt_metric_gauge_set(lt_metrics_get(LT_METRIC_GAUGE, name, len), v);
}

void lt_metrics_gauge_add(const char *name, size_t len, double v)
{
    lt_metric_gauge_add(lt_metrics_get(LT_METRIC_GAUGE, name, len), v);
}

void lt_metrics_histogram_record(const char *name, size_t len, double v)
{
    lt_metric_histogram_record(lt_metrics_get(LT_METRIC_HISTOGRAM, name, len), v);
}

/* Lookups without creating. */
static lt_metric *lookup(lt_metric_kind kind, const char *name, size_t len)
{
    uint64_t h = hash_name(kind, name, len);
    pthread_rwlock_rdlock(&store_lock);
    lt_metric *m = find_locked(kind, name, len, h);
    pthread_rwlock_unlock(&store_lock);
    return m;
}

uint64_t lt_metrics_counter_value(const char *name, size_t len)
{
    lt_metric *m = lookup(LT_METRIC_COUNTER, name, len);
    return m ? atomic_load_explicit(&m->value, memory_order_relaxed) : 0;
}

double lt_metrics_gauge_value(const char *name, size_t len)
{
    lt_metric *m = lookup(LT_METRIC_GAUGE, name, len);
    return m ? u2f(atomic_load_explicit(&m->value, memory_order_relaxed)) : 0;
}

uint64_t lt_metrics_histogram_count(const char *name, size_t len)
{
    lt_metric *m = lookup(LT_METRIC_HISTOGRAM, name, len);
    return m ? atomic_load_explicit(&m->count, memory_order_relaxed) : 0;
}

double lt_metrics_histogram_sum(const char *name, size_t len)
{
    lt_metric *m = lookup(LT_METRIC_HISTOGRAM, name, len);
    return m ? u2f(atomic_load_explicit(&m->sum, memory_order_relaxed)) : 0;
}

void lt_metrics_reset(void)
{
    pthread_rwlock_wrlock(&store_lock);
    for (size_t i = 0; i < cap; i++)
        metric_free(slots[i]);
    free(slots);
    slots = NULL;
    cap = count = 0;
    pthread_rwlock_unlock(&store_lock);
}


/* ---- reading everything ---------------------------------------------------------- */

static int cmp_metric(const void *a, const void *b)
{
    const lt_metric *x = *(const lt_metric *const *)a, *y = *(const lt_metric *const *)b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static void visit_named(const lt_metric *m, lt_metric_visit_fn fn, void *ud)
{
    lt_metric_view v = {.name = m->name, .len = m->len, .kind = m->kind};
    uint64_t cum[NBUCKETS];
    switch (m->kind) {
    case LT_METRIC_COUNTER:
        v.count = atomic_load_explicit(&m->value, memory_order_relaxed);
        break;
    case LT_METRIC_GAUGE:
        v.value = u2f(atomic_load_explicit(&m->value, memory_order_relaxed));
        break;
    case LT_METRIC_HISTOGRAM: {
        /* count first: a concurrent record may make buckets lag, never
         * exceed what +Inf shows */
        v.count = atomic_load_explicit(&m->count, memory_order_relaxed);
        v.value = u2f(atomic_load_explicit(&m->sum, memory_order_relaxed));
        uint64_t c = 0;
        for (size_t i = 0; i < NBUCKETS; i++) {
            c += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
            cum[i] = c < v.count ? c : v.count;
        }
        v.nbuckets = NBUCKETS;
        v.le = lt_metrics_buckets;
        v.cumulative = cum;
        break;
    }
    }
    fn(&v, ud);
}

void lt_metrics_visit(lt_metric_visit_fn fn, void *ud)
{
    lt_stats_visit(fn, ud);
    pthread_rwlock_rdlock(&store_lock);
    lt_metric **list = count ? malloc(count * sizeof *list) : NULL;
    size_t n = 0;
    if (list) {
        for (size_t i = 0; i < cap; i++)
            if (slots[i] && !lt_stats_is_family(slots[i]->name, slots[i]->len))
                list[n++] = slots[i];
        qsort(list, n, sizeof *list, cmp_metric);
        for (size_t i = 0; i < n; i++)
            visit_named(list[i], fn, ud);
        free(list);
    }
    pthread_rwlock_unlock(&store_lock);
}
