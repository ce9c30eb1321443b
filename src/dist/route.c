/*
 * route.c - signals across nodes: the runtime's route hook (rt/remote.h)
 * turns signals for remote pids into control messages of the Erlang
 * distribution protocol, and ld_dispatch turns incoming ones into signals
 * for our processes.
 *
 *   lunatic signal (to a remote pid)  wire                       back here
 *   message                           SEND {2, '', To} + term    message
 *   kill                              EXIT2 {8, From, To, kill}  kill
 *   link (from A)                     LINK {1, A, To}            link
 *   unlink (from A)                   UNLINK_ID {35, Id, A, To}  unlink (+ ACK)
 *   link died (A died)                EXIT {3, A, To, Reason}    link died
 *   monitor (A watches To)            MONITOR_P {19, A, To, Ref} monitor
 *   stop monitoring                   DEMONITOR_P {20, A, To, Ref}
 *   process died (A died)             MONITOR_P_EXIT {21, A, To, Ref, Reason}
 *
 * Exit reasons: normal; noproc; failed, or {failed, Tag} when the process
 * that ended stored a tag for the link (its LinkDied carries that tag on
 * the other side, as locally). From Erlang, normal and noproc keep their
 * meaning and any other reason is a failure.
 *
 * The relation index remembers, per process of ours, its links and
 * monitors with processes of other nodes: the tag a link was made with,
 * the reference of each monitor, and which node they involve. When a node
 * goes down every relation with it fires at once (LinkDied with a failure,
 * ProcessDied), as Erlang's noconnection; when one of our processes ends,
 * the monitors it held are cancelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

/* ---- the relation index (under rel_lock) ------------------------------------------ */

static ld_rels *rels_of(ld_node *n, uint64_t env, uint64_t pid, bool make)
{
    ld_rels *r = ld_map_get(&n->rels, env, pid);
    if (!r && make) {
        r = calloc(1, sizeof *r);
        if (r && ld_map_put(&n->rels, env, pid, r) < 0) {
            free(r);
            r = NULL;
        }
    }
    return r;
}

static int rel_add(ld_node *n, uint64_t env, uint64_t pid, const ld_rel *rel)
{
    ld_rels *r = rels_of(n, env, pid, true);
    if (!r)
        return -1;
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 4;
        ld_rel *nr = realloc(r->r, cap * sizeof *nr);
        if (!nr)
            return -1;
        r->r = nr;
        r->cap = cap;
    }
    r->r[r->n++] = *rel;
    return 0;
}

static bool ref_eq(const ld_rel *a, const uint32_t *ref, uint8_t len, uint32_t creation)
{
    return a->reflen == len && a->refcreation == creation && !memcmp(a->ref, ref, len * 4u);
}

/* The first relation of that kind with remote (and ref, if given); -1. */
static int rel_find(const ld_rels *r, int kind, uint64_t remote, const ld_rel *ref)
{
    for (uint32_t i = 0; r && i < r->n; i++)
        if (r->r[i].kind == kind && r->r[i].remote == remote &&
            (!ref || ref_eq(&r->r[i], ref->ref, ref->reflen, ref->refcreation)))
            return (int)i;
    return -1;
}

/* Removes relation i (its name goes to the caller if out is given). */
static void rel_remove(ld_node *n, uint64_t env, uint64_t pid, ld_rels *r, int i, ld_rel *out)
{
    if (out)
        *out = r->r[i];
    else
        free(r->r[i].name);
    r->r[i] = r->r[--r->n];
    if (!r->n) {
        ld_map_take(&n->rels, env, pid);
        free(r->r);
        free(r);
    }
}

/* Removes the first relation of (env, pid) of that kind with remote (and
 * ref, if given), under rel_lock; its name goes to the caller if out is
 * given. true if there was one. */
static bool rel_take(ld_node *n, uint64_t env, uint64_t pid, int kind, uint64_t remote,
                     const ld_rel *ref, ld_rel *out)
{
    pthread_mutex_lock(&n->rel_lock);
    ld_rels *r = rels_of(n, env, pid, false);
    int i = rel_find(r, kind, remote, ref);
    if (i >= 0)
        rel_remove(n, env, pid, r, i, out);
    pthread_mutex_unlock(&n->rel_lock);
    return i >= 0;
}

/* ---- encoding control messages ------------------------------------------------------ */

