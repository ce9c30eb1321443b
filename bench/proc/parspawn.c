/*
 * bench/proc/parspawn.c - shape (6): K spawner processes start at once and
 * together spawn TOTAL short-lived children (TOTAL/K each; a child returns
 * immediately): spawn throughput when many processes spawn at the same
 * time (the original lunatic serialised this, its issue #78).
 *   lunatic run parspawn.wasm [K=1] [TOTAL=200000]
 * Warm-up first: 4,000 short-lived children, then a 100 ms sleep. Timed from
 * starting the first spawner until all K have reported done. Prints
 *   parspawn_mps   million spawns per second
 *   parspawn_s     the timed wall time in seconds
 */
#include "abi.h"

enum { DONE = 9 };

LT_EXPORT("child") void child(void) {}

LT_EXPORT("spawner") void spawner(int64_t boss, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        spawn_fn("child", NULL, 0); /* spawn gives up the slice now and then */
    send_i64((uint64_t)boss, DONE, 0);
}

int main(int argc, char **argv)
{
    long k = arg_long(argc, argv, 1, 1);
    long total = arg_long(argc, argv, 2, 200000);
    if (k < 1 || total < k) { fprintf(stderr, "parspawn: need K >= 1, TOTAL >= K\n"); return 1; }
    long per = total / k, n = per * k;

    for (int i = 0; i < 4000; i++) spawn_fn("child", NULL, 0); /* warm-up */
    lt_sleep_ms(100);

    int64_t p[2] = {lt_process_id(), per};
    double t0 = now_ns();
    for (long i = 0; i < k; i++) spawn_fn("spawner", p, 2);
    for (long i = 0; i < k; i++) recv_i64(DONE, NULL);
    double t1 = now_ns();

    printf("# %ld spawners, %ld short-lived spawns\n", k, n);
    out("parspawn_mps", (double)n / ((t1 - t0) / 1e9) / 1e6);
    out("parspawn_s", (t1 - t0) / 1e9);
    return 0;
}
