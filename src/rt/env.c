/*
 * env.c - environments (env.h): the process table is split into LT_SHARDS
 * open-addressing hash tables, each under its own mutex, so spawns and
 * sends from many workers rarely meet on one lock. lt_send appends to the
 * target's inbox while holding the shard lock: a dying process removes
 * itself under the same lock, so a sender never touches a freed process.
 */
#include <stdlib.h>
#include <string.h>

#include "rt/env.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/sched.h"
#include "rt/signal.h"
#include "rt/stats.h"

#define KEY_EMPTY 0
#define KEY_GONE UINT64_MAX

lt_env *lt_env_find(lt_runtime *rt, uint64_t id)
{
    pthread_mutex_lock(&rt->env_lock);
    lt_env *e = rt->envs;
    while (e && e->id != id)
        e = e->next;
    pthread_mutex_unlock(&rt->env_lock);
    return e;
}

lt_env *lt_env_get(lt_runtime *rt, uint64_t id)
{
    pthread_mutex_lock(&rt->env_lock);
    lt_env *e = rt->envs;
    while (e && e->id != id)
        e = e->next;
    if (!e && (e = calloc(1, sizeof *e))) {
        e->id = id;
        e->rt = rt;
        atomic_init(&e->next_pid, 1);
        for (int i = 0; i < LT_SHARDS; i++)
            pthread_mutex_init(&e->shards[i].lock, NULL);
        e->next = rt->envs;
        rt->envs = e;
        lt_stat_add(LT_STAT_ENVS_CREATED, 1);
    }
    pthread_mutex_unlock(&rt->env_lock);
    return e;
}

static lt_shard *shard_of(lt_env *e, uint64_t pid) { return &e->shards[pid % LT_SHARDS]; }

static uint32_t hash(uint64_t pid, uint32_t cap)
{
    return (uint32_t)((pid / LT_SHARDS) * 0x9e3779b97f4a7c15ull >> 32) & (cap - 1);
}

static int64_t find(const lt_shard *s, uint64_t pid)
{
    if (!s->cap)
        return -1;
    uint32_t i = hash(pid, s->cap);
    while (s->keys[i] != KEY_EMPTY) {
        if (s->keys[i] == pid)
            return i;
        i = (i + 1) & (s->cap - 1);
    }
    return -1;
}

static int rehash(lt_shard *s, uint32_t cap)
{
    uint64_t *keys = calloc(cap, sizeof *keys);
    lt_process **vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (uint32_t i = 0; i < s->cap; i++) {
        uint64_t k = s->keys[i];
        if (k == KEY_EMPTY || k == KEY_GONE)
            continue;
        uint32_t j = hash(k, cap);
        while (keys[j] != KEY_EMPTY)
            j = (j + 1) & (cap - 1);
        keys[j] = k;
        vals[j] = s->vals[i];
    }
    free(s->keys);
    free(s->vals);
    s->keys = keys;
    s->vals = vals;
    s->cap = cap;
    s->used = s->count;
    return 0;
}

int lt_env_insert(lt_env *e, lt_process *p)
{
    lt_shard *s = shard_of(e, p->pid);
    pthread_mutex_lock(&s->lock);
    if ((s->used + 1) * 4 > s->cap * 3) {
        uint32_t cap = 16;
        while (cap < (s->count + 1) * 2)
            cap *= 2;
        if (rehash(s, cap) < 0) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
    }
    uint32_t i = hash(p->pid, s->cap);
    while (s->keys[i] != KEY_EMPTY && s->keys[i] != KEY_GONE)
        i = (i + 1) & (s->cap - 1);
    if (s->keys[i] == KEY_EMPTY)
        s->used++;
    s->keys[i] = p->pid;
    s->vals[i] = p;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&e->nprocs, 1);
    lt_stat_add(p->is_native ? LT_STAT_SPAWNED_NATIVE : LT_STAT_SPAWNED_WASM, 1);
    return 0;
}

void lt_env_remove(lt_env *e, lt_process *p)
{
    lt_shard *s = shard_of(e, p->pid);
    pthread_mutex_lock(&s->lock);
    int64_t i = find(s, p->pid);
    if (i >= 0) {
        s->keys[i] = KEY_GONE;
        s->count--;
    }
    /* No sender can reach p any more: refuse what raced in before. */
    lt_spin_lock(&p->lock);
    p->state = LT_PS_DEAD;
    lt_spin_unlock(&p->lock);
    pthread_mutex_unlock(&s->lock);
    if (i >= 0) {
        atomic_fetch_sub(&e->nprocs, 1);
        lt_stat_add(LT_STAT_PROCS_OUT, 1);
    }
}

uint64_t lt_pid_of(const lt_env *e, uint64_t pid)
{
    return pid & LT_PID_NODE_MASK ? pid : pid | e->rt->node_bits;
}

bool lt_env_exists(lt_env *e, uint64_t pid)
{
    pid = lt_pid_of(e, pid);
    if ((pid & LT_PID_NODE_MASK) != e->rt->node_bits)
        return false;
    lt_shard *s = shard_of(e, pid);
    pthread_mutex_lock(&s->lock);
    bool found = find(s, pid) >= 0;
    pthread_mutex_unlock(&s->lock);
    return found;
}