void ld_send_ctl(ld_node *n, ld_peer *p, uint64_t key, ei_x_buff *x)
{
    ld_frame *f = ld_frame_from_x(x);
    if (f)
        ld_enqueue(n, p, 0, key, f);
}

static int encode_reason(ei_x_buff *x, int reason, int64_t tag)
{
    if (reason == LT_REASON_NORMAL)
        return ei_x_encode_atom(x, "normal");
    if (reason == LT_REASON_NOPROCESS)
        return ei_x_encode_atom(x, "noproc");
    if (!tag)
        return ei_x_encode_atom(x, "failed");
    if (ei_x_encode_tuple_header(x, 2) < 0 || ei_x_encode_atom(x, "failed") < 0)
        return -1;
    return ei_x_encode_longlong(x, tag);
}

/* Decodes an exit reason at *idx: the lunatic reason, and a tag if the
 * reason carries one. */
static int decode_reason(const char *b, int *idx, int64_t *tag)
{
    char atom[MAXATOMLEN_UTF8];
    int at = *idx, arity;
    long long t;
    *tag = 0;
    if (ei_decode_atom(b, idx, atom) == 0)
        return !strcmp(atom, "normal") ? LT_REASON_NORMAL
               : !strcmp(atom, "noproc") ? LT_REASON_NOPROCESS
                                         : LT_REASON_FAILURE;
    if (ei_decode_tuple_header(b, idx, &arity) == 0 && arity == 2 &&
        ei_decode_atom(b, idx, atom) == 0 && !strcmp(atom, "failed") &&
        ei_decode_longlong(b, idx, &t) == 0) {
        *tag = t;
        return LT_REASON_FAILURE;
    }
    *idx = at;
    ei_skip_term(b, idx);
    return LT_REASON_FAILURE;
}

static void make_ref(ld_node *n, ld_rel *rel)
{
    uint64_t k = atomic_fetch_add(&n->next_ref, 1);
    rel->reflen = 3;
    rel->ref[0] = (uint32_t)(k & 0x3ffff);
    rel->ref[1] = (uint32_t)(k >> 18);
    rel->ref[2] = n->creation ^ 0x5bd1e995u;
    rel->ref[3] = rel->ref[4] = 0;
    rel->refcreation = n->creation;
}

static int encode_ref(ei_x_buff *x, const char *node, const ld_rel *rel)
{
    erlang_ref r;
    strcpy(r.node, node);
    r.len = rel->reflen;
    memcpy(r.n, rel->ref, sizeof r.n);
    r.creation = rel->refcreation;
    return ei_x_encode_ref(x, &r);
}

/* Starts a control message {Op, A, B, ...} of `arity` elements, A ours
 * and B the peer's pid. 0, or -1 (x freed). */
static int ctl_begin(ld_node *n, const ld_peerinfo *pi, ei_x_buff *x, int arity, long op,
                     uint64_t env, uint64_t ours, uint64_t theirs)
{
    erlang_pid a, b;
    if (ld_x_begin(x) < 0)
        return -1;
    ld_our_pid(n, env, ours, &a);
    ld_peer_pid(pi, env, theirs, &b);
    if (ei_x_encode_tuple_header(x, arity) < 0 || ei_x_encode_long(x, op) < 0 ||
        ei_x_encode_pid(x, &a) < 0 || ei_x_encode_pid(x, &b) < 0) {
        ei_x_free(x);
        return -1;
    }
    return 0;
}

/* {Op, A, B} with pids, A ours, B the peer's. */
static void send_pids(ld_node *n, const ld_peerinfo *pi, long op, uint64_t env, uint64_t ours,
                      uint64_t theirs)
{
    ei_x_buff x;
    if (ctl_begin(n, pi, &x, 3, op, env, ours, theirs) == 0)
        ld_send_ctl(n, pi->peer, theirs, &x);
}

static void send_exit(ld_node *n, const ld_peerinfo *pi, long op, uint64_t env, uint64_t ours,
                      uint64_t theirs, int reason, int64_t tag)
{
    ei_x_buff x;
    if (ctl_begin(n, pi, &x, 4, op, env, ours, theirs) < 0)
        return;
    if ((op == OP_EXIT2 ? ei_x_encode_atom(&x, "kill") : encode_reason(&x, reason, tag)) < 0) {
        ei_x_free(&x);
        return;
    }
    ld_send_ctl(n, pi->peer, theirs, &x);
}

