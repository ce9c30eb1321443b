/*
 * net_tls.c - TLS listeners and streams over OpenSSL (ABI.md §2.6).
 *
 * Every SSL call is non-blocking: SSL_ERROR_WANT_READ/WANT_WRITE park the
 * process on the poller like a TCP call, and the call is made again when
 * the socket is ready. OpenSSL keeps decrypted bytes it has not returned
 * yet (SSL_pending) in its own buffer, which epoll cannot see; that is why
 * a read always tries SSL_read first and waits only when OpenSSL itself
 * asks for more bytes from the socket.
 *
 * Where we differ from the original (docs/ABI.md §2.6):
 *  - A failed handshake or certificate check is an error result with a
 *    readable message, never a trap (decision 4); so are a certificate or
 *    key that tls_bind cannot use.
 *  - tls_accept returns once the TCP connection is accepted; the server
 *    handshake runs inside the stream's first read or write, in the
 *    process that owns the connection. A client that connects and never
 *    speaks then stalls only its own process, not the acceptor.
 *  - tls_connect verifies the peer against the system's trusted roots
 *    (the original compiled in the Mozilla roots) or the CA certificates
 *    given, checks the host name (or IP address) and sends SNI.
 *  - tls_connect's certificate records are {ptr, len} per ABI.md, but
 *    lunatic-rs writes (len, ptr): a record whose first reading does not
 *    point at a PEM block is read the other way round.
 *  - A peer that closes without close_notify ends the stream (read
 *    returns 0) instead of failing it, as most TLS servers treat it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "api/net.h"
#include "rt/blocking.h"

void net_tls_free(net_sock *s)
{
    if (s->ssl)
        SSL_free(s->ssl);
    if (s->ctx)
        SSL_CTX_free(s->ctx);
    s->ssl = NULL;
    s->ctx = NULL;
}

/* The last OpenSSL error as text (and the queue cleared). */
static const char *ssl_error_text(char *buf, size_t size, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(buf, size, "%s: %s", what, reason);
    return buf;
}

/* ---- listeners ---------------------------------------------------------------------- */

/* A server context for one certificate (with its chain) and key in PEM;
 * NULL with a message. */
