/* chain.c - failure cascading along a chain of 5 linked processes
 * (A1 spawns A2 linked, ... A4 spawns A5): a failure at the leaf travels up,
 * at the root travels down, in the middle travels both ways; a node with
 * die_when_link_dies(0) stops the cascade and gets a LinkDied message
 * instead: tagged with the spawn tag when its child died, untagged (0) when
 * its parent died (the parent side of a spawn link has no tag). */
#include "proc_test.h"

#define N 5
#define T_PID 100      /* node -> main: its pid and depth */
#define T_TRIGGER 200  /* main -> node: trap now */
#define T_REPORT 300   /* catching node -> main */

/* depth 1..N; catch_at: the depth that sets die_when_link_dies(0), or 0. */
LG_EXPORT("node")
void node(int64_t main_pid, int32_t depth, int32_t catch_at)
{
    if (depth == catch_at)
        lg_die_when_link_dies(0);
    lg_msg_create(T_PID, 16);
    uint64_t me = lg_self(), d = (uint64_t)depth;
    lg_msg_write(&me, 8);
    lg_msg_write(&d, 8);
    lg_msg_send((uint64_t)main_pid);
    if (depth < N)
        lg_spawn_link(depth * 10, "node", LG_ARGS(LG_I64(main_pid), LG_I32(depth + 1), LG_I32(catch_at)));
    for (;;) {
        uint32_t k = lg_receive_any(LG_FOREVER);
        if (k == LG_DATA && lg_msg_tag() == T_TRIGGER)
            lg_trap();
        if (k == LG_LINK_DIED)
            report((uint64_t)main_pid, T_REPORT, "A%d got link-died tag %lld", depth, (long long)lg_msg_tag());
    }
}

static uint64_t pids[N + 1];

static void build(int catch_at)
{
    lg_spawn("node", LG_ARGS(LG_I64(lg_self()), LG_I32(1), LG_I32(catch_at)));
    for (int i = 0; i < N; i++) {
        lg_receive_tag(T_PID, 10000);
        uint64_t pid = lg_msg_read_u64(), d = lg_msg_read_u64();
        if (d >= 1 && d <= N)
            pids[d] = pid;
    }
    for (int d = 1; d <= N; d++)
        lg_monitor(pids[d]);
}

/* Collects n ProcessDied messages; prints the depths that died. */
static void collect(const char *what, int n)
{
    int died[N + 1] = {0};
    for (int i = 0; i < n; i++) {
        if (lg_receive_any(10000) != LG_PROCESS_DIED) {
            say("%s: unexpected message\n", what);
            return;
        }
        for (int d = 1; d <= N; d++)
            if (pids[d] == lg_msg_pid())
                died[d]++;
    }
    char line[64] = "";
    for (int d = 1; d <= N; d++)
        if (died[d])
            snprintf(line + strlen(line), sizeof line - strlen(line), " A%d%s", d, died[d] > 1 ? "(twice)" : "");
    int alive = 0;
    for (int d = 1; d <= N; d++)
        alive += lg_exists(pids[d]);
    say("%s: died%s; alive %d\n", what, line, alive);
}

int main(void)
{
    char buf[128];
    build(0);
    lg_send_u64(pids[5], T_TRIGGER, 0);
    collect("leaf A5 traps", 5);

    build(0);
    lg_send_u64(pids[1], T_TRIGGER, 0);
    collect("root A1 traps", 5);

    build(0);
    lg_send_u64(pids[3], T_TRIGGER, 0);
    collect("middle A3 traps", 5);

    build(3);
    lg_send_u64(pids[5], T_TRIGGER, 0);
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));
    collect("leaf A5 traps, A3 catches", 2);
    say("then: %s\n", kind_name(lg_receive_any(100)));
    lg_kill(pids[1]);
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));
    collect("A1 killed", 2);
    lg_kill(pids[3]);
    collect("A3 killed", 1);
    say("then: %s\n", kind_name(lg_receive_any(100)));
    return 0;
}
