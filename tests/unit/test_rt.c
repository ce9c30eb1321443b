/*
 * test_rt.c - unit tests of the process runtime's internals, linked
 * without the host API (src/api) or the CLI: id tables, the sharded
 * process table, the mailbox's selective receive, the timer heap, the
 * registry's reservations, and a hand-off's requeue on a real runtime.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"
#include "rt/env.h"
#include "rt/idtab.h"
#include "rt/mailbox.h"
#include "rt/process.h"
#include "rt/registry.h"
#include "rt/runtime.h"
#include "rt/sched.h"
#include "rt/timer.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- id tables --------------------------------------------------------------- */

static int dropped;
static void count_drop(void *v) { (void)v, dropped++; }
static bool take_odd(uint64_t id, void *val, void *ud)
{
    (void)val;
    (*(int *)ud)++;
    return id % 2 == 1;
}

static void test_idtab(void)
{
    lt_idtab t = {0};
    CHECK(lt_idtab_get(&t, 0) == NULL && lt_idtab_take(&t, 0) == NULL, "empty table finds nothing");
    /* ids count from 0 and are never reused, through growth and removals */
    enum { N = 5000 };
    static char vals[N];
    int bad = 0;
    for (int i = 0; i < N; i++) {
        uint64_t id = 99;
        bad += lt_idtab_add(&t, &vals[i], &id) != 0 || id != (uint64_t)i;
        if (i % 3 == 0)
            bad += lt_idtab_take(&t, id) != &vals[i];
    }
    CHECK(bad == 0, "%d adds or takes wrong", bad);
    bad = 0;
    for (int i = 0; i < N; i++)
        bad += lt_idtab_get(&t, (uint64_t)i) != (i % 3 ? &vals[i] : NULL);
    CHECK(bad == 0, "%d lookups wrong after adds and takes", bad);
    CHECK(lt_idtab_len(&t) == N - (N + 2) / 3, "len %u", lt_idtab_len(&t));
    uint64_t id;
    CHECK(lt_idtab_add(&t, &vals[0], &id) == 0 && id == N, "a new id after removals: %llu",
          (unsigned long long)id);
    CHECK(lt_idtab_take(&t, N) == &vals[0] && lt_idtab_take(&t, N) == NULL, "take twice");
    CHECK(lt_idtab_swap(&t, N, &vals[1]) == NULL && lt_idtab_get(&t, N) == NULL,
          "swap of a removed id changes nothing");
    CHECK(lt_idtab_swap(&t, 1, &vals[2]) == &vals[1] && lt_idtab_get(&t, 1) == &vals[2] &&
              lt_idtab_len(&t) == N + 1 - (N + 2) / 3 - 1,
          "swap replaces a value in place");
    CHECK(lt_idtab_get(&t, UINT64_MAX) == NULL && lt_idtab_get(&t, UINT64_MAX - 1) == NULL,
          "the marker ids are never found");
    /* churn: many adds and takes keep the table small (tombstones go) */
    for (int i = 0; i < 100000; i++) {
        lt_idtab_add(&t, &vals[2], &id);
        lt_idtab_take(&t, id);
    }
    CHECK(t.cap <= 16384, "churn left %u slots", t.cap);
    uint32_t before = lt_idtab_len(&t);
    int seen = 0;
    lt_idtab_filter(&t, take_odd, &seen);
    CHECK(seen == (int)before, "filter visits every entry (%d of %u)", seen, before);
    bad = 0;
    for (uint64_t i = 0; i <= N; i++)
        bad += i % 2 == 1 && lt_idtab_get(&t, i) != NULL;
    CHECK(bad == 0, "filter removed what it was told to");
    dropped = 0;
    uint32_t left = lt_idtab_len(&t);
    lt_idtab_free(&t, count_drop);
    CHECK(dropped == (int)left && t.cap == 0, "free drops the %u left (%d)", left, dropped);
}

/* ---- memory accounts ------------------------------------------------------------ */

