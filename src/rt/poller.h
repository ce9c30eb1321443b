/*
 * poller.h - the poller thread: it sleeps in epoll_wait until the earliest
 * timer or an fd event, then fires due timers and wakes the processes that
 * waited for the fd. An eventfd interrupts it when an earlier timer is
 * added or the runtime stops.
 *
 * A process waiting for an fd registers it with lt_poll_fd and parks; one
 * epoll registration per fd (the original descriptor, not a duplicate: a
 * duplicate would keep a file or socket open after its wait ended), armed
 * one-shot with the union of the events wanted, and a waiter list without
 * duplicates. When the fd fires, every waiter is woken and the entry goes;
 * a waiter that has died meanwhile is simply not found.
 */
#ifndef LUNATIC_RT_POLLER_H
#define LUNATIC_RT_POLLER_H

#include <pthread.h>

#include "rt/base.h"

typedef struct lt_poller {
    pthread_t thread;
    atomic_bool stopping;
    int epfd, evfd;
    pthread_mutex_t lock;        /* guards fds: who waits for which fd */
    struct lt_fdwait *fds;       /* indexed by fd */
    int nfds;
} lt_poller;

/* Creates the epoll set and starts the thread. 0, or -1. */
int lt_poller_start(lt_runtime *rt);
/* Stops and joins the thread (the scheduler has stopped), frees the rest. */
void lt_poller_stop(lt_runtime *rt);
/* Interrupts epoll_wait (a new earliest timer). */
void lt_poller_kick(lt_runtime *rt);
/* Wakes p (for its current wait) when fd is ready for events (EPOLLIN,
 * EPOLLOUT, ...; one shot). 0, or -1 if the fd cannot be watched. */
int lt_poll_fd(lt_runtime *rt, lt_process *p, int fd, uint32_t events);
/* Forgets fd (before it is closed): its waiters are woken so that they
 * look again. */
void lt_poll_forget(lt_runtime *rt, int fd);

#endif
