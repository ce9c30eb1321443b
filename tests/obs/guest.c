/* guest.c - the program the observability tests (tests/t-obs.sh,
 * tests/t-dashboard.sh) watch through /metrics, /api/processes, the
 * dashboard and SIGUSR1. It sets up processes in known states, prints
 * "ready", then obeys one command per line on stdin:
 *   stop   every worker leaves its receive and ends normally; prints "stopped"
 *   quit   main ends (exit 0)
 *
 * The processes, with their registered names:
 *   worker-1..N  linked to main, each blocked in receive on tag 7
 *   sleeper      sleeping for an hour, monitored by main
 *   inbox        blocked in receive on tag 99 with 5 messages of tag 1
 *                (10 bytes each) it does not take
 *   ticker       every 10 ms adds 1 to the guest counter obs_test_ticks
 *                and sends a message to the echo process, which answers
 *   echo         answers the ticker
 *   <b>html</b>  a process whose name is markup, blocked in receive (the
 *                dashboard must show it as text)
 * Usage: guest.wasm [N=5] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lunatic_guest.h"

#define WORK 7
#define STOP 8
#define PING 20
#define PONG 21

static void name_self(const char *name) { lg_register(name, lg_self()); }

LG_EXPORT("worker") void worker(int64_t i)
{
    char name[32];
    snprintf(name, sizeof name, "worker-%lld", (long long)i);
    name_self(name);
    /* what /api/processes must show: waiting in receive on tag 7; a
     * message with tag 7 and the payload STOP ends it */
    for (;;) {
        lg_receive_tag(WORK, LG_FOREVER);
        if (lg_msg_read_u64() == STOP)
            return;
    }
}

LG_EXPORT("sleeper") void sleeper(void)
{
    name_self("sleeper");
    lg_sleep_ms(3600 * 1000);
}

LG_EXPORT("inbox") void inbox(void)
{
    name_self("inbox");
    lg_receive_tag(99, LG_FOREVER);
}

LG_EXPORT("echo") void echo(void)
{
    name_self("echo");
    for (;;) {
        lg_receive_tag(PING, LG_FOREVER);
        uint64_t from = lg_msg_read_u64();
        lg_send_u64(from, PONG, 0);
    }
}

LG_EXPORT("ticker") void ticker(int64_t echo_pid)
{
    name_self("ticker");
    for (;;) {
        lg_increment_counter("obs_test_ticks");
        lg_send_u64((uint64_t)echo_pid, PING, lg_self());
        lg_receive_tag(PONG, LG_FOREVER);
        lg_sleep_ms(10);
    }
}

LG_EXPORT("markup") void markup(void)
{
    name_self("<b>html</b>");
    lg_receive_tag(1234, LG_FOREVER);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    if (n < 1 || n > 10000)
        n = 5;
    name_self("main");
    uint64_t *workers = calloc((size_t)n, sizeof *workers);
    for (int i = 0; i < n; i++)
        workers[i] = lg_spawn_link(i + 1, "worker", LG_ARGS(LG_I64(i + 1)));
    uint64_t sl = lg_spawn("sleeper", LG_NOARGS);
    lg_monitor(sl);
    uint64_t in = lg_spawn("inbox", LG_NOARGS);
    for (int i = 0; i < 5; i++)
        lg_send_str(in, 1, "0123456789");
    uint64_t e = lg_spawn("echo", LG_NOARGS);
    lg_spawn("ticker", LG_ARGS(LG_I64(e)));
    lg_spawn("markup", LG_NOARGS);
    lg_gauge("obs_test_workers", n);
    /* wait until every process has registered its name, so that "ready"
     * means it */
    char last[32];
    snprintf(last, sizeof last, "worker-%d", n);
    const char *names[] = {last, "sleeper", "inbox", "echo", "ticker", "<b>html</b>"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        uint64_t node, pid;
        for (int tries = 0; tries < 5000 && lg_lookup(names[k], &node, &pid) != 0; tries++)
            lg_sleep_ms(1);
    }
    lg_sleep_ms(50);
    printf("ready %llu\n", (unsigned long long)lg_self());
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "stop", 4)) {
            for (int i = 0; i < n; i++)
                lg_send_u64(workers[i], WORK, STOP);
            for (int i = 0; i < n; i++)
                while (lg_exists(workers[i]))
                    lg_sleep_ms(1);
            lg_gauge("obs_test_workers", 0);
            printf("stopped\n");
            fflush(stdout);
        } else if (!strncmp(line, "quit", 4)) {
            return 0;
        }
    }
    return 0;
}
