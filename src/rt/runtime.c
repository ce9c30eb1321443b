/*
 * runtime.c - a runtime's life (runtime.h): start the poller and the
 * workers, stop them, and keep the exit statuses of watched processes.
 */
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt/env.h"
#include "rt/runtime.h"

int64_t lt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lt_spin_wait(atomic_int *l)
{
    for (int spins = 0; atomic_load_explicit(l, memory_order_relaxed); spins++) {
        if (spins < 256)
            lt_cpu_relax();
        else
            sched_yield();
    }
}

int lt_log_level_parse(const char *v)
{
    static const char *const names[] = {"off", "error", "warn", "info", "debug", "trace"};
    if (!v)
        return LT_LOG_WARN;
    for (int l = LT_LOG_TRACE; l >= LT_LOG_OFF; l--)
        if (strcasestr(v, names[l]))
            return l;
    return LT_LOG_WARN;
}

lt_runtime *lt_runtime_new(const lt_runtime_opts *o)
{
    if (o->nhosts > sizeof ((lt_runtime *)0)->hosts / sizeof (lw_host_table *)) {
        errno = EINVAL;
        return NULL;
    }
    /* glibc gives each worker thread its own arena, which grows its heap
     * by one mprotect call per small step: with a million processes that
     * was a fifth of spawn time. One arena, grown in 8 MiB steps (pages are
     * still committed only when touched), avoids it; with one worker per
     * core the shared arena lock is rarely contended. */
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TOP_PAD, 8 << 20);
    lt_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        errno = ENOMEM;
        return NULL;
    }
    if (o->nhosts) /* hosts may be NULL then (memcpy's arguments may not) */
        memcpy(rt->hosts, o->hosts, o->nhosts * sizeof *o->hosts);
    rt->nhosts = o->nhosts;
    const char *log = getenv("LUNATIC_LOG");
    if (!log)
        log = getenv("RUST_LOG");
    rt->log_level = lt_log_level_parse(log);
    rt->log_tokens = LT_LOG_BURST;
    pthread_mutex_init(&rt->env_lock, NULL);
    pthread_mutex_init(&rt->done_lock, NULL);
    pthread_cond_init(&rt->done_cond, NULL);
    int e = 0;
    if (lt_timers_init(&rt->timers) < 0)
        goto fail_timers;
    if (lt_pool_init(&rt->pool) < 0)
        goto fail_pool;
    if (lt_poller_start(rt) < 0)
        goto fail_poller;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = o->threads ? o->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    if (lt_sched_start(rt, n, o->reductions ? o->reductions : 20000) < 0)
        goto fail_sched;
    return rt;
fail_sched:
    e = errno;
    lt_poller_stop(rt);
fail_poller:
    e = e ? e : errno;
    lt_pool_free(&rt->pool);
fail_pool:
    lt_timers_free(&rt->timers);
fail_timers:
    pthread_mutex_destroy(&rt->env_lock);
    pthread_mutex_destroy(&rt->done_lock);
    pthread_cond_destroy(&rt->done_cond);
    free(rt);
    errno = e ? e : EAGAIN;
    return NULL;
}

int lt_remote_install(lt_runtime *rt, uint16_t node_id, const lt_remote_ops *ops, void *ud)
{
    pthread_mutex_lock(&rt->env_lock);
    bool fresh = rt->envs == NULL; /* no process was ever spawned */
    pthread_mutex_unlock(&rt->env_lock);
    if (!fresh || node_id == 0 || rt->remote)
        return -1;
    rt->node_bits = (uint64_t)node_id << LT_PID_NODE_SHIFT;
    rt->remote_ud = ud;
    rt->remote = ops;
    atomic_store_explicit(&rt->remote_set, true, memory_order_release);
    return 0;
}

void lt_runtime_free(lt_runtime *rt)
{
    if (!rt)
        return;
    if (rt->remote)
        rt->remote->stop(rt->remote_ud);
    lt_sched_free(rt);
    lt_pool_free(&rt->pool);   /* its jobs wake processes: before they go */
    lt_poller_stop(rt);
    if (rt->remote)
        rt->remote->free(rt->remote_ud);
    lt_env_free_all(rt);
    lt_timers_free(&rt->timers);
    while (rt->done) {
        lt_done *d = rt->done;
        rt->done = d->next;
        free(d);
    }
    pthread_mutex_destroy(&rt->env_lock);
    pthread_mutex_destroy(&rt->done_lock);
    pthread_cond_destroy(&rt->done_cond);
    free(rt);
}

void lt_runtime_stop(lt_runtime *rt) { lt_sched_stop(rt); }

void lt_runtime_record_exit(lt_runtime *rt, lt_done *d)
{
    pthread_mutex_lock(&rt->done_lock);
    d->next = rt->done;
    rt->done = d;
    pthread_cond_broadcast(&rt->done_cond);
    pthread_mutex_unlock(&rt->done_lock);
}

int lt_runtime_wait(lt_runtime *rt, uint64_t env, uint64_t pid)
{
    pthread_mutex_lock(&rt->done_lock);
    for (;;) {
        for (lt_done **d = &rt->done; *d; d = &(*d)->next) {
            if ((*d)->env == env && (*d)->pid == pid) {
                lt_done *found = *d;
                *d = found->next;
                pthread_mutex_unlock(&rt->done_lock);
                int status = found->status;
                free(found);
                return status;
            }
        }
        pthread_cond_wait(&rt->done_cond, &rt->done_lock);
    }
}