/* MONITOR_P / DEMONITOR_P {Op, Watcher (ours), Target (theirs), Ref}. */
static void send_monitor(ld_node *n, const ld_peerinfo *pi, long op, uint64_t env, uint64_t ours,
                         uint64_t theirs, const ld_rel *rel)
{
    ei_x_buff x;
    if (ctl_begin(n, pi, &x, 4, op, env, ours, theirs) < 0)
        return;
    if (encode_ref(&x, n->name, rel) < 0) {
        ei_x_free(&x);
        return;
    }
    ld_send_ctl(n, pi->peer, theirs, &x);
}

/* MONITOR_P_EXIT {21, Target (ours, or its name), Watcher (theirs), Ref,
 * Reason}. */
static void send_monitor_exit(ld_node *n, const ld_peerinfo *pi, uint64_t env, uint64_t ours,
                              const ld_rel *rel, int reason)
{
    ei_x_buff x;
    erlang_pid a, b;
    if (ld_x_begin(&x) < 0)
        return;
    ld_our_pid(n, env, ours, &a);
    ld_peer_pid(pi, env, rel->remote, &b);
    if (ei_x_encode_tuple_header(&x, 5) < 0 || ei_x_encode_long(&x, OP_MONITOR_P_EXIT) < 0 ||
        (rel->name ? ei_x_encode_atom(&x, rel->name) : ei_x_encode_pid(&x, &a)) < 0 ||
        ei_x_encode_pid(&x, &b) < 0 || encode_ref(&x, pi->name, rel) < 0 ||
        encode_reason(&x, reason, 0) < 0) {
        ei_x_free(&x);
        return;
    }
    ld_send_ctl(n, pi->peer, rel->remote, &x);
}

/* ---- outgoing: the route hook -------------------------------------------------------- */

static int route(void *ud, lt_env *env, uint64_t pid, lt_signal *s)
{
    ld_node *n = ud;
    ld_peerinfo pi;
    if (atomic_load_explicit(&n->stopping, memory_order_relaxed) ||
        ld_peer_info(n, lt_pid_node(pid), &pi) < 0) {
        lt_signal_free(s);
        return -1;
    }
    uint64_t me = s->pid; /* for every signal but messages and kills: our process */
    bool ours = (me & LT_PID_NODE_MASK) == n->rt->node_bits && (me & LT_PID_LOCAL_MASK);
    ld_rel rel = {0}, old;
    int i;
    switch (s->kind) {
    case LT_SIG_MESSAGE:
        /* data only: resources cannot leave their node (distributed::send
         * traps on them; message::send to a remote pid drops the message) */
        if (s->msgkind == LT_MSG_DATA && s->nres == 0) {
            ld_frame *f = ld_frame_message(n, &pi, env->id, pid, s);
            if (f)
                ld_enqueue(n, pi.peer, pi.id, pid, f);
        }
        break;
    case LT_SIG_KILL:
        send_exit(n, &pi, OP_EXIT2, env->id, n->rt->node_bits | 0xffffffffull, pid, 0, 0);
        break;
    case LT_SIG_LINK:
        if (!ours)
            break;
        rel = (ld_rel){.kind = REL_LINK, .remote = pid, .tag = s->has_tag ? s->tag : 0};
        pthread_mutex_lock(&n->rel_lock);
        ld_rels *r = rels_of(n, env->id, me, false);
        if ((i = rel_find(r, REL_LINK, pid, NULL)) >= 0)
            r->r[i].tag = rel.tag;
        else
            rel_add(n, env->id, me, &rel);
        pthread_mutex_unlock(&n->rel_lock);
        send_pids(n, &pi, OP_LINK, env->id, me, pid);
        break;
    case LT_SIG_UNLINK:
    case LT_SIG_LINK_DIED:
        if (!ours)
            break;
        rel_take(n, env->id, me, REL_LINK, pid, NULL, NULL);
        if (s->kind == LT_SIG_LINK_DIED) {
            send_exit(n, &pi, OP_EXIT, env->id, me, pid, s->reason, s->has_tag ? s->tag : 0);
        } else if (pi.flags & DF_UNLINK_ID) {
            ei_x_buff x;
            erlang_pid a, b;
            if (ld_x_begin(&x) == 0) {
                ld_our_pid(n, env->id, me, &a);
                ld_peer_pid(&pi, env->id, pid, &b);
                if (ei_x_encode_tuple_header(&x, 4) < 0 || ei_x_encode_long(&x, OP_UNLINK_ID) < 0 ||
                    ei_x_encode_ulonglong(&x, atomic_fetch_add(&n->next_ref, 1)) < 0 ||
                    ei_x_encode_pid(&x, &a) < 0 || ei_x_encode_pid(&x, &b) < 0)
                    ei_x_free(&x);
                else
                    ld_send_ctl(n, pi.peer, pid, &x);
            }
        } else {
            send_pids(n, &pi, OP_UNLINK, env->id, me, pid);
        }
        break;
    case LT_SIG_MONITOR:
        if (!ours)
            break;
        rel = (ld_rel){.kind = REL_MON_OUT, .remote = pid};
        pthread_mutex_lock(&n->rel_lock);
        /* monitoring a process twice gives one notification, as locally */
        bool dup = rel_find(rels_of(n, env->id, me, false), REL_MON_OUT, pid, NULL) >= 0;
        if (!dup) {
            make_ref(n, &rel);
            dup = rel_add(n, env->id, me, &rel) < 0;
        }
        pthread_mutex_unlock(&n->rel_lock);
        if (!dup)
            send_monitor(n, &pi, OP_MONITOR_P, env->id, me, pid, &rel);
        break;
    case LT_SIG_STOP_MONITORING:
        if (!ours)
            break;
        if (rel_take(n, env->id, me, REL_MON_OUT, pid, NULL, &old))
            send_monitor(n, &pi, OP_DEMONITOR_P, env->id, me, pid, &old);
        break;
    case LT_SIG_PROCESS_DIED:
        if (!ours)
            break;
        /* one MONITOR_P_EXIT per monitor the watcher set on us */
        while (rel_take(n, env->id, me, REL_MON_IN, pid, NULL, &old)) {
            send_monitor_exit(n, &pi, env->id, me, &old, s->reason);
            free(old.name);
        }
        break;
    default:
        break;
    }
    lt_signal_free(s);
    return 0;
}

