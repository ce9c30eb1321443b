/*
 * term.c - lunatic pids as Erlang pids, and the frames that carry
 * messages, in the external term format (ei's codec).
 *
 * Our process (environment E, pid P) is the Erlang pid {this node,
 * ID = P bits 0..31, Serial = E << 16 | P bits 32..47, this creation}: a
 * pid survives a round trip through any Erlang node (NEW_PID_EXT carries
 * both 32-bit fields), and an Erlang process that sends to it reaches the
 * right environment. A process of a peer is a u64 with the peer's node id
 * in the top 16 bits (rt/remote.h) and ID and the low 16 bits of Serial
 * below: for an Erlang node the serial must fit in 16 bits (it does for
 * any pid that has not been through 65,536 reuses of its slot); for a
 * lunatic node its top 16 bits are the environment, which a lunatic
 * sender supplies from its own.
 *
 * A lunatic data message travels as {lunatic, Tag, Data}: Tag an integer
 * (0 = none), Data a binary. Sending encodes it by hand (the hot path);
 * everything else uses ei.
 */
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

void ld_our_pid(const ld_node *n, uint64_t env, uint64_t pid, erlang_pid *out)
{
    strcpy(out->node, n->name);
    out->num = (uint32_t)pid;
    out->serial = (uint32_t)((env & 0xffff) << 16 | (pid >> 32 & 0xffff));
    out->creation = n->creation;
}

void ld_peer_pid(const ld_peerinfo *p, uint64_t env, uint64_t pid, erlang_pid *out)
{
    strcpy(out->node, p->name);
    out->num = (uint32_t)pid;
    out->serial = (uint32_t)((p->lunatic ? (env & 0xffff) << 16 : 0) | (pid >> 32 & 0xffff));
    out->creation = p->creation;
}

int ld_pid_ours(const ld_node *n, const erlang_pid *e, uint64_t *env, uint64_t *pid)
{
    if (e->creation != n->creation || strcmp(e->node, n->name))
        return -1; /* another node's, or a pid of this node's previous life */
    uint64_t local = (uint64_t)(e->serial & 0xffff) << 32 | e->num;
    if (!local)
        return -1;
    *env = e->serial >> 16;
    *pid = n->rt->node_bits | local;
    return 0;
}

int ld_pid_of_peer(const ld_peerinfo *p, const erlang_pid *e, uint64_t *pid)
{
    if (e->creation != p->creation || strcmp(e->node, p->name))
        return -1;
    if (!p->lunatic && e->serial >> 16)
        return -1;
    *pid = (uint64_t)p->id << LT_PID_NODE_SHIFT | (uint64_t)(e->serial & 0xffff) << 32 | e->num;
    return 0;
}

int ld_x_begin(ei_x_buff *x)
{
    if (ei_x_new(x) < 0)
        return -1;
    if (ei_x_append_buf(x, "\0\0\0\0p", 5) < 0 || ei_x_encode_version(x) < 0) {
        ei_x_free(x);
        return -1;
    }
    return 0;
}

ld_frame *ld_frame_reg_send(const ld_node *n, uint64_t env, uint64_t pid, const char *name,
                            const char *msg, int msglen)
{
    ei_x_buff x;
    erlang_pid from;
    if (ld_x_begin(&x) < 0)
        return NULL;
    ld_our_pid(n, env, pid ? pid : n->rt->node_bits | 0xffffffffull, &from);
    if (ei_x_encode_tuple_header(&x, 4) < 0 || ei_x_encode_long(&x, OP_REG_SEND) < 0 ||
        ei_x_encode_pid(&x, &from) < 0 || ei_x_encode_atom(&x, "") < 0 ||
        ei_x_encode_atom(&x, name) < 0 || ei_x_encode_version(&x) < 0 ||
        ei_x_append_buf(&x, msg, msglen) < 0) {
        ei_x_free(&x);
        return NULL;
    }
    return ld_frame_from_x(&x);
}

/* ---- the hand-written SEND encoder ---------------------------------------------- */

static uint8_t *put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    return b + 4;
}

/* An integer, as short as Erlang would encode it (its decoder wants
 * bignums normalised): at most 11 bytes. */
static uint8_t *put_int(uint8_t *b, int64_t v)
{
    if (v >= 0 && v <= 255) {
        *b++ = ETF_SMALL_INT;
        *b++ = (uint8_t)v;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        *b++ = ETF_INT;
        b = put32(b, (uint32_t)(int32_t)v);
    } else {
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        int nbytes = 0;
        for (uint64_t m = mag; m; m >>= 8)
            nbytes++;
        *b++ = ETF_SMALL_BIG;
        *b++ = (uint8_t)nbytes;
        *b++ = v < 0;
        for (int i = 0; i < nbytes; i++)
            *b++ = (uint8_t)(mag >> (8 * i));
    }
    return b;
}

