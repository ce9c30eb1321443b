/*
 * poller.c - the poller thread (poller.h): timers and fd readiness.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rt/env.h"
#include "rt/poller.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/stats.h"
#include "rt/timer.h"

/* A process waiting for an fd. */
typedef struct fd_waiter {
    lt_env *env;
    uint64_t pid, seq;
    uint32_t events;
} fd_waiter;

/* What the poller knows of one fd, under its stripe's lock. */
struct lt_fdwait {
    uint32_t gen;           /* bumps when the registration changes; events carry it */
    uint32_t armed;         /* one shot: the events armed (0: not in the epoll set) */
    bool registered;        /* lt_poll_register: in the set for good, edge triggered */
    uint32_t ready;         /* registered: readiness seen and not yet consumed */
    uint32_t n, cap;
    fd_waiter *w;
};

/* Errors and hang-ups concern every waiter, whatever it waits for. */
#define ALWAYS (EPOLLERR | EPOLLHUP | EPOLLRDHUP)

static pthread_mutex_t *stripe(lt_poller *po, int fd) { return &po->locks[fd % LT_POLL_STRIPES]; }

/* The entry of fd, its chunk allocated if create; NULL if out of range or
 * memory (or absent and !create). */
static struct lt_fdwait *entry(lt_poller *po, int fd, bool create)
{
    if (fd < 0 || fd >= LT_POLL_CHUNK * LT_POLL_CHUNKS)
        return NULL;
    unsigned c = (unsigned)fd / LT_POLL_CHUNK;
    struct lt_fdwait *chunk = atomic_load_explicit(&po->chunks[c], memory_order_acquire);
    if (!chunk && create) {
        struct lt_fdwait *fresh = calloc(LT_POLL_CHUNK, sizeof *fresh);
        if (!fresh)
            return NULL;
        struct lt_fdwait *expect = NULL;
        if (atomic_compare_exchange_strong(&po->chunks[c], &expect, fresh))
            chunk = fresh;
        else {
            free(fresh);
            chunk = expect;
        }
    }
    return chunk ? &chunk[(unsigned)fd % LT_POLL_CHUNK] : NULL;
}

static uint64_t event_data(int fd, uint32_t gen) { return (uint64_t)(uint32_t)fd | (uint64_t)gen << 32; }

/* Adds or updates p's waiter entry. Under the stripe lock. */
static int add_waiter(struct lt_fdwait *e, lt_process *p, uint32_t events)
{
    uint32_t i = 0;
    while (i < e->n && !(e->w[i].env == p->env && e->w[i].pid == p->pid))
        i++;
    if (i == e->n) {
        if (e->n == e->cap) {
            uint32_t cap = e->cap ? e->cap * 2 : 2;
            fd_waiter *w = realloc(e->w, cap * sizeof *w);
            if (!w)
                return -1;
            e->w = w;
            e->cap = cap;
        }
        e->n++;
    }
    e->w[i] = (fd_waiter){p->env, p->pid, p->wait_seq, events};
    return 0;
}

/* Moves the waiters wanting any of events (all if events has ALWAYS bits)
 * out of e into *out (malloc'ed) and returns how many. Under the lock. */
static uint32_t take_waiters(struct lt_fdwait *e, uint32_t events, fd_waiter **out)
{
    *out = NULL;
    if (!e->n)
        return 0;
    fd_waiter *w = events & ALWAYS || !e->registered ? NULL : malloc(e->n * sizeof *w);
    if (!w) { /* everyone (also when out of memory: a spurious wake is harmless) */
        uint32_t n = e->n;
        *out = e->w;
        e->w = NULL;
        e->n = e->cap = 0;
        return n;
    }
    uint32_t k = 0, keep = 0;
    for (uint32_t i = 0; i < e->n; i++) {
        if (e->w[i].events & events)
            w[k++] = e->w[i];
        else
            e->w[keep++] = e->w[i];
    }
    e->n = keep;
    *out = w;
    return k;
}

static void wake_all(fd_waiter *w, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        lt_send_wake(w[i].env, w[i].pid, w[i].seq);
    free(w);
}

