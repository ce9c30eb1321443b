/*
 * net_tcp.c - TCP listeners and streams (ABI.md §2.6).
 *
 * Every call that would block tries the system call first, and only when
 * it answers EAGAIN waits on the poller (net_wait): a read of data already
 * there costs one recv. Timeouts are per stream, shared by its handles,
 * u64::MAX meaning none; a call that times out answers 9027.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/net.h"
#include "rt/blocking.h"

/* ---- shared with UDP and TLS ------------------------------------------------------ */

/* The local or peer address of fd as a one-address DNS iterator, its id
 * at ptr: 0, or 1 with an error id. */
static int addr_result(lw_exec *x, lw_val *args, int fd, bool peer, uint32_t ptr, const char *fn)
{
    net_addr a = {.len = sizeof a.ss};
    int r = peer ? getpeername(fd, (struct sockaddr *)&a.ss, &a.len)
                 : getsockname(fd, (struct sockaddr *)&a.ss, &a.len);
    if (r < 0)
        return net_fail(x, args, ptr, errno, fn);
    uint64_t id;
    if (net_dns_new(lt_self(x), &a, 1, &id) < 0)
        return lapi_oom(x, fn);
    return net_ok(x, args, ptr, id, fn);
}

/* A new socket bound to a (listening for TCP). 0 with *out, or an errno. */
static int bind_socket(lt_runtime *rt, net_kind kind, const net_addr *a, net_sock **out)
{
    int type = kind == NET_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (type == SOCK_STREAM) {
        /* as Rust's TcpListener::bind: a port in TIME_WAIT can be bound again */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
        (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)) {
        int e = errno;
        close(fd);
        return e;
    }
    *out = net_sock_new(rt, kind, fd);
    return *out ? 0 : ENOMEM;
}

