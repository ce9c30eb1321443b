/*
 * test_obs.c - the observability layer's parts without a runtime: the
 * HTTP request parser and the server's behaviour with good and bad
 * clients (src/obs/http.c), JSON escaping (src/obs/buf.c), and a process
 * snapshot as JSON and as a table (src/obs/json.c, table.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "check.h"
#include "obs/http.h"
#include "obs/obs.h"
#include "rt/process.h"

#define S(lit) lit, sizeof lit - 1

/* ---- parsing ------------------------------------------------------------------------- */

static int parse(const char *head, lobs_request *rq) { return lobs_http_parse(head, strlen(head), rq); }

static void test_parse(void)
{
    lobs_request rq;
    int st = parse("GET /api/processes?limit=5&sort=mailbox HTTP/1.1\r\nHost: localhost:9000\r\n"
                   "User-Agent: x\r\n\r\n", &rq);
    CHECK(st == 0, "valid GET: %d", st);
    CHECK(rq.path_len == 14 && !memcmp(rq.path, "/api/processes", 14), "path");
    CHECK(rq.query_len == strlen("limit=5&sort=mailbox") && !memcmp(rq.query, "limit=5&sort=mailbox", rq.query_len),
          "query text");
    CHECK(rq.host && rq.host_len == 14 && !memcmp(rq.host, "localhost:9000", 14), "host");
    CHECK(!strcmp(rq.method, "GET"), "method");

    st = parse("HEAD / HTTP/1.0\n\n", &rq);
    CHECK(st == 0 && !strcmp(rq.method, "HEAD") && rq.path_len == 1 && !rq.host, "HEAD, LF lines, no Host: %d", st);

    static const struct { const char *head; int status; } bad[] = {
        {"POST /metrics HTTP/1.1\r\n\r\n", 405},
        {"DELETE / HTTP/1.1\r\n\r\n", 405},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\n\r\n", 505},
        {"GET / HTTX/1.1\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\n\r\n", 400},
        {"get / HTTP/1.1\r\n\r\n", 400},
        {"GET metrics HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\n", 400},   /* no empty line */
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},   /* TLS to a plain port */
        {"", 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        st = parse(bad[i].head, &rq);
        CHECK(st == bad[i].status, "bad request %zu (%.20s...) gives %d, not %d", i, bad[i].head, st,
              bad[i].status);
    }
    const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    CHECK(lobs_http_parse(nul, sizeof nul - 1, &rq) == 400, "a NUL byte");
}

