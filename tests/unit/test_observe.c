/*
 * test_observe.c - observing a runtime through the embedding API
 * (include/lunatic.h): snapshots of processes in known states (waiting in
 * receive with tags, sleeping, native, running, with a mailbox, names,
 * links and monitors), the process table, the runtime's metrics moving
 * with what processes do, the HTTP server's routes, and snapshots and
 * scrapes taken while processes come and go (for ThreadSanitizer:
 * tests/tsan.sh runs this too).
 * A watchdog (alarm) ends a hung test with a FAIL line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "check.h"
#include "lunatic.h"

#define ENV 3

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *guest_wat =
    "(module\n"
    "  (import \"lunatic::message\" \"receive\" (func $receive (param i32 i32 i64) (result i32)))\n"
    "  (import \"lunatic::registry\" \"put\" (func $put (param i32 i32 i64 i64)))\n"
    "  (import \"lunatic::process\" \"process_id\" (func $self (result i64)))\n"
    "  (import \"lunatic::process\" \"sleep_ms\" (func $sleep (param i64)))\n"
    "  (import \"lunatic::process\" \"link\" (func $link (param i64 i64)))\n"
    "  (import \"lunatic::process\" \"monitor\" (func $monitor (param i64)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 100) \"waiter\")\n"
    "  (data (i32.const 200) \"\\07\\00\\00\\00\\00\\00\\00\\00\\09\\00\\00\\00\\00\\00\\00\\00\")\n"
    "  ;; registers \"waiter\", then waits for a message with tag 7 or 9\n"
    "  (func (export \"wait_tags\")\n"
    "    (call $put (i32.const 100) (i32.const 6) (i64.const 0) (call $self))\n"
    "    (drop (call $receive (i32.const 200) (i32.const 2) (i64.const -1))))\n"
    "  (func (export \"sleep_long\") (call $sleep (i64.const 3600000)))\n"
    "  ;; links to pid with tag, monitors it, waits for a message with tag 5\n"
    "  (func (export \"link_and_wait\") (param $pid i64) (param $tag i64)\n"
    "    (call $link (local.get $tag) (local.get $pid))\n"
    "    (call $monitor (local.get $pid))\n"
    "    (i64.store (i32.const 300) (i64.const 5))\n"
    "    (drop (call $receive (i32.const 300) (i32.const 1) (i64.const -1))))\n"
    "  (func (export \"spin\") (loop $l (br $l))))\n";

static lunatic_module *guest;

/* Spawns func; 0 with a reason in err (any thread). */
static uint64_t spawn_err(lunatic_runtime *rt, const char *func, const uint64_t *params, uint32_t n,
                          char *err, size_t errsize)
{
    lunatic_config *c = lunatic_config_new();
    uint64_t pid = lunatic_spawn(rt, ENV, guest, c, func, params, n, err, errsize);
    lunatic_config_release(c);
    return pid;
}

/* The same from the main thread, as a check. */
static uint64_t spawn(lunatic_runtime *rt, const char *func, const uint64_t *params, uint32_t n)
{
    char err[256] = "";
    uint64_t pid = spawn_err(rt, func, params, n, err, sizeof err);
    CHECK(pid != 0, "spawn %s: %s", func, err);
    return pid;
}

static int native_wait(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    (void)self, (void)msg, (void)ud;
    return LUNATIC_CONTINUE;
}

static const lunatic_process_info *find(const lunatic_snapshot *s, uint64_t pid)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->procs[i].pid == pid)
            return &s->procs[i];
    return NULL;
}

/* The value of a series in Prometheus text (the whole name with labels). */
static double metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, series, n) && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

static double scrape(const char *series)
{
    char *t = lunatic_metrics_prometheus(0);
    double v = t ? metric(t, series) : -1;
    free(t);
    return v;
}

