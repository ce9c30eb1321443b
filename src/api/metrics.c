/*
 * metrics.c - lunatic::metrics (docs/ABI.md §2.11): guests record named
 * counters, gauges and histograms in the process-wide store of
 * rt/metrics.h, which exporters read (src/obs).
 */
#include <string.h>

#include "api/api.h"
#include "rt/metrics.h"

static double u2f(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* counter(name_ptr, name_len, i64 value) */
static int metrics_counter(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_counter_add(name, A32(1), A64(2));
    return LW_OK;
}

/* increment_counter(name_ptr, name_len) */
static int metrics_increment_counter(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_counter_add(name, A32(1), 1);
    return LW_OK;
}

static double arg_f64(const lw_val *args, int i) { return u2f(args[i]); }

/* gauge(name_ptr, name_len, f64 value) */
static int metrics_gauge(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_gauge_set(name, A32(1), arg_f64(args, 2));
    return LW_OK;
}

/* increment_gauge(name_ptr, name_len, f64 value) */
static int metrics_increment_gauge(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_gauge_add(name, A32(1), arg_f64(args, 2));
    return LW_OK;
}

/* decrement_gauge(name_ptr, name_len, f64 value) */
static int metrics_decrement_gauge(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_gauge_add(name, A32(1), -arg_f64(args, 2));
    return LW_OK;
}

/* histogram(name_ptr, name_len, f64 value) */
static int metrics_histogram(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_metrics_histogram_record(name, A32(1), arg_f64(args, 2));
    return LW_OK;
}

#define M "lunatic::metrics"
const lw_host_func_def lapi_metrics_defs[] = {
    {M, "counter", "iiI:", metrics_counter},
    {M, "increment_counter", "ii:", metrics_increment_counter},
    {M, "gauge", "iiF:", metrics_gauge},
    {M, "increment_gauge", "iiF:", metrics_increment_gauge},
    {M, "decrement_gauge", "iiF:", metrics_decrement_gauge},
    {M, "histogram", "iiF:", metrics_histogram},
};
const size_t lapi_metrics_count = sizeof lapi_metrics_defs / sizeof lapi_metrics_defs[0];
#undef M
