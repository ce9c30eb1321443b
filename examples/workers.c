/* workers.c - the README's example app: lunatic processes in C.
 *
 * The main process starts a pool of worker processes, each linked to it
 * with a tag, and asks them to sum ranges of numbers by message. One
 * worker is told to crash: because main turned off die_when_link_dies,
 * the crash arrives as a LinkDied message carrying that worker's tag
 * instead of taking main down, and main restarts the job on a new worker,
 * as a supervisor would. Build:
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I sdk -o workers.wasm workers.c
 * Run: lunatic run workers.wasm [WORKERS] */
#include <stdio.h>
#include <stdlib.h>

#include "lunatic_guest.h"

#define JOB 1   /* message tags */
#define RESULT 2

/* A worker: receives (first, last) jobs, replies with the sum; a job with
 * first > last makes it crash (an out-of-range trap). */
LG_EXPORT("worker") void worker(uint64_t boss)
{
    for (;;) {
        lg_receive_tag(JOB, LG_FOREVER);
        uint64_t first = lg_msg_read_u64(), last = lg_msg_read_u64();
        if (first > last)
            __builtin_trap();
        uint64_t sum = 0;
        for (uint64_t i = first; i <= last; i++)
            sum += i;
        lg_msg_create(RESULT, 16);
        lg_msg_write_u64(lg_self());
        lg_msg_write_u64(sum);
        lg_msg_send(boss);
    }
}

static uint64_t start_worker(int64_t tag)
{
    return lg_spawn_link(tag, "worker", LG_ARGS(LG_I64(lg_self())));
}

static void send_job(uint64_t pid, uint64_t first, uint64_t last)
{
    lg_msg_create(JOB, 16);
    lg_msg_write_u64(first);
    lg_msg_write_u64(last);
    lg_msg_send(pid);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    if (n < 2 || n > 1000)
        n = 8;
    lg_die_when_link_dies(0); /* supervise: deaths become messages */
    uint64_t *pids = calloc((size_t)n, sizeof *pids);
    const uint64_t chunk = 1000000;
    for (int i = 0; i < n; i++)
        pids[i] = start_worker(100 + i);
    printf("main process %llu started %d workers\n", (unsigned long long)lg_self(), n);
    for (int i = 0; i < n; i++) {
        if (i == n / 2)
            send_job(pids[i], 1, 0); /* a bad job: this worker crashes */
        else
            send_job(pids[i], (uint64_t)i * chunk + 1, (uint64_t)(i + 1) * chunk);
    }
    uint64_t total = 0;
    for (int done = 0; done < n;) {
        int64_t tags[2] = {RESULT, 100 + n / 2};
        uint32_t kind = lg_receive(tags, 2, 10000);
        if (kind == LG_TIMEOUT) {
            printf("timed out\n");
            return 1;
        }
        if (kind == LG_LINK_DIED) {
            int i = (int)(lg_msg_tag() - 100);
            printf("worker %d (tag %d) crashed; restarting its job\n", i, 100 + i);
            pids[i] = start_worker(1000 + i);
            send_job(pids[i], (uint64_t)i * chunk + 1, (uint64_t)(i + 1) * chunk);
            continue;
        }
        lg_msg_read_u64(); /* the worker's pid */
        total += lg_msg_read_u64();
        done++;
    }
    uint64_t want = (uint64_t)n * chunk * ((uint64_t)n * chunk + 1) / 2;
    printf("sum of 1..%llu = %llu (%s)\n", (unsigned long long)((uint64_t)n * chunk),
           (unsigned long long)total, total == want ? "correct" : "WRONG");
    /* returning ends `lunatic run`, and with it the idle workers */
    return total == want ? 0 : 1;
}
