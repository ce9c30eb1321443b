/*
 * networking.c - lunatic::networking (ABI.md 2.6): DNS, TCP, TLS and UDP.
 *
 * This runtime has no network support yet. Every one of the 49 functions
 * exists with its exact signature, so modules importing them load, and
 * behaves as the original does on a host where every network operation
 * fails:
 *  - calls that create a resource (resolve, tcp_bind, tcp_connect,
 *    tls_bind, tls_connect, udp_bind) first check their arguments exactly
 *    as the original does (address type, memory bounds, UTF-8, PEM blocks;
 *    a bad one traps), then return 1 with an error id written at their
 *    id pointer;
 *  - calls taking the id of a DNS iterator, listener, stream or socket trap
 *    with "unknown ... id", since no such resource can exist yet (the
 *    original's behaviour for an id that is not in the process's table).
 * The argument checks come before the id lookup where the original does
 * them first.
 *
 * One C function per ABI function, named net_<name>: a real implementation
 * replaces the bodies (the resource lookups net_*_get are where per-process
 * tables go) and keeps the helpers (net_sockaddr, net_buf, net_ciovecs,
 * net_result).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "api/api.h"

#define FN(name) "lunatic::networking::" name
#define NET_UNSUPPORTED "networking is not supported yet"

/* ---- helpers ------------------------------------------------------------ */


/* Traps for an id that names no resource of that kind. */
static int net_unknown(lw_exec *x, const char *fn, const char *what, uint64_t id)
{
    return lapi_trapf(x, "%s: unknown %s id %llu", fn, what, (unsigned long long)id);
}

/* Per-process resource tables. None exists until networking is
 * implemented: every lookup fails (and the caller traps). */
typedef struct net_res net_res;
static net_res *net_dns_iterator_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static net_res *net_tcp_listener_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static net_res *net_tcp_stream_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static net_res *net_tls_listener_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static net_res *net_tls_stream_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static net_res *net_udp_socket_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }

/* A guest socket address (ABI.md 2.6): type 4 reads 4 bytes at ptr, type 6
 * reads 16 bytes and takes flow_info and scope_id; the port is truncated
 * to 16 bits. Any other type, or an address out of bounds, traps. */
typedef struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} net_addr;

static int net_sockaddr(lw_exec *x, const char *fn, uint32_t type, uint32_t ptr, uint32_t port,
                        uint32_t flow_info, uint32_t scope_id, net_addr *out)
{
    memset(out, 0, sizeof *out);
    if (type == 4) {
        const void *a = lapi_mem(x, ptr, 4);
        if (!a)
            return lapi_trapf(x, "%s: address out of bounds", fn);
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, a, 4);
        out->len = sizeof *sin;
        return LW_OK;
    }
    if (type == 6) {
        const void *a = lapi_mem(x, ptr, 16);
        if (!a)
            return lapi_trapf(x, "%s: address out of bounds", fn);
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_flowinfo = htonl(flow_info);
        sin6->sin6_scope_id = scope_id;
        memcpy(&sin6->sin6_addr, a, 16);
        out->len = sizeof *sin6;
        return LW_OK;
    }
    return lapi_trapf(x, "%s: unsupported address type %u", fn, type);
}

/* A guest buffer, or NULL after a trap. */
static void *net_buf(lw_exec *x, const char *fn, uint32_t ptr, uint32_t len)
{
    void *b = lapi_mem(x, ptr, len);
    if (!b)
        lapi_trapf(x, "%s: buffer out of bounds", fn);
    return b;
}

/* Checks an array of count {u32 ptr, u32 len} entries and every buffer it
 * names (tcp/tls_write_vectored, tls_connect's CA certificates). */
static int net_ciovecs(lw_exec *x, const char *fn, uint32_t ptr, uint32_t count)
{
    const uint8_t *v = lapi_mem(x, ptr, (uint64_t)count * 8);
    if (!v)
        return lapi_trapf(x, "%s: iovec array out of bounds", fn);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t p, l;
        memcpy(&p, v + 8 * (size_t)i, 4);
        memcpy(&l, v + 8 * (size_t)i + 4, 4);
        if (!lapi_mem(x, p, l))
            return lapi_trapf(x, "%s: buffer out of bounds", fn);
    }
    return LW_OK;
}