static void test_account(void)
{
    lt_account a = {.limit = 10000};
    atomic_store(&a.linear, 4000);
    lt_idtab t = {0};
    lt_idtab_charge_to(&t, &a, 1000);
    uint64_t id;
    int added = 0;
    while (lt_idtab_add(&t, &added, &id) == 0)
        added++;
    CHECK(added == 6 && lt_account_held(&a) == 6000 && a.refused,
          "a table charges its entries up to the limit (%d entries, %lld bytes)", added,
          (long long)lt_account_held(&a));
    CHECK(lt_idtab_take(&t, 0) && lt_account_held(&a) == 5000, "a take releases its charge");
    CHECK(lt_idtab_swap(&t, 1, &t) && lt_account_held(&a) == 5000, "a swap charges nothing");
    lt_idtab_free(&t, NULL);
    CHECK(lt_account_held(&a) == 0, "freeing the table releases the rest");
    /* what a message's growth is charged matches what it then holds */
    lt_signal *m = lt_message_new(0, 0);
    uint64_t held = lt_signal_bytes(m), bad = 0;
    for (int i = 0; i < 200; i++) {
        char buf[700] = {0};
        uint64_t g = lt_message_growth(m, sizeof buf);
        if (lt_message_write(m, buf, sizeof buf) < 0)
            break;
        held += g;
        bad += held != lt_signal_bytes(m);
    }
    CHECK(bad == 0 && m->len == 200 * 700, "message growth is what lt_signal_bytes adds (%llu off)",
          (unsigned long long)bad);
    CHECK(lt_message_growth(m, UINT64_MAX - 5) == UINT64_MAX, "a length no buffer holds");
    lt_signal_free(m);
}

/* ---- the mailbox ---------------------------------------------------------------- */

static lt_signal *msg(int64_t tag, uint8_t kind)
{
    lt_signal *m = lt_message_new(tag, 0);
    m->msgkind = kind;
    m->pid = (uint64_t)tag;
    return m;
}

/* A receive with room to look at everything. */
static lt_signal *take(lt_mailbox *mb, const void *tags, uint32_t n)
{
    uint32_t budget = 1u << 30;
    return lt_mailbox_take_match(mb, tags, n, &budget);
}

static void test_mailbox(void)
{
    lt_mailbox mb = {0};
    int64_t tags[2] = {7, 9};
    /* tags: 1 2 7 3 9 7, then a process-died message "tagged" 7 */
    int64_t order[] = {1, 2, 7, 3, 9, 7};
    for (size_t i = 0; i < 6; i++)
        lt_mailbox_push(&mb, msg(order[i], LT_MSG_DATA));
    lt_signal *died = msg(7, LT_MSG_PROCESS_DIED);
    lt_mailbox_push(&mb, died);
    CHECK(mb.len == 7, "len %u", mb.len);

    lt_mailbox_scan_from_head(&mb);
    lt_signal *m = take(&mb, tags, 2);
    CHECK(m && m->tag == 7 && mb.len == 6, "first match is the first 7");
    lt_signal_free(m);
    lt_mailbox_scan_from_head(&mb);
    m = take(&mb, &tags[1], 1);
    CHECK(m && m->tag == 9, "then 9");
    lt_signal_free(m);
    /* a receive for 8 scans everything once and remembers where it stopped */
    int64_t eight = 8;
    lt_mailbox_scan_from_head(&mb);
    CHECK(take(&mb, &eight, 1) == NULL, "no 8");
    CHECK(mb.scan_after == mb.tail, "the scan stopped at the tail");
    /* an 8 arriving later is found without rescanning (the continuation) */
    lt_mailbox_push(&mb, msg(8, LT_MSG_DATA));
    m = take(&mb, &eight, 1);
    CHECK(m && m->tag == 8, "a later 8 is found");
    lt_signal_free(m);
    /* a process-died message never matches a tag */
    lt_mailbox_scan_from_head(&mb);
    m = take(&mb, &tags[0], 1);
    CHECK(m && m->tag == 7 && m->msgkind == LT_MSG_DATA, "the data 7, not the died one");
    lt_signal_free(m);
    lt_mailbox_scan_from_head(&mb);
    CHECK(take(&mb, &tags[0], 1) == NULL, "no 7 left");
    /* any message: arrival order, the process-died one last */
    int64_t want[] = {1, 2, 3, 7};
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        lt_mailbox_scan_from_head(&mb);
        m = take(&mb, NULL, 0);
        bad += !m || m->tag != want[i];
        lt_signal_free(m);
    }
    CHECK(bad == 0 && mb.len == 0 && !mb.head && !mb.tail, "FIFO order and an empty mailbox");
    /* skip-search: only what arrives later counts */
    lt_mailbox_push(&mb, msg(5, LT_MSG_DATA));
    lt_mailbox_scan_from_tail(&mb);
    int64_t five = 5;
    CHECK(take(&mb, &five, 1) == NULL, "skip-search ignores a queued 5");
    lt_mailbox_push(&mb, msg(5, LT_MSG_DATA));
    m = take(&mb, &five, 1);
    CHECK(m && mb.len == 1 && mb.head && mb.head->tag == 5, "the later 5, the old one stays");
    lt_signal_free(m);
    /* unaligned tags, as they come from guest memory */
    uint8_t raw[1 + 16];
    int64_t t2[2] = {11, 5};
    memcpy(raw + 1, t2, 16);
    lt_mailbox_scan_from_head(&mb);
    m = take(&mb, raw + 1, 2);
    CHECK(m && m->tag == 5, "unaligned tag list");
    lt_signal_free(m);
    /* a receive looks at no more than its budget and goes on from there */
    lt_mailbox_scan_from_head(&mb);
    for (int i = 0; i < 10; i++)
        lt_mailbox_push(&mb, msg(100 + i, LT_MSG_DATA));
    int64_t last = 109;
    uint32_t budget = 4;
    m = lt_mailbox_take_match(&mb, &last, 1, &budget);
    CHECK(!m && budget == 0 && mb.scan_after && mb.scan_after->tag == 103,
          "a budget of 4 stops after 4 messages, unfinished");
    budget = 4;
    m = lt_mailbox_take_match(&mb, &last, 1, &budget);
    CHECK(!m && budget == 0 && mb.scan_after->tag == 107, "the next 4 go on from there");
    budget = 4;
    m = lt_mailbox_take_match(&mb, &last, 1, &budget);
    CHECK(m && m->tag == 109 && budget == 2, "and the match is found with budget to spare");
    lt_signal_free(m);
    budget = 100;
    lt_mailbox_scan_from_head(&mb);
    int64_t none = 999;
    m = lt_mailbox_take_match(&mb, &none, 1, &budget);
    CHECK(!m && budget > 0, "a finished scan without a match leaves budget (%u)", budget);
    while ((m = lt_mailbox_pop(&mb)))
        lt_signal_free(m);
    /* pop (native processes) and free */
    for (int i = 0; i < 100; i++)
        lt_mailbox_push(&mb, msg(i, LT_MSG_DATA));
    m = lt_mailbox_pop(&mb);
    CHECK(m && m->tag == 0 && mb.len == 99, "pop takes the head");
    lt_signal_free(m);
    lt_mailbox_free(&mb);
    CHECK(mb.len == 0 && !mb.head, "free empties it");
}

