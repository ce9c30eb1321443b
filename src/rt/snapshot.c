/*
 * snapshot.c - a picture of the live processes (snapshot.h).
 *
 * One walk over every environment's shards reads each process under its
 * lock into a record; when a limit is set the records are kept in a heap
 * whose root is the worst one kept, so memory stays bounded by the limit
 * however many processes there are. What needs other locks comes after
 * the walk, with no shard lock held: registered names (a registry's lock
 * is taken before a shard's by get_or_spawn, so taking it under a shard
 * lock could deadlock), and who monitors whom.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/env.h"
#include "rt/module.h"
#include "rt/process.h"
#include "rt/registry.h"
#include "rt/runtime.h"
#include "rt/sched.h"
#include "rt/snapshot.h"

/* A record during the walk: the info plus what resolving names needs. */
typedef struct rec {
    lt_procinfo info;
    lt_registry *registry;   /* retained through `regs` */
} rec;

/* Registries retained during the walk, each once (a small pointer set). */
typedef struct regset {
    lt_registry **slot;
    size_t cap, n;
} regset;

/* (watcher, target) pairs: `watcher` monitors `target`. */
typedef struct monpair {
    uint64_t env, watcher, target;
} monpair;

typedef struct walk {
    lt_runtime *rt;
    const lt_snapopts *o;
    lt_snapshot *s;
    int64_t now_ticks;
    rec *recs;
    size_t n, cap;
    regset regs;
    monpair *pairs;
    size_t npairs, pairscap;
    bool oom;
} walk;

/* ---- registries ------------------------------------------------------------------ */

static size_t ptr_hash(const void *p, size_t cap)
{
    return ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull & (cap - 1);
}

/* Retains r once per snapshot; false when out of memory (names are then
 * not resolved for that process). Called under a shard lock, while r's
 * process holds a reference, so r is alive. */
static bool regset_add(regset *rs, lt_registry *r)
{
    if ((rs->n + 1) * 2 > rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        lt_registry **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return false;
        for (size_t i = 0; i < rs->cap; i++) {
            if (!rs->slot[i])
                continue;
            size_t j = ptr_hash(rs->slot[i], cap);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = rs->slot[i];
        }
        free(rs->slot);
        rs->slot = slot;
        rs->cap = cap;
    }
    size_t i = ptr_hash(r, rs->cap);
    while (rs->slot[i]) {
        if (rs->slot[i] == r)
            return true;
        i = (i + 1) & (rs->cap - 1);
    }
    rs->slot[i] = r;
    rs->n++;
    lt_registry_retain(r);
    return true;
}

/* ---- reading one process ----------------------------------------------------------- */

static void copy_text(char *dst, const char *src, size_t len)
{
    if (len > LT_SNAP_TEXT - 1)
        len = LT_SNAP_TEXT - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* What is safe to read whatever the process's state. */
static void read_always(walk *w, lt_process *p, rec *r)
{
    lt_procinfo *in = &r->info;
    in->env = p->env->id;
    in->pid = p->pid;
    in->native = p->native != NULL;
    in->age_ns = lt_ticks_to_ns(w->rt, w->now_ticks - p->born);
    if (in->age_ns < 0)
        in->age_ns = 0;
    in->reductions = p->x ? lw_exec_reductions(p->x) : 0;
    in->timeout_ns = -1;
    if (p->module) {
        if (p->module->name)
            copy_text(in->module, p->module->name, strlen(p->module->name));
        else
            snprintf(in->module, sizeof in->module, "#%llu", (unsigned long long)p->module->id);
    }
    uint32_t flen = 0;
    const char *f = p->entry ? lw_func_export_name(p->entry, &flen) : NULL;
    if (f)
        copy_text(in->function, f, flen);
    if (p->registry && regset_add(&w->regs, p->registry))
        r->registry = p->registry;
}

/* Who monitors p, inverted later into "monitoring" (only pairs whose
 * watcher is o->pid, when one pid is asked for). p->lock held, p not
 * running. */
static void add_pairs(walk *w, lt_process *p)
{
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        if (w->o->pid && p->monitors[i].pid != w->o->pid)
            continue;
        if (w->npairs == w->pairscap) {
            size_t cap = w->pairscap ? w->pairscap * 2 : 64;
            monpair *np = realloc(w->pairs, cap * sizeof *np);
            if (!np) {
                w->oom = true;
                return;
            }
            w->pairs = np;
            w->pairscap = cap;
        }
        w->pairs[w->npairs++] = (monpair){p->env->id, p->monitors[i].pid, p->pid};
    }
}

