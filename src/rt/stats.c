/*
 * stats.c - the runtime's own metrics (stats.h): per-thread blocks, their
 * merge, and the families an exporter sees (names, help, units, labels,
 * and how each value follows from the counters).
 *
 * Gauges are not recorded as such: each is the difference of two counters
 * (processes alive = spawned - left), so that recording stays a plain add
 * on the recording thread. The family names are the original's
 * (describe_metrics in its lunatic-process crate, and its process, timer
 * and registry APIs), except where that name breaks Prometheus's naming
 * rules: its two gauges ending in ".count" (Prometheus reserves `_count`
 * for histograms and summaries) are "lunatic.process.environment.processes"
 * and "lunatic.process.environments".
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rt/metrics.h"
#include "rt/stats.h"

#define INF UINT64_MAX
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

/* (LT_HIST_MSG_SIZE's bounds are 16 * 4^k: lt_stat_msg_size computes the
 * bucket from them.) */
const uint64_t lt_hist_bounds[LT_HIST_COUNT][LT_HIST_NB] = {
    [LT_HIST_MSG_SIZE] = {16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                          16777216, INF},
    [LT_HIST_MSG_RESOURCES] = {0, 1, 2, 3, 4, 8, 16, 32, 64, INF, INF, INF},
    [LT_HIST_LIFETIME] = {10 * US, 100 * US, MS, 10 * MS, 100 * MS, SEC, 10 * SEC, 60 * SEC,
                          600 * SEC, 3600 * SEC, INF, INF},
    [LT_HIST_COMPILE] = {100 * US, MS, 10 * MS, 100 * MS, SEC, 10 * SEC, INF, INF, INF, INF, INF,
                         INF},
};

/* ---- blocks -------------------------------------------------------------------- */

_Thread_local lt_stats *lt_stats_self;

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static lt_stats *blocks;         /* every attached or returned block */
static lt_stats shared;          /* threads without a block of their own */
atomic_bool lt_stats_on = true;

void lt_stats_set_enabled(bool on) { atomic_store(&lt_stats_on, on); }
bool lt_stats_enabled(void) { return atomic_load_explicit(&lt_stats_on, memory_order_relaxed); }

void lt_stats_attach(void)
{
    if (lt_stats_self || !lt_stats_enabled())
        return;
    pthread_mutex_lock(&blocks_lock);
    lt_stats *b = blocks;
    while (b && b->attached)
        b = b->next;
    if (!b && (b = aligned_alloc(64, (sizeof *b + 63) & ~(size_t)63))) {
        memset(b, 0, sizeof *b);
        b->next = blocks;
        blocks = b;
    }
    if (b)
        b->attached = true;
    pthread_mutex_unlock(&blocks_lock);
    lt_stats_self = b;
}

void lt_stats_detach(void)
{
    lt_stats *b = lt_stats_self;
    if (!b)
        return;
    lt_stats_self = NULL;
    pthread_mutex_lock(&blocks_lock);
    b->attached = false;   /* its counts stay: the next thread continues them */
    pthread_mutex_unlock(&blocks_lock);
}

void lt_stat_add_shared(lt_stat s, uint64_t v)
{
    atomic_fetch_add_explicit(&shared.c[s], v, memory_order_relaxed);
}