/* GET path from a server; the whole response (static). */
static const char *http_get(const char *addr, const char *path)
{
    static char resp[1 << 20];
    resp[0] = 0;
    int port = atoi(strrchr(addr, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return resp;
    }
    char req[256];
    int k = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    send(fd, req, (size_t)k, MSG_NOSIGNAL);
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t r = recv(fd, resp + n, sizeof resp - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    resp[n] = 0;
    close(fd);
    return resp;
}

static void test_states(lunatic_runtime *rt)
{
    check_begin("states", 20);
    uint64_t w = spawn(rt, "wait_tags", NULL, 0);
    uint64_t s = spawn(rt, "sleep_long", NULL, 0);
    uint64_t nat = lunatic_spawn_native(rt, ENV, native_wait, NULL);
    uint64_t lp[2] = {w, 42};
    uint64_t l = spawn(rt, "link_and_wait", lp, 2);
    uint64_t x = spawn(rt, "spin", NULL, 0);
    for (int i = 0; i < 3; i++)
        lunatic_send(rt, ENV, w, 1, "unmatched", 9);

    /* wait until the processes have reached their waits */
    lunatic_snapshot *snap = NULL;
    for (int tries = 0; tries < 2000; tries++) {
        lunatic_snapshot_free(snap);
        snap = lunatic_snapshot_new(rt, ENV, 0, 1);
        const lunatic_process_info *pw = find(snap, w), *pl = find(snap, l), *ps = find(snap, s);
        if (pw && pl && ps && pw->mailbox_len == 3 && pw->nnames == 1 && pw->nmonitors == 1 &&
            pl->wait == LUNATIC_WAIT_RECEIVE && ps->wait == LUNATIC_WAIT_SLEEP)
            break;
        sleep_ms(2);
    }
    CHECK(snap != NULL, "snapshot");
    if (!snap)
        return;
    CHECK(snap->total == 5 && snap->n == 5, "5 processes in env %d: total %llu, listed %zu", ENV,
          (unsigned long long)snap->total, snap->n);
    const lunatic_process_info *p = find(snap, w);
    CHECK(p && p->state == LUNATIC_PROC_WAITING && p->wait == LUNATIC_WAIT_RECEIVE && p->detailed,
          "waiter waits in receive");
    if (p) {
        CHECK(p->ntags == 2 && p->tags[0] == 7 && p->tags[1] == 9, "its tags: %u [%lld %lld]", p->ntags,
              (long long)p->tags[0], (long long)p->tags[1]);
        CHECK(p->nnames == 1 && !strcmp(p->names[0], "waiter"), "its name");
        CHECK(p->mailbox_len == 3 && p->mailbox_bytes == 27, "its mailbox: %u, %llu bytes",
              p->mailbox_len, (unsigned long long)p->mailbox_bytes);
        CHECK(!strcmp(p->module, "observe-guest") && !strcmp(p->function, "wait_tags"),
              "spawned from %s:%s", p->module, p->function);
        CHECK(p->memory_bytes == 65536 && p->host_bytes > 1000, "memory %llu, host %llu",
              (unsigned long long)p->memory_bytes, (unsigned long long)p->host_bytes);
        CHECK(p->nlinks == 1 && p->links[0].pid == l && p->links[0].tag == 42,
              "linked to %llu with tag 42", (unsigned long long)l);
        CHECK(p->nmonitors == 1 && p->monitors[0] == l, "monitored by %llu", (unsigned long long)l);
        CHECK(p->timeout_ms == -1 && !p->native && p->die_when_link_dies, "no timeout, wasm");
    }
    p = find(snap, s);
    CHECK(p && p->wait == LUNATIC_WAIT_SLEEP && p->timeout_ms > 3500000 && p->timeout_ms <= 3600000,
          "sleeper: wait %d, %lld ms left", p ? p->wait : -1, p ? (long long)p->timeout_ms : -1);
    p = find(snap, nat);
    CHECK(p && p->native && p->wait == LUNATIC_WAIT_RECEIVE && p->ntags == 0 && !p->function[0],
          "a native process waits for any message");
    p = find(snap, l);
    CHECK(p && p->nmonitoring == 1 && p->monitoring[0] == w && p->nlinks == 1 && p->links[0].pid == w,
          "the linker: monitors %llu and is linked to it", (unsigned long long)w);
    p = find(snap, x);
    uint64_t reds = p ? p->reductions : 0;
    CHECK(p && (p->state == LUNATIC_PROC_RUNNING || p->state == LUNATIC_PROC_RUNNABLE),
          "the spinner runs (state %d)", p ? p->state : -1);
    lunatic_snapshot_free(snap);

    /* one pid; and the spinner's reductions grow, readable while it runs */
    sleep_ms(30);
    snap = lunatic_snapshot_new(rt, ENV, x, 0);
    CHECK(snap && snap->n == 1 && snap->procs[0].pid == x && snap->procs[0].reductions > reds,
          "one pid: reductions %llu then %llu", (unsigned long long)reds,
          snap && snap->n ? (unsigned long long)snap->procs[0].reductions : 0ull);
    lunatic_snapshot_free(snap);
    snap = lunatic_snapshot_new(rt, ENV + 1, 0, 0);
    CHECK(snap && snap->n == 0 && snap->total == 0, "an empty environment");
    lunatic_snapshot_free(snap);

    /* the table */
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    CHECK(lunatic_print_processes(rt, fds[1]) == 0, "print");
    close(fds[1]);
    static char table[65536];
    ssize_t n = read(fds[0], table, sizeof table - 1);
    close(fds[0]);
    table[n > 0 ? n : 0] = 0;
    CHECK(strstr(table, "waiter") && strstr(table, "receive [7,9]") && strstr(table, "observe-guest:wait_tags") &&
              strstr(table, "(native)"), "the table:\n%s", table);

    /* the server */
    char err[200];
    lunatic_server *srv = lunatic_server_start(rt, "127.0.0.1:0", NULL, LUNATIC_SERVE_DASHBOARD, 0,
                                               err, sizeof err);
    CHECK(srv != NULL, "server: %s", err);
    if (srv) {
        char path[64];
        snprintf(path, sizeof path, "/api/processes/%llu?env=%d", (unsigned long long)w, ENV);
        const char *r = http_get(lunatic_server_address(srv), path);
        CHECK(strstr(r, "HTTP/1.1 200 ") && strstr(r, "\"names\":[\"waiter\"]") &&
                  strstr(r, "\"wait\":\"receive\",\"ntags\":2,\"tags\":[7,9]") &&
                  strstr(r, "\"mailbox_len\":3") && strstr(r, "\"monitored_by\":["),
              "GET %s:\n%s", path, r);
        r = http_get(lunatic_server_address(srv), "/api/processes?env=3&limit=2&sort=mailbox");
        CHECK(strstr(r, "\"processes\":5") && strstr(r, "\"listed\":2"), "limit: %.300s", r);
        r = http_get(lunatic_server_address(srv), "/api/processes/99999");
        CHECK(strstr(r, "HTTP/1.1 404 "), "a missing pid: %.100s", r);
        r = http_get(lunatic_server_address(srv), "/api/processes?limit=0");
        CHECK(strstr(r, "HTTP/1.1 400 "), "limit=0: %.100s", r);
        r = http_get(lunatic_server_address(srv), "/");
        CHECK(strstr(r, "HTTP/1.1 200 ") && strstr(r, "Content-Security-Policy: default-src 'none'") &&
                  strstr(r, "<!doctype html>"), "the page: %.300s", r);
        r = http_get(lunatic_server_address(srv), "/metrics");
        CHECK(strstr(r, "text/plain; version=0.0.4") && strstr(r, "lunatic_process_spawned_total{node_id=\"0\""),
              "metrics: %.300s", r);
        lunatic_server_stop(srv);
    }
    /* a second server on the same port fails with a reason */
    srv = lunatic_server_start(rt, "127.0.0.1:0", NULL, 0, 0, err, sizeof err);
    if (srv) {
        char again[64];
        snprintf(again, sizeof again, "%s", lunatic_server_address(srv));
        lunatic_server *dup = lunatic_server_start(rt, again, NULL, 0, 0, err, sizeof err);
        CHECK(!dup && strstr(err, "cannot listen"), "port in use: %s", err);
        lunatic_server_stop(dup);
        lunatic_server_stop(srv);
    }

    /* metrics move with what the processes do */
    double killed = scrape("lunatic_process_exited_total{node_id=\"0\",reason=\"killed\"}");
    double alive = scrape("lunatic_process_environment_processes{node_id=\"0\"}");
    double links = scrape("lunatic_process_links_alive{node_id=\"0\"}");
    CHECK(alive >= 5 && links >= 1, "processes %g, links %g", alive, links);
    lunatic_kill(rt, ENV, x);
    CHECK(lunatic_wait(rt, ENV, x) == LUNATIC_STATUS_KILLED, "spinner killed");
    CHECK(scrape("lunatic_process_exited_total{node_id=\"0\",reason=\"killed\"}") == killed + 1,
          "one more killed");
    CHECK(scrape("lunatic_process_environment_processes{node_id=\"0\"}") == alive - 1, "one process less");
    /* the waiter's death takes the linker with it (link failure) and
     * ends a link */
    lunatic_kill(rt, ENV, w);
    lunatic_wait(rt, ENV, w);
    CHECK(lunatic_wait(rt, ENV, l) == LUNATIC_STATUS_KILLED, "the linker died with it");
    CHECK(scrape("lunatic_process_links_alive{node_id=\"0\"}") == links - 1, "one link less");
    lunatic_kill(rt, ENV, s);
    lunatic_kill(rt, ENV, nat);
    lunatic_wait(rt, ENV, s);
    lunatic_wait(rt, ENV, nat);
    snap = lunatic_snapshot_new(rt, ENV, 0, 0);
    CHECK(snap && snap->total == 0, "none left");
    lunatic_snapshot_free(snap);
}

/* ---- observing while processes come and go ------------------------------------------------ */

static atomic_int churn_stop, churn_errors;

static int churn_native(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    (void)self, (void)ud;
    return msg && msg->tag == 2 ? LUNATIC_DONE : LUNATIC_CONTINUE;
}

static void *churn(void *arg)
{
    lunatic_runtime *rt = arg;
    uint64_t pids[64] = {0};
    for (unsigned i = 0; !atomic_load(&churn_stop); i++) {
        unsigned k = i % 64;
        if (pids[k]) {
            if (i % 3 == 0)
                lunatic_kill(rt, ENV, pids[k]);
            else
                lunatic_send(rt, ENV, pids[k], 2, "bye", 3);
            lunatic_wait(rt, ENV, pids[k]);
        }
        pids[k] = lunatic_spawn_native(rt, ENV, churn_native, NULL);
        lunatic_send(rt, ENV, pids[k], 1, "hello", 5);
        if (k && pids[k - 1])
            lunatic_link(rt, ENV, pids[k], pids[k - 1], (int64_t)k);
        char err[256];
        if (i % 7 == 0 && !spawn_err(rt, "spin", NULL, 0, err, sizeof err))   /* killed below */
            atomic_fetch_add(&churn_errors, 1);
        if (!pids[k])
            atomic_fetch_add(&churn_errors, 1);
    }
    for (unsigned k = 0; k < 64; k++) {
        if (pids[k]) {
            lunatic_kill(rt, ENV, pids[k]);
            lunatic_wait(rt, ENV, pids[k]);
        }
    }
    return NULL;
}

static void test_concurrent(lunatic_runtime *rt)
{
    check_begin("concurrent", 60);
    pthread_t t;
    pthread_create(&t, NULL, churn, rt);
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        lunatic_snapshot *s = lunatic_snapshot_new(rt, 0, 0, i % 2);
        if (!s || s->n != s->total || s->running + s->runnable + s->waiting != s->total)
            bad++;
        lunatic_snapshot_free(s);
        char *text = lunatic_metrics_prometheus(0);
        if (!text || !strstr(text, "lunatic_process_links_alive"))
            bad++;
        free(text);
        if (i % 20 == 0)
            sleep_ms(1);
    }
    atomic_store(&churn_stop, 1);
    pthread_join(t, NULL);
    CHECK(bad == 0, "%d inconsistent snapshots or scrapes", bad);
    CHECK(atomic_load(&churn_errors) == 0, "%d spawns failed", atomic_load(&churn_errors));
    /* the spinners are still running: kill them through a snapshot */
    lunatic_snapshot *s = lunatic_snapshot_new(rt, ENV, 0, 0);
    for (size_t i = 0; s && i < s->n; i++)
        lunatic_kill(rt, ENV, s->procs[i].pid);
    for (size_t i = 0; s && i < s->n; i++)
        lunatic_wait(rt, ENV, s->procs[i].pid);
    lunatic_snapshot_free(s);
    s = lunatic_snapshot_new(rt, ENV, 0, 0);
    CHECK(s && s->total == 0, "all gone after the churn");
    lunatic_snapshot_free(s);
    CHECK(scrape("lunatic_process_messages_outstanding{node_id=\"0\"}") == 0,
          "no message left in any mailbox");
}

int main(void)
{
    check_begin("setup", 10);
    size_t len = 0;
    uint8_t *bin = wat_to_wasm(guest_wat, &len);
    if (bin) {
        char err[256] = "";
        guest = lunatic_module_new(bin, len, err, sizeof err);
        CHECK(guest != NULL, "lunatic_module_new: %s", err);
        free(bin);
    }
    if (guest)
        lunatic_module_set_name(guest, "observe-guest");
    lunatic_options opt = {.threads = 4};
    lunatic_runtime *rt = lunatic_runtime_new(&opt);
    CHECK(rt != NULL, "lunatic_runtime_new");
    if (!rt || !guest)
        return check_report();
    test_states(rt);
    test_concurrent(rt);
    check_begin("free", 30);
    lunatic_runtime_free(rt);
    CHECK(scrape("lunatic_process_environment_processes{node_id=\"0\"}") == 0,
          "no process counted after the runtime is freed");
    CHECK(scrape("lunatic_process_environments{node_id=\"0\"}") == 0, "no environment either");
    check_begin(NULL, 0);
    lunatic_module_release(guest);
    return check_report();
}
