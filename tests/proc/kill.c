/* kill.c - kill a process blocked in receive, spinning in a loop with and
 * without calls, sleeping, not yet started; a process killing itself; kill
 * of a missing pid is a no-op. A killed process runs no further code. */
#include "proc_test.h"

#define T_READY 1
#define T_AFTER 2

static volatile uint64_t counter;

static __attribute__((noinline)) void step(void) { counter++; }

LG_EXPORT("blocker")
void blocker(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_READY, 0);
    lg_receive_any(LG_FOREVER);
    lg_send_u64((uint64_t)parent, T_AFTER, 0);
}

LG_EXPORT("silent_blocker")
void silent_blocker(int64_t parent)
{
    lg_receive_any(LG_FOREVER);
    lg_send_u64((uint64_t)parent, T_AFTER, 0);
}

LG_EXPORT("tight_spinner")
void tight_spinner(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_READY, 0);
    for (;;) {
    }
}

LG_EXPORT("call_spinner")
void call_spinner(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_READY, 0);
    for (;;)
        step();
}

LG_EXPORT("sleeper")
void sleeper(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_READY, 0);
    lg_sleep_ms(600000);
    lg_send_u64((uint64_t)parent, T_AFTER, 0);
}

LG_EXPORT("suicide")
void suicide(int64_t parent)
{
    lg_kill(lg_self());
    lg_receive_any(LG_FOREVER);
    lg_send_u64((uint64_t)parent, T_AFTER, 0);
}

static void kill_ready(const char *what, const char *func)
{
    uint64_t c = lg_spawn(func, LG_ARGS(LG_I64(lg_self())));
    lg_monitor(c);
    lg_receive_tag(T_READY, 10000);
    lg_sleep_ms(20);
    uint64_t t0 = now_ms();
    lg_kill(c);
    int died = got_died(c);
    say("%s: died %d, within 5 s %s, exists %d\n", what, died, now_ms() - t0 < 5000 ? "yes" : "no", lg_exists(c));
}

int main(void)
{
    kill_ready("blocked in receive", "blocker");
    kill_ready("spinning without calls", "tight_spinner");
    kill_ready("spinning with calls", "call_spinner");
    kill_ready("sleeping 10 minutes", "sleeper");

    uint64_t c = lg_spawn("silent_blocker", LG_ARGS(LG_I64(lg_self())));
    lg_kill(c);
    lg_monitor(c);
    say("killed right after spawn: died %d\n", got_died(c));

    c = lg_spawn("suicide", LG_ARGS(LG_I64(lg_self())));
    lg_monitor(c);
    say("killed itself: died %d\n", got_died(c));

    lg_kill(987654);
    lg_kill(0);
    say("kill of missing pids: still here\n");

    int64_t t_after = T_AFTER;
    say("no process ran on after its kill: %s\n", kind_name(lg_receive(&t_after, 1, 100)));
    return 0;
}
