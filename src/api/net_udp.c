/*
 * net_udp.c - UDP sockets (ABI.md §2.6). Receives and sends wait on the
 * poller when they would block; they have no timeout, as in the original.
 */
#include <errno.h>
#include <netinet/ip.h>
#include <sys/epoll.h>

#include "api/net.h"

/* udp_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr) -> i32 */
int networking_udp_bind(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("udp_bind");
    net_sock *s;
    int r;
    if (net_denied(x, args, A32(5), fn, &r))
        return r;
    r = net_bind(x, args, NET_UDP, fn, &s);
    if (r != LW_OK || !s)
        return r;
    if (net_put(x, s, A32(5), fn) != LW_OK)
        return LW_TRAP;
    SET_RESULT32(LAPI_OK);
    return LW_OK;
}

/* udp_local_addr(socket_id, id_ptr) -> i32 */
int networking_udp_local_addr(lw_exec *x, void *env, lw_val *args)
{
    return net_local_addr(x, args, NET_UDP, NET_FN("udp_local_addr"));
}

/* udp_peer_addr(socket_id, id_ptr) -> i32: 0 with an address iterator, 1
 * with an error id when the socket is not connected, 2 with an error id
 * for any other error. */
int networking_udp_peer_addr(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("udp_peer_addr");
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    net_addr a = {.len = sizeof a.ss};
    if (getpeername(s->fd, (struct sockaddr *)&a.ss, &a.len) < 0) {
        int e = errno;
        if (net_fail(x, args, A32(1), e, fn) != LW_OK)
            return LW_TRAP;
        SET_RESULT32(e == ENOTCONN ? 1 : 2);
        return LW_OK;
    }
    uint64_t id;
    if (!lapi_mem(x, A32(1), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    if (net_dns_new(lt_self(x), &a, 1, &id) < 0)
        return lapi_oom(x, fn);
    return net_ok(x, args, A32(1), id, fn);
}

/* The receive of udp_receive and udp_receive_from: waits for a datagram;
 * with iter_ptr, the sender's address goes there as an iterator. */
static int udp_recv(lw_exec *x, lw_val *args, bool from, const char *fn)
{
    lt_process *p = lt_self(x);
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    void *buf = lapi_mem(x, A32(1), A32(2));
    if (!buf || !lapi_mem(x, A32(3), 8) || (from && !lapi_mem(x, A32(4), 8)))
        return lapi_trapf(x, "%s: pointer out of bounds", fn);
    for (;;) {
        net_addr a = {.len = sizeof a.ss};
        ssize_t n = recvfrom(s->fd, buf, A32(2), MSG_DONTWAIT, from ? (struct sockaddr *)&a.ss : NULL,
                             from ? &a.len : NULL);
        if (n >= 0) {
            net_done(p);
            if (from) {
                uint64_t id;
                if (net_dns_new(p, &a, 1, &id) < 0)
                    return lapi_oom(x, fn);
                lapi_put_u64(x, A32(4), id);
            }
            return net_ok(x, args, A32(3), (uint64_t)n, fn);
        }
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int w = net_wait(p, s, EPOLLIN, UINT64_MAX);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            e = errno;
        }
        net_done(p);
        return net_fail(x, args, A32(3), e, fn);
    }
}

/* udp_receive(socket_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
int networking_udp_receive(lw_exec *x, void *env, lw_val *args)
{
    return udp_recv(x, args, false, NET_FN("udp_receive"));
}

/* udp_receive_from(socket_id, buf_ptr, buf_len, opaque_ptr, iter_ptr) -> i32 */
int networking_udp_receive_from(lw_exec *x, void *env, lw_val *args)
{
    return udp_recv(x, args, true, NET_FN("udp_receive_from"));
}

/* Sends buf to a (NULL: the connected peer), waiting while the send
 * buffer is full; the result goes to opaque_ptr. */
static int udp_send(lw_exec *x, lw_val *args, net_sock *s, const void *buf, uint32_t len,
                    const net_addr *a, uint32_t opaque_ptr, const char *fn)
{
    lt_process *p = lt_self(x);
    if (!lapi_mem(x, opaque_ptr, 8))
        return lapi_trapf(x, "%s: result pointer out of bounds", fn);
    for (;;) {
        ssize_t n = sendto(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           a ? (const struct sockaddr *)&a->ss : NULL, a ? a->len : 0);
        if (n >= 0) {
            net_done(p);
            return net_ok(x, args, opaque_ptr, (uint64_t)n, fn);
        }
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int w = net_wait(p, s, EPOLLOUT, UINT64_MAX);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            e = errno;
        }
        net_done(p);
        return net_fail(x, args, opaque_ptr, e, fn);
    }
}