/* ---- the process table -------------------------------------------------------------- */

static lt_runtime *fake_runtime(void)
{
    lt_runtime *rt = calloc(1, sizeof *rt);
    pthread_mutex_init(&rt->env_lock, NULL);
    lt_timers_init(&rt->timers);
    rt->poller.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return rt;
}

typedef struct shard_arg {
    lt_env *env;
    lt_process *procs;
    int from, n;
    int lost;
} shard_arg;

/* Inserts its processes, sends each a signal, removes every other one. */
static void *shard_worker(void *arg)
{
    shard_arg *a = arg;
    for (int i = a->from; i < a->from + a->n; i++)
        if (lt_env_insert(a->env, &a->procs[i]) < 0)
            a->lost++;
    for (int i = a->from; i < a->from + a->n; i++) {
        if (lt_send(a->env, a->procs[i].pid, lt_signal_new(LT_SIG_WAKE)) < 0)
            a->lost++;
        if (i % 2)
            lt_env_remove(a->env, &a->procs[i]);
    }
    return NULL;
}

static void test_env(void)
{
    lt_runtime *rt = fake_runtime();
    lt_env *e = lt_env_get(rt, 5);
    CHECK(e && lt_env_get(rt, 5) == e && lt_env_get(rt, 6) != e, "environments by id");
    enum { T = 4, PER = 20000 };
    lt_process *procs = calloc(T * PER, sizeof *procs);
    for (int i = 0; i < T * PER; i++) {
        procs[i].pid = atomic_fetch_add(&e->next_pid, 1);
        procs[i].state = LT_PS_RUNNING; /* a signal only marks it notified */
    }
    CHECK(procs[0].pid == 1, "pids count from 1");
    pthread_t th[T];
    shard_arg args[T];
    for (int k = 0; k < T; k++) {
        args[k] = (shard_arg){e, procs, k * PER, PER, 0};
        pthread_create(&th[k], NULL, shard_worker, &args[k]);
    }
    int lost = 0;
    for (int k = 0; k < T; k++) {
        pthread_join(th[k], NULL);
        lost += args[k].lost;
    }
    CHECK(lost == 0, "%d inserts or sends failed", lost);
    CHECK(atomic_load(&e->nprocs) == T * PER / 2, "%ld processes left", atomic_load(&e->nprocs));
    int bad = 0;
    for (int i = 0; i < T * PER; i++) {
        bool alive = i % 2 == 0;
        bad += lt_env_exists(e, procs[i].pid) != alive;
        bad += !procs[i].in_head || procs[i].in_head->kind != LT_SIG_WAKE || !procs[i].notified;
        bad += alive ? procs[i].state != LT_PS_RUNNING : procs[i].state != LT_PS_DEAD;
    }
    CHECK(bad == 0, "%d processes in the wrong state", bad);
    lt_signal *s = lt_signal_new(LT_SIG_KILL);
    CHECK(lt_send(e, procs[1].pid, s) < 0, "a removed process gets nothing");
    CHECK(lt_send(e, 0, lt_signal_new(LT_SIG_KILL)) < 0 &&
              lt_send(e, UINT64_MAX, lt_signal_new(LT_SIG_KILL)) < 0,
          "pid 0 and the marker pid are never found");
    for (int i = 0; i < T * PER; i++) {
        lt_signal_free(procs[i].in_head);
        if (i % 2 == 0)
            lt_env_remove(e, &procs[i]);
    }
    CHECK(atomic_load(&e->nprocs) == 0, "empty again");
    lt_env_free_all(rt);
    free(procs);
    close(rt->poller.evfd);
    lt_timers_free(&rt->timers);
    free(rt);
}

