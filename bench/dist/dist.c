/* dist.c - the cross-node shapes of bench/dist/run.sh, as the main process
 * of node a with node b (tag role=b) as the other side; bench/dist/dist.erl
 * runs the same shapes between two Erlang nodes.
 *
 *   rtt N         N round trips of a 64-byte message with an echo on b
 *                 (after 1,000 to warm up): microseconds per round trip
 *   tput N        N one-way 64-byte messages to a sink on b, then a "done"
 *                 whose answer carries the count: messages per second
 *   spawn N       N remote spawns on b, one after the other (each waits
 *                 for its pid): microseconds per spawn
 *
 * Prints "METRIC VALUE" lines for run.sh.
 */
#include "lunatic_guest.h"

#include <stdlib.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint64_t node_b(void)
{
    for (int i = 0; i < 2000; i++) {
        uint64_t ids[4];
        if (lg_lookup_nodes("role=b", ids, 4))
            return ids[0];
        lg_sleep_ms(10);
    }
    return 0;
}

static uint8_t payload[64];

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Sends every message back to its sender (a pid in the first 8 bytes). */
LG_EXPORT("echo")
void echo(void)
{
    uint8_t buf[64];
    for (;;) {
        lg_receive_any(LG_FOREVER);
        size_t n = lg_msg_read(buf, sizeof buf);
        uint64_t from;
        memcpy(&from, buf, 8);
        lg_send_to(from, 2, buf, n);
    }
}

/* Counts messages; a message tagged 3 gets the count back. */
LG_EXPORT("sink")
void sink(void)
{
    uint64_t count = 0;
    for (;;) {
        lg_receive_any(LG_FOREVER);
        if (lg_msg_tag() != 3) {
            count++;
            continue;
        }
        uint64_t from = lg_msg_read_u64();
        lg_msg_create(4, 8);
        lg_msg_write_u64(count);
        lg_msg_send_to(from);
        count = 0;
    }
}

LG_EXPORT("nothing")
void nothing(void) {}

static uint64_t spawn_b(uint64_t b, const char *f)
{
    uint64_t pid;
    if (lg_spawn_on(b, LG_MINE, f, NULL, 0, &pid) != 0)
        return 0;
    return pid;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]);
    uint64_t b = node_b();
    if (!b) {
        lg_printf("error no node b\n");
        return 1;
    }
    uint64_t self = lg_self();
    memcpy(payload, &self, 8);
    if (!strcmp(argv[1], "rtt")) {
        uint64_t e = spawn_b(b, "echo");
        int64_t tag = 2;
        float *each = malloc((size_t)n * sizeof *each);
        double t0 = 0;
        for (long i = 0; i < 1000 + n; i++) {
            if (i == 1000)
                t0 = now_us();
            double t1 = now_us();
            lg_msg_create(1, 64);
            lg_msg_write(payload, 64);
            lgi_distributed_send(b, e);
            lg_receive(&tag, 1, 10000);
            if (i >= 1000 && each)
                each[i - 1000] = (float)(now_us() - t1);
        }
        lg_printf("rtt_us %.2f\n", (now_us() - t0) / (double)n);
        if (each) {
            qsort(each, (size_t)n, sizeof *each, cmp_float);
            lg_printf("rtt_p50_us %.1f\nrtt_p99_us %.1f\n", each[n / 2], each[n * 99 / 100]);
        }
    } else if (!strcmp(argv[1], "tput")) {
        uint64_t s = spawn_b(b, "sink");
        double t0 = now_us();
        for (long i = 0; i < n; i++) {
            lg_msg_create(1, 64);
            lg_msg_write(payload, 64);
            lgi_distributed_send(b, s);
        }
        lg_msg_create(3, 8);
        lg_msg_write_u64(self);
        lgi_distributed_send(b, s);
        int64_t tag = 4;
        if (lg_receive(&tag, 1, 120000) != LG_DATA)
            return 1;
        uint64_t got = lg_msg_read_u64();
        double dt = now_us() - t0;
        lg_printf("tput_count %llu\n", (unsigned long long)got);
        lg_printf("tput_mps %.0f\n", (double)got / (dt / 1e6));
    } else if (!strcmp(argv[1], "spawn")) {
        for (int i = 0; i < 100; i++)
            spawn_b(b, "nothing");
        double t0 = now_us();
        long ok = 0;
        for (long i = 0; i < n; i++)
            ok += spawn_b(b, "nothing") != 0;
        lg_printf("spawn_us %.2f\n", (now_us() - t0) / (double)n);
        lg_printf("spawn_ok %ld\n", ok);
    }
    return 0;
}