/* A process of ours with relations across nodes ended: what it still has
 * there (the monitors it held, links it never got to notify) is undone. */
static void exited(void *ud, lt_env *env, uint64_t pid)
{
    ld_node *n = ud;
    pthread_mutex_lock(&n->wait_lock);
    free(ld_map_take(&n->waits, env->id, pid)); /* a wait it never finished */
    pthread_mutex_unlock(&n->wait_lock);
    pthread_mutex_lock(&n->rel_lock);
    ld_rels *r = ld_map_take(&n->rels, env->id, pid);
    pthread_mutex_unlock(&n->rel_lock);
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n; i++) {
        ld_rel *rel = &r->r[i];
        ld_peerinfo pi;
        if (!atomic_load(&n->stopping) && ld_peer_info(n, lt_pid_node(rel->remote), &pi) == 0) {
            if (rel->kind == REL_MON_OUT)
                send_monitor(n, &pi, OP_DEMONITOR_P, env->id, pid, rel->remote, rel);
            else if (rel->kind == REL_LINK)
                send_exit(n, &pi, OP_EXIT, env->id, pid, rel->remote, LT_REASON_NOPROCESS, 0);
            else
                send_monitor_exit(n, &pi, env->id, pid, rel, LT_REASON_NOPROCESS);
        }
        free(rel->name);
    }
    free(r->r);
    free(r);
}

static void stop(void *ud);
static void node_free(void *ud);
static bool idle(void *ud, bool first);
static void idle_end(void *ud, bool sleeping);
const lt_remote_ops ld_remote_ops = {route, exited, stop, node_free, idle, idle_end};

static void stop(void *ud) { ld_stop_node(ud); }
static void node_free(void *ud) { ld_free_node(ud); }
static bool idle(void *ud, bool first) { return ld_idle_poll(ud, first); }
static void idle_end(void *ud, bool sleeping) { ld_idle_end(ud, sleeping); }

/* ---- node down --------------------------------------------------------------------------- */

typedef struct fired {
    uint64_t env, pid;
    ld_rel rel;
} fired;

typedef struct downctx {
    uint16_t id;
    fired *f;
    size_t n, cap;
} downctx;

