/*
 * test_metrics.c - the metrics store (src/rt/metrics.h), the runtime's own
 * per-thread counters (src/rt/stats.h) and their Prometheus rendering
 * (src/obs/prom.c).
 */
#include <math.h>
#include <pthread.h>

#include "check.h"
#include "obs/obs.h"
#include "rt/metrics.h"
#include "rt/stats.h"

#define S(lit) lit, sizeof lit - 1

static char *render(void)
{
    lobs_buf b = {0};
    lobs_render_prometheus(&b, "7");
    lobs_buf_add(&b, "", 0);
    CHECK(!b.oom, "render ran out of memory");
    return b.data;
}

/* The rendered text without the runtime's own families (they come
 * first, and their values depend on what ran before). */
static char *render_named(void)
{
    lt_stats_set_enabled(false);
    char *t = render();
    lt_stats_set_enabled(true);
    return t;
}

static void test_counter_gauge(void)
{
    lt_metrics_reset();
    lt_metrics_counter_add(S("app.requests"), 1);
    lt_metrics_counter_add(S("app.requests"), 41);
    CHECK(lt_metrics_counter_value(S("app.requests")) == 42, "counter %llu",
          (unsigned long long)lt_metrics_counter_value(S("app.requests")));
    CHECK(lt_metrics_counter_value(S("missing")) == 0, "missing counter not 0");

    lt_metrics_gauge_set(S("g"), 2.5);
    lt_metrics_gauge_add(S("g"), 1);
    lt_metrics_gauge_add(S("g"), -0.25);
    CHECK(lt_metrics_gauge_value(S("g")) == 3.25, "gauge %g", lt_metrics_gauge_value(S("g")));
    lt_metrics_gauge_set(S("g"), -7);
    CHECK(lt_metrics_gauge_value(S("g")) == -7, "gauge after set %g", lt_metrics_gauge_value(S("g")));

    /* the same name as another kind is a separate metric */
    lt_metrics_gauge_set(S("app.requests"), 9);
    CHECK(lt_metrics_counter_value(S("app.requests")) == 42, "counter clobbered");
    CHECK(lt_metrics_gauge_value(S("app.requests")) == 9, "gauge twin");

    /* handles: a wrong-kind update is ignored */
    lt_metric *c = lt_metrics_get(LT_METRIC_COUNTER, S("h"));
    CHECK(c != NULL, "no handle");
    CHECK(c == lt_metrics_get(LT_METRIC_COUNTER, S("h")), "handle not stable");
    lt_metric_counter_add(c, 3);
    lt_metric_gauge_set(c, 100);
    lt_metric_histogram_record(c, 1);
    CHECK(lt_metrics_counter_value(S("h")) == 3, "handle counter %llu",
          (unsigned long long)lt_metrics_counter_value(S("h")));
    lt_metric_counter_add(NULL, 1); /* ignored */

    /* too long a name is dropped */
    char big[LT_METRICS_NAME_MAX + 1];
    memset(big, 'a', sizeof big);
    CHECK(lt_metrics_get(LT_METRIC_COUNTER, big, sizeof big) == NULL, "long name accepted");
    CHECK(lt_metrics_get(LT_METRIC_COUNTER, big, sizeof big - 1) != NULL, "max name refused");
}

static void test_histogram(void)
{
    lt_metrics_reset();
    lt_metrics_histogram_record(S("h"), 0.003);
    lt_metrics_histogram_record(S("h"), 0.5);
    lt_metrics_histogram_record(S("h"), 1);
    lt_metrics_histogram_record(S("h"), 1e9);
    CHECK(lt_metrics_histogram_count(S("h")) == 4, "count %llu",
          (unsigned long long)lt_metrics_histogram_count(S("h")));
    CHECK(fabs(lt_metrics_histogram_sum(S("h")) - (0.003 + 0.5 + 1 + 1e9)) < 1e-3, "sum %g",
          lt_metrics_histogram_sum(S("h")));

    char *t = render_named();
    CHECK(strstr(t, "# HELP h Guest metric (lunatic::metrics)\n# TYPE h histogram\n"),
          "no HELP and TYPE lines:\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"0.001\"} 0\n"), "0.001 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"0.005\"} 1\n"), "0.005 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"0.5\"} 2\n"), "0.5 bucket (le is inclusive):\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"1\"} 3\n"), "1 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"1e+06\"} 3\n"), "1e6 bucket (Go formats le with %%g):\n%s", t);
    CHECK(strstr(t, "h_bucket{node_id=\"7\",le=\"+Inf\"} 4\n"), "+Inf bucket:\n%s", t);
    CHECK(strstr(t, "h_sum{node_id=\"7\"} 1.000000001503e+09\n"), "sum line (Go's %%g):\n%s", t);
    CHECK(strstr(t, "h_count{node_id=\"7\"} 4\n"), "count line:\n%s", t);
    free(t);
}

