/*
 * bench/proc/selective.c - shape (4): selective receive with Q unmatched
 * messages queued.
 *   lunatic run selective.wasm [Q=10000] [R=1000]
 * Q messages tagged JUNK sit in main's own mailbox; each of R rounds sends
 * one MATCH message to itself (behind the Q) and receives it by tag.
 * Prints selective_us (per round, Q queued) and selective_empty_us (per
 * round, empty mailbox).
 */
#include "abi.h"

enum { JUNK = 1, MATCH = 2 };

static void rounds(uint64_t self, long r)
{
    for (long i = r; i > 0; i--) {
        send_i64(self, MATCH, i);
        int64_t v = recv_i64(MATCH, NULL);
        if (v != i) { fprintf(stderr, "selective: got %lld, want %ld\n", (long long)v, i); exit(1); }
    }
}

int main(int argc, char **argv)
{
    long q = arg_long(argc, argv, 1, 10000);
    long r = arg_long(argc, argv, 2, 1000);
    if (r < 1) r = 1;
    uint64_t self = (uint64_t)lt_process_id();
    rounds(self, 100); /* warm-up */
    double t0 = now_ns();
    rounds(self, r);
    double t1 = now_ns();
    for (long i = 0; i < q; i++) send_i64(self, JUNK, i);
    double t2 = now_ns();
    rounds(self, r);
    double t3 = now_ns();
    /* the junk must still be there, in order */
    int64_t junk = JUNK, v = -1;
    if (q > 0) {
        int32_t rc = lt_receive(PTR(&junk), 1, 0);
        if (rc == 0) lt_read_data(PTR(&v), 8);
        if (rc != 0 || v != 0) { fprintf(stderr, "selective: junk queue lost (rc %d, v %lld)\n", (int)rc, (long long)v); return 1; }
    }
    out("selective_us", (t3 - t2) / 1000 / (double)r);
    out("selective_empty_us", (t1 - t0) / 1000 / (double)r);
    return 0;
}
