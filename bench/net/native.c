/*
 * native.c - the physical limit of bench/net: an echo or HTTP hello server
 * in plain C, one epoll loop per thread (default: one per core) sharing one
 * listener (EPOLLEXCLUSIVE), no processes, no copies beyond the kernel's.
 *
 *   native echo|http [THREADS]   prints "port N", serves until killed
 *
 * The HTTP answer is the same bytes as examples/http_server.c's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char hello[] = "HTTP/1.1 200 OK\r\n"
                            "Content-Type: text/plain\r\n"
                            "Content-Length: 13\r\n"
                            "\r\n"
                            "Hello, world!";
static int listener, http;

typedef struct conn {
    int fd;
    size_t have;
    char buf[8192];
} conn;

static void *serve(void *arg)
{
    (void)arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                close(c->fd);
                free(c);
                continue;
            }
            if (!http) {
                if (write(c->fd, c->buf, (size_t)r) != r) { /* the peer reads as it writes */
                }
                continue;
            }
            c->have += (size_t)r;
            size_t off = 0;
            char *end;
            while ((end = memmem(c->buf + off, c->have - off, "\r\n\r\n", 4))) {
                off = (size_t)(end - c->buf) + 4;
                if (write(c->fd, hello, sizeof hello - 1) < 0)
                    break;
            }
            memmove(c->buf, c->buf + off, c->have - off);
            c->have -= off;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    http = argc > 1 && !strcmp(argv[1], "http");
    int threads = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, SOMAXCONN) < 0 ||
        getsockname(listener, (struct sockaddr *)&a, &len) < 0) {
        perror("listen");
        return 1;
    }
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    pthread_t t;
    for (int i = 1; i < threads; i++)
        pthread_create(&t, NULL, serve, NULL);
    serve(NULL);
    return 0;
}