int lt_poll_wait(lt_runtime *rt, lt_process *p, int fd, uint32_t events)
{
    lt_poller *po = &rt->poller;
    p->wait_kind = LT_WAIT_IO;   /* for observers; p is the caller: its own field */
    struct lt_fdwait *e = entry(po, fd, true);
    if (!e)
        return -1;
    pthread_mutex_t *l = stripe(po, fd);
    int r = 0;
    pthread_mutex_lock(l);
    if (e->registered) {
        if (e->ready & (events | ALWAYS)) {
            e->ready &= ~events;  /* consumed; ALWAYS bits stay */
            r = 1;
        } else if (add_waiter(e, p, events) < 0) {
            r = -1;
        }
    } else {
        bool had = false;
        for (uint32_t i = 0; i < e->n; i++)
            had |= e->w[i].env == p->env && e->w[i].pid == p->pid;
        if (add_waiter(e, p, events) < 0) {
            r = -1;
        } else {
            uint32_t want = e->armed | events;
            struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.u64 = event_data(fd, e->gen)};
            int c = epoll_ctl(po->epfd, EPOLL_CTL_MOD, fd, &ev);
            if (c < 0) /* first wait on it, or the guest closed and reopened it */
                c = epoll_ctl(po->epfd, EPOLL_CTL_ADD, fd, &ev);
            if (c == 0) {
                e->armed = want;
            } else {
                if (!had)
                    e->n--;
                r = -1;
            }
        }
    }
    pthread_mutex_unlock(l);
    return r;
}

int lt_poll_register(lt_runtime *rt, int fd)
{
    lt_poller *po = &rt->poller;
    struct lt_fdwait *e = entry(po, fd, true);
    if (!e)
        return -1;
    pthread_mutex_t *l = stripe(po, fd);
    pthread_mutex_lock(l);
    e->gen++;
    e->registered = true;
    e->armed = 0;
    e->ready = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = event_data(fd, e->gen)};
    int r = epoll_ctl(po->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (r < 0 && errno == EEXIST)
        r = epoll_ctl(po->epfd, EPOLL_CTL_MOD, fd, &ev);
    if (r < 0)
        e->registered = false;
    pthread_mutex_unlock(l);
    return r < 0 ? -1 : 0;
}

void lt_poll_unregister(lt_runtime *rt, int fd)
{
    lt_poller *po = &rt->poller;
    struct lt_fdwait *e = entry(po, fd, false);
    if (!e)
        return;
    pthread_mutex_t *l = stripe(po, fd);
    pthread_mutex_lock(l);
    if (e->registered || e->armed)
        epoll_ctl(po->epfd, EPOLL_CTL_DEL, fd, NULL);
    e->gen++;
    e->registered = false;
    e->armed = 0;
    e->ready = 0;
    fd_waiter *w;
    uint32_t n = take_waiters(e, ALWAYS, &w);
    pthread_mutex_unlock(l);
    wake_all(w, n);
}

void lt_poll_cancel(lt_runtime *rt, lt_process *p, int fd)
{
    lt_poller *po = &rt->poller;
    struct lt_fdwait *e = entry(po, fd, false);
    if (!e)
        return;
    pthread_mutex_t *l = stripe(po, fd);
    pthread_mutex_lock(l);
    for (uint32_t i = 0; i < e->n; i++) {
        if (e->w[i].env == p->env && e->w[i].pid == p->pid) {
            e->w[i] = e->w[--e->n];
            break;
        }
    }
    pthread_mutex_unlock(l);
}

/* An event for fd, registration generation gen. */
static void fd_event(lt_runtime *rt, int fd, uint32_t gen, uint32_t events)
{
    lt_poller *po = &rt->poller;
    struct lt_fdwait *e = entry(po, fd, false);
    if (!e)
        return;
    pthread_mutex_t *l = stripe(po, fd);
    pthread_mutex_lock(l);
    if (e->gen != gen) { /* the fd was unregistered (and maybe reused) since */
        pthread_mutex_unlock(l);
        return;
    }
    fd_waiter *w;
    uint32_t n;
    if (e->registered) {
        e->ready |= events;
        n = take_waiters(e, events, &w);
    } else {
        n = take_waiters(e, ALWAYS, &w);
        e->armed = 0;
        epoll_ctl(po->epfd, EPOLL_CTL_DEL, fd, NULL);
    }
    pthread_mutex_unlock(l);
    wake_all(w, n);
}

void lt_poller_kick(lt_runtime *rt)
{
    uint64_t one = 1;
    ssize_t r = write(rt->poller.evfd, &one, sizeof one);
    (void)r;
}

/* Handles fd events from epoll_wait, on any thread; the kick eventfd's
 * only on the poller thread (a kick is for it: a new earliest timer).
 * The number of fd events. */
