/*
 * node.c - a node's life and its thread (what net_kernel does in Erlang):
 * start and registration, the event loop that owns every connection,
 * ticks and timeouts, the peers and their ups and downs, and the queries
 * of lunatic::distributed (nodes, lookups).
 *
 * The event loop (epoll) wakes for: the listening socket, each
 * connection's socket, and an eventfd that workers and the connector
 * thread write when they have something for it (queued frames, a
 * connected socket). Between events it checks, at most a second apart:
 * handshake deadlines; every connection's silence (nothing received for
 * the tick time: the peer is down, as Erlang's net_ticktime) and its own
 * (nothing sent for a quarter of it: a tick); peers to reconnect.
 *
 * A peer that goes down fires at once every link and monitor our
 * processes have with processes there, and fails every pending request
 * to it (route.c, spawn.c). A node that restarts comes back with a new
 * creation, hence a new node id: a pid of its previous life names no node
 * any more, so using it gives noproc, never the new process with the same
 * number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "dist/internal.h"

#define RETRY_MIN_NS (500ll * 1000000)
#define RETRY_MAX_NS (5ll * 1000000000)
#define START_WAIT_NS (10ll * 1000000000)

/* ---- logging ---------------------------------------------------------------------------- */

static void vlog(const ld_node *n, const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    int k = snprintf(line, sizeof line, "%snode %s: ", prefix, n->name);
    k += vsnprintf(line + k, sizeof line - (size_t)k - 1, fmt, ap);
    if (k > (int)sizeof line - 2)
        k = (int)sizeof line - 2;
    line[k++] = '\n';
    ssize_t w = write(2, line, (size_t)k); /* one write: lines never mix */
    (void)w;
}

void ld_log(const ld_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(n, "lunatic: ", fmt, ap);
    va_end(ap);
}

void ld_debug(const ld_node *n, const char *fmt, ...)
{
    if (n->rt->log_level < LT_LOG_DEBUG)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(n, "[debug] ", fmt, ap);
    va_end(ap);
}

/* ---- ids and peers ------------------------------------------------------------------------ */

uint16_t ld_node_id_of(const char *name, uint32_t creation)
{
    /* FNV-1a over the name and the creation (big-endian): documented in
     * ABI.md §3.5, so that a guest can compute the id of a node it only
     * knows from a pid */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    for (int i = 3; i >= 0; i--)
        h = (h ^ (uint8_t)(creation >> (8 * i))) * 0x100000001b3ull;
    return (uint16_t)(1 + h % 65535);
}

ld_node *ld_of(const lt_runtime *rt) { return rt->remote == &ld_remote_ops ? rt->remote_ud : NULL; }

uint16_t ld_node_id(const ld_node *n) { return n->id; }

ld_peer *ld_peer_get_locked(ld_node *n, const char *name)
{
    for (ld_peer *p = n->peers; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    const char *at = strchr(name, '@');
    if (!at || strlen(name) >= LD_MAXNAME)
        return NULL;
    ld_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->host, sizeof p->host, "%s", at + 1);
    pthread_mutex_init(&p->qlock, NULL);
    p->next = n->peers;
    n->peers = p;
    return p;
}

int ld_peer_info(ld_node *n, uint16_t id, ld_peerinfo *info)
{
    ld_peer *p = atomic_load_explicit(&n->by_id[id], memory_order_acquire);
    if (!p)
        return -1;
    pthread_mutex_lock(&p->qlock);
    bool up = p->state == PEER_UP && p->id == id;
    if (up)
        *info = (ld_peerinfo){p, p->name, p->id, p->creation, p->flags, p->lunatic};
    pthread_mutex_unlock(&p->qlock);
    return up ? 0 : -1;
}

void ld_peer_info_local(ld_peer *p, ld_peerinfo *info)
{
    *info = (ld_peerinfo){p, p->name, p->id, p->creation, p->flags, p->lunatic};
}

void ld_kick(ld_node *n)
{
    uint64_t one = 1;
    ssize_t w = write(n->evfd, &one, sizeof one);
    (void)w;
}