static bool take_node_rels(uint64_t env, uint64_t pid, void *val, void *ud)
{
    downctx *d = ud;
    ld_rels *r = val;
    for (uint32_t i = 0; i < r->n;) {
        if (lt_pid_node(r->r[i].remote) != d->id) {
            i++;
            continue;
        }
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 64;
            fired *nf = realloc(d->f, cap * sizeof *nf);
            if (!nf) {
                i++; /* out of memory: this one cannot fire */
                continue;
            }
            d->f = nf;
            d->cap = cap;
        }
        d->f[d->n++] = (fired){env, pid, r->r[i]};
        r->r[i] = r->r[--r->n];
    }
    if (r->n)
        return false;
    free(r->r);
    free(r);
    return true;
}

static void deliver(ld_node *n, uint64_t env_id, uint64_t pid, lt_signal *s)
{
    lt_env *env = s ? lt_env_find(n->rt, env_id) : NULL;
    if (env)
        lt_send(env, pid, s);
    else
        lt_signal_free(s);
}

static lt_signal *sig(lt_sigkind kind, uint64_t pid)
{
    lt_signal *s = lt_signal_new(kind);
    if (s)
        s->pid = pid;
    return s;
}

void ld_rel_node_down(ld_node *n, uint16_t id)
{
    downctx d = {.id = id};
    pthread_mutex_lock(&n->rel_lock);
    ld_map_filter(&n->rels, take_node_rels, &d);
    pthread_mutex_unlock(&n->rel_lock);
    for (size_t i = 0; i < d.n; i++) {
        fired *f = &d.f[i];
        lt_signal *s = NULL;
        switch (f->rel.kind) {
        case REL_LINK:
            /* Erlang's noconnection: a failure of the link */
            if ((s = sig(LT_SIG_LINK_DIED, f->rel.remote))) {
                s->reason = LT_REASON_FAILURE;
                s->has_tag = f->rel.tag != 0;
                s->tag = f->rel.tag;
            }
            break;
        case REL_MON_OUT:
            s = sig(LT_SIG_PROCESS_DIED, f->rel.remote);
            break;
        case REL_MON_IN:
            s = sig(LT_SIG_STOP_MONITORING, f->rel.remote);
            break;
        }
        free(f->rel.name);
        deliver(n, f->env, f->pid, s);
    }
    free(d.f);
}

/* ---- incoming -------------------------------------------------------------------------------- */

/* A name of ours (REG_SEND, monitors by name): the process registered
 * under it in the registry of one of the node's environments. */
static int resolve_name(ld_node *n, const char *name, uint64_t *env, uint64_t *pid)
{
    int found = -1;
    pthread_mutex_lock(&n->mod_lock);
    for (size_t b = 0; found < 0 && b < n->registries.nb; b++) {
        for (ld_mapent *e = n->registries.b[b]; e; e = e->next) {
            uint64_t node, p;
            if (lt_registry_get_short(e->val, name, strlen(name), &node, &p) == 0 &&
                (node == 0 || node == n->id)) {
                *env = e->a;
                *pid = p & LT_PID_NODE_MASK ? p : p | n->rt->node_bits;
                found = (p & LT_PID_NODE_MASK) == 0 || (p & LT_PID_NODE_MASK) == n->rt->node_bits ? 0 : -1;
                if (found == 0)
                    break;
            }
        }
    }
    pthread_mutex_unlock(&n->mod_lock);
    return found;
}

/* Delivers a message term (with its version byte) to one of our
 * processes. */
static void deliver_term(ld_node *n, uint64_t env, uint64_t pid, const char *msg, int len)
{
    lt_signal *m = ld_message_of_term(msg, len);
    deliver(n, env, pid, m);
}

/* Decodes a pid that must be ours; false if it is not (a stale pid of a
 * previous life of this node included). */
static bool our_pid_at(ld_node *n, const char *b, int *idx, uint64_t *env, uint64_t *pid)
{
    erlang_pid e;
    return ei_decode_pid(b, idx, &e) == 0 && ld_pid_ours(n, &e, env, pid) == 0;
}

static bool peer_pid_at(const ld_peerinfo *pi, const char *b, int *idx, uint64_t *pid)
{
    erlang_pid e;
    return ei_decode_pid(b, idx, &e) == 0 && ld_pid_of_peer(pi, &e, pid) == 0;
}

