/*
 * http.c - the observability layer's HTTP server (http.h).
 *
 * One thread, one epoll set: the listening socket, an eventfd that stops
 * the thread, and the connections, each in a slot of a fixed table. An
 * epoll event carries the slot and the slot's generation, so an event
 * still queued for a connection closed earlier in the same batch is
 * recognised and ignored. A connection goes READ (collecting its request
 * head) -> WRITE (sending the whole response, built at once) -> LINGER
 * (after shutdown(SHUT_WR), reading until the client closes, so the
 * client's unread bytes cannot make the kernel reset the connection under
 * the response) -> closed. Every state has a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "obs/http.h"

enum { C_FREE, C_READ, C_WRITE, C_LINGER };
#define LINGER_MS 2000
#define EV_LISTEN UINT64_MAX
#define EV_STOP (UINT64_MAX - 1)

typedef struct conn {
    int fd;
    int state;
    uint32_t gen;            /* bumps at each reuse of the slot */
    uint64_t seq;            /* accept order: the oldest is evicted first */
    int64_t deadline;        /* ms, CLOCK_MONOTONIC */
    char *in;                /* LOBS_HTTP_HEAD_MAX bytes while READ */
    size_t inlen;
    lobs_buf out;
    size_t outoff;
} conn;

struct lobs_http {
    lobs_http_opts o;
    int lfd, ep, stopfd;
    int reserve;             /* a spare descriptor for when they run out */
    bool loopback;           /* bound to a loopback address */
    char address[80];
    pthread_t thread;
    conn *conns;
    int nconns;              /* open */
    uint64_t next_seq;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- parsing ----------------------------------------------------------------------- */

static bool tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line of head at *pos (without its CRLF or LF); false at the end. */
static bool next_line(const char *head, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return false;
    const char *s = head + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    if (!nl)
        return false;
    *line = s;
    *n = (size_t)(nl - s);
    if (*n && s[*n - 1] == '\r')
        (*n)--;
    *pos = (size_t)(nl - head) + 1;
    return true;
}

int lobs_http_parse(const char *head, size_t len, lobs_request *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->query = "";
    if (memchr(head, 0, len))
        return 400;
    size_t pos = 0, n;
    const char *line;
    if (!next_line(head, len, &pos, &line, &n))
        return 400;
    /* METHOD SP TARGET SP HTTP/x.y */
    size_t i = 0;
    while (i < n && line[i] >= 'A' && line[i] <= 'Z')
        i++;
    if (i == 0 || i > 16 || i >= n || line[i] != ' ')
        return 400;
    size_t mlen = i;
    size_t t0 = ++i;
    while (i < n && (uint8_t)line[i] > 0x20 && (uint8_t)line[i] < 0x7f)
        i++;
    if (i == t0 || i >= n || line[i] != ' ' || line[t0] != '/')
        return 400;
    size_t t1 = i++;
    const char *ver = line + i;
    size_t vlen = n - i;
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) || ver[6] != '.' || ver[5] < '0' || ver[5] > '9' ||
        ver[7] < '0' || ver[7] > '9')
        return 400;
    if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
        return 505;
    /* headers: name ":" value, up to the empty line */
    bool ended = false;
    while (next_line(head, len, &pos, &line, &n)) {
        if (n == 0) {
            ended = true;
            break;
        }
        size_t k = 0;
        while (k < n && tchar((uint8_t)line[k]))
            k++;
        if (k == 0 || k >= n || line[k] != ':')
            return 400;   /* also obsolete line folding (a leading space) */
        for (size_t j = k + 1; j < n; j++) {
            uint8_t c = (uint8_t)line[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return 400;
        }
        if (k == 4 && !strncasecmp(line, "host", 4)) {
            if (rq->host)
                return 400;   /* two Host headers */
            const char *v = line + k + 1;
            size_t vl = n - k - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            rq->host = v;
            rq->host_len = vl;
        }
    }
    if (!ended)
        return 400;
    /* the request line is the first line of head */
    if (mlen == 3 && !memcmp(head, "GET", 3))
        rq->method = "GET";
    else if (mlen == 4 && !memcmp(head, "HEAD", 4))
        rq->method = "HEAD";
    else
        return 405;
    const char *path = head + t0;
    size_t plen = t1 - t0;
    const char *q = memchr(path, '?', plen);
    rq->path = path;
    rq->path_len = q ? (size_t)(q - path) : plen;
    if (q) {
        rq->query = q + 1;
        rq->query_len = plen - rq->path_len - 1;
    }
    return 0;
}