static void wake_starters(ld_node *n)
{
    pthread_mutex_lock(&n->lock);
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

/* ---- connections up and down (node thread) ------------------------------------------------- */

static void retry_later(ld_node *n, ld_peer *p)
{
    int64_t d = RETRY_MIN_NS << (p->fails < 4 ? p->fails : 4);
    p->retry_at = lt_now_ns() + (d > RETRY_MAX_NS ? RETRY_MAX_NS : d);
}

void ld_conn_up(ld_node *n, ld_conn *c)
{
    ld_peer *p = c->peer;
    uint16_t id = ld_node_id_of(p->name, c->peer_creation);
    ld_peer *other = atomic_load(&n->by_id[id]);
    if (id == n->id || (other && other != p)) {
        /* 1 in 65,535 per pair of nodes: say so, and which node to restart */
        ld_log(n, "node id %u of %s is already taken by %s; restart one of them (a new start "
               "draws a new id)", id, p->name, id == n->id ? n->name : other->name);
        ld_conn_close(n, c, "node id collision");
        return;
    }
    /* a connection that lost a race is not needed any more */
    for (ld_conn *o = n->conns; o; o = o->next)
        if (o != c && o->peer == p && o->hs != HS_CLOSED)
            ld_conn_close(n, o, NULL);
    pthread_mutex_lock(&p->qlock);
    p->state = PEER_UP;
    p->id = id;
    p->creation = c->peer_creation;
    p->flags = c->peer_flags;
    p->lunatic = false; /* until its hello */
    p->direct = c->ssl ? NULL : c; /* an SSL object is not for two threads at once */
    atomic_store(&p->kicked, false); /* a kick of a previous connection is not pending */
    pthread_mutex_unlock(&p->qlock);
    p->conn = c;
    pthread_mutex_lock(&n->lock);
    p->fails = 0;
    pthread_mutex_unlock(&n->lock);
    atomic_store_explicit(&n->by_id[id], p, memory_order_release);
    c->last_recv = lt_now_ns();
    atomic_store(&c->last_send, c->last_recv);
    ld_debug(n, "connected to %s (node id %u)", p->name, id);
    ld_send_hello(n, p);
    wake_starters(n);
}

void ld_conn_close(ld_node *n, ld_conn *c, const char *why)
{
    if (c->hs == HS_CLOSED)
        return;
    bool was_up = c->hs == HS_UP;
    c->hs = HS_CLOSED;
    ld_peer *p = c->peer;
    if (p) {
        /* no worker writes to this socket any more (queue.c) */
        pthread_mutex_lock(&p->qlock);
        if (p->direct == c)
            p->direct = NULL;
        pthread_mutex_unlock(&p->qlock);
        pthread_mutex_lock(&c->wlock);
        pthread_mutex_unlock(&c->wlock);
    }
    epoll_ctl(n->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (!p) {
        if (why && c->failed_auth)
            ld_log(n, "refused a connection: %s", why);
        else if (why)
            ld_debug(n, "incoming connection closed: %s", why);
        return;
    }
    if (p->conn == c) {
        p->conn = NULL;
        pthread_mutex_lock(&p->qlock);
        uint16_t id = p->id;
        p->state = PEER_DOWN;
        p->id = 0;
        p->lunatic = false;
        pthread_mutex_unlock(&p->qlock);
        ld_peer *self = p;
        atomic_compare_exchange_strong(&n->by_id[id], &self, NULL);
        ld_queue_drop(p);
        ld_rel_node_down(n, id);
        ld_waits_node_down(n, id);
        if (!atomic_load(&n->stopping))
            ld_log(n, "lost %s: %s", p->name, why ? why : "closed");
        if (p->wanted)
            retry_later(n, p);
        wake_starters(n);
        return;
    }
    if (was_up)
        return;
    /* a handshake that did not finish: the peer stays as it is unless
     * nothing else is under way for it */
    bool other = p->conn != NULL;
    for (ld_conn *o = n->conns; o && !other; o = o->next)
        other = o != c && o->peer == p && o->hs != HS_CLOSED;
    if (c->failed_auth && why)
        ld_log(n, "connection with %s refused: %s", p->name, why);
    else if (why)
        ld_debug(n, "connection with %s failed: %s", p->name, why);
    if (!other) {
        pthread_mutex_lock(&p->qlock);
        p->state = PEER_DOWN;
        pthread_mutex_unlock(&p->qlock);
        if (c->initiator) {
            pthread_mutex_lock(&n->lock);
            p->fails++;
            p->auth_failed = c->failed_auth;
            if (why)
                snprintf(p->err, sizeof p->err, "%s", why);
            pthread_mutex_unlock(&n->lock);
        }
        if (p->wanted)
            retry_later(n, p);
        if (c->failed_auth) /* it will not change by itself: try rarely */
            p->retry_at = lt_now_ns() + RETRY_MAX_NS;
        wake_starters(n);
    }
}

static void connector_collect(ld_node *n)
{
    pthread_mutex_lock(&n->clock);
    ld_creq *q = n->cdone;
    n->cdone = NULL;
    pthread_mutex_unlock(&n->clock);
    while (q) {
        ld_creq *next = q->next;
        ld_peer *p = q->peer;
        if (q->fd < 0) {
            ld_debug(n, "cannot connect to %s: %s", p->name, q->err);
            bool other = p->conn != NULL;
            for (ld_conn *o = n->conns; o && !other; o = o->next)
                other = o->peer == p && o->hs != HS_CLOSED;
            if (!other) {
                pthread_mutex_lock(&p->qlock);
                p->state = PEER_DOWN;
                pthread_mutex_unlock(&p->qlock);
                pthread_mutex_lock(&n->lock);
                p->fails++;
                p->auth_failed = false;
                snprintf(p->err, sizeof p->err, "%s", q->err);
                pthread_mutex_unlock(&n->lock);
                if (p->wanted)
                    retry_later(n, p);
                wake_starters(n);
            }
        } else if (p->conn || atomic_load(&n->stopping)) {
            close(q->fd); /* it connected to us meanwhile */
        } else {
            ld_conn_new(n, q->fd, p, true);
        }
        free(q);
        q = next;
    }
}

static void accept_all(ld_node *n)
{
    for (;;) {
        int fd = accept4(n->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ld_conn_new(n, fd, NULL, false);
    }
}

/* Deadlines, ticks and retries; returns ms until the next thing due. */
static int timers(ld_node *n)
{
    int64_t now = lt_now_ns(), next = now + 1000000000;
    for (ld_conn *c = n->conns; c; c = c->next) {
        if (c->hs == HS_CLOSED)
            continue;
        if (c->hs != HS_UP) {
            if (now >= c->deadline)
                ld_conn_close(n, c, "handshake timed out");
            else if (c->deadline < next)
                next = c->deadline;
            continue;
        }
        if (now - c->last_recv > n->tick_ns) {
            ld_conn_close(n, c, "no ticks within the tick time (net_tick_timeout)");
            continue;
        }
        int64_t quarter = n->tick_ns / 4;
        int64_t sent = atomic_load_explicit(&c->last_send, memory_order_relaxed);
        if (now - sent >= quarter && !atomic_load(&c->peer->has_out)) {
            ld_frame *t = ld_frame_new(0); /* a tick: a packet of length 0 */
            if (t)
                ld_enqueue(n, c->peer, 0, 0, t);
            atomic_store_explicit(&c->last_send, now, memory_order_relaxed);
            sent = now;
        }
        int64_t due = sent + quarter;
        if (due < next)
            next = due;
        due = c->last_recv + n->tick_ns + 1;
        if (due < next)
            next = due;
    }
    pthread_mutex_lock(&n->lock);
    for (ld_peer *p = n->peers; p; p = p->next) {
        if (!p->wanted || p->state != PEER_DOWN || !p->retry_at)
            continue;
        if (now >= p->retry_at) {
            p->retry_at = 0;
            ld_connect_peer(n, p);
        } else if (p->retry_at < next) {
            next = p->retry_at;
        }
    }
    pthread_mutex_unlock(&n->lock);
    int64_t ms = (next - now) / 1000000 + 1;
    return ms < 1 ? 1 : ms > 1000 ? 1000 : (int)ms;
}

static void reap(ld_node *n)
{
    for (ld_conn **c = &n->conns; *c;) {
        if ((*c)->hs == HS_CLOSED) {
            ld_conn *dead = *c;
            *c = dead->next;
            ld_conn_free(dead);
        } else {
            c = &(*c)->next;
        }
    }
}

/* Handles what epoll_wait reported (under io_lock). An event may be
 * stale: another holder of io_lock may have handled it (a read then finds
 * nothing) or closed its connection (still allocated: only the node
 * thread reaps, after its own batch). */
static void handle_events(ld_node *n, const struct epoll_event *ev, int k)
{
    for (int i = 0; i < k; i++) {
        if (ev[i].data.ptr == &n->lfd) {
            accept_all(n);
        } else if (ev[i].data.ptr == &n->evfd) {
            uint64_t v;
            ssize_t r = read(n->evfd, &v, sizeof v);
            (void)r;
            connector_collect(n);
            /* Every kick clears its peer's kicked, whether or not
             * anything is left to write: a kick can find the queue
             * already taken (by a worker's direct write, or by a flush
             * under way when the frame was queued), and a kicked flag
             * left set would make the next senders skip their kick, so
             * their frames waited for the next burst (seconds, in
             * t-dist.sh's links test). */
            for (ld_conn *c = n->conns; c; c = c->next) {
                if (c->hs != HS_UP)
                    continue;
                bool kicked = atomic_exchange(&c->peer->kicked, false);
                if (kicked || atomic_load_explicit(&c->peer->has_out, memory_order_relaxed))
                    ld_conn_flush(n, c);
            }
        } else {
            ld_conn *c = ev[i].data.ptr;
            if (c->hs != HS_CLOSED)
                ld_conn_event(n, c, ev[i].events);
        }
    }
}

static void *node_thread(void *arg)
{
    ld_node *n = arg;
    struct epoll_event ev[64];
    pthread_setname_np(pthread_self(), "lunatic-node");
    int timeout = 0;
    int64_t next_timers = 0;
    while (!atomic_load(&n->stopping)) {
        int k;
        if (atomic_load(&n->pollers) > 0) {
            /* Idle workers watch the sockets (ld_idle_poll): sleeping in
             * epoll_wait here would have this thread woken for each
             * message they read, a context switch as costly as the one
             * they save. Wait for kicks only (the last poller to sleep
             * kicks), and look at the sockets at least every millisecond,
             * for when every worker runs a long slice. */
            struct pollfd pf = {.fd = n->evfd, .events = POLLIN};
            poll(&pf, 1, timeout < 1 ? timeout : 1);
            k = epoll_wait(n->epfd, ev, 64, 0);
        } else {
            k = epoll_wait(n->epfd, ev, 64, timeout);
        }
        pthread_mutex_lock(&n->io_lock);
        handle_events(n, ev, k);
        /* deadlines and ticks are checked at most every millisecond, not at
         * every wake-up */
        int64_t now = lt_now_ns();
        if (k <= 0 || now >= next_timers) {
            timeout = timers(n);
            next_timers = now + 1000000;
        } else {
            timeout = 1;
        }
        reap(n);
        pthread_mutex_unlock(&n->io_lock);
    }
    return NULL;
}

bool ld_idle_poll(ld_node *n, bool first)
{
    if (first)
        atomic_fetch_add(&n->pollers, 1);
    if (atomic_load_explicit(&n->stopping, memory_order_relaxed) ||
        pthread_mutex_trylock(&n->io_lock) != 0)
        return false;
    int k = 0;
    if (!atomic_load(&n->stopping)) {
        struct epoll_event ev[16];
        k = epoll_wait(n->epfd, ev, 16, 0);
        handle_events(n, ev, k);
    }
    pthread_mutex_unlock(&n->io_lock);
    return k > 0;
}

void ld_idle_end(ld_node *n, bool sleeping)
{
    /* the last poller to sleep hands the sockets back to the node thread */
    if (atomic_fetch_sub(&n->pollers, 1) == 1 && sleeping)
        ld_kick(n);
}

/* ---- queries ----------------------------------------------------------------------------------- */

uint32_t ld_nodes(ld_node *n, uint64_t *out, uint32_t max)
{
    uint32_t count = 0;
    if (count < max)
        out[count] = n->id;
    count++;
    pthread_mutex_lock(&n->lock);
    for (ld_peer *p = n->peers; p; p = p->next) {
        pthread_mutex_lock(&p->qlock);
        bool listed = p->state == PEER_UP && p->lunatic;
        uint16_t id = p->id;
        pthread_mutex_unlock(&p->qlock);
        if (listed) {
            if (count < max)
                out[count] = id;
            count++;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return count;
}

/* Whether every k=v pair of query is among tags. */
static bool matches(const char *query, size_t len, char *const *tags, size_t ntags)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && query[j] != '&')
            j++;
        if (j > i) {
            bool found = false;
            for (size_t t = 0; t < ntags && !found; t++)
                found = strlen(tags[t]) == j - i && !memcmp(tags[t], query + i, j - i);
            if (!found)
                return false;
        }
        i = j + 1;
    }
    return true;
}

int ld_lookup(ld_node *n, const char *query, size_t len, uint64_t **ids, uint32_t *count)
{
    pthread_mutex_lock(&n->lock);
    size_t cap = 1;
    for (ld_peer *p = n->peers; p; p = p->next)
        cap++;
    uint64_t *out = malloc(cap * sizeof *out);
    uint32_t k = 0;
    if (out) {
        if (matches(query, len, n->tags, n->ntags))
            out[k++] = n->id;
        for (ld_peer *p = n->peers; p; p = p->next) {
            pthread_mutex_lock(&p->qlock);
            bool listed = p->state == PEER_UP && p->lunatic;
            uint16_t id = p->id;
            pthread_mutex_unlock(&p->qlock);
            if (listed && matches(query, len, p->tags, p->ntags))
                out[k++] = id;
        }
    }
    pthread_mutex_unlock(&n->lock);
    if (!out)
        return -1;
    *ids = out;
    *count = k;
    return 0;
}

bool ld_busy(ld_node *n, uint16_t node)
{
    ld_peer *p = atomic_load_explicit(&n->by_id[node], memory_order_acquire);
    if (!p)
        return false;
    pthread_mutex_lock(&p->qlock);
    bool busy = p->state == PEER_UP && p->qbytes > LD_BUSY_BYTES;
    pthread_mutex_unlock(&p->qlock);
    return busy;
}

int ld_send(ld_node *n, lt_env *env, uint16_t node, uint64_t pid, lt_signal *m)
{
    ld_peerinfo pi;
    if (ld_peer_info(n, node, &pi) < 0) {
        lt_signal_free(m);
        return -1;
    }
    pid = (pid & LT_PID_LOCAL_MASK) | (uint64_t)node << LT_PID_NODE_SHIFT;
    ld_frame *f = ld_frame_message(n, &pi, env->id, pid, m);
    lt_signal_free(m);
    if (!f)
        return 0; /* a term that would not decode: dropped, as undeliverable */
    return ld_enqueue(n, pi.peer, node, pid, f);
}

/* ---- start and stop ------------------------------------------------------------------------------- */

static int read_cookie(ld_node *n, char *err, size_t errsize)
{
    const char *home = getenv("HOME");
    char path[1024];
    snprintf(path, sizeof path, "%s/.erlang.cookie", home ? home : ".");
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT) {
        /* as Erlang does: a new random cookie, readable by its owner only */
        char c[21];
        unsigned char r[20];
        if (RAND_bytes(r, sizeof r) != 1) {
            snprintf(err, errsize, "cannot make a cookie");
            return -1;
        }
        for (int i = 0; i < 20; i++)
            c[i] = (char)('A' + r[i] % 26);
        c[20] = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
        if (fd >= 0) {
            ssize_t w = write(fd, c, 20);
            close(fd);
            if (w == 20) {
                snprintf(n->cookie, sizeof n->cookie, "%s", c);
                return 0;
            }
        }
        f = fopen(path, "r");
    }
    if (!f) {
        snprintf(err, errsize, "cannot read the cookie %s: %s (give one with --cookie)", path,
                 strerror(errno));
        return -1;
    }
    size_t k = fread(n->cookie, 1, sizeof n->cookie - 1, f);
    fclose(f);
    n->cookie[k] = 0;
    while (k && (n->cookie[k - 1] == '\n' || n->cookie[k - 1] == '\r' || n->cookie[k - 1] == ' '))
        n->cookie[--k] = 0;
    if (!k) {
        snprintf(err, errsize, "the cookie file %s is empty", path);
        return -1;
    }
    return 0;
}

static int tls_setup(ld_node *n, const ld_options *o, char *err, size_t errsize)
{
    if (!o->tls_cert && !o->tls_key && !o->tls_ca)
        return 0;
    if (!o->tls_cert || !o->tls_key || !o->tls_ca) {
        snprintf(err, errsize, "TLS needs --tls-cert, --tls-key and --tls-ca together");
        return -1;
    }
    SSL_CTX *ctx[2] = {SSL_CTX_new(TLS_server_method()), SSL_CTX_new(TLS_client_method())};
    n->tls_server = ctx[0];
    n->tls_client = ctx[1];
    for (int i = 0; i < 2; i++) {
        if (!ctx[i]) {
            snprintf(err, errsize, "TLS: cannot make a context");
            return -1;
        }
        SSL_CTX_set_min_proto_version(ctx[i], TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(ctx[i], o->tls_cert) != 1) {
            snprintf(err, errsize, "cannot load the certificate %s: %s", o->tls_cert,
                     ERR_reason_error_string(ERR_get_error()));
            return -1;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx[i], o->tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx[i]) != 1) {
            snprintf(err, errsize, "cannot load the key %s (or it does not match the "
                     "certificate): %s", o->tls_key, ERR_reason_error_string(ERR_get_error()));
            return -1;
        }
        if (SSL_CTX_load_verify_locations(ctx[i], o->tls_ca, NULL) != 1) {
            snprintf(err, errsize, "cannot load the CA certificates %s: %s", o->tls_ca,
                     ERR_reason_error_string(ERR_get_error()));
            return -1;
        }
        /* mutual: each side proves itself with a certificate of the CA */
        SSL_CTX_set_verify(ctx[i], SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    ERR_clear_error();
    return 0;
}

static int listen_on(ld_node *n, char *err, size_t errsize)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int e = getaddrinfo(n->host, NULL, &hints, &ai);
    if (e || !ai) {
        snprintf(err, errsize, "cannot resolve this node's host '%s': %s", n->host,
                 gai_strerror(e));
        if (ai)
            freeaddrinfo(ai);
        return -1;
    }
    /* listen on the address our name resolves to (loopback for @localhost
     * or @127.0.0.1): no other interface is exposed */
    struct sockaddr_in sa = *(struct sockaddr_in *)ai->ai_addr;
    freeaddrinfo(ai);
    sa.sin_port = htons((uint16_t)n->port);
    n->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (n->lfd < 0)
        goto fail;
    setsockopt(n->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(n->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(n->lfd, 128) < 0)
        goto fail;
    socklen_t sl = sizeof sa;
    getsockname(n->lfd, (struct sockaddr *)&sa, &sl);
    n->port = ntohs(sa.sin_port);
    return 0;
fail:
    snprintf(err, errsize, "cannot listen on %s:%u: %s", n->host, n->port, strerror(errno));
    return -1;
}

static void node_release(ld_node *n)
{
    if (n->lfd >= 0)
        close(n->lfd);
    if (n->epmd_fd >= 0)
        close(n->epmd_fd);
    if (n->epfd >= 0)
        close(n->epfd);
    if (n->evfd >= 0)
        close(n->evfd);
    for (ld_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c->fd >= 0)
            close(c->fd);
        ld_conn_free(c);
    }
    for (ld_peer *p = n->peers, *next; p; p = next) {
        next = p->next;
        ld_queue_drop(p);
        for (size_t i = 0; i < p->ntags; i++)
            free(p->tags[i]);
        free(p->tags);
        pthread_mutex_destroy(&p->qlock);
        free(p);
    }
    for (size_t i = 0; i < n->ntags; i++)
        free(n->tags[i]);
    free(n->tags);
    ld_map_free(&n->rels, NULL); /* ld_rels: freed below */
    ld_spawn_free(n);
    if (n->tls_server)
        SSL_CTX_free(n->tls_server);
    if (n->tls_client)
        SSL_CTX_free(n->tls_client);
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->io_lock);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->clock);
    pthread_cond_destroy(&n->ccond);
    pthread_mutex_destroy(&n->rel_lock);
    pthread_mutex_destroy(&n->wait_lock);
    pthread_mutex_destroy(&n->mod_lock);
    free(n);
}

