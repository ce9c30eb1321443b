/*
 * bench/proc/pingpong.c - shape (3): M round trips between two processes.
 *   lunatic run pingpong.wasm [M=1000000]
 * Prints pingpong_rtt_us and pingpong_rt_per_s.
 */
#include "abi.h"

enum { PING = 1, PONG = 2, STOP = 3 };

LT_EXPORT("echo") void echo(int64_t parent)
{
    for (;;) {
        int64_t tag;
        int64_t k = recv_i64(0, &tag);
        if (tag == STOP) return;
        send_i64((uint64_t)parent, PONG, k);
    }
}

static void rounds(uint64_t echo_pid, long m)
{
    for (long k = m; k > 0; k--) {
        send_i64(echo_pid, PING, k);
        int64_t r = recv_i64(PONG, NULL);
        if (r != k) { fprintf(stderr, "pingpong: got %lld, want %ld\n", (long long)r, k); exit(1); }
    }
}

int main(int argc, char **argv)
{
    long m = arg_long(argc, argv, 1, 1000000);
    if (m < 1) m = 1;
    int64_t self = lt_process_id();
    uint64_t e = spawn_fn("echo", &self, 1);
    rounds(e, 1000); /* warm-up */
    double t0 = now_ns();
    rounds(e, m);
    double t1 = now_ns();
    send_i64(e, STOP, 0);
    out("pingpong_rtt_us", (t1 - t0) / 1000 / (double)m);
    out("pingpong_rt_per_s", (double)m / ((t1 - t0) / 1e9));
    return 0;
}