/* The rest: only while no worker runs p (p->lock held, state not RUNNING). */
static void read_details(walk *w, lt_process *p, rec *r)
{
    lt_procinfo *in = &r->info;
    in->detailed = true;
    in->die_when_link_dies = p->die_when_link_dies;
    in->mailbox_len = p->mailbox.len;
    in->mailbox_bytes = p->mailbox.bytes;
    in->nlinks = p->nlinks;
    in->nmonitors = p->nmonitors;
    in->host_bytes = sizeof *p + p->mailbox.bytes + (uint64_t)p->mailbox.len * sizeof(lt_signal) +
                     (uint64_t)p->linkcap * sizeof *p->links +
                     (uint64_t)p->moncap * sizeof *p->monitors +
                     (uint64_t)(p->nlinks + p->nmonitors) * sizeof(lt_signal);
    if (p->x)
        in->host_bytes += lw_exec_host_bytes(p->x);
    if (p->inst) {
        in->host_bytes += lw_instance_host_bytes(p->inst);
        in->memory_bytes = lw_instance_memory_bytes(p->inst);
    }
    if (in->state == LT_SNAP_WAITING) {
        in->wait = p->wait_kind;
        int64_t deadline = p->wait_deadline;
        if (p->wait_kind == LT_WAIT_RECEIVE) {
            in->ntags = p->wait_ntags;
            uint32_t k = in->ntags < LT_SNAP_TAGS ? in->ntags : LT_SNAP_TAGS;
            if (p->wait_tags_ptr == LT_TAGS_INLINE) {
                in->tags[0] = p->wait_tag;
            } else if (k && p->x) {
                /* the guest's tag array, where the suspended receive reads it */
                const uint8_t *t = lw_exec_mem(p->x, p->wait_tags_ptr, 8 * (uint64_t)k);
                if (t)
                    memcpy(in->tags, t, 8 * (size_t)k);
            }
        }
        if (deadline >= 0) {
            int64_t left = deadline - lt_now_ns();
            in->timeout_ns = left > 0 ? left : 0;
        }
    }
    if (!w->o->lists)
        return;
    if (p->nlinks && (in->links = malloc(p->nlinks * sizeof *in->links))) {
        for (uint32_t i = 0; i < p->nlinks; i++)
            in->links[i] = (lt_snaplink){p->links[i].pid,
                                         p->links[i].has_tag ? p->links[i].tag : 0};
    } else if (p->nlinks) {
        w->oom = true;
        in->nlinks = 0;
    }
    if (p->nmonitors && (in->monitors = malloc(p->nmonitors * sizeof *in->monitors))) {
        for (uint32_t i = 0; i < p->nmonitors; i++)
            in->monitors[i] = p->monitors[i].pid;
    } else if (p->nmonitors) {
        w->oom = true;
        in->nmonitors = 0;
    }
    add_pairs(w, p);
}

static void rec_free(rec *r)
{
    free(r->info.links);
    free(r->info.monitors);
    free(r->info.monitoring);
    for (uint32_t i = 0; i < r->info.nnames && i < LT_SNAP_NAMES; i++)
        free(r->info.names[i]);
}

/* ---- keeping the best `limit` records ------------------------------------------------- */

static uint64_t sort_key(const lt_procinfo *in, lt_snapsort by)
{
    switch (by) {
    case LT_SNAP_BY_MAILBOX: return in->mailbox_len;
    case LT_SNAP_BY_MEMORY: return in->memory_bytes;
    case LT_SNAP_BY_REDUCTIONS: return in->reductions;
    case LT_SNAP_BY_AGE: return (uint64_t)in->age_ns;
    case LT_SNAP_BY_PID: break;
    }
    return 0;
}

/* Is a to be kept rather than b? */
static bool better(const lt_procinfo *a, const lt_procinfo *b, lt_snapsort by)
{
    uint64_t ka = sort_key(a, by), kb = sort_key(b, by);
    if (ka != kb)
        return ka > kb;
    if (a->env != b->env)
        return a->env < b->env;
    return a->pid < b->pid;
}