void ld_stop_node(ld_node *n)
{
    atomic_store(&n->stopping, true);
    if (n->thread_started) {
        ld_kick(n);
        pthread_join(n->thread, NULL);
        n->thread_started = false;
    }
    /* a worker in ld_idle_poll or writing TLS (queue.c) finishes; later
     * ones see stopping, or the connections closed */
    pthread_mutex_lock(&n->io_lock);
    ld_connector_stop(n);
    for (ld_peer *p = n->peers; p; p = p->next) {
        pthread_mutex_lock(&p->qlock);
        p->state = PEER_DOWN;
        ld_conn *d = p->direct;
        p->direct = NULL;
        pthread_mutex_unlock(&p->qlock);
        if (d) { /* wait for a worker still writing */
            pthread_mutex_lock(&d->wlock);
            pthread_mutex_unlock(&d->wlock);
        }
        p->conn = NULL;
    }
    /* every connection closes: the peers see their node-down at once */
    for (ld_conn *c = n->conns; c; c = c->next) {
        if (c->fd >= 0) {
            close(c->fd);
            c->fd = -1;
        }
        c->hs = HS_CLOSED;
    }
    pthread_mutex_unlock(&n->io_lock);
    if (n->epmd_fd >= 0) {
        close(n->epmd_fd); /* EPMD forgets our name */
        n->epmd_fd = -1;
    }
}