static bool ref_at(const char *b, int *idx, ld_rel *rel, const char *node)
{
    erlang_ref r;
    if (ei_decode_ref(b, idx, &r) < 0 || r.len < 1 || r.len > 5 || strcmp(r.node, node))
        return false;
    rel->reflen = (uint8_t)r.len;
    memset(rel->ref, 0, sizeof rel->ref);
    memcpy(rel->ref, r.n, (size_t)r.len * 4);
    rel->refcreation = r.creation;
    return true;
}

/* Answers a MONITOR_P or LINK on a process that does not exist: DOWN or
 * EXIT with noproc, from the very pid (or name) the peer named. */
static void answer_noproc(ld_node *n, const ld_peerinfo *pi, long op, const erlang_pid *target,
                          const char *name, uint64_t theirs, const ld_rel *ref)
{
    ei_x_buff x;
    erlang_pid t;
    if (ld_x_begin(&x) < 0)
        return;
    ld_peer_pid(pi, target->serial >> 16, theirs, &t);
    bool ok = ei_x_encode_tuple_header(&x, op == OP_EXIT ? 4 : 5) == 0 &&
              ei_x_encode_long(&x, op) == 0 &&
              (name ? ei_x_encode_atom(&x, name) : ei_x_encode_pid(&x, target)) == 0 &&
              ei_x_encode_pid(&x, &t) == 0 &&
              (op == OP_EXIT || encode_ref(&x, pi->name, ref) == 0) &&
              ei_x_encode_atom(&x, "noproc") == 0;
    if (!ok) {
        ei_x_free(&x);
        return;
    }
    ld_send_ctl(n, pi->peer, theirs, &x);
}

/* MONITOR_P from a watcher of the peer on our process (or name). */
static void incoming_monitor(ld_node *n, const ld_peerinfo *pi, const char *b, int idx)
{
    uint64_t watcher, env = 0, target = 0;
    char name[MAXATOMLEN_UTF8];
    erlang_pid raw = {0};
    ld_rel rel = {.kind = REL_MON_IN};
    if (!peer_pid_at(pi, b, &idx, &watcher))
        return;
    rel.remote = watcher;
    bool by_name = false, found;
    if (ei_decode_atom(b, &idx, name) == 0) {
        /* the node's own services live as long as the node: the monitor
         * fires only when the connection goes (net_adm:ping monitors
         * net_kernel) */
        if (!strcmp(name, "net_kernel") || !strcmp(name, "lunatic_net") ||
            !strcmp(name, "lunatic_spawn"))
            return;
        by_name = true;
        found = resolve_name(n, name, &env, &target) == 0;
    } else if (ei_decode_pid(b, &idx, &raw) == 0) {
        found = ld_pid_ours(n, &raw, &env, &target) == 0;
    } else {
        return;
    }
    if (!ref_at(b, &idx, &rel, pi->name))
        return;
    if (found) {
        if (by_name && !(rel.name = strdup(name)))
            return;
        pthread_mutex_lock(&n->rel_lock);
        bool ok = rel_add(n, env, target, &rel) == 0;
        pthread_mutex_unlock(&n->rel_lock);
        if (!ok) {
            free(rel.name);
            return;
        }
        lt_signal *s = sig(LT_SIG_MONITOR, watcher);
        lt_env *e = lt_env_find(n->rt, env);
        if (s && e && lt_send(e, target, s) == 0)
            return; /* the relation owns the name now */
        if (!e)
            lt_signal_free(s);
        /* it died meanwhile: take the relation back, answer noproc */
        if (!rel_take(n, env, target, REL_MON_IN, watcher, &rel, NULL))
            free(rel.name);
        if (!by_name)
            ld_our_pid(n, env, target, &raw);
    }
    answer_noproc(n, pi, OP_MONITOR_P_EXIT, &raw, by_name ? name : NULL, watcher, &rel);
}