/* Finishes a call returning 0/1: writes value (status 0) or, with msg, a
 * new error id (status 1) as a u64 at ptr; an out-of-bounds ptr traps. */
static int net_result(lw_exec *x, lw_val *args, const char *fn, uint32_t ptr, uint64_t value,
                      const char *msg)
{
    if (!lapi_mem(x, ptr, 8))
        return lapi_trapf(x, "%s: result pointer out of bounds", fn);
    if (msg) {
        value = lapi_error_new(lt_self(x), "%s", msg);
        if (value == UINT64_MAX)
            return lapi_trapf(x, "%s: out of memory", fn);
    }
    lapi_put_u64(x, ptr, value);
    SET_RESULT32(msg ? LAPI_ERR : LAPI_OK);
    return LW_OK;
}

/* Counts the complete PEM blocks labelled label ("-----BEGIN label-----"
 * ... "-----END label-----"); -1 if one is not terminated. */
static int pem_count(const char *pem, size_t len, const char *label)
{
    char begin[64], end[64];
    int bl = snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    int el = snprintf(end, sizeof end, "-----END %s-----", label);
    int n = 0;
    const char *p = pem, *lim = pem + len;
    for (;;) {
        const char *b = memmem(p, (size_t)(lim - p), begin, (size_t)bl);
        if (!b)
            return n;
        b += bl;
        const char *e = memmem(b, (size_t)(lim - b), end, (size_t)el);
        if (!e)
            return -1;
        n++;
        p = e + el;
    }
}

/* ---- DNS ---------------------------------------------------------------- */

/* resolve(name_ptr, name_len, i64 timeout_ms, id_ptr) -> i32 */
static int networking_resolve(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!lapi_str(x, A32(0), A32(1)))
        return LW_TRAP;
    return net_result(x, args, FN("resolve"), A32(3), 0, NET_UNSUPPORTED);
}

/* drop_dns_iterator(i64 id) */
static int networking_drop_dns_iterator(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_dns_iterator_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_dns_iterator"), "dns iterator", A64(0));
    return LW_OK;
}

/* resolve_next(i64 id, addr_type_ptr, addr_ptr, port_ptr, flow_info_ptr,
 * scope_id_ptr) -> i32 */
static int networking_resolve_next(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_dns_iterator_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("resolve_next"), "dns iterator", A64(0));
    SET_RESULT32(1);
    return LW_OK;
}

/* ---- TCP ---------------------------------------------------------------- */

