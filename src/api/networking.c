/*
 * networking.c - lunatic::networking (ABI.md §2.6): the socket object and
 * its handles, results and waits shared by every networking call (net.h),
 * moving sockets in messages, and the table of the 49 functions, which
 * live in net_addr.c, net_tcp.c, net_udp.c and net_tls.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/net.h"
#include "rt/poller.h"

/* ---- sockets ------------------------------------------------------------------ */

net_sock *net_sock_new(lt_runtime *rt, net_kind kind, int fd)
{
    net_sock *s = calloc(1, sizeof *s);
    if (!s || lt_poll_register(rt, fd) < 0) {
        free(s);
        close(fd);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->kind = kind;
    s->fd = fd;
    s->rt = rt;
    atomic_init(&s->read_timeout, UINT64_MAX);
    atomic_init(&s->write_timeout, UINT64_MAX);
    atomic_init(&s->peek_timeout, UINT64_MAX);
    pthread_mutex_init(&s->tls_lock, NULL);
    return s;
}

void net_sock_retain(net_sock *s) { atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); }

void net_sock_release(net_sock *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    net_tls_free(s);
    lt_poll_unregister(s->rt, s->fd);
    close(s->fd);
    pthread_mutex_destroy(&s->tls_lock);
    free(s);
}

void net_sock_drop(void *s) { net_sock_release(s); }

lt_reskind net_reskind(net_kind kind)
{
    switch (kind) {
    case NET_TCP_LISTENER: return LT_RK_TCP_LISTENER;
    case NET_TCP_STREAM: return LT_RK_TCP_STREAM;
    case NET_TLS_LISTENER: return LT_RK_TLS_LISTENER;
    case NET_TLS_STREAM: return LT_RK_TLS_STREAM;
    default: return LT_RK_UDP;
    }
}

static const char *kind_name(net_kind kind)
{
    static const char *const names[] = {"tcp listener", "tcp stream", "tls listener", "tls stream",
                                        "udp socket"};
    return names[kind];
}

net_sock *net_get(lw_exec *x, net_kind kind, uint64_t id, const char *fn)
{
    lt_idtab *t = lt_process_restab(lt_self(x), net_reskind(kind), net_sock_drop);
    net_sock *s = t ? lt_idtab_get(t, id) : NULL;
    if (!s)
        lapi_trapf(x, "%s: unknown %s id %llu", fn, kind_name(kind), (unsigned long long)id);
    return s;
}

int net_put(lw_exec *x, net_sock *s, uint32_t ptr, const char *fn)
{
    lt_idtab *t = lt_process_restab(lt_self(x), net_reskind(s->kind), net_sock_drop);
    uint64_t id;
    if (!lapi_mem(x, ptr, 8)) {
        net_sock_release(s);
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    }
    if (!t || lt_idtab_add(t, s, &id) < 0) {
        net_sock_release(s);
        return lapi_oom(x, fn);
    }
    lapi_put_u64(x, ptr, id);
    return LW_OK;
}

/* Takes a handle out of the caller's table (drop, push), or traps. */
static net_sock *net_take(lw_exec *x, net_kind kind, uint64_t id, const char *fn)
{
    if (!net_get(x, kind, id, fn))
        return NULL;
    return lt_idtab_take(&lt_self(x)->res->tab[net_reskind(kind)], id);
}

/* ---- results -------------------------------------------------------------------- */

uint64_t net_os_error(lt_process *p, int err)
{
    char buf[128];
    const char *msg = strerror_r(err, buf, sizeof buf);
    return lapi_error_new(p, "%s (os error %d)", msg, err);
}

static int put_result(lw_exec *x, lw_val *args, uint32_t ptr, uint64_t value, int status,
                      const char *fn)
{
    if (lapi_put_u64(x, ptr, value) < 0)
        return lapi_trapf(x, "%s: result pointer out of bounds", fn);
    SET_RESULT32(status);
    return LW_OK;
}

int net_fail(lw_exec *x, lw_val *args, uint32_t ptr, int err, const char *fn)
{
    uint64_t id = net_os_error(lt_self(x), err);
    if (id == UINT64_MAX)
        return lapi_oom(x, fn);
    return put_result(x, args, ptr, id, LAPI_ERR, fn);
}

bool net_denied(lw_exec *x, lw_val *args, uint32_t ptr, const char *fn, int *ret)
{
    if (!lt_self(x)->config->no_network)
        return false;
    *ret = net_fail_msg(x, args, ptr, "networking is not permitted for this process", fn);
    return true;
}

int net_fail_msg(lw_exec *x, lw_val *args, uint32_t ptr, const char *msg, const char *fn)
{
    uint64_t id = lapi_error_new(lt_self(x), "%s", msg);
    if (id == UINT64_MAX)
        return lapi_oom(x, fn);
    return put_result(x, args, ptr, id, LAPI_ERR, fn);
}

int net_ok(lw_exec *x, lw_val *args, uint32_t ptr, uint64_t value, const char *fn)
{
    return put_result(x, args, ptr, value, LAPI_OK, fn);
}

/* ---- waiting -------------------------------------------------------------------- */

int net_wait(lt_process *p, net_sock *s, uint32_t events, uint64_t timeout_ms)
{
    lapi_wait_begin(p, timeout_ms);
    if (lapi_wait_expired(p)) {
        net_done(p);
        return NET_TIMEOUT;
    }
    int r = lt_poll_wait(p->rt, p, s->fd, events);
    if (r == 1)
        return NET_RETRY;
    if (r < 0) {
        net_done(p);
        errno = ENOMEM;
        return NET_ERROR;
    }
    p->io_fd = s->fd;
    return NET_PARK;
}

void net_done(lt_process *p)
{
    if (p->wait_started)
        lapi_wait_end(p);
}