/* recs[0..n) is a heap with the worst kept record at the root. */
static void sift_down(walk *w, size_t i)
{
    lt_snapsort by = w->o->sort;
    for (;;) {
        size_t l = 2 * i + 1, worst = i;
        if (l < w->n && better(&w->recs[worst].info, &w->recs[l].info, by))
            worst = l;
        if (l + 1 < w->n && better(&w->recs[worst].info, &w->recs[l + 1].info, by))
            worst = l + 1;
        if (worst == i)
            return;
        rec t = w->recs[i];
        w->recs[i] = w->recs[worst];
        w->recs[worst] = t;
        i = worst;
    }
}

static void sift_up(walk *w, size_t i)
{
    lt_snapsort by = w->o->sort;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!better(&w->recs[parent].info, &w->recs[i].info, by))
            return;
        rec t = w->recs[i];
        w->recs[i] = w->recs[parent];
        w->recs[parent] = t;
        i = parent;
    }
}

/* Takes r (or frees what it holds when it is not kept). */
static void keep(walk *w, rec *r)
{
    size_t limit = w->o->limit;
    if (limit && w->n == limit) {
        if (!better(&r->info, &w->recs[0].info, w->o->sort)) {
            rec_free(r);
            return;
        }
        rec_free(&w->recs[0]);
        w->recs[0] = *r;
        sift_down(w, 0);
        return;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        if (limit && cap > limit)
            cap = limit;
        rec *nr = realloc(w->recs, cap * sizeof *nr);
        if (!nr) {
            w->oom = true;
            rec_free(r);
            return;
        }
        w->recs = nr;
        w->cap = cap;
    }
    w->recs[w->n++] = *r;
    if (limit)
        sift_up(w, w->n - 1);
}

/* ---- the walk -------------------------------------------------------------------------- */

/* Under p's shard lock (lt_env_each). */
static void visit(walk *w, lt_process *p)
{
    if (w->o->pid && p->pid != w->o->pid) {
        /* one pid with its lists: the others only for whom it monitors
         * (a monitor is stored at the watched process) */
        lt_spin_lock(&p->lock);
        if (p->state != LT_PS_RUNNING && p->state != LT_PS_DEAD && p->nmonitors)
            add_pairs(w, p);
        lt_spin_unlock(&p->lock);
        return;
    }
    rec r;
    memset(&r, 0, sizeof r);
    lt_snapshot *s = w->s;
    lt_spin_lock(&p->lock);
    uint8_t st = p->state;
    if (st == LT_PS_DEAD) {   /* not in a table: cannot happen under its shard lock */
        lt_spin_unlock(&p->lock);
        return;
    }
    r.info.state = st == LT_PS_RUNNING ? LT_SNAP_RUNNING
                   : st == LT_PS_WAITING ? LT_SNAP_WAITING
                                         : LT_SNAP_RUNNABLE;
    read_always(w, p, &r);
    if (st != LT_PS_RUNNING)
        read_details(w, p, &r);
    lt_spin_unlock(&p->lock);

    s->total++;
    s->running += st == LT_PS_RUNNING;
    s->waiting += st == LT_PS_WAITING;
    s->runnable += st == LT_PS_QUEUED;
    s->mailbox_len += r.info.mailbox_len;
    s->mailbox_bytes += r.info.mailbox_bytes;
    s->memory_bytes += r.info.memory_bytes;
    s->host_bytes += r.info.host_bytes;
    keep(w, &r);
}

static void visit_cb(lt_process *p, void *ud) { visit(ud, p); }

/* ---- after the walk: names and monitoring --------------------------------------------- */

static int cmp_pid_env(const void *a, const void *b)
{
    const lt_procinfo *x = *(lt_procinfo *const *)a, *y = *(lt_procinfo *const *)b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->env < y->env ? -1 : x->env > y->env;
}

typedef struct names_ctx {
    lt_procinfo **bypid;     /* every kept record, sorted by (pid, env) */
    rec *recs;
    size_t n;
    lt_registry *r;
    bool oom;
} names_ctx;

static void add_name(const char *name, size_t len, uint64_t node, uint64_t pid, void *ud)
{
    names_ctx *c = ud;
    if (node != 0)
        return;   /* a process of another node */
    /* the first record with this pid, then every environment's */
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->bypid[mid]->pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < c->n && c->bypid[lo]->pid == pid; lo++) {
        lt_procinfo *in = c->bypid[lo];
        /* the name counts if the process belongs to that registry */
        rec *r = (rec *)(void *)in;
        if (r->registry != c->r)
            continue;
        if (in->nnames < LT_SNAP_NAMES) {
            char *copy = malloc(len + 1);
            if (!copy) {
                c->oom = true;
                continue;
            }
            memcpy(copy, name, len);
            copy[len] = 0;
            in->names[in->nnames] = copy;
        }
        in->nnames++;
    }
}