void lt_hist_add_shared(lt_hist h, size_t bucket, uint64_t v)
{
    atomic_fetch_add_explicit(&shared.h[h].b[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shared.h[h].sum, v, memory_order_relaxed);
}

static void add_block(lt_stats_totals *t, lt_stats *b)
{
    for (int i = 0; i < LT_STAT_COUNT; i++)
        t->c[i] += atomic_load_explicit(&b->c[i], memory_order_relaxed);
    for (int h = 0; h < LT_HIST_COUNT; h++) {
        t->hsum[h] += atomic_load_explicit(&b->h[h].sum, memory_order_relaxed);
        for (int i = 0; i < LT_HIST_NB; i++)
            t->hb[h][i] += atomic_load_explicit(&b->h[h].b[i], memory_order_relaxed);
    }
}

void lt_stats_read(lt_stats_totals *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_lock(&blocks_lock);
    for (lt_stats *b = blocks; b; b = b->next)
        add_block(t, b);
    pthread_mutex_unlock(&blocks_lock);
    add_block(t, &shared);
    for (int i = 0; i < LT_HIST_NB; i++)
        t->c[LT_STAT_DATA_MESSAGES] += t->hb[LT_HIST_MSG_SIZE][i];
    /* Messages without resources are not recorded in their histogram (one
     * add less per message): they are the data messages it lacks. */
    uint64_t with = 0;
    for (int i = 0; i < LT_HIST_NB; i++)
        with += t->hb[LT_HIST_MSG_RESOURCES][i];
    uint64_t all = t->c[LT_STAT_DATA_MESSAGES];
    t->hb[LT_HIST_MSG_RESOURCES][0] += all > with ? all - with : 0;
}

/* ---- families ---------------------------------------------------------------------- */

#define NONE LT_STAT_NONE   /* 0: what the table's omitted entries are */
#define MAXSERIES 3

/* One series: value = sum of plus - sum of minus (counters and gauges), or
 * histogram hist. */
typedef struct series {
    const char *label_value;
    int8_t plus[4], minus[2];
} series;

typedef struct family {
    const char *name, *help, *unit;
    lt_metric_kind kind;
    int8_t hist;                /* LT_HIST_* for histograms (else unused) */
    double scale;               /* histogram: recorded unit -> exported unit */
    const char *label;
    series s[MAXSERIES];
} family;

/* Shorthands for the table: kind, hist and scale, label; then the series. */
#define F_COUNTER LT_METRIC_COUNTER, NONE, 1, NULL
#define F_GAUGE LT_METRIC_GAUGE, NONE, 1, NULL
#define F_HIST(h, scale) \
    LT_METRIC_HISTOGRAM, h, scale, NULL, {{NULL, {NONE, NONE, NONE, NONE}, {NONE, NONE}}}
#define ONE(st) {{NULL, {st, NONE, NONE, NONE}, {NONE, NONE}}}
#define DIFF(a, b) {{NULL, {a, NONE, NONE, NONE}, {b, NONE}}}

static const family families[] = {
    {"lunatic.process.signals.send", "Number of signals sent to processes since startup", NULL,
     LT_METRIC_COUNTER, NONE, 1, "process_kind",
     {{"wasm", {LT_STAT_SIGNALS_SENT_WASM, NONE, NONE, NONE}, {NONE, NONE}},
      {"native", {LT_STAT_SIGNALS_SENT_NATIVE, NONE, NONE, NONE}, {NONE, NONE}}}},
    {"lunatic.process.signals.received", "Number of signals received by processes since startup",
     NULL, F_COUNTER,
     {{NULL, {LT_STAT_DATA_MESSAGES, LT_STAT_MSG_PROCESS_DIED, LT_STAT_SIGNALS_CONTROL, NONE},
       {NONE, NONE}}}},
    {"lunatic.process.messages.send", "Number of messages sent to processes since startup", NULL,
     F_COUNTER, {{NULL, {LT_STAT_DATA_MESSAGES, LT_STAT_MSG_LINK_DIED, NONE, NONE}, {NONE, NONE}}}},
    {"lunatic.process.messages.outstanding",
     "Current number of messages that are ready to be consumed, in all mailboxes", NULL, F_GAUGE,
     {{NULL, {LT_STAT_DATA_MESSAGES, LT_STAT_MSG_LINK_DIED, LT_STAT_MSG_PROCESS_DIED, NONE},
       {LT_STAT_MAILBOX_OUT, NONE}}}},
    {"lunatic.process.links.alive", "Number of links currently alive", NULL, F_GAUGE,
     DIFF(LT_STAT_LINKS_UP, LT_STAT_LINKS_DOWN)},
    {"lunatic.process.messages.data.count", "Number of data messages send since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_DATA_MESSAGES)},
    {"lunatic.process.messages.data.resources.count",
     "Number of resources used by each individual data message", NULL,
     F_HIST(LT_HIST_MSG_RESOURCES, 1)},
    {"lunatic.process.messages.data.size", "Number of bytes used by each individual data message",
     "bytes", F_HIST(LT_HIST_MSG_SIZE, 1)},
    {"lunatic.process.messages.link_died.count", "Number of LinkDied messages send since startup",
     NULL, F_COUNTER, ONE(LT_STAT_MSG_LINK_DIED)},
    {"lunatic.process.environment.processes", "Number of currently registered processes", NULL,
     F_GAUGE,
     {{NULL, {LT_STAT_SPAWNED_WASM, LT_STAT_SPAWNED_NATIVE, NONE, NONE}, {LT_STAT_PROCS_OUT, NONE}}}},
    {"lunatic.process.environments", "Number of currently active environments", NULL, F_GAUGE,
     DIFF(LT_STAT_ENVS_CREATED, LT_STAT_ENVS_FREED)},
    {"lunatic.process.spawned", "Number of processes spawned since startup", NULL,
     LT_METRIC_COUNTER, NONE, 1, "process_kind",
     {{"wasm", {LT_STAT_SPAWNED_WASM, NONE, NONE, NONE}, {NONE, NONE}},
      {"native", {LT_STAT_SPAWNED_NATIVE, NONE, NONE, NONE}, {NONE, NONE}}}},
    {"lunatic.process.exited", "Number of processes that ended since startup, by how they ended",
     NULL, LT_METRIC_COUNTER, NONE, 1, "reason",
     {{"normal", {LT_STAT_EXIT_NORMAL, NONE, NONE, NONE}, {NONE, NONE}},
      {"failure", {LT_STAT_EXIT_FAILURE, NONE, NONE, NONE}, {NONE, NONE}},
      {"killed", {LT_STAT_EXIT_KILLED, NONE, NONE, NONE}, {NONE, NONE}}}},
    {"lunatic.process.lifetime", "How long each process lived, from spawn to end", "seconds",
     F_HIST(LT_HIST_LIFETIME, 1e-9)},
    {"lunatic.process.modules.compiled", "Number of modules compiled since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_MODULES_COMPILED)},
    {"lunatic.process.modules.dropped", "Number of modules freed since startup", NULL, F_COUNTER,
     ONE(LT_STAT_MODULES_DROPPED)},
    {"lunatic.process.modules.active", "Number of compiled modules in memory", NULL, F_GAUGE,
     DIFF(LT_STAT_MODULES_COMPILED, LT_STAT_MODULES_DROPPED)},
    {"lunatic.process.modules.compiled.duration", "Time to compile each module", "seconds",
     F_HIST(LT_HIST_COMPILE, 1e-9)},
    {"lunatic.process.configs.created", "Number of process configs created since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_CONFIGS_CREATED)},
    {"lunatic.process.configs.dropped", "Number of process configs freed since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_CONFIGS_DROPPED)},
    {"lunatic.process.configs.active", "Number of process configs in memory", NULL, F_GAUGE,
     DIFF(LT_STAT_CONFIGS_CREATED, LT_STAT_CONFIGS_DROPPED)},
    {"lunatic.timers.started", "Number of send_after timers started since startup", NULL, F_COUNTER,
     ONE(LT_STAT_TIMERS_STARTED)},
    {"lunatic.timers.completed", "Number of send_after timers that fired since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_TIMERS_COMPLETED)},
    {"lunatic.timers.canceled", "Number of send_after timers canceled since startup", NULL,
     F_COUNTER,
     ONE(LT_STAT_TIMERS_CANCELED)},
    {"lunatic.timers.active", "Number of send_after timers pending", NULL, F_GAUGE,
     {{NULL, {LT_STAT_TIMERS_STARTED, NONE, NONE, NONE},
       {LT_STAT_TIMERS_COMPLETED, LT_STAT_TIMERS_CANCELED}}}},
    {"lunatic.registry.write", "Number of registry puts since startup", NULL, F_COUNTER,
     ONE(LT_STAT_REGISTRY_WRITE)},
    {"lunatic.registry.read", "Number of registry lookups since startup", NULL, F_COUNTER,
     ONE(LT_STAT_REGISTRY_READ)},
    {"lunatic.registry.deletion", "Number of registry removals since startup", NULL, F_COUNTER,
     ONE(LT_STAT_REGISTRY_DELETION)},
    {"lunatic.registry.registered", "Number of names currently registered", NULL, F_GAUGE,
     DIFF(LT_STAT_NAMES_ADDED, LT_STAT_NAMES_REMOVED)},
};
#define NFAMILIES (sizeof families / sizeof families[0])

bool lt_stats_is_family(const char *name, size_t len)
{
    for (size_t i = 0; i < NFAMILIES; i++)
        if (strlen(families[i].name) == len && !memcmp(families[i].name, name, len))
            return true;
    return false;
}

static int64_t series_value(const series *s, const lt_stats_totals *t)
{
    int64_t v = 0;
    for (int i = 0; i < 4; i++)
        if (s->plus[i] != NONE)
            v += (int64_t)t->c[s->plus[i]];
    for (int i = 0; i < 2; i++)
        if (s->minus[i] != NONE)
            v -= (int64_t)t->c[s->minus[i]];
    return v;
}

void lt_stats_visit(lt_metric_visit_fn fn, void *ud)
{
    if (!lt_stats_enabled())
        return;
    lt_stats_totals t;
    lt_stats_read(&t);
    for (size_t i = 0; i < NFAMILIES; i++) {
        const family *f = &families[i];
        lt_metric_view v = {.name = f->name, .len = strlen(f->name), .help = f->help,
                            .unit = f->unit, .kind = f->kind, .runtime = true, .label = f->label};
        if (f->kind == LT_METRIC_HISTOGRAM) {
            double le[LT_HIST_NB];
            uint64_t cum[LT_HIST_NB], total = 0;
            size_t n = 0;
            for (size_t k = 0; k < LT_HIST_NB; k++) {
                total += t.hb[f->hist][k];
                if (lt_hist_bounds[f->hist][k] != INF) {
                    le[n] = (double)lt_hist_bounds[f->hist][k] * f->scale;
                    cum[n++] = total;
                }
            }
            v.count = total;
            v.value = (double)t.hsum[f->hist] * f->scale;
            v.nbuckets = n;
            v.le = le;
            v.cumulative = cum;
            fn(&v, ud);
            continue;
        }
        for (int k = 0; k < MAXSERIES && (k == 0 || f->s[k].label_value); k++) {
            int64_t x = series_value(&f->s[k], &t);
            v.label_value = f->s[k].label_value;
            if (f->kind == LT_METRIC_COUNTER)
                v.count = x > 0 ? (uint64_t)x : 0;
            else
                v.value = x > 0 ? (double)x : 0;   /* a difference read mid-update */
            fn(&v, ud);
        }
    }
}
