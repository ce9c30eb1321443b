/*
 * bench/proc/spawn.c - shapes (1) and (5): N idle processes alive at once.
 *   lunatic run spawn.wasm [N=100000] [HOLD_MS=500] [PREFIX]
 * Prints "# base" and "# idle N" markers, each followed by a HOLD_MS pause
 * (the runner samples the OS process's VmRSS then), and
 *   spawn_us        time of the spawn loop per process
 *   spawn_ready_us  spawn loop + one ping/pong with every child (all alive
 *                   and blocked in receive), per process
 * PREFIX (e.g. "million_") is prepended to the keys.
 */
#include "abi.h"

enum { PING = 1, PONG = 2 };

/* An idle child: blocks in receive; answers pings (so the parent knows it
 * runs) and goes back to waiting. */
LT_EXPORT("idle") void idle(int64_t parent)
{
    for (;;) {
        int64_t tag;
        recv_i64(0, &tag);
        if (tag == PING) send_i64((uint64_t)parent, PONG, 0);
    }
}

int main(int argc, char **argv)
{
    long n = arg_long(argc, argv, 1, 100000);
    long hold = arg_long(argc, argv, 2, 500);
    const char *prefix = argc > 3 ? argv[3] : "";
    char key[64];
    uint64_t *pids = malloc(sizeof *pids * (size_t)(n ? n : 1));
    if (!pids) { fprintf(stderr, "out of memory\n"); return 1; }
    int64_t self = lt_process_id();

    marker("base");
    lt_sleep_ms(hold);

    double t0 = now_ns();
    for (long i = 0; i < n; i++) pids[i] = spawn_fn("idle", &self, 1);
    double t1 = now_ns();
    for (long i = 0; i < n; i++) send_i64(pids[i], PING, 0);
    for (long i = 0; i < n; i++) recv_i64(PONG, NULL);
    double t2 = now_ns();

    snprintf(key, sizeof key, "%sspawn_us", prefix);
    out(key, (t1 - t0) / 1000 / (double)(n ? n : 1));
    snprintf(key, sizeof key, "%sspawn_ready_us", prefix);
    out(key, (t2 - t0) / 1000 / (double)(n ? n : 1));
    printf("# idle %ld\n", n);
    fflush(stdout);
    lt_sleep_ms(hold);
    marker("done");
    return 0;
}
