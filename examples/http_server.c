/* http_server.c - a small HTTP/1.1 server: "Hello, world!" for every
 * request, keep-alive, one lunatic process per connection.
 *
 * Requests on a connection are answered in order, several per read when a
 * client pipelines them; a request body (Content-Length) is skipped.
 * "Connection: close", or HTTP/1.0 without "Connection: keep-alive", ends
 * the connection after the answer. A request whose head is larger than
 * the buffer gets 431 and the connection is closed. Build:
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I sdk -o http_server.wasm http_server.c
 * Run: lunatic run http_server.wasm [PORT]   (default 8080; 0: any free)
 * Try: curl -v http://127.0.0.1:8080/ */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lunatic_guest.h"

#define STREAM 1 /* message tag */
#define BUF 8192

static const char hello[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: text/plain\r\n"
                            "Content-Length: 13\r\n"
                            "\r\n"
                            "Hello, world!";
static const char hello_close[] = "HTTP/1.1 200 OK\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 13\r\n"
                                  "Connection: close\r\n"
                                  "\r\n"
                                  "Hello, world!";
static const char too_large[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                "Content-Length: 0\r\n"
                                "Connection: close\r\n"
                                "\r\n";

/* The value of header name in head[0..len) (case-insensitive), or NULL. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = head, *end = head + len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Whether the request head asks to close the connection after it. */
static int wants_close(const char *head, size_t len)
{
    size_t vl;
    const char *v = header(head, len, "Connection", &vl);
    const char *eol = memchr(head, '\n', len);
    int http10 = eol && memmem(head, (size_t)(eol - head), "HTTP/1.0", 8) != NULL;
    if (v && vl == 5 && !strncasecmp(v, "close", 5))
        return 1;
    if (http10)
        return !(v && vl == 10 && !strncasecmp(v, "keep-alive", 10));
    return 0;
}

LG_EXPORT("connection") void connection(void)
{
    lg_receive_tag(STREAM, LG_FOREVER);
    uint64_t s = lg_msg_take_tcp_stream(lg_msg_read_u64());
    static char buf[BUF];
    size_t have = 0, skip = 0; /* skip: body bytes still to drop */
    for (;;) {
        size_t n;
        if (have == sizeof buf) {
            lg_tcp_write_all(s, too_large, sizeof too_large - 1, NULL);
            break;
        }
        if (lg_tcp_read(s, buf + have, sizeof buf - have, &n, NULL) != LG_OK || n == 0)
            break;
        have += n;
        size_t off = 0;
        int close = 0;
        for (;;) {
            if (skip) {
                size_t k = skip < have - off ? skip : have - off;
                skip -= k;
                off += k;
                if (skip)
                    break;
            }
            char *end = memmem(buf + off, have - off, "\r\n\r\n", 4);
            if (!end)
                break;
            size_t hlen = (size_t)(end - (buf + off)) + 4;
            close = wants_close(buf + off, hlen);
            size_t vl;
            const char *cl = header(buf + off, hlen, "Content-Length", &vl);
            skip = cl ? strtoul(cl, NULL, 10) : 0;
            off += hlen;
            const char *answer = close ? hello_close : hello;
            size_t alen = close ? sizeof hello_close - 1 : sizeof hello - 1;
            if (lg_tcp_write_all(s, answer, alen, NULL) != LG_OK || close)
                goto done;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
done:
    lg_tcp_close(s);
}

int main(int argc, char **argv)
{
    uint16_t port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 8080);
    uint64_t listener, err;
    if (lg_tcp_bind(lg_localhost(port), &listener, &err) != LG_OK) {
        char why[256];
        lg_error_string(err, why, sizeof why);
        lg_printf("cannot listen on 127.0.0.1:%u: %s\n", port, why);
        return 1;
    }
    lg_printf("http server on http://127.0.0.1:%u/\n", lg_tcp_local_port(listener));
    for (;;) {
        uint64_t s;
        if (lg_tcp_accept(listener, &s, NULL, &err) != LG_OK) {
            lg_error_drop(err);
            lg_sleep_ms(10);
            continue;
        }
        uint64_t pid = lg_spawn("connection", LG_NOARGS);
        lg_msg_create(STREAM, 8);
        lg_msg_write_u64(lg_msg_push_tcp_stream(s));
        lg_msg_send(pid);
    }
}