/* ---- the timer heap ----------------------------------------------------------------- */

static void test_timers(void)
{
    lt_runtime *rt = fake_runtime();
    lt_env *e = lt_env_get(rt, 1);
    enum { N = 20000 };
    lt_timer **ts = calloc(N, sizeof *ts);
    int64_t *dl = calloc(N, sizeof *dl);
    bool *live = calloc(N, sizeof *live);
    for (int i = 0; i < N; i++) {
        dl[i] = 1000 + (int64_t)(rnd() % 1000000);
        ts[i] = lt_timer_send_after(rt, e, 42, lt_message_new(1, 0), dl[i]);
        live[i] = true;
    }
    /* cancel a random half; a cancelled timer leaves the heap at once */
    int cancelled = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        if (rnd() % 2) {
            refused += lt_timer_cancel(rt, ts[i]) != 1;
            live[i] = false;
            cancelled++;
        }
    }
    CHECK(refused == 0, "%d pending timers could not be cancelled", refused);
    CHECK(rt->timers.n == (uint32_t)(N - cancelled), "heap holds %u of %d", rt->timers.n,
          N - cancelled);
    /* firing in steps: each step fires exactly the timers due, earliest first */
    int bad = 0;
    int64_t now = 0;
    for (int step = 0; step < 51; step++) { /* deadlines < 1,001,000 */
        now += 20000;
        int64_t want_next = -1;
        int due = 0;
        for (int i = 0; i < N; i++) {
            if (!live[i])
                continue;
            if (dl[i] <= now)
                due++;
            else if (want_next < 0 || dl[i] < want_next)
                want_next = dl[i];
        }
        uint32_t before = rt->timers.n;
        lt_timers_fire_due(&rt->timers, now);
        bad += before - rt->timers.n != (uint32_t)due;
        bad += lt_timers_next(&rt->timers) != want_next;
        for (int i = 0; i < N; i++)
            if (live[i] && dl[i] <= now) {
                live[i] = false;
                bad += !lt_timer_done(ts[i]);
            }
    }
    CHECK(bad == 0, "%d steps fired the wrong timers", bad);
    CHECK(rt->timers.n == 0 && lt_timers_next(&rt->timers) == -1, "all fired");
    int late = 0;
    for (int i = 0; i < N; i++) {
        late += lt_timer_cancel(rt, ts[i]) != 0;
        lt_timer_release(ts[i]);
    }
    CHECK(late == 0, "%d timers cancelled after they fired or were cancelled", late);
    free(ts);
    free(dl);
    free(live);
    lt_env_free_all(rt);
    close(rt->poller.evfd);
    lt_timers_free(&rt->timers);
    free(rt);
}

/* ---- registry reservations (get_or_spawn) ------------------------------------ */

