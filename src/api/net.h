/*
 * net.h - what the files of lunatic::networking (ABI.md §2.6) share: the
 * socket object, guest addresses, DNS iterators, the wait protocol of a
 * blocking socket call, and the result conventions.
 *
 * Files: net_addr.c (addresses, DNS iterators, resolve), net_tcp.c,
 * net_udp.c, net_tls.c, networking.c (the table of the 49 functions, and
 * moving sockets in messages).
 *
 * Sockets. Every socket is non-blocking and registered with the runtime's
 * poller for its whole life (rt/poller.h). A call that would block parks
 * its process (LW_SUSPEND) until the poller sees readiness or the call's
 * timeout passes; no worker thread ever blocks on the network. A socket is
 * a refcounted net_sock: each handle in a process's table holds one
 * reference (clones add handles, a message carries one), and the last
 * release unregisters and closes it. So dropping the last handle, the
 * death of the process holding it, or the drop of a message carrying it
 * closes the socket, and nothing else does.
 *
 * Threads: handles of one socket may live in several processes running on
 * different workers at once. The fd is safe to use concurrently (the
 * kernel serialises); timeouts are atomics; a TLS session has a mutex,
 * held only for non-blocking OpenSSL calls.
 */
#ifndef LUNATIC_API_NET_H
#define LUNATIC_API_NET_H

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "api/api.h"

#define NET_FN(name) "lunatic::networking::" name

typedef enum net_kind {
    NET_TCP_LISTENER,
    NET_TCP_STREAM,
    NET_TLS_LISTENER,
    NET_TLS_STREAM,
    NET_UDP,
} net_kind;

typedef struct net_sock {
    atomic_int refs;
    net_kind kind;
    int fd;
    lt_runtime *rt;                     /* whose poller watches fd */
    /* ms, UINT64_MAX = none; shared by every handle (ABI.md §2.6) */
    _Atomic uint64_t read_timeout, write_timeout, peek_timeout;
    /* TLS (net_tls.c) */
    struct ssl_ctx_st *ctx;             /* listener: the server context */
    struct ssl_st *ssl;                 /* stream: the session */
    bool handshaken;                    /* stream: the handshake is done */
    pthread_mutex_t tls_lock;           /* stream: guards ssl */
} net_sock;

/* A new socket object for fd (which it owns from now on), registered with
 * rt's poller; one reference. NULL when out of memory or fd cannot be
 * watched (fd is closed then). */
net_sock *net_sock_new(lt_runtime *rt, net_kind kind, int fd);
void net_sock_retain(net_sock *s);
/* Drops a reference; the last one unregisters, closes and frees. */
void net_sock_release(net_sock *s);
/* As a drop function for tables and messages. */
void net_sock_drop(void *s);

/* The resource table of a socket kind, and the handle lookup: NULL after
 * a trap naming fn ("unknown tcp stream id 7"). */
lt_reskind net_reskind(net_kind kind);
net_sock *net_get(lw_exec *x, net_kind kind, uint64_t id, const char *fn);
/* Adds a handle for s (the caller's reference moves into the table) and
 * writes its id at ptr. LW_OK, or LW_TRAP (out of memory or a bad ptr:
 * the reference is dropped). */
int net_put(lw_exec *x, net_sock *s, uint32_t ptr, const char *fn);

/* ---- addresses ---------------------------------------------------------- */

typedef struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} net_addr;

/* A guest socket address (ABI.md §2.6): type 4 reads 4 bytes at ptr, 6
 * reads 16 and takes flow_info and scope_id; the port is truncated to 16
 * bits. LW_OK, or LW_TRAP for another type or an address out of bounds. */
int net_guest_addr(lw_exec *x, const char *fn, uint32_t type, uint32_t ptr, uint32_t port,
                   uint32_t flow_info, uint32_t scope_id, net_addr *out);
/* A new DNS iterator holding n addresses (copied), its id in *id. 0, or
 * -1 when out of memory. */
int net_dns_new(lt_process *p, const net_addr *addrs, size_t n, uint64_t *id);

/* Looking up a host name on the runtime's pool for blocking work (DNS
 * never runs on a worker), waking p's current wait when done. */
typedef struct net_lookup net_lookup;
/* Starts a lookup of host (port goes into the answers). NULL when out of
 * memory or threads. */
net_lookup *net_lookup_start(lt_process *p, const char *host, uint16_t port);
bool net_lookup_done(const net_lookup *l);
/* After done: the addresses (owned by l) and their number, or NULL with a
 * message in msg. */
size_t net_lookup_result(const net_lookup *l, const net_addr **addrs, char *msg, size_t size);
void net_lookup_release(net_lookup *l);

/* ---- results ----------------------------------------------------------- */

/* "Connection refused (os error 111)", as Rust's io::Error displays. */
uint64_t net_os_error(lt_process *p, int err);
/* Finishes a call that failed with errno err: a new error id at ptr,
 * result 1 (LAPI_ERR). LW_OK, or LW_TRAP (bad ptr, out of memory). */
int net_fail(lw_exec *x, lw_val *args, uint32_t ptr, int err, const char *fn);
/* The same with a message instead of an errno. */
int net_fail_msg(lw_exec *x, lw_val *args, uint32_t ptr, const char *msg, const char *fn);
/* A process whose config denies networking (`--deny net`) opens no socket
 * and resolves no name: true after answering the call with an error id
 * at ptr (or a trap, in *ret). */
bool net_denied(lw_exec *x, lw_val *args, uint32_t ptr, const char *fn, int *ret);
/* Finishes a call that succeeded: value at ptr, result 0. */
int net_ok(lw_exec *x, lw_val *args, uint32_t ptr, uint64_t value, const char *fn);