static void test_hosts(void)
{
    static const struct { const char *host; bool ok; } cases[] = {
        {"localhost", true}, {"localhost:9927", true}, {"LOCALHOST", true},
        {"127.0.0.1", true}, {"127.0.0.1:80", true}, {"127.1.2.3:8080", true},
        {"[::1]", true}, {"[::1]:9927", true},
        {"evil.example", false}, {"evil.example:9927", false}, {"128.0.0.1", false},
        {"localhost.evil.example", false}, {"127.0.0.1.evil.example", false},
        {"localhost:99x", false}, {"[::2]:80", false}, {"[::1]x", false}, {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(lobs_http_host_is_loopback(cases[i].host, strlen(cases[i].host)) == cases[i].ok,
              "Host '%s' should %sbe loopback", cases[i].host, cases[i].ok ? "" : "not ");
}

static void test_json_escape(void)
{
    lobs_buf b = {0};
    lobs_buf_json_str(&b, S("<b>\"x\"&\\\n\x01\xc3\xa9\xff\xed\xa0\x80z"));
    const char *want = "\"\\u003cb\\u003e\\\"x\\\"\\u0026\\\\\\n\\u0001\xc3\xa9\\ufffd\\ufffd\\ufffd\\ufffdz\"";
    CHECK(b.data && !strcmp(b.data, want), "json escaping: %s\nwanted: %s", b.data, want);
    lobs_buf_free(&b);
    lobs_buf_double(&b, 200000);
    lobs_buf_str(&b, " ");
    lobs_buf_double(&b, 1e6);
    lobs_buf_str(&b, " ");
    lobs_buf_double(&b, 0.1);
    lobs_buf_str(&b, " ");
    lobs_buf_double(&b, 1e-5);
    lobs_buf_str(&b, " ");
    lobs_buf_double(&b, -2.5);
    CHECK(!strcmp(b.data, "200000 1e+06 0.1 1e-05 -2.5"), "numbers as Go formats them: %s", b.data);
    lobs_buf_free(&b);
}

/* ---- snapshots as JSON and as a table ----------------------------------------------------- */

static void test_snapshot_text(void)
{
    lt_procinfo p[2];
    memset(p, 0, sizeof p);
    char name[] = "</script><img src=x onerror=alert(1)>";
    p[0] = (lt_procinfo){.env = 1, .pid = 3, .state = LT_SNAP_WAITING, .wait = LT_WAIT_RECEIVE,
                         .detailed = true, .ntags = 2, .tags = {7, -1}, .timeout_ns = -1,
                         .mailbox_len = 5, .mailbox_bytes = 50, .nnames = 1, .names = {name}};
    strcpy(p[0].module, "app.wasm");
    strcpy(p[0].function, "worker");
    p[1] = (lt_procinfo){.env = 1, .pid = 4, .state = LT_SNAP_RUNNING, .reductions = 99,
                         .timeout_ns = -1};
    lt_snapshot s = {.n = 2, .procs = p, .total = 3, .running = 1, .waiting = 1, .runnable = 1,
                     .mailbox_len = 5, .nenvs = 1};
    lobs_buf b = {0};
    CHECK(lobs_json_snapshot(&b, &s, 0), "json");
    CHECK(b.data && strstr(b.data, "\"totals\":{\"processes\":3,\"running\":1,\"runnable\":1,\"waiting\":1,"),
          "totals: %s", b.data);
    CHECK(strstr(b.data, "\"state\":\"waiting\"") && strstr(b.data, "\"wait\":\"receive\",\"ntags\":2,\"tags\":[7,-1]"),
          "waiting in receive with its tags: %s", b.data);
    CHECK(!strchr(b.data, '<') && strstr(b.data, "\\u003c/script\\u003e"), "markup escaped: %s", b.data);
    CHECK(strstr(b.data, "{\"env\":1,\"pid\":4,\"names\":[],\"kind\":\"wasm\",\"state\":\"running\",\"detailed\":false"),
          "a running process: what is known: %s", b.data);
    lobs_buf_free(&b);
    CHECK(!lobs_json_snapshot(&b, &s, 5), "one pid that is not there");
    CHECK(lobs_json_snapshot(&b, &s, 3) && strstr(b.data, "\"link_list\":[],\"monitored_by\":[],\"monitoring\":[]"),
          "one pid, with its lists: %s", b.data);
    lobs_buf_free(&b);
    lobs_table_snapshot(&b, &s);
    CHECK(b.data && strstr(b.data, "3 processes (1 running, 1 runnable, 1 waiting)"), "table head: %s", b.data);
    CHECK(strstr(b.data, "receive [7,-1]") && strstr(b.data, "app.wasm:worker"), "table row: %s", b.data);
    CHECK(strstr(b.data, "(1 more not listed)"), "unlisted processes counted: %s", b.data);
    lobs_buf_free(&b);
}

/* ---- the server ----------------------------------------------------------------------------- */

static atomic_int handled;

static void handler(const lobs_request *rq, lobs_response *rs, void *ud)
{
    (void)ud;
    atomic_fetch_add(&handled, 1);
    if (rq->path_len == 4 && !memcmp(rq->path, "/big", 4)) {
        for (int i = 0; i < 200000; i++)
            lobs_buf_str(&rs->body, "0123456789");
        return;
    }
    lobs_buf_str(&rs->body, "hello\n");
}

static int port_of(const lobs_http *h)
{
    const char *a = lobs_http_address(h);
    return atoi(strrchr(a, ':') + 1);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the server closes or 5 s pass; the bytes in out (NUL-ended). */
static size_t read_all(int fd, char *out, size_t cap)
{
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        char tmp[65536];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0)
            break;
        size_t k = (size_t)r < cap - 1 - n ? (size_t)r : cap - 1 - n;
        memcpy(out + n, tmp, k);
        n += k;
    }
    out[n] = 0;
    return n;
}

/* One request, the whole response. */
static char *request(int port, const void *req, size_t len)
{
    static char resp[1 << 22];
    int fd = connect_to(port);
    if (fd < 0)
        return strcpy(resp, "(connect failed)");
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        strcpy(resp, "(send failed)");
    read_all(fd, resp, sizeof resp);
    close(fd);
    return resp;
}

static bool status_is(const char *resp, int status)
{
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    return !strncmp(resp, want, strlen(want));
}

static void test_server(void)
{
    char err[200];
    lobs_http_opts o = {.addr = "127.0.0.1:0", .handler = handler, .max_conns = 8,
                        .timeout_ms = 300};
    lobs_http *h = lobs_http_start(&o, err, sizeof err);
    CHECK(h != NULL, "server: %s", err);
    if (!h)
        return;
    int port = port_of(h);
    CHECK(port > 0 && !strncmp(lobs_http_address(h), "127.0.0.1:", 10), "address %s", lobs_http_address(h));

    char *r = request(port, S("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    CHECK(status_is(r, 200) && strstr(r, "Content-Length: 6\r\n") && strstr(r, "\r\n\r\nhello\n") &&
              strstr(r, "Connection: close\r\n"), "GET: %s", r);
    r = request(port, S("HEAD / HTTP/1.1\r\n\r\n"));
    CHECK(status_is(r, 200) && strstr(r, "Content-Length: 6\r\n") && !strstr(r, "hello"), "HEAD: %s", r);
    r = request(port, S("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK(status_is(r, 405) && strstr(r, "Allow: GET, HEAD\r\n"), "POST: %s", r);
    r = request(port, S("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n"));
    CHECK(status_is(r, 403), "a foreign Host on a loopback server (DNS rebinding): %s", r);
    r = request(port, S("\x16\x03\x01\x02\x00garbage\r\n\r\n"));
    CHECK(status_is(r, 400), "garbage: %s", r);

    /* oversized: one long request line, then many headers */
    static char big[LOBS_HTTP_HEAD_MAX * 4];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    r = request(port, big, sizeof big);
    CHECK(status_is(r, 414), "a request line beyond the limit: %.60s", r);
    size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    while (n < sizeof big - 40)
        n += (size_t)snprintf(big + n, sizeof big - n, "X-Filler: %s\r\n", "0123456789012345678901234567890");
    r = request(port, big, n);
    CHECK(status_is(r, 431), "headers beyond the limit: %.60s", r);

    /* a big response to a client that reads it slowly arrives whole */
    int fd = connect_to(port);
    send(fd, "GET /big HTTP/1.1\r\n\r\n", 21, MSG_NOSIGNAL);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    static char resp[1 << 22];
    size_t got = read_all(fd, resp, sizeof resp);
    close(fd);
    CHECK(status_is(resp, 200) && got > 2000000 && strstr(resp, "Content-Length: 2000000\r\n"),
          "a 2 MB response: %zu bytes", got);

    /* a client that sends half a request and stalls gets 408 */
    fd = connect_to(port);
    send(fd, "GET / HTT", 9, MSG_NOSIGNAL);
    read_all(fd, resp, sizeof resp);
    close(fd);
    CHECK(status_is(resp, 408), "slow client: %.40s", resp);

    /* more idle connections than max_conns: the oldest give way, and a
     * real request is still answered */
    int idle[20];
    for (int i = 0; i < 20; i++)
        idle[i] = connect_to(port);
    nanosleep(&pause, NULL);
    int before = atomic_load(&handled);
    r = request(port, S("GET / HTTP/1.1\r\n\r\n"));
    CHECK(status_is(r, 200) && atomic_load(&handled) == before + 1, "served past 20 idle connections: %.40s", r);
    int closed = 0;
    for (int i = 0; i < 20; i++) {
        struct pollfd p = {.fd = idle[i], .events = POLLIN};
        char c;
        if (poll(&p, 1, 0) == 1 && recv(idle[i], &c, 1, MSG_DONTWAIT) == 0)
            closed++;
        close(idle[i]);
    }
    CHECK(closed >= 12, "the oldest idle connections were closed (%d of 20)", closed);

    /* a client that closes without reading the response harms nothing */
    for (int i = 0; i < 20; i++) {
        fd = connect_to(port);
        send(fd, "GET /big HTTP/1.1\r\n\r\n", 21, MSG_NOSIGNAL);
        close(fd);
    }
    r = request(port, S("GET / HTTP/1.1\r\n\r\n"));
    CHECK(status_is(r, 200), "served after clients that left: %.40s", r);
    lobs_http_stop(h);

    /* addresses */
    static const char *const bad[] = {"", "host", ":", "1.2.3.4:", "1.2.3.4:99999", "::1:80",
                                      "[::1]", "a:b:c"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o.addr = bad[i];
        h = lobs_http_start(&o, err, sizeof err);
        CHECK(!h && err[0], "address '%s' refused (%s)", bad[i], err);
        lobs_http_stop(h);
    }
    o.addr = "0";   /* a bare port: the default host */
    o.default_host = "127.0.0.1";
    h = lobs_http_start(&o, err, sizeof err);
    CHECK(h && !strncmp(lobs_http_address(h), "127.0.0.1:", 10), "bare port: %s", h ? lobs_http_address(h) : err);
    lobs_http_stop(h);
}

int main(void)
{
    test_parse();
    test_hosts();
    test_json_escape();
    test_snapshot_text();
    test_server();
    return check_report();
}
