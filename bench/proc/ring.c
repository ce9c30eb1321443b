/*
 * bench/proc/ring.c - shape (2): a ring of N processes (main included)
 * passing a token M times.
 *   lunatic run ring.wasm [N=10000] [M=1000000]
 * main -> c(N-1) -> ... -> c(1) -> main; the token carries the number of
 * hops still to make; whoever receives 0 tells main (or is main).
 * Prints ring_hops_per_s and ring_hop_ns.
 */
#include "abi.h"

enum { TOKEN = 1, DONE = 2 };

LT_EXPORT("ring_node") void ring_node(int64_t next, int64_t main_pid)
{
    for (;;) {
        int64_t k = recv_i64(TOKEN, NULL);
        if (k == 0) send_i64((uint64_t)main_pid, DONE, 0);
        else send_i64((uint64_t)next, TOKEN, k - 1);
    }
}

int main(int argc, char **argv)
{
    long n = arg_long(argc, argv, 1, 10000);
    long m = arg_long(argc, argv, 2, 1000000);
    if (n < 1 || m < 1) { fprintf(stderr, "ring: need N >= 1, M >= 1\n"); return 1; }
    int64_t self = lt_process_id();
    int64_t next = self;
    for (long i = 1; i < n; i++) {
        int64_t p[2] = {next, self};
        next = (int64_t)spawn_fn("ring_node", p, 2);
    }
    lt_sleep_ms(200); /* let the nodes reach their receive */

    double t0 = now_ns();
    send_i64((uint64_t)next, TOKEN, m - 1); /* hop 1 */
    for (;;) {
        int64_t tag;
        int64_t k = recv_i64(0, &tag);
        if (tag == DONE || k == 0) break;
        send_i64((uint64_t)next, TOKEN, k - 1);
    }
    double t1 = now_ns();
    out("ring_hops_per_s", (double)m / ((t1 - t0) / 1e9));
    out("ring_hop_ns", (t1 - t0) / (double)m);
    return 0;
}
