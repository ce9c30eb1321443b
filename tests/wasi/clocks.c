/* clocks.c - clocks and sleeps. Prints only what is deterministic. */
#include <time.h>
#include <unistd.h>

#include "common.h"

static long long ns(clockid_t c)
{
    struct timespec t;
    CHECK(clock_gettime(c, &t) == 0);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
    struct timespec res;
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
    printf("monotonic res <= 1ms: %d\n", res.tv_sec == 0 && res.tv_nsec <= 1000000);
    long long r = ns(CLOCK_REALTIME);
    long long t = (long long)time(NULL);
    printf("realtime matches time(): %d\n", r / 1000000000LL - t <= 1 && t - r / 1000000000LL <= 1);
    long long a = ns(CLOCK_MONOTONIC);
    struct timespec d = {0, 50 * 1000000};
    CHECK(nanosleep(&d, NULL) == 0);
    long long b = ns(CLOCK_MONOTONIC);
    printf("nanosleep 50ms slept enough: %d, not too long: %d\n", b - a >= 50000000LL,
           b - a < 1000000000LL);
    a = ns(CLOCK_MONOTONIC);
    CHECK(usleep(20000) == 0);
    b = ns(CLOCK_MONOTONIC);
    printf("usleep 20ms: %d\n", b - a >= 20000000LL);
    a = ns(CLOCK_MONOTONIC);
    CHECK(sleep(0) == 0);
    d.tv_nsec = 0;
    CHECK(nanosleep(&d, NULL) == 0);
    b = ns(CLOCK_MONOTONIC);
    printf("monotonic never goes back: %d\n", b >= a);
    long long c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned x = 0;
    for (unsigned i = 0; i < 30000000u; i++)
        x += i;
    long long c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    printf("process cputime advances: %d\n", c1 > c0 && x != 1);
    return 0;
}