bool lobs_http_host_is_loopback(const char *host, size_t len)
{
    char h[256];
    if (len == 0 || len >= sizeof h)
        return false;
    memcpy(h, host, len);
    h[len] = 0;
    /* drop the port: after the last ':' unless inside [...] */
    char *end = h + len;
    if (h[0] == '[') {
        char *close = strchr(h, ']');
        if (!close || (close[1] && close[1] != ':'))
            return false;
        close[1] = 0;
        return !strcasecmp(h, "[::1]");
    }
    char *colon = strrchr(h, ':');
    if (colon) {
        for (char *p = colon + 1; p < end; p++)
            if (*p < '0' || *p > '9')
                return false;
        *colon = 0;
    }
    if (!strcasecmp(h, "localhost"))
        return true;
    struct in_addr a;
    return inet_pton(AF_INET, h, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* ---- responses ------------------------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    }
    return "Error";
}

/* The whole response into c->out. */
static void build_response(conn *c, int status, const char *ctype, const char *headers,
                           const lobs_buf *body, bool head_only)
{
    lobs_buf *o = &c->out;
    size_t blen = body ? body->len : 0;
    lobs_buf_printf(o,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\nCache-Control: no-store\r\n"
                    "X-Content-Type-Options: nosniff\r\n",
                    status, reason(status), ctype ? ctype : "text/plain; charset=utf-8", blen);
    if (status == 405)
        lobs_buf_str(o, "Allow: GET, HEAD\r\n");
    if (headers)
        lobs_buf_str(o, headers);
    lobs_buf_str(o, "\r\n");
    if (body && blen && !head_only)
        lobs_buf_add(o, body->data, blen);
}

static void error_response(conn *c, int status)
{
    lobs_buf body = {0};
    lobs_buf_printf(&body, "%d %s\n", status, reason(status));
    build_response(c, status, NULL, NULL, &body, false);
    lobs_buf_free(&body);
}

/* ---- connections ----------------------------------------------------------------------- */

static void set_events(lobs_http *h, conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events,
                             .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)(c - h->conns)};
    epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(lobs_http *h, conn *c)
{
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    c->in = NULL;
    lobs_buf_free(&c->out);
    c->state = C_FREE;
    c->gen++;
    h->nconns--;
}

/* Sends what is left of the response; then half-closes and lingers. */
static void conn_write(lobs_http *h, conn *c)
{
    while (c->outoff < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff, MSG_NOSIGNAL);
        if (w > 0) {
            c->outoff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(h, c, EPOLLOUT);
            return;
        }
        conn_close(h, c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    lobs_buf_free(&c->out);
    c->state = C_LINGER;
    c->deadline = now_ms() + LINGER_MS;
    set_events(h, c, EPOLLIN);
}

static void start_write(lobs_http *h, conn *c)
{
    free(c->in);
    c->in = NULL;
    c->state = C_WRITE;
    c->outoff = 0;
    c->deadline = now_ms() + h->o.timeout_ms;
    if (c->out.oom) {
        conn_close(h, c);
        return;
    }
    conn_write(h, c);
}

/* A complete head of `len` bytes is in c->in. */
static void handle(lobs_http *h, conn *c, size_t len)
{
    lobs_request rq;
    int st = lobs_http_parse(c->in, len, &rq);
    if (st == 0 && h->loopback && rq.host && !lobs_http_host_is_loopback(rq.host, rq.host_len))
        st = 403;
    if (st) {
        error_response(c, st);
        start_write(h, c);
        return;
    }
    lobs_response rs = {.status = 200};
    h->o.handler(&rq, &rs, h->o.ud);
    if (rs.body.oom) {
        lobs_buf_free(&rs.body);
        error_response(c, 500);
    } else {
        build_response(c, rs.status, rs.content_type, rs.headers, &rs.body,
                       !strcmp(rq.method, "HEAD"));
        lobs_buf_free(&rs.body);
    }
    start_write(h, c);
}

/* The end of the head in buf (after its empty line), or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static void conn_read(lobs_http *h, conn *c)
{
    for (;;) {
        if (c->state == C_LINGER) {
            char sink[4096];
            ssize_t r = recv(c->fd, sink, sizeof sink, 0);
            if (r > 0)
                continue;
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            conn_close(h, c);   /* the client closed (or failed): done */
            return;
        }
        size_t room = LOBS_HTTP_HEAD_MAX - c->inlen;
        ssize_t r = recv(c->fd, c->in + c->inlen, room, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            conn_close(h, c);   /* closed before a whole request: nothing to answer */
            return;
        }
        /* the end of the head may straddle reads: look a little before */
        size_t from = c->inlen > 3 ? c->inlen - 3 : 0;
        c->inlen += (size_t)r;
        size_t end = head_end(c->in + from, c->inlen - from);
        if (end) {
            handle(h, c, from + end);
            return;
        }
        if (c->inlen == LOBS_HTTP_HEAD_MAX) {
            /* no end of the head within the limit: the request line
             * alone too long, or the headers */
            error_response(c, memchr(c->in, '\n', c->inlen) ? 431 : 414);
            start_write(h, c);
            return;
        }
    }
}