static bool free_rels(uint64_t a, uint64_t b, void *val, void *ud)
{
    ld_rels *r = val;
    (void)a, (void)b, (void)ud;
    for (uint32_t i = 0; i < r->n; i++)
        free(r->r[i].name);
    free(r->r);
    free(r);
    return true;
}

void ld_free_node(ld_node *n)
{
    ld_map_filter(&n->rels, free_rels, NULL);
    node_release(n);
}

/* Parses NAME@HOST[:PORT] into a peer. */
static ld_peer *peer_of_arg(ld_node *n, const char *arg, char *err, size_t errsize)
{
    char name[LD_MAXNAME];
    unsigned port = 0;
    snprintf(name, sizeof name, "%s", arg);
    char *at = strchr(name, '@'), *colon = at ? strrchr(at, ':') : NULL;
    if (colon) {
        *colon = 0;
        port = (unsigned)atoi(colon + 1);
    }
    if (!at || at == name || !at[1] || (colon && !port)) {
        snprintf(err, errsize, "peer '%s' is not NAME@HOST or NAME@HOST:PORT", arg);
        return NULL;
    }
    pthread_mutex_lock(&n->lock);
    ld_peer *p = ld_peer_get_locked(n, name);
    if (p) {
        p->port = port;
        p->wanted = true;
    }
    pthread_mutex_unlock(&n->lock);
    if (!p)
        snprintf(err, errsize, "out of memory");
    return p;
}

