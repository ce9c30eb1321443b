/* stress_link_chain.c - a chain of 10,000 processes, each linked to the one
 * it spawned; the last one traps and the failure cascades to the first,
 * which main monitors (if the first is already gone when monitor runs,
 * ProcessDied comes at once: decision 7). Afterwards none of the 10,000
 * exists. */
#include "proc_test.h"

#define N 10000

LG_EXPORT("node")
void node(int32_t depth)
{
    if (depth == N)
        lg_trap();
    lg_spawn_link(1, "node", LG_ARGS(LG_I32(depth + 1)));
    lg_receive_any(LG_FOREVER);
}

int main(void)
{
    uint64_t first = lg_spawn("node", LG_ARGS(LG_I32(1)));
    lg_monitor(first);
    uint32_t k = lg_receive_any(30000);
    say("chain of %d, last one traps: first one %s (%s)\n", N, kind_name(k),
        lg_msg_pid() == first ? "same pid" : "other pid");
    /* Only the chain spawned meanwhile: its pids are first .. first + N - 1. */
    int alive = 0;
    for (uint64_t p = first; p < first + N; p++)
        alive += lg_exists(p);
    say("alive after: %d\n", alive);
    return 0;
}