/* tcp_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr) -> i32 */
static int networking_tcp_bind(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    net_addr a;
    if (net_sockaddr(x, FN("tcp_bind"), A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    return net_result(x, args, FN("tcp_bind"), A32(5), 0, NET_UNSUPPORTED);
}

/* drop_tcp_listener(i64 id) */
static int networking_drop_tcp_listener(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_tcp_listener"), "tcp listener", A64(0));
    return LW_OK;
}

/* tcp_local_addr(i64 listener_id, id_ptr) -> i32 */
static int networking_tcp_local_addr(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_local_addr"), "tcp listener", A64(0));
    return net_result(x, args, FN("tcp_local_addr"), A32(1), 0, NET_UNSUPPORTED);
}

/* tcp_accept(i64 listener_id, id_ptr, peer_iter_ptr) -> i32 */
static int networking_tcp_accept(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_accept"), "tcp listener", A64(0));
    return net_result(x, args, FN("tcp_accept"), A32(1), 0, NET_UNSUPPORTED);
}

/* tcp_connect(addr_type, addr_ptr, port, flow_info, scope_id,
 * i64 timeout_ms, id_ptr) -> i32 */
static int networking_tcp_connect(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    net_addr a;
    if (net_sockaddr(x, FN("tcp_connect"), A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    return net_result(x, args, FN("tcp_connect"), A32(6), 0, NET_UNSUPPORTED);
}

/* tcp_peer_addr(i64 stream_id, id_ptr) -> i32 */
static int networking_tcp_peer_addr(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_peer_addr"), "tcp stream", A64(0));
    return net_result(x, args, FN("tcp_peer_addr"), A32(1), 0, NET_UNSUPPORTED);
}

/* drop_tcp_stream(i64 id) */
static int networking_drop_tcp_stream(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_tcp_stream"), "tcp stream", A64(0));
    return LW_OK;
}

/* clone_tcp_stream(i64 id) -> i64 */
static int networking_clone_tcp_stream(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("clone_tcp_stream"), "tcp stream", A64(0));
    return lapi_trapf(x, "%s: %s", FN("clone_tcp_stream"), NET_UNSUPPORTED);
}

/* tcp_write_vectored(i64 stream_id, ciovec_ptr, ciovec_count, opaque_ptr) -> i32 */
static int networking_tcp_write_vectored(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (net_ciovecs(x, FN("tcp_write_vectored"), A32(1), A32(2)) != LW_OK)
        return LW_TRAP;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_write_vectored"), "tcp stream", A64(0));
    return net_result(x, args, FN("tcp_write_vectored"), A32(3), 0, NET_UNSUPPORTED);
}

/* tcp_read(i64 stream_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
static int networking_tcp_read(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("tcp_read"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_read"), "tcp stream", A64(0));
    return net_result(x, args, FN("tcp_read"), A32(3), 0, NET_UNSUPPORTED);
}

/* tcp_peek(i64 stream_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
static int networking_tcp_peek(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("tcp_peek"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_peek"), "tcp stream", A64(0));
    return net_result(x, args, FN("tcp_peek"), A32(3), 0, NET_UNSUPPORTED);
}

/* tcp_flush(i64 stream_id, error_id_ptr) -> i32 */
static int networking_tcp_flush(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tcp_flush"), "tcp stream", A64(0));
    return net_result(x, args, FN("tcp_flush"), A32(1), 0, NET_UNSUPPORTED);
}

/* Timeouts (ms, UINT64_MAX = none) of a TCP stream: set(i64 id, i64 ms),
 * get(i64 id) -> i64. */
static int tcp_set_timeout(lw_exec *x, lw_val *args, const char *fn)
{
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, fn, "tcp stream", A64(0));
    return LW_OK;
}

static int tcp_get_timeout(lw_exec *x, lw_val *args, const char *fn)
{
    if (!net_tcp_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, fn, "tcp stream", A64(0));
    SET_RESULT64(UINT64_MAX);
    return LW_OK;
}

static int networking_set_read_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_set_timeout(x, args, FN("set_read_timeout"));
}

static int networking_set_write_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_set_timeout(x, args, FN("set_write_timeout"));
}

static int networking_set_peek_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_set_timeout(x, args, FN("set_peek_timeout"));
}

static int networking_get_read_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_get_timeout(x, args, FN("get_read_timeout"));
}

static int networking_get_write_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_get_timeout(x, args, FN("get_write_timeout"));
}

static int networking_get_peek_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tcp_get_timeout(x, args, FN("get_peek_timeout"));
}

/* ---- TLS ---------------------------------------------------------------- */

/* tls_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr,
 * cert_ptr, cert_len, key_ptr, key_len) -> i32. cert and key are PEM: exactly
 * one CERTIFICATE and one PKCS#8 PRIVATE KEY, else a trap (as the
 * original). */