static void init_ei(void) { ei_init(); }

int ld_start(lt_runtime *rt, const ld_options *o, char *err, size_t errsize)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_ei);
    ld_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    n->rt = rt;
    n->lfd = n->epmd_fd = n->epfd = n->evfd = -1;
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->io_lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    pthread_mutex_init(&n->clock, NULL);
    pthread_cond_init(&n->ccond, NULL);
    pthread_mutex_init(&n->rel_lock, NULL);
    pthread_mutex_init(&n->wait_lock, NULL);
    pthread_mutex_init(&n->mod_lock, NULL);
    atomic_init(&n->next_ref, 1);

    const char *at = o->name ? strchr(o->name, '@') : NULL;
    if (!at || at == o->name || !at[1] || strlen(o->name) >= LD_MAXNAME ||
        (size_t)(at - o->name) >= EI_MAXALIVELEN) {
        snprintf(err, errsize, "the node name must be NAME@HOST (got '%s')", o->name ? o->name : "");
        goto fail;
    }
    snprintf(n->name, sizeof n->name, "%s", o->name);
    snprintf(n->alive, sizeof n->alive, "%.*s", (int)(at - o->name), o->name);
    snprintf(n->host, sizeof n->host, "%s", at + 1);
    if (o->cookie)
        snprintf(n->cookie, sizeof n->cookie, "%s", o->cookie);
    else if (read_cookie(n, err, errsize) < 0)
        goto fail;
    do {
        if (RAND_bytes((unsigned char *)&n->creation, sizeof n->creation) != 1)
            n->creation = (uint32_t)lt_now_ns() ^ (uint32_t)getpid() << 16;
    } while (n->creation < 4); /* small creations are the old pid format's */
    n->id = ld_node_id_of(n->name, n->creation);
    n->tick_ns = (int64_t)(o->tick_time ? o->tick_time : 60) * 1000000000;
    n->no_epmd = o->no_epmd;
    n->port = o->port;
    if (o->ntags && !(n->tags = calloc(o->ntags, sizeof *n->tags)))
        goto oom;
    for (size_t i = 0; i < o->ntags; i++, n->ntags++)
        if (!(n->tags[i] = strdup(o->tags[i])))
            goto oom;
    if (tls_setup(n, o, err, errsize) < 0 || listen_on(n, err, errsize) < 0)
        goto fail;
    if (!n->no_epmd && (n->epmd_fd = ld_epmd_publish(n, err, errsize)) < 0)
        goto fail;
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->epfd < 0 || n->evfd < 0) {
        snprintf(err, errsize, "epoll: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &n->lfd};
    epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->lfd, &ev);
    ev.data.ptr = &n->evfd;
    epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->evfd, &ev);
    if (lt_remote_install(rt, n->id, &ld_remote_ops, n) < 0) {
        snprintf(err, errsize, "the runtime already runs processes");
        goto fail;
    }
    /* from here on the runtime owns the node: lt_runtime_free stops it */
    if (ld_service_start(n) < 0 || ld_connector_start(n) < 0 ||
        pthread_create(&n->thread, NULL, node_thread, n) != 0) {
        snprintf(err, errsize, "cannot start the node's threads");
        return -1;
    }
    n->thread_started = true;
    ld_debug(n, "node id %u, creation %u, listening on %s:%u%s", n->id, n->creation, n->host,
             n->port, n->tls_server ? " (TLS)" : "");

    /* connect to the peers given, and wait until each is up (with its
     * hello: nodes() then lists it) or its first attempt failed */
    ld_peer **ps = calloc(o->npeers ? o->npeers : 1, sizeof *ps);
    if (!ps) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < o->npeers; i++) {
        if (!(ps[i] = peer_of_arg(n, o->peers[i], err, errsize))) {
            free(ps);
            return -1;
        }
        if (!strcmp(ps[i]->name, n->name)) {
            ps[i] = NULL;
            continue;
        }
        pthread_mutex_lock(&n->lock);
        ld_connect_peer(n, ps[i]);
        pthread_mutex_unlock(&n->lock);
    }
    int64_t deadline = lt_now_ns() + START_WAIT_NS;
    int r = 0;
    pthread_mutex_lock(&n->lock);
    for (size_t i = 0; i < o->npeers; i++) {
        ld_peer *p = ps[i];
        for (;;) {
            if (!p)
                break;
            pthread_mutex_lock(&p->qlock);
            int st = p->state;
            bool lun = p->lunatic;
            pthread_mutex_unlock(&p->qlock);
            /* fails counts attempts that failed (under n->lock, held) */
            if ((st == PEER_UP && lun) || p->fails || lt_now_ns() > deadline)
                break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&n->cond, &n->lock, &ts);
        }
        if (p && p->auth_failed) {
            snprintf(err, errsize, "%s: %s", p->name, p->err);
            r = -1;
            break;
        }
        if (p && p->state != PEER_UP)
            ld_log(n, "peer %s is not reachable yet (%s); retrying in the background", p->name,
                   p->err[0] ? p->err : "timed out");
    }
    pthread_mutex_unlock(&n->lock);
    free(ps);
    return r;
oom:
    snprintf(err, errsize, "out of memory");
fail:
    node_release(n);
    return -1;
}
