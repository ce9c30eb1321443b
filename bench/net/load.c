/*
 * load.c - the load generator of bench/net: closed-loop clients over
 * loopback, driven by one epoll thread.
 *
 *   load echo|http PORT CONNS SECS   CONNS connections, each sending a
 *       request and waiting for its answer, again and again, for SECS
 *       seconds after a one-second warm-up; prints
 *       "rps R p50_us A p99_us B errors E"
 *       echo: 64 bytes echoed back; http: "GET / HTTP/1.1" with keep-alive,
 *       an answer is a head plus Content-Length bytes
 *   load idle PORT CONNS             opens CONNS connections, prints
 *       "open CONNS" and keeps them idle until stdin closes
 *
 * Latency is measured per request from its write to the end of its answer,
 * in a histogram of 1 us buckets up to 100 ms (beyond: the last bucket).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXLAT 100000

static const char http_req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: lunatic-bench\r\n\r\n";
static char echo_req[64];

typedef struct conn {
    int fd;
    size_t want, got;      /* bytes of the answer expected (echo) / read */
    int64_t sent_at;
    char buf[4096];
} conn;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int open_conn(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* Whether buf[0..len) holds a whole HTTP answer. */
static int http_done(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length:", 15);
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
    return len >= (size_t)(end + 4 - buf) + body;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: load echo|http|idle PORT CONNS [SECS]\n");
        return 2;
    }
    const char *mode = argv[1];
    int port = atoi(argv[2]), n = atoi(argv[3]);
    double secs = argc > 4 ? atof(argv[4]) : 5;
    conn *c = calloc((size_t)n, sizeof *c);
    for (int i = 0; i < n; i++)
        c[i].fd = open_conn(port);
    if (!strcmp(mode, "idle")) {
        printf("open %d\n", n);
        fflush(stdout);
        char b;
        while (read(0, &b, 1) > 0)
            ;
        return 0;
    }
    int http = !strcmp(mode, "http");
    memset(echo_req, 'x', sizeof echo_req);
    const char *req = http ? http_req : echo_req;
    size_t reqlen = http ? sizeof http_req - 1 : sizeof echo_req;
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    static uint64_t lat[MAXLAT + 1];
    uint64_t done = 0, errors = 0;
    int64_t start = now_ns(), measure_from = start + 1000000000, end = measure_from + (int64_t)(secs * 1e9);
    int measuring = 0;
    for (int i = 0; i < n; i++) {
        c[i].sent_at = now_ns();
        if (write(c[i].fd, req, reqlen) != (ssize_t)reqlen)
            errors++;
    }
    struct epoll_event evs[512];
    for (;;) {
        int64_t t = now_ns();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            done = 0;
            memset(lat, 0, sizeof lat);
        }
        if (t >= end)
            break;
        int k = epoll_wait(ep, evs, 512, 100);
        for (int e = 0; e < k; e++) {
            conn *x = &c[evs[e].data.u32];
            ssize_t r = read(x->fd, x->buf + x->got, sizeof x->buf - x->got);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                continue;
            }
            x->got += (size_t)r;
            int complete = http ? http_done(x->buf, x->got) : x->got >= reqlen;
            if (x->got == sizeof x->buf && !complete) {
                errors++;
                x->got = 0;
            }
            if (!complete)
                continue;
            int64_t now = now_ns();
            uint64_t us = (uint64_t)(now - x->sent_at) / 1000;
            lat[us > MAXLAT ? MAXLAT : us]++;
            done++;
            x->got = 0;
            x->sent_at = now;
            if (write(x->fd, req, reqlen) != (ssize_t)reqlen)
                errors++;
        }
    }
    double elapsed = (double)(now_ns() - measure_from) / 1e9;
    uint64_t p50 = 0, p99 = 0, seen = 0;
    for (int i = 0; i <= MAXLAT; i++) {
        seen += lat[i];
        if (!p50 && seen * 2 >= done)
            p50 = (uint64_t)i;
        if (!p99 && seen * 100 >= done * 99) {
            p99 = (uint64_t)i;
            break;
        }
    }
    printf("rps %.0f p50_us %llu p99_us %llu errors %llu\n", (double)done / elapsed,
           (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)errors);
    return 0;
}
