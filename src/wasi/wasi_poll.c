/*
 * wasi_poll.c - poll_oneoff, sched_yield and the sock_* host functions.
 *
 * None of them blocks: when nothing is ready they record the wait in the
 * context and return LW_SUSPEND (the contract in wasi.h). poll_oneoff
 * keeps the time of its first call across re-entries, so that relative
 * clock timeouts are measured from when the guest asked.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
enum { SUBCLOCK_ABSTIME = 1 };
enum { EVRW_HANGUP = 1 };

static void put_event(uint8_t *out, uint64_t userdata, uint16_t error, uint8_t type,
                      uint64_t nbytes, uint16_t flags)
{
    memset(out, 0, 32);
    lwasi_put_u64(out, userdata);
    lwasi_put_u16(out + 8, error);
    out[10] = type;
    lwasi_put_u64(out + 16, nbytes);
    lwasi_put_u16(out + 24, flags);
}

/* Bytes readable now on a stream or a file (best effort, as wasmtime). */
static uint64_t readable(const lwasi_fd *e)
{
    if (e->type == WFT_REG) {
        struct stat st;
        off_t pos = lseek(e->host, 0, SEEK_CUR);
        if (!fstat(e->host, &st) && pos >= 0 && st.st_size > pos)
            return (uint64_t)(st.st_size - pos);
        return 0;
    }
    int n = 0;
    if (ioctl(e->host, FIONREAD, &n) == 0 && n > 0)
        return (uint64_t)n;
    return 0;
}

/* poll_oneoff(in: subscriptions, out: events, nsubscriptions, nevents_out)
 * -> errno. Subscriptions are 48 bytes, events 32. */