static int handle(lt_runtime *rt, const struct epoll_event *evs, int n, bool poller)
{
    lt_poller *po = &rt->poller;
    int got = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        if (fd == po->evfd) {
            if (poller) {
                uint64_t v;
                ssize_t r = read(po->evfd, &v, sizeof v);
                (void)r;
            }
            continue;
        }
        fd_event(rt, fd, (uint32_t)(evs[i].data.u64 >> 32), evs[i].events);
        got++;
    }
    return got;
}

bool lt_poller_idle(lt_runtime *rt, bool first)
{
    lt_poller *po = &rt->poller;
    if (first)
        atomic_fetch_add(&po->pollers, 1);
    if (pthread_mutex_trylock(&po->idle_lock) != 0)
        return false;
    struct epoll_event evs[64];
    int n = epoll_wait(po->epfd, evs, 64, 0);
    int got = handle(rt, evs, n, false);
    pthread_mutex_unlock(&po->idle_lock);
    return got > 0;
}

void lt_poller_idle_end(lt_runtime *rt, bool sleeping)
{
    if (atomic_fetch_sub(&rt->poller.pollers, 1) == 1 && sleeping)
        lt_poller_kick(rt);
}

static void *poller_main(void *arg)
{
    lt_runtime *rt = arg;
    lt_poller *po = &rt->poller;
    struct epoll_event evs[256];
    pthread_setname_np(pthread_self(), "lunatic-poller");
    lt_stats_attach();
    while (!atomic_load(&po->stopping)) {
        int timeout = -1;
        int64_t next = lt_timers_next(&rt->timers);
        if (next >= 0) {
            int64_t d = next - lt_now_ns();
            int64_t ms = (d + 999999) / 1000000;
            timeout = d <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
        }
        int n;
        if (atomic_load(&po->pollers) > 0) {
            /* Idle workers watch the fds (lt_poller_idle): sleeping in
             * epoll_wait here would have this thread woken for each event
             * they take, a context switch as costly as the one they save.
             * Wait for kicks (timers; the last poller to sleep kicks), and
             * look at the fds at least every millisecond, for when every
             * worker runs a long slice. */
            struct pollfd pf = {.fd = po->evfd, .events = POLLIN};
            poll(&pf, 1, timeout < 0 || timeout > 1 ? 1 : timeout);
            pthread_mutex_lock(&po->idle_lock);
            n = epoll_wait(po->epfd, evs, 256, 0);
            handle(rt, evs, n, true);
            pthread_mutex_unlock(&po->idle_lock);
        } else {
            n = epoll_wait(po->epfd, evs, 256, timeout);
            handle(rt, evs, n, true);
        }
        lt_timers_fire_due(&rt->timers, lt_now_ns());
    }
    lt_stats_detach();
    return NULL;
}

int lt_poller_start(lt_runtime *rt)
{
    lt_poller *po = &rt->poller;
    po->epfd = epoll_create1(EPOLL_CLOEXEC);
    po->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = event_data(po->evfd, 0)};
    if (po->epfd < 0 || po->evfd < 0 || epoll_ctl(po->epfd, EPOLL_CTL_ADD, po->evfd, &ev) < 0)
        goto fail;
    for (int i = 0; i < LT_POLL_STRIPES; i++)
        pthread_mutex_init(&po->locks[i], NULL);
    pthread_mutex_init(&po->idle_lock, NULL);
    int r = pthread_create(&po->thread, NULL, poller_main, rt);
    if (r != 0) {
        for (int i = 0; i < LT_POLL_STRIPES; i++)
            pthread_mutex_destroy(&po->locks[i]);
        pthread_mutex_destroy(&po->idle_lock);
        errno = r;
        goto fail;
    }
    return 0;
fail:;
    int e = errno;
    if (po->epfd >= 0)
        close(po->epfd);
    if (po->evfd >= 0)
        close(po->evfd);
    po->epfd = po->evfd = -1;
    errno = e;
    return -1;
}

void lt_poller_stop(lt_runtime *rt)
{
    lt_poller *po = &rt->poller;
    atomic_store(&po->stopping, true);
    lt_poller_kick(rt);
    pthread_join(po->thread, NULL);
    for (int c = 0; c < LT_POLL_CHUNKS; c++) {
        struct lt_fdwait *chunk = atomic_load(&po->chunks[c]);
        if (!chunk)
            continue;
        for (int i = 0; i < LT_POLL_CHUNK; i++)
            free(chunk[i].w);
        free(chunk);
        po->chunks[c] = NULL;
    }
    close(po->epfd);
    close(po->evfd);
    for (int i = 0; i < LT_POLL_STRIPES; i++)
        pthread_mutex_destroy(&po->locks[i]);
    pthread_mutex_destroy(&po->idle_lock);
}
