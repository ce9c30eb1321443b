/* parspawn.c - K processes spawn short-lived children at once (argv[1] = K),
 * 200,000 in all: spawn throughput when many processes spawn (the
 * original lunatic serialised this, its issue #78). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "lunatic_guest.h"
LG_EXPORT("child") void child(void) {}
LG_EXPORT("spawner") void spawner(uint64_t boss, int32_t n) {
    for (int i = 0; i < n; i++) {
        lg_spawn("child", LG_NOARGS);
        if ((i & 255) == 255) lg_sleep_ms(0);
    }
    lg_send_u64(boss, 9, 0);
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 1, total = 200000;
    for (int i = 0; i < 4000; i++) lg_spawn("child", LG_NOARGS); /* warm the slot pool */
    lg_sleep_ms(100);
    double t0 = now();
    for (int i = 0; i < k; i++) lg_spawn("spawner", LG_ARGS(LG_I64(lg_self()), LG_I32(total / k)));
    for (int i = 0; i < k; i++) lg_receive_tag(9, LG_FOREVER);
    double t = now() - t0;
    printf("%d spawners: %d short-lived spawns in %.3f s = %.2f M spawns/s\n", k, total, t, total / t / 1e6);
    return 0;
}
