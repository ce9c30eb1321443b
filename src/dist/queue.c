/*
 * queue.c - a peer's send queue, and the fragmentation of large messages.
 *
 * Frames are queued per destination (the pid or name they are for) in
 * streams, and the node thread writes the streams round robin, up to
 * QUANTUM bytes of one before the next. To a lunatic peer a frame larger
 * than LD_FRAG_SIZE goes out as fragments of that size, each its own
 * packet, so a 64 MiB message takes turns with everything else on the
 * connection instead of holding it for its whole transfer. Order is kept
 * where the protocol promises it: per destination, hence per pair of
 * processes (a stream sends its next frame only after the whole of the
 * previous one).
 *
 * Fragment packet (lunatic peers only; the receiver said hello):
 *   <<Len:32, 'L', Id:64, Last:8, Bytes>>
 * Fragments of one frame carry the same id and arrive in order; the
 * receiver joins them and handles the whole as the 'p' packet it was.
 */
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

#define QUANTUM (64u << 10)   /* bytes of one stream per turn */
#define BATCH (256u << 10)    /* bytes per writev */
#define DIRECT_GAP_NS 20000   /* see ld_enqueue */

ld_frame *ld_frame_new(size_t bodylen)
{
    ld_frame *f = malloc(sizeof *f + 4 + bodylen);
    if (!f)
        return NULL;
    f->next = NULL;
    f->data = (uint8_t *)(f + 1);
    f->len = 4 + bodylen;
    f->off = 0;
    f->fragid = 0;
    uint32_t l = (uint32_t)bodylen;
    f->data[0] = (uint8_t)(l >> 24);
    f->data[1] = (uint8_t)(l >> 16);
    f->data[2] = (uint8_t)(l >> 8);
    f->data[3] = (uint8_t)l;
    return f;
}

ld_frame *ld_frame_from_x(ei_x_buff *x)
{
    ld_frame *f = malloc(sizeof *f);
    if (!f) {
        ei_x_free(x);
        return NULL;
    }
    uint32_t l = (uint32_t)(x->index - 4);
    uint8_t *d = (uint8_t *)x->buff;
    d[0] = (uint8_t)(l >> 24);
    d[1] = (uint8_t)(l >> 16);
    d[2] = (uint8_t)(l >> 8);
    d[3] = (uint8_t)l;
    *f = (ld_frame){.data = d, .len = (size_t)x->index};
    x->buff = NULL; /* the frame frees it */
    x->index = x->buffsz = 0;
    return f;
}

void ld_frame_free(ld_frame *f)
{
    if (f && f->data != (uint8_t *)(f + 1))
        free(f->data);
    free(f);
}

/* ---- streams (under qlock) ---------------------------------------------------- */

static size_t stream_slot(uint64_t key, size_t nb)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (nb - 1);
}

static ld_stream *stream_get(ld_peer *p, uint64_t key)
{
    if (p->nsb) {
        for (ld_stream *s = p->sb[stream_slot(key, p->nsb)]; s; s = s->hnext)
            if (s->key == key)
                return s;
    }
    if (p->nstreams >= p->nsb) {
        size_t nb = p->nsb ? p->nsb * 2 : 16;
        ld_stream **b = calloc(nb, sizeof *b);
        if (!b && !p->nsb)
            return NULL;
        if (b) {
            for (size_t i = 0; i < p->nsb; i++) {
                for (ld_stream *s = p->sb[i], *next; s; s = next) {
                    next = s->hnext;
                    size_t k = stream_slot(s->key, nb);
                    s->hnext = b[k];
                    b[k] = s;
                }
            }
            free(p->sb);
            p->sb = b;
            p->nsb = nb;
        }
    }
    ld_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->key = key;
    size_t k = stream_slot(key, p->nsb);
    s->hnext = p->sb[k];
    p->sb[k] = s;
    p->nstreams++;
    return s;
}

static void stream_remove(ld_peer *p, ld_stream *s)
{
    ld_stream **e = &p->sb[stream_slot(s->key, p->nsb)];
    while (*e != s)
        e = &(*e)->hnext;
    *e = s->hnext;
    p->nstreams--;
    free(s);
}