static void conn_event(lobs_http *h, uint64_t data, uint32_t events)
{
    uint32_t slot = (uint32_t)data, gen = (uint32_t)(data >> 32);
    if (slot >= (uint32_t)h->o.max_conns)
        return;
    conn *c = &h->conns[slot];
    if (c->state == C_FREE || c->gen != gen)
        return;   /* closed earlier in this batch */
    if (c->state == C_WRITE) {
        if (events & (EPOLLERR | EPOLLHUP))
            conn_close(h, c);
        else
            conn_write(h, c);
        return;
    }
    conn_read(h, c);
}

/* Makes room for one more connection: closes the oldest one still sending
 * its request. False if every connection is being answered. */
static bool evict(lobs_http *h)
{
    conn *oldest = NULL;
    for (int i = 0; i < h->o.max_conns; i++) {
        conn *c = &h->conns[i];
        if ((c->state == C_READ || c->state == C_LINGER) && (!oldest || c->seq < oldest->seq))
            oldest = c;
    }
    if (!oldest)
        return false;
    conn_close(h, oldest);
    return true;
}

static void accept_all(lobs_http *h)
{
    for (;;) {
        int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && h->reserve >= 0) {
                /* out of descriptors: take one back to accept and drop
                 * the connection, else the listener stays ready and the
                 * loop spins */
                close(h->reserve);
                fd = accept(h->lfd, NULL, NULL);
                if (fd >= 0)
                    close(fd);
                h->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
                continue;
            }
            return;   /* EAGAIN, or an error that the next event retries */
        }
        if (h->nconns == h->o.max_conns && !evict(h)) {
            close(fd);
            continue;
        }
        int slot = 0;
        while (h->conns[slot].state != C_FREE)
            slot++;
        conn *c = &h->conns[slot];
        char *in = malloc(LOBS_HTTP_HEAD_MAX);
        if (!in) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = C_READ;
        c->seq = h->next_seq++;
        c->deadline = now_ms() + h->o.timeout_ms;
        c->in = in;
        c->inlen = 0;
        c->outoff = 0;
        struct epoll_event ev = {.events = EPOLLIN,
                                 .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)slot};
        if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(in);
            c->in = NULL;
            c->state = C_FREE;
            close(fd);
            continue;
        }
        h->nconns++;
    }
}

/* Deadlines: a request that has not arrived gets 408; a response not
 * read, or a client that does not close, is dropped. Returns the epoll
 * timeout until the next deadline. */
static int expire(lobs_http *h)
{
    int64_t now = now_ms(), next = -1;
    for (int i = 0; i < h->o.max_conns; i++) {
        conn *c = &h->conns[i];
        if (c->state == C_FREE)
            continue;
        if (c->deadline <= now) {
            if (c->state == C_READ) {
                error_response(c, 408);
                start_write(h, c);
                if (c->state == C_WRITE)
                    c->deadline = now + LINGER_MS;   /* a short while to take the 408 */
            } else {
                conn_close(h, c);
            }
            if (c->state == C_FREE)
                continue;
        }
        if (next < 0 || c->deadline < next)
            next = c->deadline;
    }
    if (next < 0)
        return -1;
    return next - now > 60000 ? 60000 : (int)(next - now + 1);
}

static void *serve(void *arg)
{
    lobs_http *h = arg;
    struct epoll_event evs[64];
    pthread_setname_np(pthread_self(), "lunatic-http");
    for (;;) {
        int timeout = expire(h);
        int n = epoll_wait(h->ep, evs, 64, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if (d == EV_STOP)
                return NULL;
            if (d == EV_LISTEN)
                accept_all(h);
            else
                conn_event(h, d, evs[i].events);
        }
    }
    return NULL;
}

/* ---- starting and stopping ------------------------------------------------------------- */

