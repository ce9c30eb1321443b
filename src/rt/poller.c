/*
 * poller.c - the poller thread (poller.h): timers and fd readiness.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rt/env.h"
#include "rt/poller.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/timer.h"

/* Who waits for one fd, under lt_poller.lock. */
typedef struct fd_waiter {
    lt_env *env;
    uint64_t pid, seq;
} fd_waiter;

struct lt_fdwait {
    uint32_t events;
    uint32_t n, cap;
    fd_waiter *w;
};

int lt_poll_fd(lt_runtime *rt, lt_process *p, int fd, uint32_t events)
{
    lt_poller *po = &rt->poller;
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&po->lock);
    if (fd >= po->nfds) {
        int n = po->nfds ? po->nfds : 64;
        while (n <= fd)
            n *= 2;
        struct lt_fdwait *t = realloc(po->fds, (size_t)n * sizeof *t);
        if (!t) {
            pthread_mutex_unlock(&po->lock);
            return -1;
        }
        memset(t + po->nfds, 0, (size_t)(n - po->nfds) * sizeof *t);
        po->fds = t;
        po->nfds = n;
    }
    struct lt_fdwait *e = &po->fds[fd];
    uint32_t i = 0;
    while (i < e->n && !(e->w[i].env == p->env && e->w[i].pid == p->pid))
        i++;
    bool added = i == e->n;
    if (added) {
        if (e->n == e->cap) {
            uint32_t cap = e->cap ? e->cap * 2 : 2;
            fd_waiter *w = realloc(e->w, cap * sizeof *w);
            if (!w) {
                pthread_mutex_unlock(&po->lock);
                return -1;
            }
            e->w = w;
            e->cap = cap;
        }
        e->n++;
    }
    e->w[i] = (fd_waiter){p->env, p->pid, p->wait_seq};
    uint32_t want = e->events | events;
    struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.u64 = (uint64_t)fd};
    int r = epoll_ctl(po->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (r < 0) /* first wait on it, or the guest closed and reopened it */
        r = epoll_ctl(po->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (r == 0)
        e->events = want;
    else if (added)
        e->n--;
    pthread_mutex_unlock(&po->lock);
    return r;
}

/* The fd fired or is forgotten: wake everyone waiting for it. */
static void fd_fired(lt_runtime *rt, int fd)
{
    lt_poller *po = &rt->poller;
    pthread_mutex_lock(&po->lock);
    if (fd < 0 || fd >= po->nfds) {
        pthread_mutex_unlock(&po->lock);
        return;
    }
    struct lt_fdwait *e = &po->fds[fd];
    fd_waiter *w = e->w;
    uint32_t n = e->n;
    bool registered = e->events != 0;
    e->w = NULL;
    e->n = e->cap = 0;
    e->events = 0;
    if (registered)
        epoll_ctl(po->epfd, EPOLL_CTL_DEL, fd, NULL);
    pthread_mutex_unlock(&po->lock);
    for (uint32_t i = 0; i < n; i++)
        lt_send_wake(w[i].env, w[i].pid, w[i].seq);
    free(w);
}

void lt_poll_forget(lt_runtime *rt, int fd) { fd_fired(rt, fd); }

void lt_poller_kick(lt_runtime *rt)
{
    uint64_t one = 1;
    ssize_t r = write(rt->poller.evfd, &one, sizeof one);
    (void)r;
}

static void *poller_main(void *arg)
{
    lt_runtime *rt = arg;
    lt_poller *po = &rt->poller;
    struct epoll_event evs[64];
    while (!atomic_load(&po->stopping)) {
        int timeout = -1;
        int64_t next = lt_timers_next(&rt->timers);
        if (next >= 0) {
            int64_t d = next - lt_now_ns();
            int64_t ms = (d + 999999) / 1000000;
            timeout = d <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
        }
        int n = epoll_wait(po->epfd, evs, 64, timeout);
        for (int i = 0; i < n; i++) {
            int fd = (int)evs[i].data.u64;
            if (fd == po->evfd) {
                uint64_t v;
                ssize_t r = read(po->evfd, &v, sizeof v);
                (void)r;
                continue;
            }
            fd_fired(rt, fd);
        }
        lt_timers_fire_due(&rt->timers, lt_now_ns());
    }
    return NULL;
}

int lt_poller_start(lt_runtime *rt)
{
    lt_poller *po = &rt->poller;
    po->epfd = epoll_create1(EPOLL_CLOEXEC);
    po->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)po->evfd};
    if (po->epfd < 0 || po->evfd < 0 || epoll_ctl(po->epfd, EPOLL_CTL_ADD, po->evfd, &ev) < 0)
        goto fail;
    pthread_mutex_init(&po->lock, NULL);
    if (pthread_create(&po->thread, NULL, poller_main, rt) != 0) {
        pthread_mutex_destroy(&po->lock);
        goto fail;
    }
    return 0;
fail:
    if (po->epfd >= 0)
        close(po->epfd);
    if (po->evfd >= 0)
        close(po->evfd);
    po->epfd = po->evfd = -1;
    return -1;
}

void lt_poller_stop(lt_runtime *rt)
{
    lt_poller *po = &rt->poller;
    atomic_store(&po->stopping, true);
    lt_poller_kick(rt);
    pthread_join(po->thread, NULL);
    for (int fd = 0; fd < po->nfds; fd++)
        free(po->fds[fd].w);
    free(po->fds);
    po->fds = NULL;
    po->nfds = 0;
    close(po->epfd);
    close(po->evfd);
    pthread_mutex_destroy(&po->lock);
}