WASI_FN(poll_oneoff)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    uint32_t n = A32(2);
    if (n == 0)
        RETURN_ERRNO(WE_INVAL);
    const uint8_t *in = lwasi_mem(x, A32(0), (uint64_t)n * 48);
    uint8_t *out = lwasi_mem(x, A32(1), (uint64_t)n * 32);
    if (!in || !out || !lwasi_mem(x, A32(3), 4))
        RETURN_ERRNO(WE_FAULT);
    int64_t now = lwasi_now_ns();
    if (!ctx->wait.active)
        ctx->poll_start = now;
    int64_t start = ctx->poll_start;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t realnow = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;

    struct pollfd *pfd = malloc(n * sizeof *pfd);
    uint32_t *pidx = malloc(n * sizeof *pidx);
    if (!pfd || !pidx) {
        free(pfd);
        free(pidx);
        RETURN_ERRNO(WE_NOMEM);
    }
    uint32_t npfd = 0, nev = 0;
    int64_t deadline = -1;
    uint8_t *ev = malloc((size_t)n * 32);
    if (!ev) {
        free(pfd);
        free(pidx);
        RETURN_ERRNO(WE_NOMEM);
    }
    int result = 0;
    for (uint32_t i = 0; i < n && !result; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        uint64_t ud = lwasi_get_u64(s);
        uint8_t tag = s[8];
        if (tag == EV_CLOCK) {
            uint32_t id = lwasi_get_u32(s + 16);
            uint64_t timeout = lwasi_get_u64(s + 24);
            uint16_t fl = lwasi_get_u16(s + 40);
            int64_t t = timeout > INT64_MAX ? INT64_MAX : (int64_t)timeout;
            int64_t rem;
            if (id == 0 || id == 1) {
                if (fl & SUBCLOCK_ABSTIME)
                    rem = t - (id == 0 ? realnow : now);
                else
                    rem = (t > INT64_MAX - start ? INT64_MAX : start + t) - now;
            } else {
                put_event(ev + 32 * nev++, ud, WE_INVAL, EV_CLOCK, 0, 0);
                continue;
            }
            if (rem <= 0)
                put_event(ev + 32 * nev++, ud, 0, EV_CLOCK, 0, 0);
            else {
                int64_t d = rem > INT64_MAX - now ? INT64_MAX : now + rem;
                if (deadline < 0 || d < deadline)
                    deadline = d;
            }
        } else if (tag == EV_FD_READ || tag == EV_FD_WRITE) {
            int err = 0;
            lwasi_fd *e = lwasi_fd_get(ctx, lwasi_get_u32(s + 16), WR_POLL_FD_READWRITE, &err);
            if (!e) {
                put_event(ev + 32 * nev++, ud, (uint16_t)err, tag, 0, 0);
            } else if (e->type == WFT_REG || e->type == WFT_DIR) {
                put_event(ev + 32 * nev++, ud, 0, tag, tag == EV_FD_READ ? readable(e) : 0, 0);
            } else {
                pfd[npfd].fd = e->host;
                pfd[npfd].events = tag == EV_FD_READ ? POLLIN : POLLOUT;
                pfd[npfd].revents = 0;
                pidx[npfd++] = i;
            }
        } else {
            result = WE_INVAL;
        }
    }
    if (!result && npfd) {
        int r = poll(pfd, npfd, 0);
        if (r < 0)
            result = lwasi_errno(errno);
        for (uint32_t j = 0; r > 0 && j < npfd; j++) {
            if (!pfd[j].revents)
                continue;
            const uint8_t *s = in + 48 * (size_t)pidx[j];
            uint8_t tag = s[8];
            int err = 0;
            lwasi_fd *e = lwasi_fd_get(ctx, lwasi_get_u32(s + 16), 0, &err);
            uint16_t error = 0, flags = 0;
            uint64_t nb = 0;
            if (pfd[j].revents & POLLNVAL)
                error = WE_BADF;
            else if ((pfd[j].revents & POLLERR) && !(pfd[j].revents & (POLLIN | POLLOUT)))
                error = WE_IO;
            if (pfd[j].revents & POLLHUP)
                flags = EVRW_HANGUP;
            if (!error && tag == EV_FD_READ && e)
                nb = readable(e);
            put_event(ev + 32 * nev++, lwasi_get_u64(s), error, tag, nb, flags);
        }
    }
    if (!result && nev == 0) {
        /* Nothing ready: wait for the fds and/or the earliest deadline. */
        lwasi_wait_reset(ctx);
        for (uint32_t j = 0; j < npfd && !result; j++)
            if (lwasi_wait_fd(ctx, pfd[j].fd, pfd[j].events))
                result = WE_NOMEM;
        if (!result) {
            free(pfd);
            free(pidx);
            free(ev);
            return lwasi_suspend(ctx, deadline);
        }
    }
    lwasi_wait_done(ctx);
    if (!result) {
        memcpy(out, ev, (size_t)nev * 32);
        lwasi_put_u32(lwasi_mem(x, A32(3), 4), nev);
    }
    free(pfd);
    free(pidx);
    free(ev);
    RETURN_ERRNO(result);
}

/* sched_yield() -> errno: suspends once with nothing to wait for, so that
 * a scheduler runs someone else; the re-entry returns 0. */
WASI_FN(sched_yield)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    if (ctx->wait.active) {
        lwasi_wait_done(ctx);
        RETURN_ERRNO(0);
    }
    lwasi_wait_reset(ctx);
    return lwasi_suspend(ctx, -1);
}

static int is_sock(const lwasi_fd *e)
{
    return e->type == WFT_SOCK_STREAM || e->type == WFT_SOCK_DGRAM;
}

/* Suspends on a socket that is not ready (or AGAIN for NONBLOCK). */
static int sock_wait(lwasi_ctx *ctx, lwasi_fd *e, short events, lw_val *args)
{
    if (e->flags & WFD_NONBLOCK) {
        lwasi_wait_done(ctx);
        RETURN_ERRNO(WE_AGAIN);
    }
    lwasi_wait_reset(ctx);
    if (lwasi_wait_fd(ctx, e->host, events))
        RETURN_ERRNO(WE_NOMEM);
    return lwasi_suspend(ctx, -1);
}