static int networking_tls_bind(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *fn = FN("tls_bind");
    const char *cert = net_buf(x, fn, A32(6), A32(7));
    if (!cert)
        return LW_TRAP;
    const char *key = net_buf(x, fn, A32(8), A32(9));
    if (!key)
        return LW_TRAP;
    if (pem_count(key, A32(9), "PRIVATE KEY") != 1)
        return lapi_trapf(x, "%s: failed to unpack the keys", fn);
    if (pem_count(cert, A32(7), "CERTIFICATE") != 1)
        return lapi_trapf(x, "%s: failed to unpack the certs", fn);
    net_addr a;
    if (net_sockaddr(x, fn, A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    return net_result(x, args, fn, A32(5), 0, NET_UNSUPPORTED);
}

/* drop_tls_listener(i64 id) */
static int networking_drop_tls_listener(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_tls_listener"), "tls listener", A64(0));
    return LW_OK;
}

/* tls_local_addr(i64 listener_id, id_ptr) -> i32 */
static int networking_tls_local_addr(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tls_local_addr"), "tls listener", A64(0));
    return net_result(x, args, FN("tls_local_addr"), A32(1), 0, NET_UNSUPPORTED);
}

/* tls_accept(i64 listener_id, id_ptr, peer_iter_ptr) -> i32 */
static int networking_tls_accept(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_listener_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tls_accept"), "tls listener", A64(0));
    return net_result(x, args, FN("tls_accept"), A32(1), 0, NET_UNSUPPORTED);
}

/* tls_connect(host_ptr, host_len, port, i64 timeout_ms, id_ptr, certs_ptr,
 * certs_count) -> i32. certs: certs_count {u32 ptr, u32 len} entries, each a
 * PEM CA certificate; 0 = the built-in web roots. */
static int networking_tls_connect(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *fn = FN("tls_connect");
    if (!lapi_str(x, A32(0), A32(1)))
        return LW_TRAP;
    if (A32(6) && net_ciovecs(x, fn, A32(5), A32(6)) != LW_OK)
        return LW_TRAP;
    return net_result(x, args, fn, A32(4), 0, NET_UNSUPPORTED);
}

/* drop_tls_stream(i64 id) */
static int networking_drop_tls_stream(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_tls_stream"), "tls stream", A64(0));
    return LW_OK;
}

/* clone_tls_stream(i64 id) -> i64 */
static int networking_clone_tls_stream(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("clone_tls_stream"), "tls stream", A64(0));
    return lapi_trapf(x, "%s: %s", FN("clone_tls_stream"), NET_UNSUPPORTED);
}

/* tls_write_vectored(i64 stream_id, ciovec_ptr, ciovec_count, opaque_ptr) -> i32 */
static int networking_tls_write_vectored(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (net_ciovecs(x, FN("tls_write_vectored"), A32(1), A32(2)) != LW_OK)
        return LW_TRAP;
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tls_write_vectored"), "tls stream", A64(0));
    return net_result(x, args, FN("tls_write_vectored"), A32(3), 0, NET_UNSUPPORTED);
}

/* tls_read(i64 stream_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
static int networking_tls_read(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("tls_read"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tls_read"), "tls stream", A64(0));
    return net_result(x, args, FN("tls_read"), A32(3), 0, NET_UNSUPPORTED);
}

/* tls_flush(i64 stream_id, error_id_ptr) -> i32 */
static int networking_tls_flush(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("tls_flush"), "tls stream", A64(0));
    return net_result(x, args, FN("tls_flush"), A32(1), 0, NET_UNSUPPORTED);
}

static int tls_set_timeout(lw_exec *x, lw_val *args, const char *fn)
{
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, fn, "tls stream", A64(0));
    return LW_OK;
}

static int tls_get_timeout(lw_exec *x, lw_val *args, const char *fn)
{
    if (!net_tls_stream_get(lt_self(x), A64(0)))
        return net_unknown(x, fn, "tls stream", A64(0));
    SET_RESULT64(UINT64_MAX);
    return LW_OK;
}

/* set_tls_read_timeout(i64 id, i64 ms) */
static int networking_set_tls_read_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tls_set_timeout(x, args, FN("set_tls_read_timeout"));
}

/* set_tls_write_timeout(i64 id, i64 ms) */
static int networking_set_tls_write_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tls_set_timeout(x, args, FN("set_tls_write_timeout"));
}

/* get_tls_read_timeout(i64 id) -> i64 */
static int networking_get_tls_read_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tls_get_timeout(x, args, FN("get_tls_read_timeout"));
}

/* get_tls_write_timeout(i64 id) -> i64 */
static int networking_get_tls_write_timeout(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    return tls_get_timeout(x, args, FN("get_tls_write_timeout"));
}

/* ---- UDP ---------------------------------------------------------------- */