/* Splits addr into host and port (see http.h for the forms). */
static int split_addr(const char *addr, const char *default_host, char *host, size_t hsize,
                      char *port, size_t psize, char *err, size_t errsize)
{
    const char *p;
    size_t hl;
    if (!addr || !*addr)
        goto bad;
    if (strspn(addr, "0123456789") == strlen(addr)) {
        p = addr;
        snprintf(host, hsize, "%s", default_host);
    } else if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            goto bad;
        hl = (size_t)(close - addr - 1);
        if (hl == 0 || hl >= hsize)
            goto bad;
        memcpy(host, addr + 1, hl);
        host[hl] = 0;
        p = close + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon || strchr(addr, ':') != colon) {
            snprintf(err, errsize, "address '%s': use HOST:PORT (IPv6 in brackets: [::1]:9927)",
                     addr);
            return -1;
        }
        hl = (size_t)(colon - addr);
        if (hl >= hsize)
            goto bad;
        if (hl == 0) {
            snprintf(host, hsize, "%s", default_host);
        } else {
            memcpy(host, addr, hl);
            host[hl] = 0;
        }
        p = colon + 1;
    }
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atoi(p) > 65535)
        goto bad;
    snprintf(port, psize, "%s", p);
    return 0;
bad:
    snprintf(err, errsize, "address '%s': use HOST:PORT, [IPV6]:PORT, :PORT or PORT",
             addr ? addr : "");
    return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

static int listen_on(lobs_http *h, const char *host, const char *port, char *err, size_t errsize)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0) {
        snprintf(err, errsize, "address '%s:%s': %s", host, port, gai_strerror(r));
        return -1;
    }
    int e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
            h->lfd = fd;
            break;
        }
        e = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (h->lfd < 0) {
        snprintf(err, errsize, "cannot listen on %s:%s: %s", host, port, strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int bound = 0;
    if (getsockname(h->lfd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
            bound = ntohs(a->sin_port);
            snprintf(h->address, sizeof h->address, "%s:%d", ip, bound);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            bound = ntohs(a->sin6_port);
            snprintf(h->address, sizeof h->address, "[%s]:%d", ip, bound);
        }
        h->loopback = is_loopback(&ss);
    }
    return 0;
}

lobs_http *lobs_http_start(const lobs_http_opts *o, char *err, size_t errsize)
{
    char host[256], port[8];
    if (split_addr(o->addr, o->default_host ? o->default_host : "127.0.0.1", host, sizeof host,
                   port, sizeof port, err, errsize) < 0)
        return NULL;
    lobs_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    h->o = *o;
    if (h->o.max_conns <= 0)
        h->o.max_conns = 256;
    if (h->o.timeout_ms <= 0)
        h->o.timeout_ms = 10000;
    h->lfd = h->ep = h->stopfd = h->reserve = -1;
    h->conns = calloc((size_t)h->o.max_conns, sizeof *h->conns);
    if (!h->conns) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    if (listen_on(h, host, port, err, errsize) < 0)
        goto fail;
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct epoll_event el = {.events = EPOLLIN, .data.u64 = EV_LISTEN};
    struct epoll_event es = {.events = EPOLLIN, .data.u64 = EV_STOP};
    if (h->ep < 0 || h->stopfd < 0 || epoll_ctl(h->ep, EPOLL_CTL_ADD, h->lfd, &el) < 0 ||
        epoll_ctl(h->ep, EPOLL_CTL_ADD, h->stopfd, &es) < 0) {
        snprintf(err, errsize, "epoll: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&h->thread, NULL, serve, h) != 0) {
        snprintf(err, errsize, "cannot start the server thread");
        goto fail;
    }
    return h;
fail:
    if (h->lfd >= 0)
        close(h->lfd);
    if (h->ep >= 0)
        close(h->ep);
    if (h->stopfd >= 0)
        close(h->stopfd);
    if (h->reserve >= 0)
        close(h->reserve);
    free(h->conns);
    free(h);
    return NULL;
}

const char *lobs_http_address(const lobs_http *h) { return h->address; }

void lobs_http_stop(lobs_http *h)
{
    if (!h)
        return;
    uint64_t one = 1;
    ssize_t w = write(h->stopfd, &one, sizeof one);
    (void)w;
    pthread_join(h->thread, NULL);
    for (int i = 0; i < h->o.max_conns; i++)
        if (h->conns[i].state != C_FREE)
            conn_close(h, &h->conns[i]);
    close(h->lfd);
    close(h->ep);
    close(h->stopfd);
    if (h->reserve >= 0)
        close(h->reserve);
    free(h->conns);
    free(h);
}