static void test_render(void)
{
    lt_metrics_reset();
    char *t = render_named();
    CHECK(*t == 0, "empty store renders \"%s\"", t);
    free(t);

    lt_metrics_gauge_set(S("app.links"), 0.1);
    lt_metrics_counter_add(S("app.timers.started"), 7);
    lt_metrics_counter_add(S("big"), 18446744073709551615ull);
    lt_metrics_counter_add(S("9lives"), 1);
    lt_metrics_counter_add(S("a-\xc3\xa9:b"), 2);
    lt_metrics_gauge_set(S("inf"), INFINITY);
    /* sample names that would repeat earlier ones: left out */
    lt_metrics_gauge_set(S("big_total"), 3);
    lt_metrics_gauge_set(S("app_links"), 4);
    t = render_named();
    const char *want =
        "# HELP _9lives_total Guest metric (lunatic::metrics)\n# TYPE _9lives_total counter\n"
        "_9lives_total{node_id=\"7\"} 1\n"
        "# HELP a___b_total Guest metric (lunatic::metrics)\n# TYPE a___b_total counter\n"
        "a___b_total{node_id=\"7\"} 2\n"
        "# HELP app_timers_started_total Guest metric (lunatic::metrics)\n"
        "# TYPE app_timers_started_total counter\n"
        "app_timers_started_total{node_id=\"7\"} 7\n"
        "# HELP big_total Guest metric (lunatic::metrics)\n# TYPE big_total counter\n"
        "big_total{node_id=\"7\"} 18446744073709551615\n"
        "# HELP app_links Guest metric (lunatic::metrics)\n# TYPE app_links gauge\n"
        "app_links{node_id=\"7\"} 0.1\n"
        "# HELP inf Guest metric (lunatic::metrics)\n# TYPE inf gauge\n"
        "inf{node_id=\"7\"} +Inf\n";
    CHECK(!strcmp(t, want), "rendered:\n%s\nwanted:\n%s", t, want);
    free(t);

    /* a named metric with the name of a runtime family is not shown: the
     * runtime's is */
    lt_metrics_reset();
    lt_metrics_counter_add(S("lunatic.process.messages.send"), 12345);
    t = render();
    CHECK(!strstr(t, " 12345\n"), "a guest metric shadows the runtime's:\n%.2000s", t);
    CHECK(strstr(t, "# TYPE lunatic_process_messages_send_total counter\n"), "runtime family missing");
    free(t);
}

#define THREADS 4
#define ITERS 100000