static void incoming_demonitor(ld_node *n, const ld_peerinfo *pi, const char *b, int idx)
{
    uint64_t watcher, env = 0, target = 0;
    char name[MAXATOMLEN_UTF8];
    ld_rel ref = {0};
    if (!peer_pid_at(pi, b, &idx, &watcher))
        return;
    int at = idx;
    bool found;
    if (ei_decode_atom(b, &idx, name) == 0) {
        found = resolve_name(n, name, &env, &target) == 0;
    } else {
        idx = at;
        found = our_pid_at(n, b, &idx, &env, &target);
    }
    if (!found || !ref_at(b, &idx, &ref, pi->name))
        return;
    pthread_mutex_lock(&n->rel_lock);
    ld_rels *r = rels_of(n, env, target, false);
    int i = rel_find(r, REL_MON_IN, watcher, &ref);
    bool last = false;
    if (i >= 0) {
        rel_remove(n, env, target, r, i, NULL);
        r = rels_of(n, env, target, false);
        last = rel_find(r, REL_MON_IN, watcher, NULL) < 0;
    }
    pthread_mutex_unlock(&n->rel_lock);
    if (last) /* the watcher's last monitor on it */
        deliver(n, env, target, sig(LT_SIG_STOP_MONITORING, watcher));
}

/* LINK {1, Theirs, Ours}. */
static void incoming_link(ld_node *n, const ld_peerinfo *pi, const char *b, int idx)
{
    uint64_t theirs, env, ours;
    erlang_pid raw;
    if (!peer_pid_at(pi, b, &idx, &theirs) || ei_decode_pid(b, &idx, &raw) < 0)
        return;
    if (ld_pid_ours(n, &raw, &env, &ours) == 0) {
        ld_rel rel = {.kind = REL_LINK, .remote = theirs};
        pthread_mutex_lock(&n->rel_lock);
        bool ok = rel_find(rels_of(n, env, ours, false), REL_LINK, theirs, NULL) >= 0 ||
                  rel_add(n, env, ours, &rel) == 0;
        pthread_mutex_unlock(&n->rel_lock);
        lt_signal *s = ok ? sig(LT_SIG_LINK, theirs) : NULL;
        lt_env *e = s ? lt_env_find(n->rt, env) : NULL;
        if (e && lt_send(e, ours, s) == 0)
            return;
        if (!e)
            lt_signal_free(s);
        rel_take(n, env, ours, REL_LINK, theirs, NULL, NULL);
    }
    /* no such process (or one of a previous life of this node): the link
     * dies at once, as Erlang's noproc */
    answer_noproc(n, pi, OP_EXIT, &raw, NULL, theirs, NULL);
}

