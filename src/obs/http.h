/*
 * http.h - a small HTTP/1.1 server for the observability endpoints: GET
 * and HEAD only, one request per connection (Connection: close), on one
 * thread of its own with an epoll loop.
 *
 * Built to survive bad clients, since a metrics port may face anything:
 *  - a request head may be at most LOBS_HTTP_HEAD_MAX bytes (414 or 431
 *    beyond), must be well-formed (400), use GET or HEAD (405) and
 *    HTTP/1.0 or 1.1 (505);
 *  - a connection has timeout_ms to send its request (408) and as long
 *    again to read the response (then it is closed);
 *  - at most max_conns connections are open; a new one past that closes
 *    the oldest that has not finished sending its request (slow or idle
 *    clients cannot lock others out); when running out of descriptors the
 *    server accepts and closes at once instead of spinning;
 *  - writes never raise SIGPIPE, and a response is followed by a graceful
 *    close (the client's unread bytes do not turn it into a reset).
 * A server bound to a loopback address answers only requests whose Host
 * is a loopback name (localhost, 127.x.x.x, [::1]): a web page the user
 * visits cannot read it through DNS rebinding (403 otherwise).
 */
#ifndef LUNATIC_OBS_HTTP_H
#define LUNATIC_OBS_HTTP_H

#include "obs/buf.h"

#define LOBS_HTTP_HEAD_MAX 8192

typedef struct lobs_request {
    const char *method;          /* "GET" or "HEAD" */
    const char *path;            /* the target up to '?' (not NUL-terminated) */
    size_t path_len;
    const char *query;           /* after '?', "" if none (not NUL-terminated) */
    size_t query_len;
    const char *host;            /* the Host header's value, or NULL */
    size_t host_len;
} lobs_request;

typedef struct lobs_response {
    int status;                  /* 200 unless the handler says otherwise */
    const char *content_type;    /* default "text/plain; charset=utf-8" */
    const char *headers;         /* extra header lines, each ending "\r\n", or NULL */
    lobs_buf body;
} lobs_response;

/* Runs on the server's thread for each valid request. */
typedef void (*lobs_handler)(const lobs_request *rq, lobs_response *rs, void *ud);

typedef struct lobs_http_opts {
    const char *addr;            /* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" */
    const char *default_host;    /* the host of ":PORT" and "PORT" */
    lobs_handler handler;
    void *ud;
    int max_conns;               /* 0: 256 */
    int timeout_ms;              /* 0: 10,000 */
} lobs_http_opts;

typedef struct lobs_http lobs_http;

/* Binds, listens and starts the thread. NULL with a one-line reason. */
lobs_http *lobs_http_start(const lobs_http_opts *o, char *err, size_t errsize);
/* "HOST:PORT" as bound (the real port when 0 was asked); owned by h. */
const char *lobs_http_address(const lobs_http *h);
/* Stops the thread, closes every connection, frees h. */
void lobs_http_stop(lobs_http *h);

/* Parses a request head (the bytes up to and including its empty line;
 * lines end with CRLF or LF) into rq, whose strings point into head.
 * Returns 0, or the HTTP status to answer with (400, 405, 505). */
int lobs_http_parse(const char *head, size_t len, lobs_request *rq);
/* Is host (a Host header value) a loopback name? */
bool lobs_http_host_is_loopback(const char *host, size_t len);

#endif