static uint8_t *put_pid(uint8_t *b, const char *node, size_t nodelen, uint32_t num,
                        uint32_t serial, uint32_t creation)
{
    *b++ = ETF_NEW_PID;
    *b++ = ETF_SMALL_ATOM_UTF8;
    *b++ = (uint8_t)nodelen;
    memcpy(b, node, nodelen);
    b += nodelen;
    b = put32(b, num);
    b = put32(b, serial);
    return put32(b, creation);
}

ld_frame *ld_frame_message(const ld_node *n, const ld_peerinfo *p, uint64_t env, uint64_t pid,
                           const lt_signal *m)
{
    (void)n;
    const uint8_t *data = m->buf;
    size_t len = m->len;
    bool raw = len > LD_ETF_MARKER_LEN && !memcmp(data, LD_ETF_MARKER, LD_ETF_MARKER_LEN) &&
               data[LD_ETF_MARKER_LEN] == ETF_VERSION;
    if (raw) {
        /* a term the guest encoded: it must be exactly one valid term, or
         * an Erlang node would drop the connection (walked with bounds:
         * the guest's bytes are not trusted) */
        size_t end;
        if (len - LD_ETF_MARKER_LEN > INT32_MAX ||
            ld_term_check(data + LD_ETF_MARKER_LEN, len - LD_ETF_MARKER_LEN, &end) < 0 ||
            end != len - LD_ETF_MARKER_LEN)
            return NULL;
    } else if (len > UINT32_MAX) {
        return NULL;
    }
    erlang_pid to;
    ld_peer_pid(p, env, pid, &to);
    size_t nodelen = strlen(p->name);
    size_t ctl = 1 + 1 + 2 + 2 + 2 + 3 + nodelen + 12;   /* 'p', 131, {2, '', Pid} */
    size_t body = raw ? len - LD_ETF_MARKER_LEN : 1 + 2 + 9 + 11 + 5 + len;
    ld_frame *f = ld_frame_new(ctl + body);
    if (!f)
        return NULL;
    uint8_t *b = f->data + 4;
    *b++ = PKT_PASS;
    *b++ = ETF_VERSION;
    *b++ = ETF_SMALL_TUPLE;
    *b++ = 3;
    *b++ = ETF_SMALL_INT;
    *b++ = OP_SEND;
    *b++ = ETF_SMALL_ATOM_UTF8;
    *b++ = 0;
    b = put_pid(b, to.node, nodelen, to.num, to.serial, to.creation);
    if (raw) {
        memcpy(b, data + LD_ETF_MARKER_LEN, len - LD_ETF_MARKER_LEN);
        b += len - LD_ETF_MARKER_LEN;
    } else {
        *b++ = ETF_VERSION;
        *b++ = ETF_SMALL_TUPLE;
        *b++ = 3;
        *b++ = ETF_SMALL_ATOM_UTF8;
        *b++ = 7;
        memcpy(b, "lunatic", 7);
        b += 7;
        b = put_int(b, m->has_tag ? m->tag : 0);
        *b++ = ETF_BINARY;
        b = put32(b, (uint32_t)len);
        if (len)
            memcpy(b, data, len);
        b += len;
    }
    f->len = (size_t)(b - f->data);
    put32(f->data, (uint32_t)(f->len - 4));
    return f;
}

lt_signal *ld_message_of_term(const char *buf, int len)
{
    int idx = 0, ver, arity, type, size;
    long long tag = 0;
    char atom[MAXATOMLEN_UTF8];
    if (ei_decode_version(buf, &idx, &ver) == 0 && ei_decode_tuple_header(buf, &idx, &arity) == 0 &&
        arity == 3 && ei_decode_atom(buf, &idx, atom) == 0 && !strcmp(atom, "lunatic")) {
        int at = idx;
        bool ok = ei_decode_longlong(buf, &idx, &tag) == 0;
        if (!ok) {
            idx = at;
            ok = ei_decode_atom(buf, &idx, atom) == 0 && !strcmp(atom, "undefined");
            tag = 0;
        }
        if (ok && ei_get_type(buf, &idx, &type, &size) == 0 && type == ERL_BINARY_EXT &&
            idx + 5 + size == len) {
            lt_signal *m = lt_message_new(tag, (uint64_t)size);
            if (m && lt_message_write(m, buf + idx + 5, (uint64_t)size) < 0) {
                lt_signal_free(m);
                m = NULL;
            }
            return m;
        }
    }
    /* any other term: its bytes behind the marker (ABI.md §3.5) */
    lt_signal *m = lt_message_new(0, (uint64_t)len + LD_ETF_MARKER_LEN);
    if (m && (lt_message_write(m, LD_ETF_MARKER, LD_ETF_MARKER_LEN) < 0 ||
              lt_message_write(m, buf, (uint64_t)len) < 0)) {
        lt_signal_free(m);
        m = NULL;
    }
    return m;
}

/* ---- bounded validation ------------------------------------------------------------ */

/* ei decodes without knowing where its buffer ends, so every term from a
 * peer is first walked here with bounds: afterwards ei reads only inside
 * it. 0 with *i past the term, or -1 for a malformed or truncated term. */
static int need(size_t len, size_t i, uint64_t n) { return n <= len && i <= len - n ? 0 : -1; }