void ld_dispatch(ld_node *n, ld_conn *c, const uint8_t *body, size_t len)
{
    if (len > INT32_MAX)
        return;
    const char *b = (const char *)body;
    int idx = 0, ver, arity;
    long op;
    /* the control term, then the message term if any: both checked for
     * bounds before ei reads them */
    size_t end, mend;
    if (ld_term_check(body, len, &end) < 0 ||
        (end < len && (ld_term_check(body + end, len - end, &mend) < 0 || end + mend != len)) ||
        ei_decode_version(b, &idx, &ver) < 0 || ei_decode_tuple_header(b, &idx, &arity) < 0 ||
        arity < 1 || ei_decode_long(b, &idx, &op) < 0) {
        ld_debug(n, "%s sent a malformed control message", c->peer->name);
        return;
    }
    ld_peerinfo pi;
    ld_peer_info_local(c->peer, &pi);
    const char *msg = b + end;
    int msglen = (int)(len - end);
    uint64_t env, ours, theirs;
    int64_t tag;
    switch (op) {
    case OP_SEND:
    case OP_SEND_TT:
        /* {2, Cookie, To} */
        if (ei_skip_term(b, &idx) == 0 && our_pid_at(n, b, &idx, &env, &ours) && msglen > 0)
            deliver_term(n, env, ours, msg, msglen);
        return;
    case OP_SEND_SENDER:
    case OP_SEND_SENDER_TT:
        if (ei_skip_term(b, &idx) == 0 && our_pid_at(n, b, &idx, &env, &ours) && msglen > 0)
            deliver_term(n, env, ours, msg, msglen);
        return;
    case OP_REG_SEND:
    case OP_REG_SEND_TT: {
        /* {6, From, Cookie, ToName} */
        erlang_pid from;
        char name[MAXATOMLEN_UTF8];
        if (ei_decode_pid(b, &idx, &from) < 0 || ei_skip_term(b, &idx) < 0 ||
            ei_decode_atom(b, &idx, name) < 0 || msglen <= 0)
            return;
        if (!strcmp(name, "lunatic_spawn") || !strcmp(name, "lunatic_net") ||
            !strcmp(name, "net_kernel")) {
            ld_service_message(n, c, name, msg, msglen);
        } else if (resolve_name(n, name, &env, &ours) == 0) {
            deliver_term(n, env, ours, msg, msglen);
        }
        return;
    }
    case OP_LINK:
        incoming_link(n, &pi, b, idx);
        return;
    case OP_UNLINK:
    case OP_UNLINK_ID: {
        unsigned long long id = 0;
        if (op == OP_UNLINK_ID && ei_decode_ulonglong(b, &idx, &id) < 0)
            return;
        if (!peer_pid_at(&pi, b, &idx, &theirs) || !our_pid_at(n, b, &idx, &env, &ours))
            return;
        rel_take(n, env, ours, REL_LINK, theirs, NULL, NULL);
        deliver(n, env, ours, sig(LT_SIG_UNLINK, theirs));
        if (op == OP_UNLINK_ID) {
            ei_x_buff x;
            erlang_pid a, t;
            if (ld_x_begin(&x) < 0)
                return;
            ld_our_pid(n, env, ours, &a);
            ld_peer_pid(&pi, env, theirs, &t);
            if (ei_x_encode_tuple_header(&x, 4) < 0 || ei_x_encode_long(&x, OP_UNLINK_ID_ACK) < 0 ||
                ei_x_encode_ulonglong(&x, id) < 0 || ei_x_encode_pid(&x, &a) < 0 ||
                ei_x_encode_pid(&x, &t) < 0) {
                ei_x_free(&x);
                return;
            }
            ld_send_ctl(n, c->peer, theirs, &x);
        }
        return;
    }
    case OP_UNLINK_ID_ACK:
        return;
    case OP_EXIT:
    case OP_EXIT_TT: {
        /* {3, Theirs, Ours, Reason} */
        if (!peer_pid_at(&pi, b, &idx, &theirs) || !our_pid_at(n, b, &idx, &env, &ours))
            return;
        int reason = decode_reason(b, &idx, &tag);
        ld_rel link;
        if (rel_take(n, env, ours, REL_LINK, theirs, NULL, &link)) {
            if (!tag)
                tag = link.tag;
            free(link.name); /* NULL: a link has no name */
        }
        lt_signal *s = sig(LT_SIG_LINK_DIED, theirs);
        if (s) {
            s->reason = (uint8_t)reason;
            s->has_tag = tag != 0;
            s->tag = tag;
        }
        deliver(n, env, ours, s);
        return;
    }
    case OP_EXIT2:
    case OP_EXIT2_TT: {
        erlang_pid from;
        if (ei_decode_pid(b, &idx, &from) < 0 || !our_pid_at(n, b, &idx, &env, &ours))
            return;
        /* exit(Pid, normal) does nothing to a process that does not trap
         * exits, and lunatic processes do not; anything else kills */
        if (decode_reason(b, &idx, &tag) != LT_REASON_NORMAL)
            deliver(n, env, ours, sig(LT_SIG_KILL, 0));
        return;
    }
    case OP_MONITOR_P:
        incoming_monitor(n, &pi, b, idx);
        return;
    case OP_DEMONITOR_P:
        incoming_demonitor(n, &pi, b, idx);
        return;
    case OP_MONITOR_P_EXIT: {
        /* {21, Target (theirs), Watcher (ours), Ref, Reason} */
        ld_rel ref = {0};
        int at = idx;
        if (!peer_pid_at(&pi, b, &idx, &theirs)) {
            idx = at;
            if (ei_skip_term(b, &idx) < 0)
                return;
            theirs = 0; /* a monitor by name: found by its reference */
        }
        if (!our_pid_at(n, b, &idx, &env, &ours) || !ref_at(b, &idx, &ref, n->name))
            return;
        pthread_mutex_lock(&n->rel_lock);
        ld_rels *r = rels_of(n, env, ours, false);
        int i = -1;
        for (uint32_t k = 0; r && k < r->n; k++)
            if (r->r[k].kind == REL_MON_OUT && ref_eq(&r->r[k], ref.ref, ref.reflen, ref.refcreation))
                i = (int)k;
        if (i >= 0) {
            theirs = r->r[i].remote;
            rel_remove(n, env, ours, r, i, NULL);
        }
        pthread_mutex_unlock(&n->rel_lock);
        if (i >= 0)
            deliver(n, env, ours, sig(LT_SIG_PROCESS_DIED, theirs));
        return;
    }
    default:
        ld_debug(n, "%s sent control message %ld, which we do not handle", c->peer->name, op);
    }
}