static SSL_CTX *server_ctx(const char *cert, size_t cert_len, const char *key, size_t key_len,
                           char *msg, size_t size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    BIO *cb = BIO_new_mem_buf(cert, (int)cert_len), *kb = BIO_new_mem_buf(key, (int)key_len);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    const char *what = NULL;
    if (!ctx)
        what = "cannot create a TLS context";
    else if (!x)
        what = "tls_bind: the certificate is not a PEM certificate";
    else if (!k)
        what = "tls_bind: the key is not a PEM private key";
    else if (SSL_CTX_use_certificate(ctx, x) != 1)
        what = "tls_bind: the certificate cannot be used";
    else if (SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        what = "tls_bind: the key does not match the certificate";
    /* the rest of the PEM: the chain */
    X509 *extra;
    while (!what && cb && (extra = PEM_read_bio_X509(cb, NULL, NULL, NULL)))
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            what = "tls_bind: the certificate chain cannot be used";
        }
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    if (what) {
        ssl_error_text(msg, size, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

/* What TLS work costs the caller's slice, in reductions (a slice is
 * 20,000): making a server context (PEM parsing, key checks) takes about
 * 0.75 ms here, a handshake's key exchange about as much. Charged like a
 * spawn, so that a loop of them yields instead of holding its worker for
 * thousands of calls. */
#define TLS_SETUP_REDUCTIONS 20000

/* tls_bind(addr_type, addr_ptr, port, flow_info, scope_id, id_ptr, cert_ptr,
 * cert_len, key_ptr, key_len) -> i32 */
int networking_tls_bind(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_bind");
    int denied;
    if (net_denied(x, args, A32(5), fn, &denied))
        return denied;
    const char *cert = lapi_mem(x, A32(6), A32(7)), *key = lapi_mem(x, A32(8), A32(9));
    if (!cert || !key)
        return lapi_trapf(x, "%s: certificate or key out of bounds", fn);
    net_addr a;
    if (net_guest_addr(x, fn, A32(0), A32(1), A32(2), A32(3), A32(4), &a) != LW_OK)
        return LW_TRAP;
    if (!lapi_mem(x, A32(5), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    char msg[300];
    SSL_CTX *ctx = server_ctx(cert, A32(7), key, A32(9), msg, sizeof msg);
    if (!ctx) {
        int r = net_fail_msg(x, args, A32(5), msg, fn);
        return r == LW_OK ? lt_charge(lt_self(x), TLS_SETUP_REDUCTIONS) : r;
    }
    net_sock *s;
    int r = net_bind(x, args, NET_TLS_LISTENER, fn, &s);
    if (r != LW_OK || !s) {
        SSL_CTX_free(ctx);
        return r == LW_OK ? lt_charge(lt_self(x), TLS_SETUP_REDUCTIONS) : r;
    }
    s->ctx = ctx;
    if (net_put(x, s, A32(5), fn) != LW_OK)
        return LW_TRAP;
    SET_RESULT32(LAPI_OK);
    return lt_charge(lt_self(x), TLS_SETUP_REDUCTIONS);
}

/* tls_local_addr(listener_id, id_ptr) -> i32 */
int networking_tls_local_addr(lw_exec *x, void *env, lw_val *args)
{
    return net_local_addr(x, args, NET_TLS_LISTENER, NET_FN("tls_local_addr"));
}

/* tls_accept(listener_id, id_ptr, peer_iter_ptr) -> i32: the handshake
 * runs in the stream's first read or write (see the top). */
int networking_tls_accept(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_accept");
    net_sock *s;
    int r = net_accept(x, args, NET_TLS_LISTENER, NET_TLS_STREAM, fn, &s);
    if (r != LW_OK || !s)
        return r;
    net_sock *l = net_get(x, NET_TLS_LISTENER, A64(0), fn);
    if (!l || !(s->ssl = SSL_new(l->ctx)) || SSL_set_fd(s->ssl, s->fd) != 1) {
        net_sock_release(s);
        return l ? lapi_oom(x, fn) : LW_TRAP;
    }
    SSL_set_accept_state(s->ssl);
    return net_put(x, s, A32(1), fn);
}

/* ---- connecting ----------------------------------------------------------------------- */

/* The context for connections that trust the system's roots: made once. */
static SSL_CTX *default_client;
static pthread_once_t default_client_once = PTHREAD_ONCE_INIT;

static void client_setup(SSL_CTX *ctx)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static void make_default_client(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    if (ctx)
        client_setup(ctx);
    default_client = ctx;
}

/* Whether [ptr, ptr+len) lies in guest memory and starts like a PEM block. */
static const char *pem_at(lw_exec *x, uint32_t ptr, uint32_t len)
{
    const char *p = lapi_mem(x, ptr, len);
    if (!p)
        return NULL;
    uint32_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    return len - i >= 10 && !memcmp(p + i, "-----BEGIN", 10) ? p : NULL;
}

/* A client context trusting the count CA certificates at ptr (records of
 * two u32, see the top), a reference to the default one for none, or NULL
 * after a trap (a record out of bounds) or with *msg set (a certificate
 * that does not parse). */
static SSL_CTX *client_ctx(lw_exec *x, uint32_t ptr, uint32_t count, const char *fn,
                           char *msg, size_t size)
{
    if (count == 0) {
        pthread_once(&default_client_once, make_default_client);
        if (!default_client) {
            ssl_error_text(msg, size, "cannot load the system's trusted certificates");
            return NULL;
        }
        SSL_CTX_up_ref(default_client);
        return default_client;
    }
    const uint8_t *v = lapi_mem(x, ptr, (uint64_t)count * 8);
    if (!v) {
        lapi_trapf(x, "%s: certificate array out of bounds", fn);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ssl_error_text(msg, size, "cannot create a TLS context");
        return NULL;
    }
    client_setup(ctx);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t a, b;
        memcpy(&a, v + 8 * (size_t)i, 4);
        memcpy(&b, v + 8 * (size_t)i + 4, 4);
        uint32_t len = b;
        const char *pem = pem_at(x, a, b);
        if (!pem && (pem = pem_at(x, b, a)))
            len = a;
        if (!pem) {
            SSL_CTX_free(ctx);
            if (!lapi_mem(x, a, b) && !lapi_mem(x, b, a)) {
                lapi_trapf(x, "%s: certificate %u out of bounds", fn, i);
                return NULL;
            }
            snprintf(msg, size, "tls_connect: certificate %u is not a PEM certificate", i);
            return NULL;
        }
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        X509 *cert;
        int added = 0;
        while (bio && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
            added += X509_STORE_add_cert(store, cert) == 1;
            X509_free(cert);
        }
        BIO_free(bio);
        ERR_clear_error();
        if (!added) {
            SSL_CTX_free(ctx);
            snprintf(msg, size, "tls_connect: certificate %u is not a PEM certificate", i);
            return NULL;
        }
    }
    return ctx;
}

/* tls_connect's state across its waits (in p->job). */
typedef struct tls_connecting {
    lt_job job;                 /* never submitted: owned by the process */
    SSL_CTX *ctx;
    char *host;
    uint16_t port;
    net_lookup *lookup;         /* while resolving */
    net_addr *addrs;            /* the addresses to try, in order */
    size_t n, next;
    int last_err;               /* of the last address tried */
    net_sock *s;                /* connecting, then handshaking */
} tls_connecting;

static void tls_connecting_free(lt_job *j)
{
    tls_connecting *c = (tls_connecting *)j;
    net_lookup_release(c->lookup);
    net_sock_release(c->s);
    SSL_CTX_free(c->ctx);
    free(c->addrs);
    free(c->host);
    free(c);
}

/* Makes the session of a connected socket: SNI, host name (or address)
 * check. 0, or -1 when out of memory. */
static int client_session(tls_connecting *c)
{
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl || SSL_set_fd(ssl, c->s->fd) != 1) {
        SSL_free(ssl);
        return -1;
    }
    struct in6_addr ip;
    bool literal = inet_pton(AF_INET, c->host, &ip) == 1 || inet_pton(AF_INET6, c->host, &ip) == 1;
    if (literal)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host);
    else if (SSL_set_tlsext_host_name(ssl, c->host) != 1 || SSL_set1_host(ssl, c->host) != 1) {
        SSL_free(ssl);
        return -1;
    }
    SSL_set_connect_state(ssl);
    c->s->ssl = ssl;
    return 0;
}

/* Why a handshake failed, for the error id. */
static void handshake_error(SSL *ssl, int err, char *msg, size_t size)
{
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK)
        snprintf(msg, size, "TLS handshake failed: certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else if (err == SSL_ERROR_SYSCALL && errno)
        snprintf(msg, size, "TLS handshake failed: %s (os error %d)", strerror(errno), errno);
    else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
        snprintf(msg, size, "TLS handshake failed: the peer closed the connection");
    else
        ssl_error_text(msg, size, "TLS handshake failed");
    ERR_clear_error();
}

/* One step of tls_connect: LW_SUSPEND, or LW_OK with the stream in
 * c->s->ssl handshaken (done), or with *msg / *err set (failed). */
static int tls_connect_step(lt_process *p, tls_connecting *c, uint64_t timeout, char *msg,
                            size_t size, int *err)
{
    for (;;) {
        if (lapi_wait_expired(p)) {
            *err = -1;
            return LW_OK;
        }
        if (c->lookup) {
            if (!net_lookup_done(c->lookup))
                return LW_SUSPEND;
            const net_addr *addrs;
            c->n = net_lookup_result(c->lookup, &addrs, msg, size);
            if (!addrs)
                return LW_OK;
            if (c->n == 0) {
                snprintf(msg, size, "could not resolve to any addresses");
                return LW_OK;
            }
            if (!(c->addrs = malloc(c->n * sizeof *c->addrs))) {
                *err = ENOMEM;
                return LW_OK;
            }
            memcpy(c->addrs, addrs, c->n * sizeof *addrs);
            net_lookup_release(c->lookup);
            c->lookup = NULL;
        }
        if (!c->s) {
            /* connect to the next address, as Rust's connect does */
            if (c->next == c->n) {
                *err = c->last_err ? c->last_err : ECONNREFUSED;
                return LW_OK;
            }
            bool done;
            c->last_err = net_start_connect(p->rt, &c->addrs[c->next++], NET_TLS_STREAM, &c->s, &done);
            if (c->last_err)
                continue;
        }
        if (!c->s->ssl) {
            int e = net_connect_state(c->s);
            if (e == EINPROGRESS) {
                int w = net_wait(p, c->s, EPOLLOUT, timeout);
                if (w == NET_RETRY)
                    continue;
                if (w == NET_PARK)
                    return LW_SUSPEND;
                *err = w == NET_TIMEOUT ? -1 : errno;
                return LW_OK;
            }
            if (e) {
                c->last_err = e;
                net_sock_release(c->s);
                c->s = NULL;
                continue;
            }
            if (client_session(c) < 0) {
                *err = ENOMEM;
                return LW_OK;
            }
        }
        int r = SSL_do_handshake(c->s->ssl);
        if (r == 1) {
            c->s->handshaken = true;
            return LW_OK;
        }
        int e = SSL_get_error(c->s->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = net_wait(p, c->s, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, timeout);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            *err = w == NET_TIMEOUT ? -1 : errno;
            return LW_OK;
        }
        handshake_error(c->s->ssl, e, msg, size);
        return LW_OK;
    }
}

/* tls_connect(host_ptr, host_len, port, i64 timeout_ms, id_ptr, certs_ptr,
 * certs_count) -> i32: 0 with a stream id, 1 with an error id (a name that
 * does not resolve, a refused connection, a failed handshake or
 * verification), 9027 on timeout. */
int networking_tls_connect(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_connect");
    int r;
    if (net_denied(x, args, A32(4), fn, &r))
        return r;
    lt_process *p = lt_self(x);
    const char *host = lapi_str(x, A32(0), A32(1));
    if (!host)
        return LW_TRAP;
    if (!lapi_mem(x, A32(4), 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    uint64_t timeout = A64(3);
    char msg[400] = "";
    int err = 0;
    tls_connecting *c = (tls_connecting *)p->job;
    if (!p->wait_started || !c || c->job.free != tls_connecting_free) {
        /* first entry: check everything, then resolve */
        SSL_CTX *ctx = client_ctx(x, A32(5), A32(6), fn, msg, sizeof msg);
        if (!ctx)
            return msg[0] ? net_fail_msg(x, args, A32(4), msg, fn) : LW_TRAP;
        c = calloc(1, sizeof *c);
        if (!c || !(c->host = strndup(host, A32(1)))) {
            free(c);
            SSL_CTX_free(ctx);
            return lapi_oom(x, fn);
        }
        c->ctx = ctx;
        c->port = (uint16_t)A32(2);
        c->job.free = tls_connecting_free;
        atomic_init(&c->job.refs, 1);
        lt_job_release(p->job);
        p->job = &c->job;
        lapi_wait_begin(p, timeout);
        /* a literal address needs no lookup */
        net_addr lit = {0};
        struct sockaddr_in *sin = (struct sockaddr_in *)&lit.ss;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&lit.ss;
        if (inet_pton(AF_INET, c->host, &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            sin->sin_port = htons(c->port);
            lit.len = sizeof *sin;
        } else if (inet_pton(AF_INET6, c->host, &sin6->sin6_addr) == 1) {
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons(c->port);
            lit.len = sizeof *sin6;
        }
        if (lit.len) {
            c->addrs = malloc(sizeof lit);
            if (c->addrs) {
                c->addrs[0] = lit;
                c->n = 1;
            } else {
                err = ENOMEM;
            }
        } else if (!(c->lookup = net_lookup_start(p, c->host, c->port))) {
            err = EAGAIN;
        }
    }
    if (!err && tls_connect_step(p, c, timeout, msg, sizeof msg, &err) == LW_SUSPEND)
        return LW_SUSPEND;
    net_done(p);
    net_sock *s = c->s;
    bool ok = !err && !msg[0] && s && s->handshaken;
    if (ok)
        c->s = NULL;
    lt_job_release(p->job);
    p->job = NULL;
    if (ok) {
        if (net_put(x, s, A32(4), fn) != LW_OK)
            return LW_TRAP;
        SET_RESULT32(LAPI_OK);
        return lt_charge(p, TLS_SETUP_REDUCTIONS);
    }
    if (err == -1) {
        SET_RESULT32(LAPI_TIMEOUT);
        return LW_OK;
    }
    return msg[0] ? net_fail_msg(x, args, A32(4), msg, fn) : net_fail(x, args, A32(4), err, fn);
}

/* ---- streams -------------------------------------------------------------------------- */

/* Runs one non-blocking SSL call under the stream's lock (handles of one
 * stream may run on two workers at once): returns its SSL_get_error code
 * (SSL_ERROR_NONE with *n bytes), *why set for an error, *handshake set
 * when this call completed the server's handshake. */
static int tls_io(net_sock *s, bool write, void *buf, size_t len, size_t *n, char *why, size_t size,
                  bool *handshake)
{
    pthread_mutex_lock(&s->tls_lock);
    ERR_clear_error();
    errno = 0;
    int r = write ? SSL_write_ex(s->ssl, buf, len, n) : SSL_read_ex(s->ssl, buf, len, n);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
    if ((e == SSL_ERROR_NONE || e == SSL_ERROR_ZERO_RETURN) && !s->handshaken) {
        s->handshaken = true;
        *handshake = true;
    }
    else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        handshake_error(s->ssl, e, why, size);
    pthread_mutex_unlock(&s->tls_lock);
    return e;
}

/* A read or write on a TLS stream, waiting as OpenSSL asks: 0 with the
 * bytes (0 at the end of the stream for a read), 1 with an error id, 9027
 * on the stream's timeout. */
static int tls_rw(lw_exec *x, lw_val *args, bool write, void *buf, size_t len, net_sock *s,
                  uint32_t opaque_ptr, const char *fn)
{
    lt_process *p = lt_self(x);
    uint64_t timeout = atomic_load(write ? &s->write_timeout : &s->read_timeout);
    for (;;) {
        size_t n = 0;
        char why[400];
        bool handshake = false;
        int e = tls_io(s, write, buf, len, &n, why, sizeof why, &handshake);
        if (e == SSL_ERROR_NONE || e == SSL_ERROR_ZERO_RETURN) {
            net_done(p);
            int r = net_ok(x, args, opaque_ptr, e == SSL_ERROR_NONE ? n : 0, fn);
            return r == LW_OK && handshake ? lt_charge(p, TLS_SETUP_REDUCTIONS) : r;
        }
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = net_wait(p, s, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, timeout);
            if (w == NET_RETRY)
                continue;
            if (w == NET_PARK)
                return LW_SUSPEND;
            if (w == NET_TIMEOUT) {
                SET_RESULT32(LAPI_TIMEOUT);
                return LW_OK;
            }
            net_done(p);
            return net_fail(x, args, opaque_ptr, errno, fn);
        }
        net_done(p);
        if (!s->handshaken)
            return net_fail_msg(x, args, opaque_ptr, why, fn);
        /* after the handshake: "TLS handshake failed" would mislead */
        const char *colon = strstr(why, ": ");
        char m[440];
        snprintf(m, sizeof m, "TLS %s failed%s", write ? "write" : "read", colon ? colon : "");
        return net_fail_msg(x, args, opaque_ptr, m, fn);
    }
}

/* tls_read(stream_id, buf_ptr, buf_len, opaque_ptr) -> i32 */
int networking_tls_read(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_read");
    net_sock *s = net_get(x, NET_TLS_STREAM, A64(0), fn);
    if (!s)
        return LW_TRAP;
    void *buf = lapi_mem(x, A32(1), A32(2));
    if (!buf || !lapi_mem(x, A32(3), 8))
        return lapi_trapf(x, "%s: buffer out of bounds", fn);
    return tls_rw(x, args, false, buf, A32(2), s, A32(3), fn);
}

/* tls_write_vectored(stream_id, ciovec_ptr, ciovec_count, opaque_ptr) ->
 * i32: the buffers are joined (up to 64 KiB: a short write beyond) into
 * one record write. */
int networking_tls_write_vectored(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_write_vectored");
    net_sock *s = net_get(x, NET_TLS_STREAM, A64(0), fn);
    if (!s)
        return LW_TRAP;
    struct iovec iov[64];
    int n = net_iovecs(x, fn, A32(1), A32(2), iov, 64);
    if (n < 0)
        return LW_TRAP;
    if (!lapi_mem(x, A32(3), 8))
        return lapi_trapf(x, "%s: result pointer out of bounds", fn);
    if (n == 1)
        return tls_rw(x, args, true, iov[0].iov_base, iov[0].iov_len, s, A32(3), fn);
    static _Thread_local uint8_t joined[65536];
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof joined; i++) {
        size_t k = iov[i].iov_len < sizeof joined - len ? iov[i].iov_len : sizeof joined - len;
        memcpy(joined + len, iov[i].iov_base, k);
        len += k;
    }
    if (len == 0)
        return net_ok(x, args, A32(3), 0, fn);
    return tls_rw(x, args, true, joined, len, s, A32(3), fn);
}

/* tls_flush(stream_id, error_id_ptr) -> i32: every write goes to the
 * socket at once, so there is nothing to flush: 0 with 0 written. */
int networking_tls_flush(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("tls_flush");
    if (!net_get(x, NET_TLS_STREAM, A64(0), fn))
        return LW_TRAP;
    return net_ok(x, args, A32(1), 0, fn);
}