int ld_enqueue(ld_node *n, ld_peer *p, uint16_t id, uint64_t key, ld_frame *f)
{
    pthread_mutex_lock(&p->qlock);
    if (p->state != PEER_UP || (id && p->id != id)) {
        pthread_mutex_unlock(&p->qlock);
        ld_frame_free(f);
        return -1;
    }
    ld_stream *s = stream_get(p, key);
    if (!s) {
        pthread_mutex_unlock(&p->qlock);
        ld_frame_free(f);
        return -1; /* out of memory: dropped, as an unreachable message is */
    }
    f->next = NULL;
    if (s->tail) {
        s->tail->next = f;
    } else {
        s->head = f;
        /* a stream with frames is in the ring */
        s->rnext = NULL;
        if (p->ring_tail)
            p->ring_tail->rnext = s;
        else
            p->ring = s;
        p->ring_tail = s;
    }
    s->tail = f;
    p->qbytes += f->len;
    atomic_store_explicit(&p->has_out, true, memory_order_relaxed);
    /* On a quiet plain-TCP connection the sender writes its frame itself:
     * the node thread's wake-up (tens of microseconds here) would be most
     * of a round trip. A frame that follows another within DIRECT_GAP_NS
     * is part of a burst: it waits for the node thread, which writes the
     * whole burst in one writev (a syscall per message would cap a stream
     * of small messages at a fraction of what batches carry). Whoever does
     * not get the writer's lock leaves the frame to the node thread too.
     * The node thread takes qlock, then wlock, before it closes the
     * socket, so the connection outlives this write. */
    ld_conn *d = p->direct;
    int64_t now = lt_now_ns();
    bool quiet = now - p->last_direct > DIRECT_GAP_NS;
    bool mine = d && quiet && pthread_mutex_trylock(&d->wlock) == 0;
    p->last_direct = now;
    pthread_mutex_unlock(&p->qlock);
    int r = 1;
    if (mine) {
        r = ld_conn_write_locked(d, 1);
        pthread_mutex_unlock(&d->wlock);
    } else if (!d && quiet && pthread_mutex_trylock(&n->io_lock) == 0) {
        /* TLS: an SSL object is used by one thread at a time, the holder
         * of io_lock (internal.h), which this sender becomes if no one
         * else is. Errors are left to the node thread: closing here could
         * take locks the caller holds. */
        ld_conn *c = p->conn;
        if (c && c->hs == HS_UP && c->peer == p) {
            pthread_mutex_lock(&c->wlock);
            r = ld_conn_write_locked(c, 1);
            pthread_mutex_unlock(&c->wlock);
        }
        pthread_mutex_unlock(&n->io_lock);
    }
    if (r == 0 && !atomic_load_explicit(&p->has_out, memory_order_relaxed))
        return 0;
    /* one wake per burst: the node thread clears kicked at each wake
     * (node.c) and before it takes the queue */
    if (!atomic_exchange(&p->kicked, true))
        ld_kick(n);
    return 0;
}

void ld_queue_drop(ld_peer *p)
{
    pthread_mutex_lock(&p->qlock);
    for (size_t i = 0; i < p->nsb; i++) {
        for (ld_stream *s = p->sb[i], *next; s; s = next) {
            next = s->hnext;
            for (ld_frame *f = s->head, *fn; f; f = fn) {
                fn = f->next;
                ld_frame_free(f);
            }
            free(s);
        }
    }
    free(p->sb);
    p->sb = NULL;
    p->nsb = p->nstreams = 0;
    p->ring = p->ring_tail = NULL;
    p->qbytes = 0;
    atomic_store(&p->has_out, false);
    pthread_mutex_unlock(&p->qlock);
}

/* ---- the writer's batch (node thread) ---------------------------------------------- */

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

