/*
 * registry.c - process names (registry.h): an array searched linearly
 * under a mutex, held only for the search and its update. A name that
 * get_or_spawn is spawning for is a pending entry (its pid: the spawner's)
 * until the spawn settles.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/registry.h"
#include "rt/stats.h"
#include "rt/remote.h"

typedef struct entry {
    char *name;
    size_t len;
    uint64_t node, pid;
    bool pending; /* reserved by get_or_spawn; pid is the spawner's */
} entry;

struct lt_registry {
    atomic_int refs;
    pthread_mutex_t lock;
    entry *e;
    size_t n, cap;
};

lt_registry *lt_registry_new(void)
{
    lt_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void lt_registry_retain(lt_registry *r) { atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed); }

void lt_registry_release(lt_registry *r)
{
    if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->e[i].name);
    if (r->n)
        lt_stat_add(LT_STAT_NAMES_REMOVED, r->n);
    free(r->e);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static entry *find(lt_registry *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].len == len && !memcmp(r->e[i].name, name, len))
            return &r->e[i];
    return NULL;
}

/* A new entry for name (not in r), under r's lock; NULL when out of memory. */
static entry *add(lt_registry *r, const char *name, size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        entry *ne = realloc(r->e, cap * sizeof *ne);
        if (!ne)
            return NULL;
        r->e = ne;
        r->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, name, len);
    copy[len] = 0;
    entry *e = &r->e[r->n++];
    *e = (entry){.name = copy, .len = len};
    lt_stat_add(LT_STAT_NAMES_ADDED, 1);
    return e;
}

int lt_registry_put(lt_registry *r, const char *name, size_t len, uint64_t node, uint64_t pid)
{
    lt_stat_add(LT_STAT_REGISTRY_WRITE, 1);
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    if (!e)
        e = add(r, name, len);
    if (e) {
        e->node = node;
        e->pid = pid;
        e->pending = false; /* a put wins over a spawn in progress (as if after it) */
    }
    pthread_mutex_unlock(&r->lock);
    return e ? 0 : -1;
}

int lt_registry_get(lt_registry *r, const char *name, size_t len, uint64_t *node, uint64_t *pid)
{
    lt_stat_add(LT_STAT_REGISTRY_READ, 1);
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    int ret = !e ? LT_REG_ABSENT : e->pending ? LT_REG_PENDING : LT_REG_FOUND;
    if (ret == LT_REG_FOUND) {
        *node = e->node;
        *pid = e->pid;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

int lt_registry_reserve(lt_registry *r, const char *name, size_t len, uint64_t owner,
                        uint64_t *node, uint64_t *pid)
{
    lt_stat_add(LT_STAT_REGISTRY_READ, 1);
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    int ret;
    if (e) {
        ret = e->pending ? LT_REG_PENDING : LT_REG_FOUND;
        *node = e->node;
        *pid = e->pid;
    } else if ((e = add(r, name, len))) {
        e->pid = owner;
        e->pending = true;
        ret = LT_REG_ABSENT;
    } else {
        ret = -1;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

/* The part of a lunatic-rs name after its third '/' (the whole name if
 * it has fewer). */
static const char *short_name(const char *n)
{
    const char *s = n;
    for (int k = 0; k < 3; k++) {
        const char *slash = strchr(s, '/');
        if (!slash)
            return n;
        s = slash + 1;
    }
    return s;
}

int lt_registry_get_short(lt_registry *r, const char *name, size_t len, uint64_t *node,
                          uint64_t *pid)
{
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    for (size_t i = 0; !e && i < r->n; i++) {
        const char *s = short_name(r->e[i].name);
        if (s != r->e[i].name && strlen(s) == len && !memcmp(s, name, len))
            e = &r->e[i];
    }
    int ret = !e ? LT_REG_ABSENT : e->pending ? LT_REG_PENDING : LT_REG_FOUND;
    if (ret == LT_REG_FOUND) {
        *node = e->node;
        *pid = e->pid;
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

static void remove_at(lt_registry *r, size_t i)
{
    free(r->e[i].name);
    r->e[i] = r->e[--r->n];
    lt_stat_add(LT_STAT_NAMES_REMOVED, 1);
}

void lt_registry_remove(lt_registry *r, const char *name, size_t len)
{
    lt_stat_add(LT_STAT_REGISTRY_DELETION, 1);
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    if (e)
        remove_at(r, (size_t)(e - r->e));
    pthread_mutex_unlock(&r->lock);
}

void lt_registry_settle(lt_registry *r, const char *name, size_t len, uint64_t owner, bool ok,
                        uint64_t pid)
{
    pthread_mutex_lock(&r->lock);
    entry *e = find(r, name, len);
    /* a put or remove meanwhile took the name over: it stays as they left it */
    if (e && e->pending && e->pid == owner) {
        if (ok) {
            lt_stat_add(LT_STAT_REGISTRY_WRITE, 1);
            e->pid = pid;
            e->pending = false;
        } else {
            remove_at(r, (size_t)(e - r->e));
        }
    }
    pthread_mutex_unlock(&r->lock);
}

void lt_registry_remove_pid(lt_registry *r, uint64_t pid)
{
    /* In a cluster pid carries this node's id (remote.h), and guests store
     * it with that node id (lunatic-rs) or 0; a name given the pid without
     * its node bits and node 0 names the same process. */
    uint64_t node = lt_pid_node(pid), local = pid & LT_PID_LOCAL_MASK;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n;) {
        const entry *e = &r->e[i];
        if (e->pid == pid ? e->node == 0 || e->node == node : e->node == 0 && e->pid == local)
            remove_at(r, i);
        else
            i++;
    }
    pthread_mutex_unlock(&r->lock);
}

const char *lt_registry_name_of(lt_registry *r, uint64_t pid, char *buf, size_t size)
{
    const char *found = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        if (r->e[i].pid != pid || r->e[i].pending)
            continue;
        /* lunatic-rs names are "type/type/kind/name": show the last part */
        const char *n = r->e[i].name;
        for (int k = 0; k < 3; k++) {
            const char *slash = strchr(n, '/');
            if (!slash)
                break;
            n = slash + 1;
        }
        snprintf(buf, size, "'%s'", n);
        found = buf;
        break;
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

void lt_registry_each(lt_registry *r,
                      void (*fn)(const char *name, size_t len, uint64_t node, uint64_t pid, void *ud),
                      void *ud)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        if (!r->e[i].pending)
            fn(r->e[i].name, r->e[i].len, r->e[i].node, r->e[i].pid, ud);
    pthread_mutex_unlock(&r->lock);
}