int net_iovecs(lw_exec *x, const char *fn, uint32_t ptr, uint32_t count, struct iovec *iov, int max)
{
    const uint8_t *v = lapi_mem(x, ptr, (uint64_t)count * 8);
    if (!v)
        return lapi_trapf(x, "%s: iovec array out of bounds", fn), -1;
    int n = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t p, l;
        memcpy(&p, v + 8 * (size_t)i, 4);
        memcpy(&l, v + 8 * (size_t)i + 4, 4);
        void *b = lapi_mem(x, p, l);
        if (!b)
            return lapi_trapf(x, "%s: buffer out of bounds", fn), -1;
        if (n < max && l)
            iov[n++] = (struct iovec){b, l};
    }
    return n;
}

/* ---- sockets in messages (lunatic::message) ------------------------------------------ */

static int push(lw_exec *x, lw_val *args, net_kind kind, uint32_t reskind, const char *fn)
{
    lt_signal *m = lt_self(x)->scratch;
    if (!m || m->msgkind != LT_MSG_DATA)
        return lapi_trapf(x, "%s: no data message in the scratch area", fn);
    net_sock *s = net_take(x, kind, A64(0), fn);
    if (!s)
        return LW_TRAP;
    uint64_t index, growth = lt_message_res_growth(m);
    lt_account *acct = &lt_self(x)->acct;
    if (lt_account_charge(acct, growth) < 0 ||
        lt_message_add_resource(m, reskind, s, net_sock_drop, &index) < 0) {
        if (!acct->refused)
            lt_account_release(acct, growth);
        net_sock_release(s);
        return lapi_oom(x, fn);
    }
    SET_RESULT64(index);
    return LW_OK;
}

static int take(lw_exec *x, lw_val *args, net_kind kind, uint32_t reskind, const char *fn)
{
    lt_process *p = lt_self(x);
    lt_signal *m = p->scratch;
    if (!m || m->msgkind != LT_MSG_DATA)
        return lapi_trapf(x, "%s: no data message in the scratch area", fn);
    net_sock *s = lt_message_take_resource(m, A64(0), reskind);
    if (!s)
        return lapi_trapf(x, "%s: no %s at index %llu", fn, kind_name(kind),
                          (unsigned long long)A64(0));
    lt_idtab *t = lt_process_restab(p, net_reskind(kind), net_sock_drop);
    uint64_t id;
    if (!t || lt_idtab_add(t, s, &id) < 0) {
        net_sock_release(s);
        return lapi_oom(x, fn);
    }
    SET_RESULT64(id);
    return LW_OK;
}

#define MOVE(name, kind, res)                                                                  \
    int message_push_##name(lw_exec *x, void *env, lw_val *args)                               \
    {                                                                                          \
        return push(x, args, kind, res, "lunatic::message::push_" #name);                      \
    }                                                                                          \
    int message_take_##name(lw_exec *x, void *env, lw_val *args)                               \
    {                                                                                          \
        return take(x, args, kind, res, "lunatic::message::take_" #name);                      \
    }
MOVE(tcp_stream, NET_TCP_STREAM, LAPI_RES_TCP_STREAM)
MOVE(tls_stream, NET_TLS_STREAM, LAPI_RES_TLS_STREAM)
MOVE(udp_socket, NET_UDP, LAPI_RES_UDP_SOCKET)
#undef MOVE

/* ---- handles: drop and clone -------------------------------------------------------- */

#define HANDLES(name, kind)                                                                    \
    int networking_drop_##name(lw_exec *x, void *env, lw_val *args)                            \
    {                                                                                          \
        net_sock *s = net_take(x, kind, A64(0), NET_FN("drop_" #name));                        \
        if (!s)                                                                                \
            return LW_TRAP;                                                                    \
        net_sock_release(s);                                                                   \
        return LW_OK;                                                                          \
    }
HANDLES(tcp_listener, NET_TCP_LISTENER)
HANDLES(tcp_stream, NET_TCP_STREAM)
HANDLES(tls_listener, NET_TLS_LISTENER)
HANDLES(tls_stream, NET_TLS_STREAM)
HANDLES(udp_socket, NET_UDP)
#undef HANDLES

/* clone_*(i64 id) -> i64: a new handle to the same socket. */
static int clone_handle(lw_exec *x, lw_val *args, net_kind kind, const char *fn)
{
    net_sock *s = net_get(x, kind, A64(0), fn);
    if (!s)
        return LW_TRAP;
    uint64_t id;
    net_sock_retain(s);
    if (lt_idtab_add(&lt_self(x)->res->tab[net_reskind(kind)], s, &id) < 0) {
        net_sock_release(s);
        return lapi_oom(x, fn);
    }
    SET_RESULT64(id);
    return LW_OK;
}

int networking_clone_tcp_stream(lw_exec *x, void *env, lw_val *args)
{
    return clone_handle(x, args, NET_TCP_STREAM, NET_FN("clone_tcp_stream"));
}
int networking_clone_tls_stream(lw_exec *x, void *env, lw_val *args)
{
    return clone_handle(x, args, NET_TLS_STREAM, NET_FN("clone_tls_stream"));
}
int networking_clone_udp_socket(lw_exec *x, void *env, lw_val *args)
{
    return clone_handle(x, args, NET_UDP, NET_FN("clone_udp_socket"));
}

/* ---- the table ---------------------------------------------------------------------- */

#define M "lunatic::networking"
#define DEF(name, sig) {M, #name, sig, networking_##name},
const lw_host_func_def lapi_networking_defs[] = {NET_FUNCS(DEF)};
#undef DEF
const size_t lapi_networking_count = sizeof lapi_networking_defs / sizeof lapi_networking_defs[0];