/* udp_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr) -> i32 */
static int networking_udp_bind(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    net_addr a;
    if (net_sockaddr(x, FN("udp_bind"), A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    return net_result(x, args, FN("udp_bind"), A32(5), 0, NET_UNSUPPORTED);
}

/* udp_local_addr(i64 socket_id, id_ptr) -> i32 */
static int networking_udp_local_addr(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_local_addr"), "udp socket", A64(0));
    return net_result(x, args, FN("udp_local_addr"), A32(1), 0, NET_UNSUPPORTED);
}

/* udp_peer_addr(i64 socket_id, id_ptr) -> i32: 0 iterator, 1 NotConnected
 * error, 2 other error */
static int networking_udp_peer_addr(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_peer_addr"), "udp socket", A64(0));
    int rc = net_result(x, args, FN("udp_peer_addr"), A32(1), 0, NET_UNSUPPORTED);
    if (rc == LW_OK)
        SET_RESULT32(2);
    return rc;
}

/* drop_udp_socket(i64 id) */
static int networking_drop_udp_socket(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("drop_udp_socket"), "udp socket", A64(0));
    return LW_OK;
}

/* udp_receive(i64 socket_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
static int networking_udp_receive(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("udp_receive"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_receive"), "udp socket", A64(0));
    return net_result(x, args, FN("udp_receive"), A32(3), 0, NET_UNSUPPORTED);
}

/* udp_receive_from(i64 socket_id, buf_ptr, buf_len, opaque_ptr, iter_ptr) -> i32 */
static int networking_udp_receive_from(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("udp_receive_from"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_receive_from"), "udp socket", A64(0));
    return net_result(x, args, FN("udp_receive_from"), A32(3), 0, NET_UNSUPPORTED);
}

/* udp_connect(i64 socket_id, addr_type, addr_ptr, port, flow_info, scope_id,
 * i64 timeout_ms, id_ptr) -> i32 */
static int networking_udp_connect(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    net_addr a;
    if (net_sockaddr(x, FN("udp_connect"), A32(1), A32(2), A32(3), A32(4), A32(5), &a) != LW_OK)
        return LW_TRAP;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_connect"), "udp socket", A64(0));
    return net_result(x, args, FN("udp_connect"), A32(7), 0, NET_UNSUPPORTED);
}

/* clone_udp_socket(i64 id) -> i64 */
static int networking_clone_udp_socket(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("clone_udp_socket"), "udp socket", A64(0));
    return lapi_trapf(x, "%s: %s", FN("clone_udp_socket"), NET_UNSUPPORTED);
}

/* set_udp_socket_broadcast(i64 id, i32 on) */
static int networking_set_udp_socket_broadcast(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("set_udp_socket_broadcast"), "udp socket", A64(0));
    return lapi_trapf(x, "%s: %s", FN("set_udp_socket_broadcast"), NET_UNSUPPORTED);
}

/* get_udp_socket_broadcast(i64 id) -> i32 */
static int networking_get_udp_socket_broadcast(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("get_udp_socket_broadcast"), "udp socket", A64(0));
    return lapi_trapf(x, "%s: %s", FN("get_udp_socket_broadcast"), NET_UNSUPPORTED);
}

/* set_udp_socket_ttl(i64 id, i32 ttl) */
static int networking_set_udp_socket_ttl(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("set_udp_socket_ttl"), "udp socket", A64(0));
    return lapi_trapf(x, "%s: %s", FN("set_udp_socket_ttl"), NET_UNSUPPORTED);
}

/* get_udp_socket_ttl(i64 id) -> i32 */
static int networking_get_udp_socket_ttl(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("get_udp_socket_ttl"), "udp socket", A64(0));
    return lapi_trapf(x, "%s: %s", FN("get_udp_socket_ttl"), NET_UNSUPPORTED);
}

/* udp_send_to(i64 socket_id, buf_ptr, buf_len, addr_type, addr_ptr, port,
 * flow_info, scope_id, opaque_ptr) -> i32 */
static int networking_udp_send_to(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const char *fn = FN("udp_send_to");
    net_addr a;
    if (net_sockaddr(x, fn, A32(3), A32(4), A32(5), A32(6), A32(7), &a) != LW_OK)
        return LW_TRAP;
    if (!net_buf(x, fn, A32(1), A32(2)))
        return LW_TRAP;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, fn, "udp socket", A64(0));
    return net_result(x, args, fn, A32(8), 0, NET_UNSUPPORTED);
}

