/* stress_spawn_kill.c - 5,000 spawn+kill pairs (the kill often lands before
 * the child has run), then 2,000 processes alive at once, all killed and
 * each death seen by a monitor; nothing is left behind. */
#include "proc_test.h"

#define N1 5000
#define N2 2000

LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }

static uint64_t pids[N1];

int main(void)
{
    int failed = 0;
    for (int i = 0; i < N1; i++) {
        pids[i] = lg_spawn("blocker", LG_NOARGS);
        if (!pids[i])
            failed++;
        lg_kill(pids[i]);
    }
    int alive = 0;
    for (int i = 0; i < N1; i++)
        alive += !wait_gone(pids[i]);
    say("spawned and killed %d: spawn errors %d, still alive %d\n", N1, failed, alive);

    for (int i = 0; i < N2; i++) {
        pids[i] = lg_spawn("blocker", LG_NOARGS);
        lg_monitor(pids[i]);
    }
    int exist = 0;
    for (int i = 0; i < N2; i++)
        exist += lg_exists(pids[i]);
    say("%d alive at once: %d exist\n", N2, exist);
    for (int i = 0; i < N2; i++)
        lg_kill(pids[i]);
    int died = 0;
    for (int i = 0; i < N2; i++)
        died += lg_receive_any(10000) == LG_PROCESS_DIED;
    alive = 0;
    for (int i = 0; i < N2; i++)
        alive += lg_exists(pids[i]);
    say("killed: %d deaths seen, %d still exist\n", died, alive);
    say("then: %s\n", kind_name(lg_receive_any(50)));
    return 0;
}
