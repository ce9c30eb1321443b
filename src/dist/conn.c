/*
 * conn.c - one connection to another node: the TLS handshake when the node
 * uses TLS, the Erlang distribution handshake (ours rather than ei's, so
 * that it runs without blocking in the node's event loop and advertises
 * the flags we want: DIST_MONITOR_NAME makes an Erlang node send us its
 * monitors), then packets: reads, ticks, and writes of the peer's queue.
 * Everything here runs on the node thread.
 *
 * The handshake (erl_dist_protocol, version 6 of OTP 23 and later), with
 * packets of a 2-byte length (4 over TLS, as inet_tls_dist):
 *   initiator -> 'N' Flags:64 Creation:32 NameLen:16 Name
 *   acceptor  -> 's' Status ("ok", "ok_simultaneous", "nok", "alive", ...)
 *   acceptor  -> 'N' Flags:64 Challenge:32 Creation:32 NameLen:16 Name
 *   initiator -> 'r' Challenge:32 Digest:128
 *   acceptor  -> 'a' Digest:128
 * where a digest is MD5(cookie ++ the other side's challenge in decimal).
 * Afterwards packets have a 4-byte length; length 0 is a tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "dist/internal.h"

#define OUR_FLAGS                                                                              \
    (DF_EXTENDED_REFERENCES | DF_DIST_MONITOR | DF_FUN_TAGS | DF_NEW_FUN_TAGS |                \
     DF_EXTENDED_PIDS_PORTS | DF_EXPORT_PTR_TAG | DF_BIT_BINARIES | DF_NEW_FLOATS |            \
     DF_SMALL_ATOM_TAGS | DF_DIST_MONITOR_NAME | DF_UTF8_ATOMS | DF_MAP_TAG | DF_BIG_CREATION | \
     DF_HANDSHAKE_23 | DF_UNLINK_ID | DF_MANDATORY_25_DIGEST | DF_V4_NC)
/* What a peer must support for us to understand it. */
#define NEEDED_FLAGS (DF_EXTENDED_PIDS_PORTS | DF_UTF8_ATOMS | DF_BIG_CREATION | DF_HANDSHAKE_23)

#define RBUF_MIN (64u << 10)
#define READ_PER_EVENT (4u << 20)  /* then the other connections get a turn */

static void put16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}
static uint32_t get16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }
static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static uint64_t get64(const uint8_t *b) { return (uint64_t)get32(b) << 32 | get32(b + 4); }

