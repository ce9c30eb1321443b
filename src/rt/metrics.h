/*
 * metrics.h - the process-wide metrics store (docs/ABI.md §2.11, §3.3) and
 * one way to read every metric, for exporters.
 *
 * Two sources. The runtime's own metrics are fixed families recorded into
 * per-thread blocks (stats.h) and merged when read. Named metrics are
 * counters (u64), gauges (f64) and histograms (count, sum, buckets), each
 * identified by its kind and name, created on first use and kept until
 * the process exits: guests record them through lunatic::metrics.
 *
 * Every function is thread-safe. Recording by name costs a hash lookup
 * under a read lock; a caller that records often can look a metric up
 * once (lt_metrics_get) and update it with atomics only (lt_metric_*).
 *
 * The store holds at most LT_METRICS_MAX distinct named metrics, with names
 * of at most LT_METRICS_NAME_MAX bytes: beyond that, new names are
 * dropped silently (a guest cannot grow host memory without bound).
 */
#ifndef LUNATIC_RT_METRICS_H
#define LUNATIC_RT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rt/base.h"

#define LT_METRICS_MAX 10000
#define LT_METRICS_NAME_MAX 1024

typedef enum lt_metric_kind { LT_METRIC_COUNTER, LT_METRIC_GAUGE, LT_METRIC_HISTOGRAM } lt_metric_kind;

typedef struct lt_metric lt_metric;

/* The metric of that kind and name, created if needed; NULL when the store
 * is full, the name too long, or out of memory. The pointer stays valid
 * until lt_metrics_reset. */
lt_metric *lt_metrics_get(lt_metric_kind kind, const char *name, size_t len);
void lt_metric_counter_add(lt_metric *m, uint64_t v);
void lt_metric_gauge_set(lt_metric *m, double v);
void lt_metric_gauge_add(lt_metric *m, double v);    /* negative to decrement */
void lt_metric_histogram_record(lt_metric *m, double v);

/* The same by name (a NULL metric is ignored). */
void lt_metrics_counter_add(const char *name, size_t len, uint64_t v);
void lt_metrics_gauge_set(const char *name, size_t len, double v);
void lt_metrics_gauge_add(const char *name, size_t len, double v);
void lt_metrics_histogram_record(const char *name, size_t len, double v);

/* Reading named metrics back (tests): 0 when the metric is missing. */
uint64_t lt_metrics_counter_value(const char *name, size_t len);
double lt_metrics_gauge_value(const char *name, size_t len);
uint64_t lt_metrics_histogram_count(const char *name, size_t len);
double lt_metrics_histogram_sum(const char *name, size_t len);

/* Histogram bucket upper bounds of named histograms (ascending; +Inf is
 * implicit). */
extern const double lt_metrics_buckets[];
extern const size_t lt_metrics_nbuckets;

/* Forgets every named metric (tests only: no lt_metric pointer may be in
 * use). The runtime's own are not affected. */
void lt_metrics_reset(void);

/* ---- reading everything (exporters) ---------------------------------------- */

/* One series as an exporter sees it. Strings are valid during the visit
 * call only. */
typedef struct lt_metric_view {
    const char *name;          /* dotted, as recorded; NUL-terminated */
    size_t len;
    const char *help;          /* one line; NULL for named metrics */
    const char *unit;          /* "bytes", "seconds" or NULL */
    lt_metric_kind kind;
    bool runtime;              /* one of the runtime's own */
    const char *label;         /* one label name and value, or NULL */
    const char *label_value;
    uint64_t count;            /* counter: its value; histogram: count */
    double value;              /* gauge: its value; histogram: sum */
    size_t nbuckets;           /* histogram: buckets without +Inf */
    const double *le;          /* their upper bounds */
    const uint64_t *cumulative; /* observations <= le[i] */
} lt_metric_view;

typedef void (*lt_metric_visit_fn)(const lt_metric_view *v, void *ud);

/* Calls fn once per series: first the runtime's own (when recording is on,
 * stats.h), family by family in a fixed order, the series of one family
 * one after the other; then every named metric, sorted by kind (counters,
 * gauges, histograms) and name. A named metric with the name of one of
 * the runtime's families is skipped (the runtime's wins). fn runs under
 * the store's read lock: it must not create metrics. */
void lt_metrics_visit(lt_metric_visit_fn fn, void *ud);

/* The runtime's own series only (stats.c; lt_metrics_visit calls it).
 * lt_stats_is_family tells whether name is one of their family names. */
void lt_stats_visit(lt_metric_visit_fn fn, void *ud);
bool lt_stats_is_family(const char *name, size_t len);

#endif