int net_bind(lw_exec *x, lw_val *args, net_kind kind, const char *fn, net_sock **out)
{
    net_addr a;
    *out = NULL;
    if (net_guest_addr(x, fn, A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    if (!lapi_mem(x, A32(5), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    net_sock *s = NULL;
    int e = bind_socket(lt_self(x)->rt, kind, &a, &s);
    if (e)
        return net_fail(x, args, A32(5), e, fn);
    *out = s;
    return LW_OK;
}

int net_local_addr(lw_exec *x, lw_val *args, net_kind kind, const char *fn)
{
    net_sock *s = net_get(x, kind, A64(0), fn);
    if (!s)
        return LW_TRAP;
    return addr_result(x, args, s->fd, false, A32(1), fn);
}

/* Accepts a connection on listener l: 0 with *fd and its peer address, or
 * an errno (EAGAIN: none yet). */
static int accept_one(net_sock *l, int *fd, net_addr *peer)
{
    peer->len = sizeof peer->ss;
    for (;;) {
        *fd = accept4(l->fd, (struct sockaddr *)&peer->ss, &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (*fd >= 0)
            return 0;
        if (errno != EINTR)
            return errno;
    }
}

/* Out of descriptors (EMFILE) is an error for this call, never a retry
 * loop: the connection stays queued for a later accept. */
int net_accept(lw_exec *x, lw_val *args, net_kind lkind, net_kind skind, const char *fn,
               net_sock **out)
{
    lt_process *p = lt_self(x);
    *out = NULL;
    net_sock *l = net_get(x, lkind, A64(0), fn);
    if (!l)
        return LW_TRAP;
    if (!lapi_mem(x, A32(1), 8) || !lapi_mem(x, A32(2), 8))
        return lapi_trapf(x, "%s: pointer out of bounds", fn);
    for (;;) {
        int fd;
        net_addr peer;
        int e = accept_one(l, &fd, &peer);
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int w = net_wait(p, l, EPOLLIN, UINT64_MAX);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            e = errno;
        }
        net_done(p);
        if (e) {
            lapi_put_u64(x, A32(2), 0);
            return net_fail(x, args, A32(1), e, fn);
        }
        uint64_t iter;
        net_sock *s = net_sock_new(p->rt, skind, fd);
        if (!s || net_dns_new(p, &peer, 1, &iter) < 0) {
            net_sock_release(s);
            return lapi_oom(x, fn);
        }
        lapi_put_u64(x, A32(2), iter);
        *out = s;
        SET_RESULT32(LAPI_OK);
        return LW_OK;
    }
}

/* A connect in progress, kept across the waits of one call. */
typedef struct connecting {
    lt_job job;                 /* never submitted: only owned by the process */
    net_sock *s;
} connecting;

static void connecting_free(lt_job *j)
{
    net_sock_release(((connecting *)j)->s);
    free(j);
}

int net_start_connect(lt_runtime *rt, const net_addr *a, net_kind kind, net_sock **out, bool *done)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int r;
    while ((r = connect(fd, (const struct sockaddr *)&a->ss, a->len)) < 0 && errno == EINTR)
        ;
    if (r < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return e;
    }
    *done = r == 0;
    /* registered only now: a socket not yet connecting reads as hung up */
    *out = net_sock_new(rt, kind, fd);
    return *out ? 0 : ENOMEM;
}

int net_connect_state(const net_sock *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    if (err)
        return err;
    net_addr a = {.len = sizeof a.ss};
    if (getpeername(s->fd, (struct sockaddr *)&a.ss, &a.len) == 0)
        return 0;
    return errno == ENOTCONN ? EINPROGRESS : errno;
}

int net_connect(lt_process *p, const net_addr *a, uint64_t timeout_ms, net_sock **out, int *err)
{
    connecting *c = (connecting *)p->job;
    *out = NULL;
    if (!p->wait_started || !c || c->job.free != connecting_free) {
        /* first entry */
        net_sock *s;
        bool done;
        if ((*err = net_start_connect(p->rt, a, NET_TCP_STREAM, &s, &done)))
            return LW_OK;
        if (done) {
            *out = s;
            return LW_OK;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
            net_sock_release(s);
            *err = ENOMEM;
            return LW_OK;
        }
        c->s = s;
        c->job.free = connecting_free;
        atomic_init(&c->job.refs, 1);
        lt_job_release(p->job);
        p->job = &c->job;
    }
    for (;;) {
        int e = net_connect_state(c->s);
        if (e == EINPROGRESS) {
            int w = net_wait(p, c->s, EPOLLOUT, timeout_ms);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            e = w == NET_TIMEOUT ? -1 : errno;
        }
        net_done(p);
        if (e == 0) {
            *out = c->s;
            c->s = NULL;
        }
        lt_job_release(&c->job);
        p->job = NULL;
        *err = e;
        return LW_OK;
    }
}

/* ---- TCP ---------------------------------------------------------------------------- */

/* tcp_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr) -> i32 */
int networking_tcp_bind(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_bind");
    net_sock *s;
    int r;
    if (net_denied(x, args, A32(5), fn, &r))
        return r;
    r = net_bind(x, args, NET_TCP_LISTENER, fn, &s);
    if (r != LW_OK || !s)
        return r;
    if (net_put(x, s, A32(5), fn) != LW_OK)
        return LW_TRAP;
    SET_RESULT32(LAPI_OK);
    return LW_OK;
}

/* tcp_local_addr(listener_id, id_ptr) -> i32 */
int networking_tcp_local_addr(lw_exec *x, void *env, lw_val *args)
{
    return net_local_addr(x, args, NET_TCP_LISTENER, NET_FN("tcp_local_addr"));
}

/* tcp_accept(listener_id, id_ptr, peer_iter_ptr) -> i32 */
int networking_tcp_accept(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_accept");
    net_sock *s;
    int r = net_accept(x, args, NET_TCP_LISTENER, NET_TCP_STREAM, fn, &s);
    if (r != LW_OK || !s)
        return r;
    return net_put(x, s, A32(1), fn);
}

/* tcp_connect(addr_type, addr_ptr, port, flow_info, scope_id, i64 timeout_ms,
 * id_ptr) -> i32: 0 with a stream id, 1 with an error id, 9027 on timeout */
int networking_tcp_connect(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_connect");
    int r;
    if (net_denied(x, args, A32(6), fn, &r))
        return r;
    net_addr a;
    if (net_guest_addr(x, fn, A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    if (!lapi_mem(x, A32(6), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    net_sock *s;
    int e;
    if (net_connect(lt_self(x), &a, A64(5), &s, &e) == LW_SUSPEND)
        return LW_SUSPEND;
    if (e == -1) {
        SET_RESULT32(LAPI_TIMEOUT);
        return LW_OK;
    }
    if (e)
        return net_fail(x, args, A32(6), e, fn);
    if (net_put(x, s, A32(6), fn) != LW_OK)
        return LW_TRAP;
    SET_RESULT32(LAPI_OK);
    return LW_OK;
}

/* tcp_peer_addr(stream_id, id_ptr) -> i32 */
int networking_tcp_peer_addr(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_peer_addr");
    net_sock *s = net_get(x, NET_TCP_STREAM, A64(0), fn);
    if (!s)
        return LW_TRAP;
    return addr_result(x, args, s->fd, true, A32(1), fn);
}

/* recv on a stream with MSG flags, waiting up to the stream's timeout:
 * tcp_read and tcp_peek(stream_id, buf_ptr, buf_len, opaque_ptr) -> i32:
 * 0 with the bytes read (0 at the end of the stream), 1 with an error id,
 * 9027 on timeout. A peek never consumes (decision 3). */
static int stream_recv(lw_exec *x, lw_val *args, net_sock *s, int flags,
                       _Atomic uint64_t *timeout, const char *fn)
{
    lt_process *p = lt_self(x);
    void *buf = lapi_mem(x, A32(1), A32(2));
    if (!buf || !lapi_mem(x, A32(3), 8))
        return lapi_trapf(x, "%s: buffer out of bounds", fn);
    for (;;) {
        ssize_t n = recv(s->fd, buf, A32(2), flags | MSG_DONTWAIT);
        if (n >= 0) {
            net_done(p);
            return net_ok(x, args, A32(3), (uint64_t)n, fn);
        }
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int w = net_wait(p, s, EPOLLIN, atomic_load(timeout));
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            if (w == NET_TIMEOUT) {
                SET_RESULT32(LAPI_TIMEOUT);
                return LW_OK;
            }
            e = errno;
        }
        net_done(p);
        return net_fail(x, args, A32(3), e, fn);
    }
}

int networking_tcp_read(lw_exec *x, void *env, lw_val *args)
{
    net_sock *s = net_get(x, NET_TCP_STREAM, A64(0), NET_FN("tcp_read"));
    if (!s)
        return LW_TRAP;
    return stream_recv(x, args, s, 0, &s->read_timeout, NET_FN("tcp_read"));
}

int networking_tcp_peek(lw_exec *x, void *env, lw_val *args)
{
    net_sock *s = net_get(x, NET_TCP_STREAM, A64(0), NET_FN("tcp_peek"));
    if (!s)
        return LW_TRAP;
    return stream_recv(x, args, s, MSG_PEEK, &s->peek_timeout, NET_FN("tcp_peek"));
}

/* tcp_write_vectored(stream_id, ciovec_ptr, ciovec_count, opaque_ptr) -> i32:
 * 0 with the bytes written (maybe fewer than given), 1 with an error id,
 * 9027 on the write timeout. */
int networking_tcp_write_vectored(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_write_vectored");
    lt_process *p = lt_self(x);
    net_sock *s = net_get(x, NET_TCP_STREAM, A64(0), fn);
    if (!s)
        return LW_TRAP;
    struct iovec iov[64];
    int n = net_iovecs(x, fn, A32(1), A32(2), iov, 64);
    if (n < 0)
        return LW_TRAP;
    if (!lapi_mem(x, A32(3), 8))
        return lapi_trapf(x, "%s: result pointer out of bounds", fn);
    if (n == 0)
        return net_ok(x, args, A32(3), 0, fn);
    for (;;) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w >= 0) {
            net_done(p);
            return net_ok(x, args, A32(3), (uint64_t)w, fn);
        }
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int r = net_wait(p, s, EPOLLOUT, atomic_load(&s->write_timeout));
            if (r == NET_RETRY)
                continue;
            if (r == NET_PARK)
                return LW_SUSPEND;
            if (r == NET_TIMEOUT) {
                SET_RESULT32(LAPI_TIMEOUT);
                return LW_OK;
            }
            e = errno;
        }
        net_done(p);
        return net_fail(x, args, A32(3), e, fn);
    }
}

/* tcp_flush(stream_id, error_id_ptr) -> i32: TCP keeps no user-space
 * buffer, so there is nothing to flush: 0 with 0 written. */
int networking_tcp_flush(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tcp_flush");
    if (!net_get(x, NET_TCP_STREAM, A64(0), fn))
        return LW_TRAP;
    return net_ok(x, args, A32(1), 0, fn);
}

/* set_*_timeout(stream_id, ms) and get_*_timeout(stream_id) -> ms, for TCP
 * (read, write, peek) and TLS (read, write): u64::MAX is none. */
#define TIMEOUT(name, kind, field)                                                             \
    int networking_set_##name(lw_exec *x, void *env, lw_val *args)                             \
    {                                                                                          \
        net_sock *s = net_get(x, kind, A64(0), NET_FN("set_" #name));                          \
        if (!s)                                                                                \
            return LW_TRAP;                                                                    \
        atomic_store(&s->field, A64(1));                                                       \
        return LW_OK;                                                                          \
    }                                                                                          \
    int networking_get_##name(lw_exec *x, void *env, lw_val *args)                             \
    {                                                                                          \
        net_sock *s = net_get(x, kind, A64(0), NET_FN("get_" #name));                          \
        if (!s)                                                                                \
            return LW_TRAP;                                                                    \
        SET_RESULT64(atomic_load(&s->field));                                                  \
        return LW_OK;                                                                          \
    }
TIMEOUT(read_timeout, NET_TCP_STREAM, read_timeout)
TIMEOUT(write_timeout, NET_TCP_STREAM, write_timeout)
TIMEOUT(peek_timeout, NET_TCP_STREAM, peek_timeout)
TIMEOUT(tls_read_timeout, NET_TLS_STREAM, read_timeout)
TIMEOUT(tls_write_timeout, NET_TLS_STREAM, write_timeout)
#undef TIMEOUT
