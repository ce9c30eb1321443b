/*
 * peer.c - native peers that misbehave, for tests/t-net.sh (built with the
 * host compiler). Each mode talks to 127.0.0.1:PORT and exits 0 when it saw
 * what it expected:
 *   blackhole            listens with a backlog of 1 and never accepts;
 *                        prints its port, then sleeps until killed
 *   halfclose PORT       sends "half", shuts its write side, expects the
 *                        echo and then EOF
 *   reset PORT           sends "abc", then closes with a reset (SO_LINGER 0)
 *   slowloris PORT SECS  sends one byte (and takes its echo), then nothing
 *                        for SECS seconds
 *   neverread PORT       sends 4 MiB and never reads the echo; closes after
 *                        a second
 *   echo PORT            a well-behaved client: 100 KiB echoed back intact
 *   http PORT            three pipelined requests (one with a body) and a
 *                        fourth with "Connection: close": four answers
 *                        "Hello, world!", then EOF
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    int port = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(mode, "blackhole")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
            return 1;
        printf("%d\n", ntohs(a.sin_port));
        fflush(stdout);
        sleep(60);
        return 0;
    }
    if (!strcmp(mode, "halfclose")) {
        int fd = connect_to(port);
        if (write(fd, "half", 4) != 4)
            return 1;
        shutdown(fd, SHUT_WR);
        char buf[16];
        size_t got = 0;
        ssize_t n;
        while ((n = read(fd, buf + got, sizeof buf - got)) > 0)
            got += (size_t)n;
        printf("echoed %zu bytes then %s\n", got, n == 0 ? "EOF" : "an error");
        return !(got == 4 && !memcmp(buf, "half", 4) && n == 0);
    }
    if (!strcmp(mode, "reset")) {
        int fd = connect_to(port);
        if (write(fd, "abc", 3) != 3)
            return 1;
        char buf[3];
        if (read(fd, buf, 3) != 3) /* the echo: the server has read it */
            return 1;
        struct linger l = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        if (write(fd, "more", 4) != 4)
            return 1;
        close(fd);
        return 0;
    }
    if (!strcmp(mode, "slowloris")) {
        int fd = connect_to(port);
        char c;
        if (write(fd, "s", 1) != 1 || read(fd, &c, 1) != 1) /* its echo: a clean close */
            return 1;
        sleep((unsigned)(argc > 3 ? atoi(argv[3]) : 2));
        close(fd);
        return 0;
    }
    if (!strcmp(mode, "neverread")) {
        int fd = connect_to(port);
        static char big[1 << 16];
        memset(big, 'x', sizeof big);
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        size_t sent = 0;
        while (sent < (4u << 20)) {
            ssize_t n = write(fd, big, sizeof big);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        sleep(1);
        close(fd);
        printf("sent %zu bytes\n", sent);
        return 0;
    }
    if (!strcmp(mode, "echo")) {
        int fd = connect_to(port);
        static char out[100 << 10], in[sizeof out];
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (char)(i * 7);
        size_t got = 0;
        if (write(fd, out, sizeof out) != (ssize_t)sizeof out)
            return 1;
        ssize_t n;
        while (got < sizeof in && (n = read(fd, in + got, sizeof in - got)) > 0)
            got += (size_t)n;
        printf("echoed %zu bytes\n", got);
        return !(got == sizeof in && !memcmp(in, out, sizeof in));
    }
    if (!strcmp(mode, "http")) {
        int fd = connect_to(port);
        const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                          "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                          "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
            return 1;
        static char in[8192];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof in - 1 && (n = read(fd, in + got, sizeof in - 1 - got)) > 0)
            got += (size_t)n;
        int answers = 0;
        for (char *p = in; (p = strstr(p, "HTTP/1.1 200 OK\r\n")); p++)
            answers++;
        int hellos = 0;
        for (char *p = in; (p = strstr(p, "\r\n\r\nHello, world!")); p++)
            hellos++;
        printf("%d answers, %d bodies, then %s\n", answers, hellos, n == 0 ? "EOF" : "an error");
        return !(answers == 4 && hellos == 4 && n == 0 && strstr(in, "Connection: close"));
    }
    return 2;
}