static int skip_atom(const uint8_t *b, size_t len, size_t *i)
{
    if (need(len, *i, 1) < 0)
        return -1;
    uint8_t t = b[(*i)++];
    uint64_t n;
    if (t == 115 || t == ETF_SMALL_ATOM_UTF8) {
        if (need(len, *i, 1) < 0)
            return -1;
        n = b[(*i)++];
    } else if (t == 100 || t == 118) {
        if (need(len, *i, 2) < 0)
            return -1;
        n = (uint64_t)b[*i] << 8 | b[*i + 1];
        *i += 2;
    } else {
        return -1;
    }
    if (need(len, *i, n) < 0)
        return -1;
    *i += n;
    return 0;
}

static uint64_t be(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++)
        v = v << 8 | b[k];
    return v;
}

static int skip(const uint8_t *b, size_t len, size_t *i, int depth)
{
    if (depth > 512 || need(len, *i, 1) < 0)
        return -1;
    uint8_t t = b[*i];
    uint64_t n;
    switch (t) {
    case 100: case 115: case 118: case ETF_SMALL_ATOM_UTF8:
        return skip_atom(b, len, i);
    case ETF_SMALL_INT:
        return need(len, ++*i, 1) < 0 ? -1 : (*i += 1, 0);
    case ETF_INT:
        return need(len, ++*i, 4) < 0 ? -1 : (*i += 4, 0);
    case 70: /* NEW_FLOAT */
        return need(len, ++*i, 8) < 0 ? -1 : (*i += 8, 0);
    case 99: /* FLOAT */
        return need(len, ++*i, 31) < 0 ? -1 : (*i += 31, 0);
    case 106: /* NIL */
        return ++*i, 0;
    case ETF_SMALL_BIG:
        if (need(len, ++*i, 2) < 0)
            return -1;
        n = b[*i];
        *i += 2;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case 111: /* LARGE_BIG */
        if (need(len, ++*i, 5) < 0)
            return -1;
        n = be(b + *i, 4);
        *i += 5;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case ETF_BINARY:
    case 107: /* STRING: 2-byte length */
        n = t == 107 ? 2 : 4;
        if (need(len, ++*i, n) < 0)
            return -1;
        {
            uint64_t l = be(b + *i, (int)n);
            *i += n;
            return need(len, *i, l) < 0 ? -1 : (*i += l, 0);
        }
    case 77: /* BIT_BINARY */
        if (need(len, ++*i, 5) < 0)
            return -1;
        n = be(b + *i, 4);
        *i += 5;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case ETF_SMALL_TUPLE:
    case 105: /* LARGE_TUPLE */
    case 116: /* MAP */
    case 108: /* LIST */
        n = t == ETF_SMALL_TUPLE ? 1 : 4;
        if (need(len, ++*i, n) < 0)
            return -1;
        {
            uint64_t count = be(b + *i, (int)n);
            *i += n;
            if (t == 116)
                count *= 2;
            if (t == 108)
                count++; /* the tail */
            for (uint64_t k = 0; k < count; k++)
                if (skip(b, len, i, depth + 1) < 0)
                    return -1;
            return 0;
        }
    case 103: /* PID */
    case ETF_NEW_PID:
        ++*i;
        if (skip_atom(b, len, i) < 0)
            return -1;
        n = t == 103 ? 9 : 12;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case 102: /* PORT */
    case 89:  /* NEW_PORT */
    case 120: /* V4_PORT */
        ++*i;
        if (skip_atom(b, len, i) < 0)
            return -1;
        n = t == 102 ? 5 : t == 89 ? 8 : 12;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case 101: /* REFERENCE */
        ++*i;
        if (skip_atom(b, len, i) < 0)
            return -1;
        return need(len, *i, 5) < 0 ? -1 : (*i += 5, 0);
    case 114: /* NEW_REFERENCE */
    case 90:  /* NEWER_REFERENCE */
        if (need(len, ++*i, 2) < 0)
            return -1;
        n = be(b + *i, 2);
        *i += 2;
        if (n > 5 || skip_atom(b, len, i) < 0)
            return -1;
        n = (t == 114 ? 1 : 4) + 4 * n;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    case 113: /* EXPORT: three atoms (or a small integer arity) */
        ++*i;
        return skip(b, len, i, depth + 1) < 0 || skip(b, len, i, depth + 1) < 0 ||
                       skip(b, len, i, depth + 1) < 0
                   ? -1
                   : 0;
    case 112: /* NEW_FUN: its size counts itself */
        if (need(len, ++*i, 4) < 0)
            return -1;
        n = be(b + *i, 4);
        if (n < 4)
            return -1;
        return need(len, *i, n) < 0 ? -1 : (*i += n, 0);
    default:
        return -1;
    }
}

int ld_term_check(const uint8_t *b, size_t len, size_t *end)
{
    size_t i = 0;
    if (!len || b[0] != ETF_VERSION)
        return -1;
    i = 1;
    if (skip(b, len, &i, 0) < 0)
        return -1;
    *end = i;
    return 0;
}