static void *hammer(void *arg)
{
    (void)arg;
    char name[32];
    for (int i = 0; i < ITERS; i++) {
        lt_metrics_counter_add(S("c"), 1);
        lt_metrics_gauge_add(S("g"), 1);
        lt_metrics_histogram_record(S("h"), 2);
        if (i % 1000 == 0) {   /* creation races with lookups */
            int len = snprintf(name, sizeof name, "m%d", i / 1000);
            lt_metrics_counter_add(name, (size_t)len, 1);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    lt_metrics_reset();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(lt_metrics_counter_value(S("c")) == THREADS * ITERS, "counter %llu",
          (unsigned long long)lt_metrics_counter_value(S("c")));
    CHECK(lt_metrics_gauge_value(S("g")) == THREADS * ITERS, "gauge %g", lt_metrics_gauge_value(S("g")));
    CHECK(lt_metrics_histogram_count(S("h")) == THREADS * ITERS, "histogram count");
    CHECK(lt_metrics_histogram_sum(S("h")) == 2.0 * THREADS * ITERS, "histogram sum %g",
          lt_metrics_histogram_sum(S("h")));
    int ok = 1;
    for (int i = 0; i < ITERS / 1000; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "m%d", i);
        ok &= lt_metrics_counter_value(name, (size_t)len) == THREADS;
    }
    CHECK(ok, "per-name counters created concurrently are wrong");
}

static void test_limit(void)
{
    lt_metrics_reset();
    char name[32];
    int made = 0;
    for (int i = 0; i < LT_METRICS_MAX + 10; i++) {
        int len = snprintf(name, sizeof name, "n%d", i);
        made += lt_metrics_get(LT_METRIC_GAUGE, name, (size_t)len) != NULL;
    }
    CHECK(made == LT_METRICS_MAX, "%d metrics made, limit %d", made, LT_METRICS_MAX);
    CHECK(lt_metrics_get(LT_METRIC_GAUGE, S("n5")) != NULL, "existing metric lost at the limit");
    lt_metrics_reset();
}

/* ---- the runtime's own counters ------------------------------------------------- */

/* Half the threads attach a block of their own (as workers do), half record
 * into the shared one (as the poller or an embedder's thread would); the
 * merge must see every add, also from threads that have ended. */
static void *stats_hammer(void *arg)
{
    bool attach = (intptr_t)arg & 1;
    if (attach)
        lt_stats_attach();
    for (int i = 0; i < ITERS; i++) {
        lt_stat_add(LT_STAT_LINKS_UP, 1);
        if (i % 2)
            lt_stat_add(LT_STAT_LINKS_DOWN, 1);
        lt_hist_record(LT_HIST_MSG_SIZE, (uint64_t)(i % 100));
    }
    if (attach)
        lt_stats_detach();
    return NULL;
}

static void test_stats(void)
{
    lt_stats_totals t0, t1;
    lt_stats_read(&t0);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, stats_hammer, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    lt_stats_read(&t1);
    uint64_t up = t1.c[LT_STAT_LINKS_UP] - t0.c[LT_STAT_LINKS_UP];
    uint64_t down = t1.c[LT_STAT_LINKS_DOWN] - t0.c[LT_STAT_LINKS_DOWN];
    CHECK(up == (uint64_t)THREADS * ITERS, "links up %llu", (unsigned long long)up);
    CHECK(down == (uint64_t)THREADS * ITERS / 2, "links down %llu", (unsigned long long)down);
    /* sizes 0..99: 0..16 in the first bucket (le is inclusive), 17..64 in
     * the second, the rest in the third */
    uint64_t b0 = t1.hb[LT_HIST_MSG_SIZE][0] - t0.hb[LT_HIST_MSG_SIZE][0];
    uint64_t b1 = t1.hb[LT_HIST_MSG_SIZE][1] - t0.hb[LT_HIST_MSG_SIZE][1];
    uint64_t b2 = t1.hb[LT_HIST_MSG_SIZE][2] - t0.hb[LT_HIST_MSG_SIZE][2];
    uint64_t per = (uint64_t)THREADS * ITERS / 100;
    CHECK(b0 == 17 * per && b1 == 48 * per && b2 == 35 * per, "size buckets %llu %llu %llu",
          (unsigned long long)b0, (unsigned long long)b1, (unsigned long long)b2);
    uint64_t msgs = t1.c[LT_STAT_DATA_MESSAGES] - t0.c[LT_STAT_DATA_MESSAGES];
    CHECK(msgs == (uint64_t)THREADS * ITERS, "data messages %llu (the size histogram's count)",
          (unsigned long long)msgs);
    /* messages without resources fill the resources histogram's 0 bucket */
    uint64_t r0 = t1.hb[LT_HIST_MSG_RESOURCES][0] - t0.hb[LT_HIST_MSG_RESOURCES][0];
    CHECK(r0 == msgs, "resources le=0 bucket %llu", (unsigned long long)r0);

    /* the rendered families: gauges as differences, labels, histograms */
    char *text = render();
    lt_stats_totals t2;
    lt_stats_read(&t2);
    char want[200];
    snprintf(want, sizeof want, "lunatic_process_links_alive{node_id=\"7\"} %llu\n",
             (unsigned long long)(t2.c[LT_STAT_LINKS_UP] - t2.c[LT_STAT_LINKS_DOWN]));
    CHECK(strstr(text, want), "no '%s' in:\n%.3000s", want, text);
    CHECK(strstr(text, "# HELP lunatic_process_messages_data_size Number of bytes used by each "
                       "individual data message (bytes)\n"), "size help");
    CHECK(strstr(text, "lunatic_process_signals_send_total{node_id=\"7\",process_kind=\"native\"} "),
          "labelled series");
    CHECK(strstr(text, "lunatic_process_lifetime_bucket{node_id=\"7\",le=\"1e-05\"} "),
          "lifetime buckets in seconds");
    CHECK(strstr(text, "# TYPE lunatic_process_environment_processes gauge\n"), "processes gauge");
    free(text);

    /* off: recording stops and the runtime's families are not shown */
    lt_stats_set_enabled(false);
    lt_stats_read(&t0);
    lt_stat_add(LT_STAT_LINKS_UP, 5);   /* this thread has no block: the shared path */
    lt_stats_read(&t1);
    CHECK(t1.c[LT_STAT_LINKS_UP] == t0.c[LT_STAT_LINKS_UP], "recorded while off");
    text = render();
    CHECK(!strstr(text, "lunatic_process"), "runtime families shown while off:\n%.500s", text);
    free(text);
    lt_stats_set_enabled(true);
}

/* The message-size bucket computed from bit lengths is the one the bounds
 * say. */
static void test_size_buckets(void)
{
    int bad = 0;
    for (int shift = 0; shift < 64; shift++) {
        uint64_t base = 1ull << shift;
        uint64_t vals[] = {base - 1, base, base + 1};
        for (int k = 0; k < 3; k++) {
            uint64_t v = vals[k];
            size_t want = 0;
            while (v > lt_hist_bounds[LT_HIST_MSG_SIZE][want])
                want++;
            if (lt_msg_size_bucket(v) != want) {
                if (!bad++)
                    CHECK(0, "size %llu: bucket %zu, bounds say %zu", (unsigned long long)v,
                          lt_msg_size_bucket(v), want);
            }
        }
    }
    CHECK(bad == 0, "%d sizes in the wrong bucket", bad);
}

int main(void)
{
    test_counter_gauge();
    test_histogram();
    test_render();
    test_threads();
    test_limit();
    test_stats();
    test_size_buckets();
    return check_report();
}
