/* churn.c - spawn cost when processes come and go (the usual server pattern):
 * short-lived children end and their memory slots are reused, so a spawn
 * pays no first-touch page faults. Prints the time per spawn call.
 * Build: clang --target=wasm32-wasi --sysroot=/usr -O2 -I sdk -o churn.wasm churn.c */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "lunatic_guest.h"
LG_EXPORT("child") void child(void) {}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    /* warm up: a first batch allocates the slots that later ones reuse */
    for (int i = 0; i < 2000; i++) lg_spawn("child", LG_NOARGS);
    lg_sleep_ms(100);
    double us = 0;
    for (int i = 0; i < n; i += 1024) {
        struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
        for (int k = 0; k < 1024 && i + k < n; k++)
            lg_spawn("child", LG_NOARGS);
        clock_gettime(CLOCK_MONOTONIC, &b);
        us += ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3;
        lg_sleep_ms(1); /* let them finish: their memory is reused */
    }
    printf("spawned %d short-lived processes: %.2f us per spawn call\n", n, us / n);
    return 0;
}