/* ---- blocking ------------------------------------------------------------ */

/* A socket call that would block (EAGAIN) waits for events on s:
 * NET_RETRY (readiness arrived meanwhile: try the I/O again), NET_PARK
 * (return LW_SUSPEND: the process is woken by the poller or by the
 * deadline of the wait begun with timeout_ms), NET_TIMEOUT (the deadline
 * passed: the wait is over, answer LAPI_TIMEOUT) or NET_ERROR (the
 * poller cannot watch it; errno set). */
enum { NET_RETRY, NET_PARK, NET_TIMEOUT, NET_ERROR };
int net_wait(lt_process *p, net_sock *s, uint32_t events, uint64_t timeout_ms);
/* Ends a call that may have waited (the result is known). */
void net_done(lt_process *p);

/* Checks count {u32 ptr, u32 len} records at ptr (iovecs) and every buffer
 * they name; fills iov (up to max, the rest are ignored: a short write).
 * Returns the number filled, or -1 after a trap. */
struct iovec;
int net_iovecs(lw_exec *x, const char *fn, uint32_t ptr, uint32_t count, struct iovec *iov, int max);

/* ---- shared by TCP, TLS and UDP (net_tcp.c) --------------------------------- */

/* *_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr): a new
 * bound (and, for streams, listening) socket in *out, LW_OK; or a result
 * written (an error: *out NULL, LW_OK) or LW_TRAP. */
int net_bind(lw_exec *x, lw_val *args, net_kind kind, const char *fn, net_sock **out);
/* *_local_addr(id, id_ptr) -> i32 for a socket of kind. */
int net_local_addr(lw_exec *x, lw_val *args, net_kind kind, const char *fn);
/* *_accept(listener_id, id_ptr, peer_iter_ptr): LW_OK with the accepted
 * socket in *out (kind skind, not yet in a table: the caller puts it at
 * id_ptr) and the peer's address written; or LW_SUSPEND; or an error
 * result written (*out NULL) or LW_TRAP. */
int net_accept(lw_exec *x, lw_val *args, net_kind lkind, net_kind skind, const char *fn,
               net_sock **out);
/* Starts connecting a new stream socket of kind to a: 0 with *out,
 * connected or in progress (*done tells), or an errno. */
int net_start_connect(lt_runtime *rt, const net_addr *a, net_kind kind, net_sock **out, bool *done);
/* Whether a connect in progress has ended: 0 connected, EINPROGRESS not
 * yet, or its errno. */
int net_connect_state(const net_sock *s);
/* Connects a new TCP socket to a within timeout_ms, across the waits of
 * one call (state in p->job): LW_SUSPEND, or LW_OK with the result in
 * *err: 0 with the socket in *out, an errno, or -1 when the timeout
 * passed. */
int net_connect(lt_process *p, const net_addr *a, uint64_t timeout_ms, net_sock **out, int *err);

/* ---- the 49 functions (ABI.md §2.6), name and signature ---------------------- */

#define NET_FUNCS(X)                                                                           \
    X(resolve, "iiIi:i") X(drop_dns_iterator, "I:") X(resolve_next, "Iiiiii:i")                \
    X(tcp_bind, "iiiiii:i") X(drop_tcp_listener, "I:") X(tcp_local_addr, "Ii:i")               \
    X(tcp_accept, "Iii:i") X(tcp_connect, "iiiiiIi:i") X(tcp_peer_addr, "Ii:i")                \
    X(drop_tcp_stream, "I:") X(clone_tcp_stream, "I:I") X(tcp_write_vectored, "Iiii:i")        \
    X(tcp_read, "Iiii:i") X(tcp_peek, "Iiii:i") X(tcp_flush, "Ii:i")                           \
    X(set_read_timeout, "II:") X(set_write_timeout, "II:") X(set_peek_timeout, "II:")          \
    X(get_read_timeout, "I:I") X(get_write_timeout, "I:I") X(get_peek_timeout, "I:I")          \
    X(tls_bind, "iiiiiiiiii:i") X(drop_tls_listener, "I:") X(tls_local_addr, "Ii:i")           \
    X(tls_accept, "Iii:i") X(tls_connect, "iiiIiii:i") X(drop_tls_stream, "I:")                \
    X(clone_tls_stream, "I:I") X(tls_write_vectored, "Iiii:i") X(tls_read, "Iiii:i")           \
    X(tls_flush, "Ii:i") X(set_tls_read_timeout, "II:") X(set_tls_write_timeout, "II:")        \
    X(get_tls_read_timeout, "I:I") X(get_tls_write_timeout, "I:I") X(udp_bind, "iiiiii:i")     \
    X(udp_local_addr, "Ii:i") X(udp_peer_addr, "Ii:i") X(drop_udp_socket, "I:")                \
    X(udp_receive, "Iiii:i") X(udp_receive_from, "Iiiii:i") X(udp_connect, "IiiiiiIi:i")       \
    X(clone_udp_socket, "I:I") X(set_udp_socket_broadcast, "Ii:")                              \
    X(get_udp_socket_broadcast, "I:i") X(set_udp_socket_ttl, "Ii:") X(get_udp_socket_ttl, "I:i") \
    X(udp_send_to, "Iiiiiiiii:i") X(udp_send, "Iiii:i")

#define NET_DECL(name, sig) int networking_##name(lw_exec *x, void *env, lw_val *args);
NET_FUNCS(NET_DECL)
#undef NET_DECL

/* ---- TLS (net_tls.c) ---------------------------------------------------- */

/* Frees the TLS state of a socket (its last reference is going). */
void net_tls_free(net_sock *s);

#endif