/* udp_send(i64 socket_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
static int networking_udp_send(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!net_buf(x, FN("udp_send"), A32(1), A32(2)))
        return LW_TRAP;
    if (!net_udp_socket_get(lt_self(x), A64(0)))
        return net_unknown(x, FN("udp_send"), "udp socket", A64(0));
    return net_result(x, args, FN("udp_send"), A32(3), 0, NET_UNSUPPORTED);
}

#define M "lunatic::networking"
const lw_host_func_def lapi_networking_defs[] = {
    /* DNS */
    {M, "resolve", "iiIi:i", networking_resolve},
    {M, "drop_dns_iterator", "I:", networking_drop_dns_iterator},
    {M, "resolve_next", "Iiiiii:i", networking_resolve_next},
    /* TCP */
    {M, "tcp_bind", "iiiiii:i", networking_tcp_bind},
    {M, "drop_tcp_listener", "I:", networking_drop_tcp_listener},
    {M, "tcp_local_addr", "Ii:i", networking_tcp_local_addr},
    {M, "tcp_accept", "Iii:i", networking_tcp_accept},
    {M, "tcp_connect", "iiiiiIi:i", networking_tcp_connect},
    {M, "tcp_peer_addr", "Ii:i", networking_tcp_peer_addr},
    {M, "drop_tcp_stream", "I:", networking_drop_tcp_stream},
    {M, "clone_tcp_stream", "I:I", networking_clone_tcp_stream},
    {M, "tcp_write_vectored", "Iiii:i", networking_tcp_write_vectored},
    {M, "tcp_read", "Iiii:i", networking_tcp_read},
    {M, "tcp_peek", "Iiii:i", networking_tcp_peek},
    {M, "tcp_flush", "Ii:i", networking_tcp_flush},
    {M, "set_read_timeout", "II:", networking_set_read_timeout},
    {M, "set_write_timeout", "II:", networking_set_write_timeout},
    {M, "set_peek_timeout", "II:", networking_set_peek_timeout},
    {M, "get_read_timeout", "I:I", networking_get_read_timeout},
    {M, "get_write_timeout", "I:I", networking_get_write_timeout},
    {M, "get_peek_timeout", "I:I", networking_get_peek_timeout},
    /* TLS */
    {M, "tls_bind", "iiiiiiiiii:i", networking_tls_bind},
    {M, "drop_tls_listener", "I:", networking_drop_tls_listener},
    {M, "tls_local_addr", "Ii:i", networking_tls_local_addr},
    {M, "tls_accept", "Iii:i", networking_tls_accept},
    {M, "tls_connect", "iiiIiii:i", networking_tls_connect},
    {M, "drop_tls_stream", "I:", networking_drop_tls_stream},
    {M, "clone_tls_stream", "I:I", networking_clone_tls_stream},
    {M, "tls_write_vectored", "Iiii:i", networking_tls_write_vectored},
    {M, "tls_read", "Iiii:i", networking_tls_read},
    {M, "tls_flush", "Ii:i", networking_tls_flush},
    {M, "set_tls_read_timeout", "II:", networking_set_tls_read_timeout},
    {M, "set_tls_write_timeout", "II:", networking_set_tls_write_timeout},
    {M, "get_tls_read_timeout", "I:I", networking_get_tls_read_timeout},
    {M, "get_tls_write_timeout", "I:I", networking_get_tls_write_timeout},
    /* UDP */
    {M, "udp_bind", "iiiiii:i", networking_udp_bind},
    {M, "udp_local_addr", "Ii:i", networking_udp_local_addr},
    {M, "udp_peer_addr", "Ii:i", networking_udp_peer_addr},
    {M, "drop_udp_socket", "I:", networking_drop_udp_socket},
    {M, "udp_receive", "Iiii:i", networking_udp_receive},
    {M, "udp_receive_from", "Iiiii:i", networking_udp_receive_from},
    {M, "udp_connect", "IiiiiiIi:i", networking_udp_connect},
    {M, "clone_udp_socket", "I:I", networking_clone_udp_socket},
    {M, "set_udp_socket_broadcast", "Ii:", networking_set_udp_socket_broadcast},
    {M, "get_udp_socket_broadcast", "I:i", networking_get_udp_socket_broadcast},
    {M, "set_udp_socket_ttl", "Ii:", networking_set_udp_socket_ttl},
    {M, "get_udp_socket_ttl", "I:i", networking_get_udp_socket_ttl},
    {M, "udp_send_to", "Iiiiiiiii:i", networking_udp_send_to},
    {M, "udp_send", "Iiii:i", networking_udp_send},
};
const size_t lapi_networking_count = sizeof lapi_networking_defs / sizeof lapi_networking_defs[0];
#undef M