static void resolve_names(walk *w)
{
    if (!w->regs.n)
        return;
    lt_procinfo **bypid = malloc((w->n ? w->n : 1) * sizeof *bypid);
    if (!bypid) {
        w->oom = true;
    } else {
        for (size_t i = 0; i < w->n; i++)
            bypid[i] = &w->recs[i].info;
        qsort(bypid, w->n, sizeof *bypid, cmp_pid_env);
    }
    names_ctx c = {bypid, w->recs, w->n, NULL, false};
    for (size_t i = 0; i < w->regs.cap; i++) {
        lt_registry *r = w->regs.slot[i];
        if (!r)
            continue;
        if (bypid) {
            c.r = r;
            lt_registry_each(r, add_name, &c);
        }
        lt_registry_release(r);
    }
    w->oom |= c.oom;
    free(bypid);
}

static int cmp_pair(const void *a, const void *b)
{
    const monpair *x = a, *y = b;
    if (x->env != y->env)
        return x->env < y->env ? -1 : 1;
    if (x->watcher != y->watcher)
        return x->watcher < y->watcher ? -1 : 1;
    return x->target < y->target ? -1 : x->target > y->target;
}

static void resolve_monitoring(walk *w)
{
    if (!w->o->lists || !w->npairs)
        return;
    qsort(w->pairs, w->npairs, sizeof *w->pairs, cmp_pair);   /* npairs > 0 here */
    for (size_t i = 0; i < w->n; i++) {
        lt_procinfo *in = &w->recs[i].info;
        size_t lo = 0, hi = w->npairs;
        monpair key = {in->env, in->pid, 0};
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cmp_pair(&w->pairs[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t end = lo;
        while (end < w->npairs && w->pairs[end].env == in->env && w->pairs[end].watcher == in->pid)
            end++;
        if (end == lo)
            continue;
        in->monitoring = malloc((end - lo) * sizeof *in->monitoring);
        if (!in->monitoring) {
            w->oom = true;
            continue;
        }
        for (size_t k = lo; k < end; k++)
            in->monitoring[in->nmonitoring++] = w->pairs[k].target;
    }
}

static int cmp_env_pid(const void *a, const void *b)
{
    const lt_procinfo *x = a, *y = b;
    if (x->env != y->env)
        return x->env < y->env ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

lt_snapshot *lt_snapshot_take(lt_runtime *rt, const lt_snapopts *o)
{
    lt_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    walk w = {.rt = rt, .o = o, .s = s};
    s->taken_ns = lt_now_ns();
    w.now_ticks = lt_ticks();
    /* Environments are never freed while the runtime lives and are only
     * ever prepended: the list from this head on stays valid. */
    pthread_mutex_lock(&rt->env_lock);
    lt_env *head = rt->envs;
    pthread_mutex_unlock(&rt->env_lock);
    for (lt_env *e = head; e; e = e->next) {
        s->nenvs++;
        if (!o->env || e->id == o->env)
            lt_env_each(e, o->lists ? 0 : o->pid, visit_cb, &w);
    }
    resolve_names(&w);
    resolve_monitoring(&w);
    free(w.pairs);
    free(w.regs.slot);
    /* records and infos have the same start: hand the infos out in place */
    lt_procinfo *procs = w.n ? malloc(w.n * sizeof *procs) : NULL;
    if (w.n && !procs) {
        for (size_t i = 0; i < w.n; i++)
            rec_free(&w.recs[i]);
        free(w.recs);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < w.n; i++)
        procs[i] = w.recs[i].info;
    free(w.recs);
    if (w.n)
        qsort(procs, w.n, sizeof *procs, cmp_env_pid);
    s->procs = procs;
    s->n = w.n;
    s->partial = w.oom;
    return s;
}

void lt_snapshot_free(lt_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        lt_procinfo *in = &s->procs[i];
        free(in->links);
        free(in->monitors);
        free(in->monitoring);
        for (uint32_t k = 0; k < in->nnames && k < LT_SNAP_NAMES; k++)
            free(in->names[k]);
    }
    free(s->procs);
    free(s);
}