void lt_env_each(lt_env *e, uint64_t pid, void (*fn)(lt_process *p, void *ud), void *ud)
{
    if (pid) {
        pid = lt_pid_of(e, pid);
        lt_shard *s = shard_of(e, pid);
        pthread_mutex_lock(&s->lock);
        int64_t i = find(s, pid);
        if (i >= 0)
            fn(s->vals[i], ud);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    for (int k = 0; k < LT_SHARDS; k++) {
        lt_shard *s = &e->shards[k];
        pthread_mutex_lock(&s->lock);
        for (uint32_t i = 0; i < s->cap; i++)
            if (s->keys[i] != KEY_EMPTY && s->keys[i] != KEY_GONE)
                fn(s->vals[i], ud);
        pthread_mutex_unlock(&s->lock);
    }
}

/* A signal for a pid of another node: the distribution layer's. */
static int send_remote(lt_env *e, uint64_t pid, lt_signal *sig)
{
    const lt_runtime *rt = e->rt;
    if (!rt->remote) {
        lt_signal_free(sig);
        return -1;
    }
    return rt->remote->route(rt->remote_ud, e, pid, sig);
}

/* lt_send without freeing: 0, -1 (a pid of this node that does not
 * exist: sig is still the caller's) or -2 (another node's, unknown: the
 * distribution layer freed sig). */
static inline int deliver(lt_env *e, uint64_t pid, lt_signal *sig)
{
    /* One load and compare on the local path: a pid of this node has this
     * node's bits (0 outside a cluster), or none at all. */
    uint64_t bits = e->rt->node_bits;
    if ((pid & LT_PID_NODE_MASK) != bits) {
        if (pid & LT_PID_NODE_MASK)
            return send_remote(e, pid, sig) < 0 ? -2 : 0;
        pid |= bits;
    }
    if ((pid & LT_PID_LOCAL_MASK) == 0 || pid == KEY_GONE)
        return -1;
    lt_shard *s = shard_of(e, pid);
    pthread_mutex_lock(&s->lock);
    int64_t i = find(s, pid);
    if (i < 0) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    lt_process *p = s->vals[i];
    if (sig->kind != LT_SIG_WAKE)
        lt_stat_add(LT_STAT_SIGNALS_SENT_WASM + p->is_native, 1);   /* NATIVE follows WASM */
    sig->next = NULL;
    /* The target's memory account (account.h): a data message that does
     * not fit is dropped and the target dies of it; other signals (a
     * kill, a LinkDied) always get through. */
    uint64_t bytes = lt_signal_bytes(sig);
    bool refuse = sig->kind == LT_SIG_MESSAGE && !lt_account_fits(&p->acct, bytes);
    lt_spin_lock(&p->lock);
    if (refuse) {
        p->over_limit = true;
    } else {
        lt_account_deliver(&p->acct, bytes);
        if (p->in_tail)
            p->in_tail->next = sig;
        else
            p->in_head = sig;
        p->in_tail = sig;
    }
    bool wake = lt_wake_locked(p);
    lt_spin_unlock(&p->lock);
    pthread_mutex_unlock(&s->lock);
    if (wake)
        lt_schedule(p->rt, p);
    if (refuse)
        lt_signal_free(sig);
    return 0;
}

int lt_send_keep(lt_env *e, uint64_t pid, lt_signal *sig) { return deliver(e, pid, sig); }

int lt_send(lt_env *e, uint64_t pid, lt_signal *sig)
{
    int r = deliver(e, pid, sig);
    if (r == -1)
        lt_signal_free(sig);
    return r < 0 ? -1 : 0;
}

void lt_send_wake(lt_env *e, uint64_t pid, uint64_t seq)
{
    /* No signal: a number in the process, so that a wake (a timer, an fd,
     * blocking work done) never allocates and cannot be lost for memory. */
    if (pid == 0 || pid == KEY_GONE)
        return;
    lt_shard *s = shard_of(e, pid);
    pthread_mutex_lock(&s->lock);
    int64_t i = find(s, pid);
    if (i < 0) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    lt_process *p = s->vals[i];
    lt_spin_lock(&p->lock);
    /* waits are numbered upward: a wake for a later wait replaces one for
     * an earlier (stale) wait, never the other way */
    if (seq + 1 > p->woken)
        p->woken = seq + 1;
    bool wake = lt_wake_locked(p);
    lt_spin_unlock(&p->lock);
    pthread_mutex_unlock(&s->lock);
    if (wake)
        lt_schedule(p->rt, p);
}

void lt_env_free_all(lt_runtime *rt)
{
    /* Every live process is in its environment's table (a queued one too:
     * queues only link processes the tables own). */
    for (lt_env *e = rt->envs, *next; e; e = next) {
        next = e->next;
        for (int i = 0; i < LT_SHARDS; i++) {
            lt_shard *sh = &e->shards[i];
            for (uint32_t k = 0; k < sh->cap; k++)
                if (sh->keys[k] != KEY_EMPTY && sh->keys[k] != KEY_GONE) {
                    lt_process_destroy(sh->vals[k]);
                    lt_stat_add(LT_STAT_PROCS_OUT, 1);
                }
            free(sh->keys);
            free(sh->vals);
            pthread_mutex_destroy(&sh->lock);
        }
        free(e);
        lt_stat_add(LT_STAT_ENVS_FREED, 1);
    }
    rt->envs = NULL;
}
