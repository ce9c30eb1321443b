/* poll.c - poll(2) with a timeout and on stdin (a pipe the driver fills
 * late), then reads it: exercises suspension on fds and clocks. */
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = poll(NULL, 0, 30);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("poll timeout: %d, waited >= 30ms: %d\n", r, ms >= 30);
    struct pollfd p = {0, POLLIN, 0};
    r = poll(&p, 1, 5000);
    printf("stdin ready: %d, POLLIN: %d\n", r, (p.revents & POLLIN) != 0);
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf);
    printf("read: '%.*s'\n", (int)(n > 0 ? n - 1 : 0), buf);
    return 0;
}
