/* flood.c - a process's messages and host objects count against its memory
 * limit (src/rt/account.h). Run under `lunatic run --max-memory 64M`: every
 * child shares the main process's config, so each has 64 MiB in all.
 *
 *   flood.wasm MODE
 *
 * The main process spawns a child for MODE and plays ping-pong with a
 * ponger meanwhile, counting rounds and the longest wait for a pong, until
 * the child dies (a monitor tells it); then it checks that ping-pong goes
 * on. It prints what happened; tests/t-limits.sh checks that and the
 * child's reason in stderr. Modes:
 *   self     the child sends 64 KiB messages to itself and never receives
 *   victim   the child floods a sleeping victim (the victim must die, the
 *            flooder live on and finish)
 *   write    the child writes one message 64 KiB at a time
 *   configs  the child creates configs
 *   timers   the child sends itself 64 KiB messages an hour from now
 *   grow     a sender fills the child's mailbox with 40 MiB, then the child
 *            asks for 40 MiB of linear memory: refused (the limit is
 *            shared), and it says so
 */
#include "lunatic_guest.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T_PING = 1, T_PONG, T_REPORT, T_FLOOD, T_GO };

static char chunk[65536];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void send_chunk(uint64_t to, int64_t tag)
{
    lg_msg_create(tag, sizeof chunk);
    lg_msg_write(chunk, sizeof chunk);
    lg_msg_send(to);
}

LG_EXPORT("ponger") void ponger(void)
{
    for (;;) {
        lg_receive_tag(T_PING, LG_FOREVER);
        uint64_t from;
        lg_msg_read(&from, sizeof from);
        lg_send_u64(from, T_PONG, 0);
    }
}

LG_EXPORT("victim") void victim(void) { lg_sleep_ms(600000); }

LG_EXPORT("flood_self") void flood_self(void)
{
    for (;;)
        send_chunk(lg_self(), T_FLOOD);
}

/* 4,000 chunks (250 MiB) to a victim that never receives, then reports. */
LG_EXPORT("flood_other") void flood_other(int64_t main_pid, int64_t victim_pid)
{
    for (int i = 0; i < 4000; i++)
        send_chunk((uint64_t)victim_pid, T_FLOOD);
    lg_send_str((uint64_t)main_pid, T_REPORT, "the flooder sent 4000 messages and lives on");
}

LG_EXPORT("write_one") void write_one(void)
{
    lg_msg_create(T_FLOOD, 0);
    for (;;)
        lg_msg_write(chunk, sizeof chunk);
}

LG_EXPORT("configs") void configs(void)
{
    for (;;)
        lg_config_create();
}

LG_EXPORT("timers") void timers(void)
{
    for (;;) {
        lg_msg_create(T_FLOOD, sizeof chunk);
        lg_msg_write(chunk, sizeof chunk);
        lg_send_after(lg_self(), 3600 * 1000);
    }
}

/* Waits for its mailbox to hold 640 chunks (40 MiB), then allocates. */
LG_EXPORT("grow") void grow(int64_t main_pid)
{
    lg_receive_tag(T_GO, LG_FOREVER);
    char *volatile p = malloc(40 << 20);
    lg_send_str((uint64_t)main_pid, T_REPORT,
                p ? "40 MiB of linear memory with 40 MiB of messages: granted"
                  : "40 MiB of linear memory with 40 MiB of messages: refused");
    for (;;)
        lg_receive_tag(T_PING, LG_FOREVER);   /* keeps the messages */
}

LG_EXPORT("fill") void fill(int64_t main_pid, int64_t target)
{
    for (int i = 0; i < 640; i++)
        send_chunk((uint64_t)target, T_FLOOD);
    lg_msg_create(T_GO, 0);
    lg_msg_send((uint64_t)target);
    (void)main_pid;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "self";
    uint64_t me = lg_self();
    uint64_t pong = lg_spawn("ponger", LG_NOARGS);
    uint64_t child = 0, other = 0;
    if (!strcmp(mode, "self")) {
        child = lg_spawn("flood_self", LG_NOARGS);
    } else if (!strcmp(mode, "victim")) {
        child = lg_spawn("victim", LG_NOARGS);
        other = lg_spawn("flood_other", LG_ARGS(LG_I64(me), LG_I64(child)));
    } else if (!strcmp(mode, "write")) {
        child = lg_spawn("write_one", LG_NOARGS);
    } else if (!strcmp(mode, "configs")) {
        child = lg_spawn("configs", LG_NOARGS);
    } else if (!strcmp(mode, "timers")) {
        child = lg_spawn("timers", LG_NOARGS);
    } else if (!strcmp(mode, "grow")) {
        child = lg_spawn("grow", LG_ARGS(LG_I64(me)));
        lg_spawn("fill", LG_ARGS(LG_I64(me), LG_I64(child)));
        char buf[200] = "<timeout>";
        if (lg_receive_tag(T_REPORT, 20000) == LG_DATA)
            lg_msg_read_str(buf, sizeof buf);
        printf("%s\n", buf);
        return 0;
    } else {
        printf("unknown mode %s\n", mode);
        return 2;
    }
    if (!pong || !child) {
        printf("spawn failed\n");
        return 1;
    }
    lg_monitor(child);
    /* ping-pong until the child dies (20 s at most) */
    uint64_t start = now_ms(), rounds = 0, worst = 0, died_at = 0;
    bool died = false;
    char report[200] = "";
    while (!died && now_ms() - start < 20000) {
        uint64_t t0 = now_ms();
        lg_msg_create(T_PING, 8);
        lg_msg_write(&me, sizeof me);
        lg_msg_send(pong);
        int64_t tags[] = {T_PONG};
        for (;;) {
            uint32_t k = lg_receive_any(5000);
            if (k == LG_PROCESS_DIED && lg_msg_pid() == child) {
                died = true;
                died_at = now_ms() - start;
                continue;   /* the pong is still due */
            }
            if (k == LG_TIMEOUT)
                break;
            if (k == LG_DATA && lg_msg_tag() == T_REPORT)
                lg_msg_read_str(report, sizeof report);   /* the flooder's, early */
            if (k == LG_DATA && lg_msg_tag() == tags[0])
                break;
        }
        uint64_t waited = now_ms() - t0;
        worst = waited > worst ? waited : worst;
        rounds++;
    }
    printf("%s: the child %s\n", mode, died ? "died" : "is still alive after 20 s");
    printf("ping-pong while it ran: %s\n", rounds > 0 && worst < 500 ? "went on" : "stalled");
    fprintf(stderr, "flood %s: died after %llu ms, %llu rounds, longest pong wait %llu ms\n", mode,
            (unsigned long long)died_at, (unsigned long long)rounds, (unsigned long long)worst);
    /* and after: 100 more rounds */
    int after = 0;
    for (int i = 0; i < 100; i++) {
        lg_msg_create(T_PING, 8);
        lg_msg_write(&me, sizeof me);
        lg_msg_send(pong);
        after += lg_receive_tag(T_PONG, 5000) == LG_DATA;
    }
    printf("ping-pong after: %d of 100 rounds\n", after);
    if (other) {
        if (!report[0] && lg_receive_tag(T_REPORT, 20000) == LG_DATA)
            lg_msg_read_str(report, sizeof report);
        printf("%s\n", report[0] ? report : "<timeout>");
    }
    lg_kill(pong);
    return 0;
}
