/*
 * poller.h - the poller thread: it sleeps in epoll_wait until the earliest
 * timer or an fd event, then fires due timers and wakes the processes that
 * wait for the fd. An eventfd interrupts it when an earlier timer is added
 * or the runtime stops.
 *
 * Two ways to wait for an fd, both keyed by the fd number:
 *  - One shot (WASI's stdin and pipes): lt_poll_wait on an fd nobody
 *    registered arms it EPOLLONESHOT with the union of the events its
 *    waiters want; when it fires every waiter is woken and the fd leaves
 *    the epoll set. The original descriptor is used, never a duplicate (a
 *    duplicate would keep a file or socket open after its wait ended).
 *  - Registered (sockets): lt_poll_register adds the fd once, edge
 *    triggered for reading and writing, for as long as the socket lives.
 *    The poller records the readiness it sees; lt_poll_wait consumes it.
 *    So a read that would block costs no epoll_ctl: the protocol is
 *        try the I/O; on EAGAIN: lt_poll_wait(fd, EPOLLIN)
 *          1 -> readiness arrived since the last wait: try again
 *          0 -> parked until the next event (or the wait's deadline)
 *    A readiness bit can be stale (set by an event whose data a previous
 *    read already took): that costs one extra EAGAIN, never a lost wakeup,
 *    because the poller sets bits and takes waiters under the same lock.
 *    Errors and hang-ups stay set, so every later wait returns at once and
 *    the I/O reports them.
 * Waking is by wait number (p->wait_seq): a process that stopped waiting
 * ignores a late wake, and a waiter that died is simply not found.
 *
 * Locks: one of LT_POLL_STRIPES mutexes per fd (fd % stripes), so waits
 * on different sockets from different workers rarely meet.
 */
#ifndef LUNATIC_RT_POLLER_H
#define LUNATIC_RT_POLLER_H

#include <pthread.h>

#include "rt/base.h"

#define LT_POLL_STRIPES 64
#define LT_POLL_CHUNK 1024      /* fd entries per chunk */
#define LT_POLL_CHUNKS 4096     /* so fds below 4,194,304 */

typedef struct lt_poller {
    pthread_t thread;
    atomic_bool stopping;
    int epfd, evfd;
    pthread_mutex_t locks[LT_POLL_STRIPES];
    /* fd -> entry, in chunks allocated on first use and never moved */
    _Atomic(struct lt_fdwait *) chunks[LT_POLL_CHUNKS];
    atomic_int pollers;         /* idle workers polling (lt_poller_idle) */
    pthread_mutex_t idle_lock;  /* one epoll_wait(0) at a time */
} lt_poller;

/* Creates the epoll set and starts the thread. 0, or -1. */
int lt_poller_start(lt_runtime *rt);
/* Stops and joins the thread (the scheduler has stopped), frees the rest. */
void lt_poller_stop(lt_runtime *rt);
/* Interrupts epoll_wait (a new earliest timer). */
void lt_poller_kick(lt_runtime *rt);
/* An idle worker's poll, at each round of its spinning and yielding before
 * it sleeps (sched.c): takes ready fd events without waiting, so the
 * processes they wake run on this worker at once, with no thread woken on
 * the way. `first`: its first since it last ran a process or slept. true
 * if it woke something. While any worker polls, the poller thread waits
 * for kicks only. */
bool lt_poller_idle(lt_runtime *rt, bool first);
/* The worker stops polling: it runs a process, or (sleeping) it sleeps. */
void lt_poller_idle_end(lt_runtime *rt, bool sleeping);

/* Makes p (for its current wait) be woken when fd is ready for events
 * (EPOLLIN, EPOLLOUT). Returns 1 if a registered fd became ready since
 * the last wait (do not park: try the I/O again), 0 when p will be woken,
 * -1 if the fd cannot be watched. */
int lt_poll_wait(lt_runtime *rt, lt_process *p, int fd, uint32_t events);
/* Registers a socket for its whole life (edge triggered). 0, or -1. */
int lt_poll_register(lt_runtime *rt, int fd);
/* Unregisters fd before it is closed; its waiters are woken (they look
 * again and find the socket gone or get an error). */
void lt_poll_unregister(lt_runtime *rt, int fd);
/* Removes p's wait on fd, if any (p stopped waiting: timeout, death). */
void lt_poll_cancel(lt_runtime *rt, lt_process *p, int fd);

#endif