static void test_registry(void)
{
    lt_registry *r = lt_registry_new();
    uint64_t node = 7, pid = 7;
    CHECK(lt_registry_reserve(r, "a", 1, 100, &node, &pid) == LT_REG_ABSENT, "reserve a free name");
    CHECK(lt_registry_get(r, "a", 1, &node, &pid) == LT_REG_PENDING, "a reserved name is pending");
    CHECK(lt_registry_reserve(r, "a", 1, 200, &node, &pid) == LT_REG_PENDING,
          "a second reservation waits");
    lt_registry_settle(r, "a", 1, 200, true, 55); /* not the owner: nothing */
    CHECK(lt_registry_get(r, "a", 1, &node, &pid) == LT_REG_PENDING, "only the owner settles");
    lt_registry_settle(r, "a", 1, 100, true, 55);
    CHECK(lt_registry_get(r, "a", 1, &node, &pid) == LT_REG_FOUND && node == 0 && pid == 55,
          "settled: registered to the child");
    CHECK(lt_registry_reserve(r, "a", 1, 300, &node, &pid) == LT_REG_FOUND && pid == 55,
          "reserve of a registered name finds it");

    CHECK(lt_registry_reserve(r, "b", 1, 100, &node, &pid) == LT_REG_ABSENT, "reserve b");
    lt_registry_settle(r, "b", 1, 100, false, 0);
    CHECK(lt_registry_get(r, "b", 1, &node, &pid) == LT_REG_ABSENT, "a failed spawn frees the name");

    CHECK(lt_registry_reserve(r, "c", 1, 100, &node, &pid) == LT_REG_ABSENT, "reserve c");
    lt_registry_put(r, "c", 1, 0, 66);
    lt_registry_settle(r, "c", 1, 100, true, 77);
    CHECK(lt_registry_get(r, "c", 1, &node, &pid) == LT_REG_FOUND && pid == 66,
          "a put during the spawn wins");

    CHECK(lt_registry_reserve(r, "d", 1, 100, &node, &pid) == LT_REG_ABSENT, "reserve d");
    char buf[32];
    CHECK(lt_registry_name_of(r, 100, buf, sizeof buf) == NULL, "a reservation is nobody's name");
    lt_registry_remove_pid(r, 100);
    CHECK(lt_registry_get(r, "d", 1, &node, &pid) == LT_REG_ABSENT,
          "the owner's death frees its reservation");
    CHECK(lt_registry_get(r, "a", 1, &node, &pid) == LT_REG_FOUND, "and nothing else");
    lt_registry_release(r);
}

/* ---- a hand-off's requeue wakes the worker's new thread -------------------------- */

static atomic_llong ho_entered, ho_returned, ho_got; /* lt_now_ns */

/* A process whose first call is long, as a long SQLite call is: it hands
 * its worker to a new thread, which soon sleeps (nothing else to run), and
 * a message arrives before the call ends. */
static int hand_off_native(lt_process *self, const lt_native_msg *msg, void *ud)
{
    (void)ud;
    if (!msg) {
        lt_hand_off(self);
        atomic_store(&ho_entered, lt_now_ns());
        usleep(20000);
        atomic_store(&ho_returned, lt_now_ns());
        return LT_NATIVE_CONTINUE;
    }
    atomic_store(&ho_got, lt_now_ns());
    return LT_NATIVE_DONE;
}

static void test_hand_off(void)
{
    lt_runtime_opts o = {.threads = 1};
    lt_runtime *rt = lt_runtime_new(&o);
    CHECK(rt != NULL, "runtime with one worker");
    if (!rt)
        return;
    lt_env *e = lt_env_get(rt, 1);
    uint64_t pid = 0;
    CHECK(lt_spawn_native(rt, e, hand_off_native, NULL, NULL, false, &pid) == 0, "spawned");
    for (int i = 0; i < 5000 && !atomic_load(&ho_entered); i++)
        usleep(1000);
    lt_send(e, pid, lt_message_new(1, 0));
    for (int i = 0; i < 5000 && !atomic_load(&ho_got); i++)
        usleep(1000);
    long long gap = atomic_load(&ho_got) - atomic_load(&ho_returned);
    /* the process is requeued on its worker when the call ends; without a
     * wake-up the worker's new thread found it only at its 50 ms
     * safety-net wake (~30 ms later here) */
    CHECK(atomic_load(&ho_got) && gap < 15000000, "the message ran %.1f ms after the long call ended",
          (double)gap / 1e6);
    lt_runtime_stop(rt);
    lt_runtime_free(rt);
}

int main(void)
{
    test_idtab();
    test_account();
    test_mailbox();
    test_env();
    test_timers();
    test_registry();
    test_hand_off();
    return check_report();
}