bool ld_queue_take(ld_conn *c)
{
    ld_peer *p = c->peer;
    static atomic_uint_fast64_t fragids = 1;
    c->niov = c->iov_at = c->ninflight = 0;
    size_t bytes = 0;
    int nhdr = 0;
    pthread_mutex_lock(&p->qlock);
    bool frag_ok = p->lunatic; /* written under qlock when its hello comes */
    while (p->ring && c->niov < 254 && c->ninflight < 256 && bytes < BATCH) {
        ld_stream *s = p->ring;
        size_t turn = 0;
        while (s->head && turn < QUANTUM && c->niov < 254 && c->ninflight < 256) {
            ld_frame *f = s->head;
            size_t body = f->len - 4;
            if (frag_ok && (body > LD_FRAG_SIZE || f->off)) {
                /* the next fragment: a header of our own, then a slice */
                if (!f->fragid)
                    f->fragid = atomic_fetch_add(&fragids, 1);
                size_t piece = body - f->off < LD_FRAG_SIZE ? body - f->off : LD_FRAG_SIZE;
                bool last = f->off + piece == body;
                uint8_t *h = c->fraghdr[nhdr++];
                put32(h, (uint32_t)(piece + 10));
                h[4] = PKT_FRAG;
                for (int i = 0; i < 8; i++)
                    h[5 + i] = (uint8_t)(f->fragid >> (56 - 8 * i));
                h[13] = last;
                c->iov[c->niov++] = (struct iovec){h, 14};
                c->iov[c->niov++] = (struct iovec){f->data + 4 + f->off, piece};
                f->off += piece;
                turn += piece + 14;
                if (last) {
                    s->head = f->next;
                    c->inflight[c->ninflight++] = f;
                    p->qbytes -= f->len;
                }
                /* one fragment per turn: the others go round first */
                break;
            }
            s->head = f->next;
            c->iov[c->niov++] = (struct iovec){f->data, f->len};
            c->inflight[c->ninflight++] = f;
            p->qbytes -= f->len;
            turn += f->len;
        }
        bytes += turn;
        /* rotate: this stream goes to the back, or leaves the ring */
        p->ring = s->rnext;
        if (!p->ring)
            p->ring_tail = NULL;
        s->rnext = NULL;
        if (s->head) {
            if (p->ring_tail)
                p->ring_tail->rnext = s;
            else
                p->ring = s;
            p->ring_tail = s;
        } else {
            s->tail = NULL;
            stream_remove(p, s);
        }
    }
    if (!p->ring)
        atomic_store_explicit(&p->has_out, false, memory_order_relaxed);
    pthread_mutex_unlock(&p->qlock);
    return c->niov > 0;
}

/* ---- reassembly (node thread) -------------------------------------------------------- */

uint8_t *ld_frag_add(ld_conn *c, const uint8_t *body, size_t len, size_t *outlen, bool *bad)
{
    *bad = false;
    if (len < 9) {
        *bad = true;
        return NULL;
    }
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | body[i];
    bool last = body[8] != 0;
    body += 9;
    len -= 9;
    ld_frag **pf = &c->frags;
    size_t count = 0;
    while (*pf && (*pf)->id != id) {
        pf = &(*pf)->next;
        count++;
    }
    ld_frag *f = *pf;
    if (!f) {
        /* a lunatic node has at most one large frame per destination in
         * flight: thousands at once is a peer misbehaving */
        if (count >= LD_MAX_FRAGS) {
            *bad = true;
            return NULL;
        }
        f = calloc(1, sizeof *f);
        if (!f) {
            *bad = true;
            return NULL;
        }
        f->id = id;
        f->next = c->frags;
        c->frags = f;
        pf = &c->frags;
    }
    if (f->len + len > LD_MAX_PACKET || c->frag_bytes + len > LD_MAX_FRAG_BYTES) {
        *bad = true; /* a peer sending without end */
        return NULL;
    }
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : LD_FRAG_SIZE;
        while (cap < f->len + len)
            cap *= 2;
        uint8_t *b = realloc(f->buf, cap);
        if (!b) {
            *bad = true;
            return NULL;
        }
        f->buf = b;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, body, len);
    f->len += len;
    c->frag_bytes += len;
    if (!last)
        return NULL;
    uint8_t *whole = f->buf;
    *outlen = f->len;
    c->frag_bytes -= f->len;
    *pf = f->next;
    free(f);
    return whole;
}

void ld_frag_free_all(ld_conn *c)
{
    for (ld_frag *f = c->frags, *next; f; f = next) {
        next = f->next;
        free(f->buf);
        free(f);
    }
    c->frags = NULL;
    c->frag_bytes = 0;
}