/* sock_accept(fd, flags, fd_out) -> errno */
WASI_FN(sock_accept)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    int err = 0;
    lwasi_fd *e = lwasi_fd_get(ctx, A32(0), WR_SOCK_ACCEPT, &err);
    if (!e)
        RETURN_ERRNO(err);
    if (A32(1) & ~(uint32_t)WFD_NONBLOCK)
        RETURN_ERRNO(WE_INVAL);
    if (!lwasi_mem(x, A32(2), 4))
        RETURN_ERRNO(WE_FAULT);
    if (!is_sock(e))
        RETURN_ERRNO(WE_NOTSOCK);
    int s = accept4(e->host, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return sock_wait(ctx, e, POLLIN, args);
    lwasi_wait_done(ctx);
    if (s < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    int64_t fd = lwasi_fd_insert(ctx, s, WFT_SOCK_STREAM, (uint16_t)(A32(1) & WFD_NONBLOCK),
                                 WR_STREAM, 0);
    if (fd < 0) {
        close(s);
        RETURN_ERRNO(WE_MFILE);
    }
    RETURN_ERRNO(lwasi_store_u32(x, A32(2), (uint32_t)fd));
}

/* sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen_out, ro_flags_out)
 * -> errno. ri_flags: RECV_PEEK = 1, RECV_WAITALL = 2. */
WASI_FN(sock_recv)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    int err = 0;
    lwasi_fd *e = lwasi_fd_get(ctx, A32(0), WR_FD_READ, &err);
    if (!e)
        RETURN_ERRNO(err);
    if (A32(3) & ~3u)
        RETURN_ERRNO(WE_INVAL);
    if (!lwasi_mem(x, A32(4), 4) || !lwasi_mem(x, A32(5), 2))
        RETURN_ERRNO(WE_FAULT);
    if (!is_sock(e))
        RETURN_ERRNO(WE_NOTSOCK);
    struct iovec iov[1024];
    int k = lwasi_iovecs(x, A32(1), A32(2), iov, 1024);
    if (k < 0)
        RETURN_ERRNO(-k);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)k;
    int fl = MSG_DONTWAIT | ((A32(3) & 1) ? MSG_PEEK : 0);
    ssize_t r = recvmsg(e->host, &msg, fl);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return sock_wait(ctx, e, POLLIN, args);
    lwasi_wait_done(ctx);
    if (r < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    lwasi_put_u32(lwasi_mem(x, A32(4), 4), (uint32_t)r);
    lwasi_put_u16(lwasi_mem(x, A32(5), 2), (msg.msg_flags & MSG_TRUNC) ? 1 : 0);
    RETURN_ERRNO(0);
}

/* sock_send(fd, si_data, si_data_len, si_flags, so_datalen_out) -> errno */
WASI_FN(sock_send)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    int err = 0;
    lwasi_fd *e = lwasi_fd_get(ctx, A32(0), WR_FD_WRITE, &err);
    if (!e)
        RETURN_ERRNO(err);
    if (A32(3))
        RETURN_ERRNO(WE_INVAL);
    if (!lwasi_mem(x, A32(4), 4))
        RETURN_ERRNO(WE_FAULT);
    if (!is_sock(e))
        RETURN_ERRNO(WE_NOTSOCK);
    struct iovec iov[1024];
    int k = lwasi_iovecs(x, A32(1), A32(2), iov, 1024);
    if (k < 0)
        RETURN_ERRNO(-k);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)k;
    ssize_t r = sendmsg(e->host, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return sock_wait(ctx, e, POLLOUT, args);
    lwasi_wait_done(ctx);
    if (r < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u32(x, A32(4), (uint32_t)r));
}

/* sock_shutdown(fd, how: SHUT_RD = 1 | SHUT_WR = 2) -> errno */
WASI_FN(sock_shutdown)
{
    int err = 0;
    lwasi_fd *e = lwasi_fd_get(lwasi_ctx_of(x), A32(0), WR_SOCK_SHUTDOWN, &err);
    if (!e)
        RETURN_ERRNO(err);
    uint32_t how = A32(1);
    if (how == 0 || how > 3)
        RETURN_ERRNO(WE_INVAL);
    if (!is_sock(e))
        RETURN_ERRNO(WE_NOTSOCK);
    int h = how == 3 ? SHUT_RDWR : how == 1 ? SHUT_RD : SHUT_WR;
    if (shutdown(e->host, h))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(0);
}
