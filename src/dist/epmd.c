/*
 * epmd.c - finding other nodes: our registration with EPMD (through ei),
 * and the connector thread, which resolves a node's host, asks that
 * host's EPMD for its port (unless the port is static) and connects. Those
 * calls block, so they run here and not on the node thread, which gets a
 * connected socket and does the handshakes itself.
 *
 * EPMD's port is ERL_EPMD_PORT if set (as for ei and erl), else 4369.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist/internal.h"

/* Exported by libei but declared only in its internal ei_epmd.h: the
 * port a node registered under alive on the EPMD at addr (a PORT2_REQ). */
int ei_epmd_port_tmo(struct in_addr *inaddr, const char *alive, int *dist, unsigned ms);

#define EPMD_TIMEOUT_MS 3000

static bool epmd_listens(void);
#define CONNECT_TIMEOUT_MS 3000

static unsigned epmd_port(void)
{
    const char *p = getenv("ERL_EPMD_PORT");
    return p && atoi(p) > 0 ? (unsigned)atoi(p) : 4369;
}

int ld_epmd_publish(ld_node *n, char *err, size_t errsize)
{
    ei_cnode ec;
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    if (ei_connect_xinit(&ec, n->host, n->alive, n->name, &lo, n->cookie, n->creation) < 0) {
        snprintf(err, errsize, "the node name '%s' is not valid for the distribution", n->name);
        return -1;
    }
    int fd = ei_publish_tmo(&ec, (int)n->port, EPMD_TIMEOUT_MS);
    if (fd >= 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    int e = erl_errno;
    if (epmd_listens())
        snprintf(err, errsize, "the name '%s' is already registered with EPMD (is another node "
                 "running under it?)", n->alive);
    else
        snprintf(err, errsize, "cannot reach EPMD on 127.0.0.1:%u (%s): start it with `epmd "
                 "-daemon`, or run without it (--no-epmd --port P, peers as NAME@HOST:PORT)",
                 epmd_port(), strerror(e));
    return -1;
}

/* ---- the connector thread ----------------------------------------------------------- */

/* A connected, non-blocking socket to host:port, or -1 with a reason. */
static int connect_to(const struct in_addr *addr, unsigned port, char *err, size_t errsize)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsize, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    /* before a TLS handshake too: delayed ACKs cost ~40 ms per connect */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = *addr};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        snprintf(err, errsize, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int r;
    do
        r = poll(&pf, 1, CONNECT_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (r == 0)
        soerr = ETIMEDOUT;
    else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr) {
        snprintf(err, errsize, "connect: %s", strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether something listens on EPMD's port: tells "no EPMD" from "EPMD
 * refused the name" when the registration fails. */
static bool epmd_listens(void)
{
    char e[64];
    struct in_addr lo = {htonl(INADDR_LOOPBACK)};
    int fd = connect_to(&lo, epmd_port(), e, sizeof e);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

static void attempt(ld_creq *q)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int e = getaddrinfo(q->host, NULL, &hints, &ai);
    if (e || !ai) {
        snprintf(q->err, sizeof q->err, "cannot resolve host '%.100s': %s", q->host, gai_strerror(e));
        if (ai)
            freeaddrinfo(ai);
        return;
    }
    struct in_addr addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    freeaddrinfo(ai);
    unsigned port = q->port;
    if (!port) {
        char alive[LD_MAXNAME];
        snprintf(alive, sizeof alive, "%s", q->name);
        char *at = strchr(alive, '@');
        if (at)
            *at = 0;
        int dist;
        int p = ei_epmd_port_tmo(&addr, alive, &dist, EPMD_TIMEOUT_MS);
        if (p <= 0) {
            snprintf(q->err, sizeof q->err, "%.100s is not registered with EPMD on %.60s", q->name, q->host);
            return;
        }
        port = (unsigned)p;
    }
    q->fd = connect_to(&addr, port, q->err, sizeof q->err);
}

static void *connector(void *arg)
{
    ld_node *n = arg;
    pthread_setname_np(pthread_self(), "lunatic-connect");
    pthread_mutex_lock(&n->clock);
    for (;;) {
        while (!n->creq && !atomic_load(&n->stopping))
            pthread_cond_wait(&n->ccond, &n->clock);
        if (atomic_load(&n->stopping))
            break;
        ld_creq *q = n->creq;
        n->creq = q->next;
        pthread_mutex_unlock(&n->clock);
        q->fd = -1;
        attempt(q);
        pthread_mutex_lock(&n->clock);
        q->next = n->cdone;
        n->cdone = q;
        ld_kick(n);
    }
    pthread_mutex_unlock(&n->clock);
    return NULL;
}

int ld_connector_start(ld_node *n)
{
    if (pthread_create(&n->connector, NULL, connector, n) != 0)
        return -1;
    n->connector_started = true;
    return 0;
}

void ld_connector_stop(ld_node *n)
{
    if (n->connector_started) {
        pthread_mutex_lock(&n->clock);
        pthread_cond_broadcast(&n->ccond);
        pthread_mutex_unlock(&n->clock);
        pthread_join(n->connector, NULL);
        n->connector_started = false;
    }
    for (ld_creq *lists[2] = {n->creq, n->cdone}, **l = lists; l < lists + 2; l++) {
        for (ld_creq *q = *l, *next; q; q = next) {
            next = q->next;
            if (q->fd >= 0)
                close(q->fd);
            free(q);
        }
    }
    n->creq = n->cdone = NULL;
}

void ld_connect_peer(ld_node *n, ld_peer *p)
{
    if (p->state != PEER_DOWN)
        return;
    ld_creq *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->peer = p;
    q->fd = -1;
    snprintf(q->name, sizeof q->name, "%s", p->name);
    snprintf(q->host, sizeof q->host, "%s", p->host);
    q->port = p->port;
    pthread_mutex_lock(&p->qlock);
    p->state = PEER_CONNECTING;
    pthread_mutex_unlock(&p->qlock);
    pthread_mutex_lock(&n->clock);
    ld_creq **t = &n->creq;
    while (*t)
        t = &(*t)->next;
    *t = q;
    pthread_cond_signal(&n->ccond);
    pthread_mutex_unlock(&n->clock);
}
