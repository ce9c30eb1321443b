/* monitors.c - monitor: ProcessDied with the pid (get_process_id, tag 0)
 * for a normal return, a trap and a kill; the monitoring process is never
 * harmed; monitor of a pid that does not exist delivers ProcessDied at once
 * (decision 7); stop_monitoring; two monitors of one process both hear;
 * ProcessDied is not matched by a tag filter. */
#include "proc_test.h"

#define T_REPORT 5

LG_EXPORT("returner") void returner(void) {}
LG_EXPORT("trapper") void trapper(void) { lg_trap(); }
LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }

LG_EXPORT("watcher")
void watcher(int64_t main_pid, int64_t target)
{
    lg_monitor((uint64_t)target);
    lg_send_u64((uint64_t)main_pid, T_REPORT + 1, 0); /* monitoring now */
    uint32_t k = lg_receive_any(LG_FOREVER);
    report((uint64_t)main_pid, T_REPORT, "watcher got %s, pid %s", kind_name(k),
           lg_msg_pid() == (uint64_t)target ? "same" : "other");
}

static void show(const char *what, uint64_t pid)
{
    uint32_t k = lg_receive_any(10000);
    say("%s: %s, pid %s, tag %lld\n", what, kind_name(k), lg_msg_pid() == pid ? "same" : "other",
        (long long)lg_msg_tag());
}

int main(void)
{
    char buf[128];
    uint64_t c = lg_spawn("blocker", LG_NOARGS);
    lg_monitor(c);
    lg_send_u64(c, 1, 0);
    /* blocker returns after one message */
    show("returned", c);

    c = lg_spawn("trapper", LG_NOARGS);
    lg_monitor(c);
    show("trapped", c);

    c = lg_spawn("blocker", LG_NOARGS);
    lg_monitor(c);
    lg_kill(c);
    show("killed", c);

    lg_monitor(424242);
    show("monitor of a missing pid", 424242);

    c = lg_spawn("returner", LG_NOARGS);
    lg_monitor(c);
    show("monitor of a child that may already be gone", c);

    c = lg_spawn("blocker", LG_NOARGS);
    lg_monitor(c);
    lg_stop_monitoring(c);
    lg_kill(c);
    say("stopped monitoring, killed: gone %d\n", wait_gone(c));
    say("then: %s\n", kind_name(lg_receive_any(100)));

    c = lg_spawn("blocker", LG_NOARGS);
    lg_monitor(c);
    lg_spawn("watcher", LG_ARGS(LG_I64(lg_self()), LG_I64(c)));
    lg_receive_tag(T_REPORT + 1, 10000);
    lg_kill(c);
    int64_t tag = 0;
    say("tag filter {0} does not match ProcessDied: %s\n", kind_name(lg_receive(&tag, 1, 100)));
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));
    show("and main", c);
    say("finally: %s\n", kind_name(lg_receive_any(100)));
    return 0;
}
