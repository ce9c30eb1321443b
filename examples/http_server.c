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
#include <stdlib.h>
#include <string.h>

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

/* Whether line (of len bytes, at least the name) starts with the header
 * name (lower case, with its colon), in any case. */
static int is_header(const char *line, size_t len, const char *name, size_t nl)
{
    if (len < nl)
        return 0;
    for (size_t i = 0; i < nl; i++)
        if ((line[i] | 0x20) != name[i] && line[i] != name[i])
            return 0;
    return 1;
}

/* Parses the request head at the start of p[0..n) in one pass: returns its
 * length (through the blank line), or 0 while it is incomplete; sets
 * *close (answer, then close the connection) and *body (Content-Length). */
static size_t parse_head(const char *p, size_t n, int *close, size_t *body)
{
    const char *end = p + n, *nl = memchr(p, '\n', n);
    if (!nl)
        return 0;
    /* HTTP/1.0 closes unless asked to keep alive; 1.1 keeps alive unless
     * asked to close */
    int http10 = nl - p >= 9 && !memcmp(nl - 9, "HTTP/1.0", 8);
    int conn_close = 0, keep_alive = 0;
    *body = 0;
    for (const char *line = nl + 1;;) {
        if (end - line < 2)
            return 0;
        if (line[0] == '\r' && line[1] == '\n') {
            *close = http10 ? !keep_alive : conn_close;
            return (size_t)(line + 2 - p);
        }
        nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            return 0;
        size_t len = (size_t)(nl - line);
        if ((line[0] | 0x20) == 'c') {
            if (is_header(line, len, "connection:", 11)) {
                const char *v = line + 11;
                while (v < nl && *v == ' ')
                    v++;
                conn_close |= is_header(v, (size_t)(nl - v), "close", 5);
                keep_alive |= is_header(v, (size_t)(nl - v), "keep-alive", 10);
            } else if (is_header(line, len, "content-length:", 15)) {
                *body = strtoul(line + 15, NULL, 10);
            }
        }
        line = nl + 1;
    }
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
            size_t hlen = parse_head(buf + off, have - off, &close, &skip);
            if (!hlen)
                break;
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
