/*
 * test_api_misc.c - the metrics store behind lunatic::metrics and its
 * Prometheus rendering (src/api/metrics.h).
 */
#include <math.h>
#include <pthread.h>

#include "check.h"
#include "api/metrics.h"

#define S(lit) lit, sizeof lit - 1

static char *render(void)
{
    size_t n = lt_metrics_render_prometheus(NULL, 0);
    char *buf = malloc(n + 1);
    if (!buf)
        abort();
    size_t m = lt_metrics_render_prometheus(buf, n + 1);
    CHECK(m == n, "render length changed: %zu then %zu", n, m);
    CHECK(strlen(buf) == n, "rendered text has length %zu, not %zu", strlen(buf), n);
    return buf;
}

static void test_counter_gauge(void)
{
    lt_metrics_reset();
    lt_metrics_counter_add(S("lunatic.process.messages.send"), 1);
    lt_metrics_counter_add(S("lunatic.process.messages.send"), 41);
    CHECK(lt_metrics_counter_value(S("lunatic.process.messages.send")) == 42, "counter %llu",
          (unsigned long long)lt_metrics_counter_value(S("lunatic.process.messages.send")));
    CHECK(lt_metrics_counter_value(S("missing")) == 0, "missing counter not 0");

    lt_metrics_gauge_set(S("g"), 2.5);
    lt_metrics_gauge_add(S("g"), 1);
    lt_metrics_gauge_add(S("g"), -0.25);
    CHECK(lt_metrics_gauge_value(S("g")) == 3.25, "gauge %g", lt_metrics_gauge_value(S("g")));
    lt_metrics_gauge_set(S("g"), -7);
    CHECK(lt_metrics_gauge_value(S("g")) == -7, "gauge after set %g", lt_metrics_gauge_value(S("g")));

    /* the same name as another kind is a separate metric */
    lt_metrics_gauge_set(S("lunatic.process.messages.send"), 9);
    CHECK(lt_metrics_counter_value(S("lunatic.process.messages.send")) == 42, "counter clobbered");
    CHECK(lt_metrics_gauge_value(S("lunatic.process.messages.send")) == 9, "gauge twin");

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

    char *t = render();
    CHECK(strstr(t, "# TYPE h histogram\n"), "no TYPE line:\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"0.001\"} 0\n"), "0.001 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"0.005\"} 1\n"), "0.005 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"0.5\"} 2\n"), "0.5 bucket (le is inclusive):\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"1\"} 3\n"), "1 bucket:\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"1e+06\"} 3\n"), "1e6 bucket (Go formats le with %%g):\n%s", t);
    CHECK(strstr(t, "h_bucket{le=\"+Inf\"} 4\n"), "+Inf bucket:\n%s", t);
    CHECK(strstr(t, "h_sum 1000000001.503\n"), "sum line:\n%s", t);
    CHECK(strstr(t, "h_count 4\n"), "count line:\n%s", t);
    free(t);
}

static void test_render(void)
{
    lt_metrics_reset();
    char *t = render();
    CHECK(*t == 0, "empty store renders \"%s\"", t);
    free(t);

    lt_metrics_gauge_set(S("lunatic.process.links.alive"), 0.1);
    lt_metrics_counter_add(S("lunatic.timers.started"), 7);
    lt_metrics_counter_add(S("lunatic.process.signals.send"), 18446744073709551615ull);
    lt_metrics_counter_add(S("9lives"), 1);
    lt_metrics_counter_add(S("a-\xc3\xa9:b"), 2);
    lt_metrics_gauge_set(S("inf"), INFINITY);
    t = render();
    const char *want =
        "# TYPE _9lives counter\n_9lives 1\n"
        "# TYPE a__:b counter\na__:b 2\n"
        "# TYPE lunatic_process_signals_send counter\n"
        "lunatic_process_signals_send 18446744073709551615\n"
        "# TYPE lunatic_timers_started counter\nlunatic_timers_started 7\n"
        "# TYPE inf gauge\ninf +Inf\n"
        "# TYPE lunatic_process_links_alive gauge\nlunatic_process_links_alive 0.1\n";
    CHECK(!strcmp(t, want), "rendered:\n%s\nwanted:\n%s", t, want);

    /* truncation: snprintf-like */
    char small[16];
    memset(small, 'x', sizeof small);
    size_t n = lt_metrics_render_prometheus(small, sizeof small);
    CHECK(n == strlen(want), "truncated render returns %zu, want %zu", n, strlen(want));
    CHECK(small[15] == 0 && !strncmp(small, want, 15), "truncated text \"%.16s\"", small);
    small[0] = 'x';
    lt_metrics_render_prometheus(small, 1);
    CHECK(small[0] == 0, "size 1 does not write just a NUL");
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

int main(void)
{
    test_counter_gauge();
    test_histogram();
    test_render();
    test_threads();
    test_limit();
    return check_report();
}