static void set_events(ld_node *n, ld_conn *c, bool out)
{
    if (c->want_out == out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(n->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static const char *tls_error(void)
{
    static __thread char buf[160];
    unsigned long e = ERR_get_error();
    if (!e)
        return "connection closed";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

/* ---- raw I/O: >0 bytes, 0 at the end, -1 would block, -2 error ---------------- */

static ssize_t conn_read(ld_conn *c, void *buf, size_t len)
{
    if (!c->ssl) {
        ssize_t r;
        do
            r = read(c->fd, buf, len);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
        return r;
    }
    int r = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        snprintf(c->why, sizeof c->why, "TLS: %s", tls_error());
        return -2;
    }
}

static ssize_t conn_write(ld_conn *c, const void *buf, size_t len)
{
    if (!c->ssl) {
        ssize_t r;
        do
            r = send(c->fd, buf, len, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
        return r;
    }
    int r = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return -1;
    snprintf(c->why, sizeof c->why, "TLS: %s", tls_error());
    return -2;
}

/* ---- creation --------------------------------------------------------------------- */

static int tls_begin(ld_node *n, ld_conn *c)
{
    c->ssl = SSL_new(c->initiator ? n->tls_client : n->tls_server);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* a peer that exits closes without close_notify, as Erlang nodes do:
     * that is a closed connection, not an error */
    SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (c->initiator) {
        /* the server's certificate must be for the host of its node name */
        const char *host = c->peer->host;
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
            SSL_set_tlsext_host_name(c->ssl, host);
            if (SSL_set1_host(c->ssl, host) != 1)
                return -1;
        }
        SSL_set_connect_state(c->ssl);
    } else {
        SSL_set_accept_state(c->ssl);
    }
    c->hs = HS_TLS;
    return 0;
}

static void send_name(ld_node *n, ld_conn *c);
static void tls_step(ld_node *n, ld_conn *c);

ld_conn *ld_conn_new(ld_node *n, int fd, ld_peer *peer, bool initiator)
{
    ld_conn *c = calloc(1, sizeof *c);
    uint8_t *rbuf = malloc(RBUF_MIN);
    if (!c || !rbuf) {
        free(c);
        free(rbuf);
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->peer = peer;
    c->initiator = initiator;
    c->rbuf = rbuf;
    c->rcap = RBUF_MIN;
    c->deadline = lt_now_ns() + LD_HS_TIMEOUT_NS;
    c->last_recv = lt_now_ns();
    atomic_init(&c->last_send, c->last_recv);
    pthread_mutex_init(&c->wlock, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 || (n->tls_server && tls_begin(n, c) < 0)) {
        if (c->ssl)
            SSL_free(c->ssl);
        close(fd);
        free(rbuf);
        free(c);
        return NULL;
    }
    c->next = n->conns;
    n->conns = c;
    if (!c->ssl) {
        c->hs = initiator ? HS_SEND_NAME : HS_RECV_NAME;
        if (initiator)
            send_name(n, c);
    } else {
        tls_step(n, c); /* a TLS client speaks first */
    }
    return c;
}

void ld_conn_free(ld_conn *c)
{
    for (int i = 0; i < c->ninflight; i++)
        ld_frame_free(c->inflight[i]);
    ld_frag_free_all(c);
    if (c->ssl)
        SSL_free(c->ssl);
    free(c->rbuf);
    free(c->hsout);
    free(c->stage);
    pthread_mutex_destroy(&c->wlock);
    free(c);
}

/* ---- handshake ---------------------------------------------------------------------- */

/* Writes the handshake bytes still pending, as far as the socket takes
 * them. */
static void hs_flush(ld_node *n, ld_conn *c)
{
    while (c->hsout_off < c->hsout_len) {
        ssize_t w = conn_write(c, c->hsout + c->hsout_off, c->hsout_len - c->hsout_off);
        if (w == -1) {
            set_events(n, c, true);
            return;
        }
        if (w < 0) {
            /* over TLS a node that refused our certificate has closed */
            if (c->ssl && c->initiator)
                c->failed_auth = true;
            ld_conn_close(n, c, c->why[0] ? c->why : "write failed");
            return;
        }
        c->hsout_off += (size_t)w;
    }
    c->hsout_off = c->hsout_len = 0;
    set_events(n, c, false);
}

/* Queues a handshake packet and writes what the socket takes. */
static void hs_send(ld_node *n, ld_conn *c, const uint8_t *msg, size_t len)
{
    size_t hdr = c->ssl ? 4 : 2;
    uint8_t *b = realloc(c->hsout, c->hsout_len + hdr + len);
    if (!b) {
        ld_conn_close(n, c, "out of memory");
        return;
    }
    c->hsout = b;
    if (hdr == 4)
        put32(b + c->hsout_len, (uint32_t)len);
    else
        put16(b + c->hsout_len, (uint32_t)len);
    memcpy(b + c->hsout_len + hdr, msg, len);
    c->hsout_len += hdr + len;
    hs_flush(n, c);
}

static void digest(const char *cookie, uint32_t challenge, uint8_t out[16])
{
    char buf[300];
    int len = snprintf(buf, sizeof buf, "%s%u", cookie, challenge);
    unsigned int dl = 16;
    EVP_Digest(buf, (size_t)len, out, &dl, EVP_md5(), NULL);
}

static uint32_t random32(void)
{
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (uint32_t)lt_now_ns() * 2654435761u;
    return v;
}

/* 'N' Flags Creation NameLen Name: our name (initiator). */
static void send_name(ld_node *n, ld_conn *c)
{
    uint8_t m[1 + 8 + 4 + 2 + LD_MAXNAME];
    size_t nl = strlen(n->name);
    m[0] = 'N';
    put32(m + 1, (uint32_t)(OUR_FLAGS >> 32));
    put32(m + 5, (uint32_t)OUR_FLAGS);
    put32(m + 9, n->creation);
    put16(m + 13, (uint32_t)nl);
    memcpy(m + 15, n->name, nl);
    c->hs = HS_RECV_STATUS;
    hs_send(n, c, m, 15 + nl);
}

/* 'N' Flags Challenge Creation NameLen Name (acceptor). */
static void send_challenge(ld_node *n, ld_conn *c)
{
    uint8_t m[1 + 8 + 4 + 4 + 2 + LD_MAXNAME];
    size_t nl = strlen(n->name);
    c->my_challenge = random32();
    m[0] = 'N';
    put32(m + 1, (uint32_t)(OUR_FLAGS >> 32));
    put32(m + 5, (uint32_t)OUR_FLAGS);
    put32(m + 9, c->my_challenge);
    put32(m + 13, n->creation);
    put16(m + 17, (uint32_t)nl);
    memcpy(m + 19, n->name, nl);
    c->hs = HS_RECV_REPLY;
    hs_send(n, c, m, 19 + nl);
}

static void send_status(ld_node *n, ld_conn *c, const char *status)
{
    uint8_t m[32];
    size_t l = strlen(status);
    m[0] = 's';
    memcpy(m + 1, status, l);
    hs_send(n, c, m, 1 + l);
}

/* Another connection of ours to the same peer, still in its handshake. */
static ld_conn *pending_twin(ld_node *n, ld_conn *c)
{
    for (ld_conn *o = n->conns; o; o = o->next)
        if (o != c && o->peer == c->peer && o->hs < HS_UP)
            return o;
    return NULL;
}

/* The acceptor got the initiator's name: decide, answer status and
 * challenge. */
static void got_name(ld_node *n, ld_conn *c, const uint8_t *m, size_t len)
{
    if (len < 15 || m[0] != 'N') {
        ld_conn_close(n, c, len && m[0] == 'n' ? "the peer speaks a distribution protocol older "
                                                  "than OTP 23" : "bad handshake (name)");
        return;
    }
    c->peer_flags = get64(m + 1);
    c->peer_creation = get32(m + 9);
    size_t nl = get16(m + 13);
    if (15 + nl > len || nl == 0 || nl >= LD_MAXNAME || !memchr(m + 15, '@', nl)) {
        ld_conn_close(n, c, "bad handshake (node name)");
        return;
    }
    memcpy(c->peer_name, m + 15, nl);
    c->peer_name[nl] = 0;
    if ((c->peer_flags & NEEDED_FLAGS) != NEEDED_FLAGS) {
        send_status(n, c, "not_allowed");
        ld_conn_close(n, c, "the peer lacks distribution flags we need");
        return;
    }
    if (!strcmp(c->peer_name, n->name)) {
        send_status(n, c, "not_allowed");
        ld_conn_close(n, c, "a node with our own name");
        return;
    }
    pthread_mutex_lock(&n->lock);
    ld_peer *p = ld_peer_get_locked(n, c->peer_name);
    pthread_mutex_unlock(&n->lock);
    if (!p) {
        ld_conn_close(n, c, "out of memory");
        return;
    }
    c->peer = p;
    if (p->conn && p->conn->hs == HS_UP) {
        if (p->creation != c->peer_creation) {
            /* it restarted before we noticed: that connection is dead */
            ld_conn_close(n, p->conn, "the node restarted");
        } else {
            send_status(n, c, "alive");
            c->hs = HS_RECV_ALIVE;
            return;
        }
    }
    ld_conn *twin = pending_twin(n, c);
    if (twin && twin->initiator) {
        /* both connect at once: the greater name keeps its own attempt */
        if (strcmp(n->name, c->peer_name) > 0) {
            send_status(n, c, "nok");
            ld_conn_close(n, c, NULL);
            return;
        }
        send_status(n, c, "ok_simultaneous");
        ld_conn_close(n, twin, NULL);
    } else {
        send_status(n, c, "ok");
    }
    if (c->hs != HS_CLOSED)
        send_challenge(n, c);
}

static void hs_packet(ld_node *n, ld_conn *c, const uint8_t *m, size_t len)
{
    uint8_t d[16];
    switch (c->hs) {
    case HS_RECV_NAME:
        got_name(n, c, m, len);
        return;
    case HS_RECV_ALIVE:
        if (len >= 5 && !memcmp(m, "strue", 5)) {
            if (c->peer->conn && c->peer->conn != c)
                ld_conn_close(n, c->peer->conn, "replaced by a new connection");
            send_challenge(n, c);
        } else {
            ld_conn_close(n, c, NULL);
        }
        return;
    case HS_RECV_STATUS:
        if (len < 2 || m[0] != 's') {
            ld_conn_close(n, c, "bad handshake (status)");
        } else if ((len == 3 && !memcmp(m + 1, "ok", 2)) ||
                   (len == 16 && !memcmp(m + 1, "ok_simultaneous", 15))) {
            c->hs = HS_RECV_CHALLENGE;
        } else if (len == 6 && !memcmp(m + 1, "alive", 5)) {
            /* it believes in a connection with us that we do not have */
            uint8_t t[5] = {'s', 't', 'r', 'u', 'e'};
            c->hs = HS_RECV_CHALLENGE;
            hs_send(n, c, t, 5);
        } else if (len == 4 && !memcmp(m + 1, "nok", 3)) {
            ld_conn_close(n, c, NULL); /* its own connection to us wins */
        } else {
            c->failed_auth = true;
            snprintf(c->why, sizeof c->why, "the node refused the connection (%.*s)",
                     (int)(len - 1 > 40 ? 40 : len - 1), (const char *)m + 1);
            ld_conn_close(n, c, c->why);
        }
        return;
    case HS_RECV_CHALLENGE: {
        if (len < 19 || m[0] != 'N') {
            ld_conn_close(n, c, "bad handshake (challenge)");
            return;
        }
        c->peer_flags = get64(m + 1);
        uint32_t challenge = get32(m + 9);
        c->peer_creation = get32(m + 13);
        size_t nl = get16(m + 17);
        if (19 + nl > len || nl >= LD_MAXNAME) {
            ld_conn_close(n, c, "bad handshake (challenge name)");
            return;
        }
        memcpy(c->peer_name, m + 19, nl);
        c->peer_name[nl] = 0;
        if (strcmp(c->peer_name, c->peer->name)) {
            snprintf(c->why, sizeof c->why, "the node at that address is %.150s", c->peer_name);
            ld_conn_close(n, c, c->why);
            return;
        }
        if ((c->peer_flags & NEEDED_FLAGS) != NEEDED_FLAGS) {
            ld_conn_close(n, c, "the peer lacks distribution flags we need");
            return;
        }
        uint8_t r[21];
        c->my_challenge = random32();
        r[0] = 'r';
        put32(r + 1, c->my_challenge);
        digest(n->cookie, challenge, r + 5);
        c->hs = HS_RECV_ACK;
        hs_send(n, c, r, 21);
        return;
    }
    case HS_RECV_REPLY:
        if (len != 21 || m[0] != 'r') {
            ld_conn_close(n, c, "bad handshake (challenge reply)");
            return;
        }
        digest(n->cookie, c->my_challenge, d);
        if (memcmp(d, m + 5, 16)) {
            c->failed_auth = true;
            ld_log(n, "refused a connection from %s: wrong cookie", c->peer_name);
            ld_conn_close(n, c, "wrong cookie");
            return;
        } else {
            uint8_t a[17];
            a[0] = 'a';
            digest(n->cookie, get32(m + 1), a + 1);
            hs_send(n, c, a, 17);
            if (c->hs != HS_CLOSED) {
                c->hs = HS_UP;
                ld_conn_up(n, c);
            }
        }
        return;
    case HS_RECV_ACK:
        digest(n->cookie, c->my_challenge, d);
        if (len != 17 || m[0] != 'a' || memcmp(d, m + 1, 16)) {
            c->failed_auth = true;
            ld_conn_close(n, c, "the node answered our challenge wrongly (wrong cookie?)");
            return;
        }
        c->hs = HS_UP;
        ld_conn_up(n, c);
        return;
    default:
        ld_conn_close(n, c, "unexpected handshake packet");
    }
}

/* ---- reading ------------------------------------------------------------------------- */

/* Makes room for `need` bytes in the read buffer. 0, or -1. */
static int rbuf_reserve(ld_conn *c, size_t need)
{
    if (need <= c->rcap)
        return 0;
    size_t cap = c->rcap;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(c->rbuf, cap);
    if (!b)
        return -1;
    c->rbuf = b;
    c->rcap = cap;
    return 0;
}

/* Handles the complete packets in the read buffer. */
static void parse(ld_node *n, ld_conn *c)
{
    size_t off = 0;
    while (c->hs != HS_CLOSED) {
        size_t avail = c->rlen - off;
        const uint8_t *b = c->rbuf + off;
        if (c->hs < HS_UP) {
            size_t hdr = c->ssl ? 4 : 2;
            if (avail < hdr)
                break;
            size_t len = hdr == 4 ? get32(b) : get16(b);
            if (len > 4096) {
                ld_conn_close(n, c, "handshake packet too large");
                return;
            }
            if (avail < hdr + len)
                break;
            off += hdr + len;
            hs_packet(n, c, b + hdr, len);
            continue;
        }
        if (avail < 4)
            break;
        size_t len = get32(b);
        if (len > LD_MAX_PACKET) {
            ld_conn_close(n, c, "packet too large");
            return;
        }
        if (avail < 4 + len) {
            /* keep the partial packet at the front, with room for all of it */
            if (off) {
                memmove(c->rbuf, b, avail);
                c->rlen = avail;
                off = 0;
            }
            if (rbuf_reserve(c, 4 + len) < 0)
                ld_conn_close(n, c, "out of memory");
            return;
        }
        off += 4 + len;
        if (len == 0)
            continue; /* a tick */
        if (b[4] == PKT_PASS) {
            ld_dispatch(n, c, b + 5, len - 1);
        } else if (b[4] == PKT_FRAG && c->peer->lunatic) {
            size_t wl;
            bool bad;
            uint8_t *whole = ld_frag_add(c, b + 5, len - 1, &wl, &bad);
            if (bad) {
                ld_conn_close(n, c, "bad fragment");
                return;
            }
            if (whole) {
                if (wl && whole[0] == PKT_PASS)
                    ld_dispatch(n, c, whole + 1, wl - 1);
                free(whole);
            }
        }
        /* other packet kinds (an atom-cache header we never asked for)
         * are ignored */
    }
    if (c->hs == HS_CLOSED)
        return;
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    /* a large packet is done: give the memory back */
    if (c->rcap > (8u << 20) && c->rlen < RBUF_MIN) {
        uint8_t *b = realloc(c->rbuf, RBUF_MIN);
        if (b) {
            c->rbuf = b;
            c->rcap = RBUF_MIN;
        }
    }
}

static void do_read(ld_node *n, ld_conn *c)
{
    size_t total = 0;
    while (c->hs != HS_CLOSED && total < READ_PER_EVENT) {
        if (c->rlen == c->rcap && rbuf_reserve(c, c->rcap * 2) < 0) {
            ld_conn_close(n, c, "out of memory");
            return;
        }
        ssize_t r = conn_read(c, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (r == -1)
            break;
        if (r <= 0) {
            const char *why = r == 0 ? "connection closed" : c->why[0] ? c->why : strerror(errno);
            if (r < 0 && c->ssl && c->hs < HS_UP) {
                /* TLS 1.3 tells a client its certificate was refused only
                 * after the client finished: an alert on the first read */
                c->failed_auth = true;
            } else if (r == 0 && c->ssl && c->initiator && c->hs > HS_TLS && c->hs < HS_UP) {
                /* or it just closes */
                c->failed_auth = true;
                why = "the node closed the connection during the handshake (our certificate "
                      "refused?)";
            } else if (c->hs == HS_RECV_ACK && r == 0) {
                /* closing instead of acknowledging is how a node refuses
                 * a wrong digest */
                c->failed_auth = true;
                why = "the node closed the connection after our challenge reply (wrong cookie?)";
            }
            ld_conn_close(n, c, why);
            return;
        }
        size_t room = c->rcap - c->rlen;
        c->rlen += (size_t)r;
        total += (size_t)r;
        c->last_recv = lt_now_ns();
        parse(n, c);
        /* A short read drained the socket: epoll (level-triggered) reports
         * what comes next, and the read that would say EAGAIN is a syscall
         * saved per message. TLS may hold decrypted bytes back. */
        if ((size_t)r < room && !(c->ssl && SSL_pending(c->ssl)))
            break;
    }
}

/* ---- writing ----------------------------------------------------------------------------- */

static void batch_done(ld_conn *c)
{
    for (int i = 0; i < c->ninflight; i++)
        ld_frame_free(c->inflight[i]);
    c->ninflight = c->niov = c->iov_at = 0;
    c->stage_len = c->stage_off = 0;
}

/* TLS: the batch in one buffer, so that it becomes few records. */
static int stage_batch(ld_conn *c)
{
    size_t total = 0;
    for (int i = 0; i < c->niov; i++)
        total += c->iov[i].iov_len;
    if (total > c->stage_cap) {
        uint8_t *b = realloc(c->stage, total);
        if (!b)
            return -1;
        c->stage = b;
        c->stage_cap = total;
    }
    size_t at = 0;
    for (int i = 0; i < c->niov; i++) {
        memcpy(c->stage + at, c->iov[i].iov_base, c->iov[i].iov_len);
        at += c->iov[i].iov_len;
    }
    c->stage_len = total;
    c->stage_off = 0;
    return 0;
}

int ld_conn_write_locked(ld_conn *c, int batches)
{
    for (;;) {
        bool idle = c->ssl ? c->stage_off >= c->stage_len : c->iov_at >= c->niov;
        if (idle) {
            batch_done(c);
            /* Out of batches: 1 only if frames are left, or a direct write
             * (batches 1) would always wake the node thread after it. A
             * frame queued after this load has its sender's kick. */
            if (batches-- == 0)
                return atomic_load(&c->peer->has_out) ? 1 : 0;
            atomic_store(&c->peer->kicked, false);
            if (!ld_queue_take(c))
                return 0;
            if (c->ssl && stage_batch(c) < 0)
                return -1;
        }
        ssize_t w;
        if (c->ssl) {
            w = conn_write(c, c->stage + c->stage_off, c->stage_len - c->stage_off);
            if (w > 0)
                c->stage_off += (size_t)w;
        } else {
            int cnt = c->niov - c->iov_at;
            do
                w = writev(c->fd, c->iov + c->iov_at, cnt > 1024 ? 1024 : cnt);
            while (w < 0 && errno == EINTR);
            if (w < 0)
                w = errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
            for (size_t left = w > 0 ? (size_t)w : 0; left;) {
                struct iovec *v = &c->iov[c->iov_at];
                if (left >= v->iov_len) {
                    left -= v->iov_len;
                    c->iov_at++;
                } else {
                    v->iov_base = (uint8_t *)v->iov_base + left;
                    v->iov_len -= left;
                    left = 0;
                }
            }
        }
        if (w == -1)
            return 1;
        if (w < 0)
            return -1;
        atomic_store_explicit(&c->last_send, lt_now_ns(), memory_order_relaxed);
    }
}

void ld_conn_flush(ld_node *n, ld_conn *c)
{
    if (c->hs != HS_UP)
        return;
    pthread_mutex_lock(&c->wlock);
    int r = ld_conn_write_locked(c, -1);
    pthread_mutex_unlock(&c->wlock);
    if (r < 0)
        ld_conn_close(n, c, c->why[0] ? c->why : strerror(errno));
    else
        set_events(n, c, r == 1);
}

/* ---- events ---------------------------------------------------------------------------- */

static void tls_step(ld_node *n, ld_conn *c)
{
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs = c->initiator ? HS_SEND_NAME : HS_RECV_NAME;
        if (c->initiator)
            send_name(n, c);
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_events(n, c, false);
    } else if (e == SSL_ERROR_WANT_WRITE) {
        set_events(n, c, true);
    } else {
        long v = SSL_get_verify_result(c->ssl);
        c->failed_auth = true;
        if (v != X509_V_OK)
            snprintf(c->why, sizeof c->why, "TLS handshake failed: %s",
                     X509_verify_cert_error_string(v));
        else
            snprintf(c->why, sizeof c->why, "TLS handshake failed: %s", tls_error());
        ld_conn_close(n, c, c->why);
    }
}

void ld_conn_event(ld_node *n, ld_conn *c, uint32_t events)
{
    if (c->hs == HS_TLS) {
        tls_step(n, c);
        if (c->hs == HS_TLS || c->hs == HS_CLOSED)
            return;
    }
    if (events & EPOLLOUT) {
        if (c->hsout_len) {
            hs_flush(n, c);
            if (c->hs == HS_UP && c->hs != HS_CLOSED)
                ld_conn_flush(n, c);
        } else if (c->hs == HS_UP) {
            ld_conn_flush(n, c);
        } else {
            set_events(n, c, false);
        }
    }
    if (c->hs != HS_CLOSED && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        do_read(n, c);
}
