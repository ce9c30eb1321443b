/*
 * metrics.h - the process-wide metrics store (ABI.md 2.11, 3.3).
 *
 * Counters (u64), gauges (f64) and histograms (count, sum and cumulative
 * buckets), each identified by its kind and name (no labels). Every
 * function is thread-safe. A metric is created on first use and lives
 * until the process exits. Guest names come through lunatic::metrics; the
 * runtime records its own (lunatic.process.messages.send, ...).
 *
 * Recording by name costs a hash lookup under a read lock; hot paths in the
 * runtime can look a metric up once (lt_metrics_get) and then update it
 * with atomics only (lt_metric_*).
 *
 * The store holds at most LT_METRICS_MAX distinct metrics and names of at
 * most LT_METRICS_NAME_MAX bytes: beyond that, new names are dropped
 * silently (a guest cannot grow host memory without bound).
 */
#ifndef LUNATIC_API_METRICS_H
#define LUNATIC_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

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

/* Reading back (for tests and exporters): 0 when the metric is missing. */
uint64_t lt_metrics_counter_value(const char *name, size_t len);
double lt_metrics_gauge_value(const char *name, size_t len);
uint64_t lt_metrics_histogram_count(const char *name, size_t len);
double lt_metrics_histogram_sum(const char *name, size_t len);

/* Histogram bucket upper bounds (ascending; +Inf is implicit). */
extern const double lt_metrics_buckets[];
extern const size_t lt_metrics_nbuckets;

/* Writes every metric in the Prometheus text exposition format (0.0.4),
 * sorted by kind (counters, gauges, histograms) then name. Names are
 * sanitized as metrics-exporter-prometheus does: each character outside
 * [a-zA-Z0-9_:] (dots included) becomes '_', and a leading digit gets a '_'
 * prefix. Like snprintf: returns the length of the whole text and writes
 * at most size-1 bytes plus a NUL (buf may be NULL when size is 0). */
size_t lt_metrics_render_prometheus(char *buf, size_t size);

/* Forgets every metric (tests only: no lt_metric pointer may be in use). */
void lt_metrics_reset(void);

#endif