/* udp_send_to(socket_id, buf_ptr, buf_len, addr_type, addr_ptr, port,
 * flow_info, scope_id, opaque_ptr) -> i32 */
int networking_udp_send_to(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("udp_send_to");
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    const void *buf = lapi_mem(x, A32(1), A32(2));
    if (!buf)
        return lapi_trapf(x, "%s: buffer out of bounds", fn);
    net_addr a;
    if (net_guest_addr(x, fn, A32(3), A32(4), A32(5), A32(6), A32(7), &a) != LW_OK)
        return LW_TRAP;
    return udp_send(x, args, s, buf, A32(2), &a, A32(8), fn);
}

/* udp_send(socket_id, buf_ptr, buf_len, opaque_ptr) -> i32 (connected) */
int networking_udp_send(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("udp_send");
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    const void *buf = lapi_mem(x, A32(1), A32(2));
    if (!buf)
        return lapi_trapf(x, "%s: buffer out of bounds", fn);
    return udp_send(x, args, s, buf, A32(2), NULL, A32(3), fn);
}

/* udp_connect(socket_id, addr_type, addr_ptr, port, flow_info, scope_id,
 * i64 timeout_ms, id_ptr) -> i32: 0 (0 written) or 1 with an error id. A
 * UDP connect only sets the peer, so it never waits and never times out. */
int networking_udp_connect(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("udp_connect");
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    net_addr a;
    if (net_guest_addr(x, fn, A32(1), A32(2), A32(3), A32(4), A32(5), &a) != LW_OK)
        return LW_TRAP;
    if (!lapi_mem(x, A32(7), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    if (connect(s->fd, (const struct sockaddr *)&a.ss, a.len) < 0)
        return net_fail(x, args, A32(7), errno, fn);
    return net_ok(x, args, A32(7), 0, fn);
}

/* The option for the TTL of a socket's family. */
static void ttl_option(const net_sock *s, int *level, int *name)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    bool v6 = getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6;
    *level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    *name = v6 ? IPV6_UNICAST_HOPS : IP_TTL;
}

/* Socket options: setting one the system refuses traps, as in the original. */
static int set_option(lw_exec *x, lw_val *args, bool ttl, const char *fn)
{
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    int level = SOL_SOCKET, name = SO_BROADCAST, v = ttl ? (int)A32(1) : A32(1) != 0;
    if (ttl)
        ttl_option(s, &level, &name);
    if (setsockopt(s->fd, level, name, &v, sizeof v) < 0)
        return lapi_trapf(x, "%s: %s (os error %d)", fn, strerror(errno), errno);
    return LW_OK;
}

static int get_option(lw_exec *x, lw_val *args, bool ttl, const char *fn)
{
    net_sock *s = net_get(x, NET_UDP, A64(0), fn);
    if (!s)
        return LW_TRAP;
    int level = SOL_SOCKET, name = SO_BROADCAST, v = 0;
    socklen_t len = sizeof v;
    if (ttl)
        ttl_option(s, &level, &name);
    if (getsockopt(s->fd, level, name, &v, &len) < 0)
        return lapi_trapf(x, "%s: %s (os error %d)", fn, strerror(errno), errno);
    SET_RESULT32(ttl ? (uint32_t)v : v != 0);
    return LW_OK;
}

int networking_set_udp_socket_broadcast(lw_exec *x, void *env, lw_val *args)
{
    return set_option(x, args, false, NET_FN("set_udp_socket_broadcast"));
}
int networking_get_udp_socket_broadcast(lw_exec *x, void *env, lw_val *args)
{
    return get_option(x, args, false, NET_FN("get_udp_socket_broadcast"));
}
int networking_set_udp_socket_ttl(lw_exec *x, void *env, lw_val *args)
{
    return set_option(x, args, true, NET_FN("set_udp_socket_ttl"));
}
int networking_get_udp_socket_ttl(lw_exec *x, void *env, lw_val *args)
{
    return get_option(x, args, true, NET_FN("get_udp_socket_ttl"));
}
