/*
 * server.c - the observability endpoints of a runtime (obs.h): an HTTP
 * server (http.h) with these routes.
 *
 *   GET /metrics              every metric, Prometheus text format 0.0.4
 *   GET /                     the dashboard (dashboard only)
 *   GET /api/processes        the live processes as JSON (dashboard only);
 *                             query: limit=N (default 10,000), sort=pid|
 *                             mailbox|memory|reductions|age (which ones are
 *                             kept past the limit), env=E
 *   GET /api/processes/PID    one process with its links and monitors;
 *                             env=E (default: the lowest environment that
 *                             has that pid)
 *
 * Everything is read-only: no route changes the runtime.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/http.h"
#include "obs/obs.h"

/* The page, compiled in from src/obs/dashboard.html (the Makefile turns
 * it into build/gen/dashboard_html.c). */
extern const unsigned char lobs_dashboard_html[];
extern const size_t lobs_dashboard_html_len;

#define DEFAULT_LIMIT 10000
#define MAX_LIMIT 1000000

struct lobs_server {
    lt_runtime *rt;
    lobs_http *http;
    bool dashboard;
    char node_id[24];
};

/* The value of `key` in a query string, or NULL; *len gets its length. */
static const char *query_param(const lobs_request *rq, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    const char *q = rq->query, *end = rq->query + rq->query_len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;
        if ((size_t)(e - q) > kl && !memcmp(q, key, kl) && q[kl] == '=') {
            *len = (size_t)(e - q - (ptrdiff_t)kl - 1);
            return q + kl + 1;
        }
        q = e + 1;
    }
    return NULL;
}

/* A decimal number of at most 19 digits; false otherwise. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool path_is(const lobs_request *rq, const char *p)
{
    return rq->path_len == strlen(p) && !memcmp(rq->path, p, rq->path_len);
}

static void text(lobs_response *rs, int status, const char *msg)
{
    rs->status = status;
    lobs_buf_str(&rs->body, msg);
}

static void json_error(lobs_response *rs, int status, const char *msg)
{
    rs->status = status;
    rs->content_type = "application/json";
    lobs_buf_printf(&rs->body, "{\"error\":\"%s\"}\n", msg);
}

static void api_processes(lobs_server *s, const lobs_request *rq, lobs_response *rs,
                          const char *pidtext, size_t pidlen)
{
    lt_snapopts o = {.limit = DEFAULT_LIMIT, .sort = LT_SNAP_BY_PID};
    size_t n;
    const char *v;
    uint64_t x;
    if ((v = query_param(rq, "limit", &n))) {
        if (!parse_u64(v, n, &x) || x == 0 || x > MAX_LIMIT) {
            json_error(rs, 400, "limit: a number from 1 to 1000000");
            return;
        }
        o.limit = (size_t)x;
    }
    if ((v = query_param(rq, "env", &n))) {
        if (!parse_u64(v, n, &x) || x == 0) {
            json_error(rs, 400, "env: an environment id");
            return;
        }
        o.env = x;
    }
    if ((v = query_param(rq, "sort", &n))) {
        static const char *const names[] = {"pid", "mailbox", "memory", "reductions", "age"};
        int k = 0;
        while (k < 5 && !(strlen(names[k]) == n && !memcmp(names[k], v, n)))
            k++;
        if (k == 5) {
            json_error(rs, 400, "sort: pid, mailbox, memory, reductions or age");
            return;
        }
        o.sort = (lt_snapsort)k;
    }
    uint64_t pid = 0;
    if (pidtext) {
        if (!parse_u64(pidtext, pidlen, &pid) || pid == 0) {
            json_error(rs, 404, "no such process");
            return;
        }
        o.pid = pid;
        o.lists = true;
        o.limit = 0;
    }
    lt_snapshot *snap = lt_snapshot_take(s->rt, &o);
    if (!snap) {
        json_error(rs, 500, "out of memory");
        return;
    }
    rs->content_type = "application/json";
    if (!lobs_json_snapshot(&rs->body, snap, pid))
        json_error(rs, 404, "no such process");
    else if (pid)
        lobs_buf_str(&rs->body, "\n");
    lt_snapshot_free(snap);
}

static void handler(const lobs_request *rq, lobs_response *rs, void *ud)
{
    lobs_server *s = ud;
    if (path_is(rq, "/metrics")) {
        rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
        lobs_render_prometheus(&rs->body, s->node_id);
        return;
    }
    if (!s->dashboard) {
        text(rs, 404, "404 Not Found (this port serves /metrics)\n");
        return;
    }
    if (path_is(rq, "/")) {
        rs->content_type = "text/html; charset=utf-8";
        /* the page is self-contained: nothing may be loaded from elsewhere */
        rs->headers = "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
                      "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
                      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
                      "Referrer-Policy: no-referrer\r\n";
        lobs_buf_add(&rs->body, lobs_dashboard_html, lobs_dashboard_html_len);
        return;
    }
    if (path_is(rq, "/api/processes")) {
        api_processes(s, rq, rs, NULL, 0);
        return;
    }
    static const char prefix[] = "/api/processes/";
    if (rq->path_len > sizeof prefix - 1 && !memcmp(rq->path, prefix, sizeof prefix - 1)) {
        api_processes(s, rq, rs, rq->path + sizeof prefix - 1,
                             rq->path_len - (sizeof prefix - 1));
        return;
    }
    text(rs, 404, "404 Not Found\n");
}

lobs_server *lobs_server_start(lt_runtime *rt, const lobs_server_opts *o, char *err,
                               size_t errsize)
{
    lobs_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    s->rt = rt;
    s->dashboard = o->dashboard;
    snprintf(s->node_id, sizeof s->node_id, "%llu", (unsigned long long)o->node_id);
    lobs_http_opts ho = {.addr = o->addr, .default_host = o->default_host, .handler = handler,
                         .ud = s};
    s->http = lobs_http_start(&ho, err, errsize);
    if (!s->http) {
        free(s);
        return NULL;
    }
    return s;
}

const char *lobs_server_address(const lobs_server *s) { return lobs_http_address(s->http); }

void lobs_server_stop(lobs_server *s)
{
    if (!s)
        return;
    lobs_http_stop(s->http);
    free(s);
}
