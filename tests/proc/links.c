/* links.c - links and their asymmetry: a linked child that fails sends
 * LinkDied with the spawn tag (die_when_link_dies(0) turns it into a
 * message); a normal exit (return or proc_exit(0)) sends nothing; kill and
 * proc_exit(n != 0) are failures; link() to a missing pid gives LinkDied at
 * once; unlink; link() with a tag; a process linked to a failing child dies
 * by default; when a parent fails its linked child gets LinkDied with no tag
 * (tag 0). */
#include "proc_test.h"

#define T_REPORT 70
#define T_READY 71

LG_EXPORT("trapper") void trapper(void) { lg_trap(); }
LG_EXPORT("returner") void returner(void) {}
LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }
LG_EXPORT("exit_with") void exit_with(int32_t code) { _Exit(code); }

LG_EXPORT("trap_on_message")
void trap_on_message(void)
{
    lg_receive_any(LG_FOREVER);
    lg_trap();
}

/* Linked to a child that traps; dies with it (default), so it never
 * reports. */
LG_EXPORT("middle")
void middle(int64_t main_pid)
{
    lg_spawn_link(9, "trapper", LG_NOARGS);
    lg_receive_any(LG_FOREVER);
    report((uint64_t)main_pid, T_REPORT, "middle survived (wrong)");
}

/* Survives its linked parent's failure and reports what it got. */
LG_EXPORT("orphan")
void orphan(int64_t main_pid, int64_t parent)
{
    lg_die_when_link_dies(0);
    lg_send_u64((uint64_t)parent, T_READY, 0);
    uint32_t k = lg_receive_any(LG_FOREVER);
    report((uint64_t)main_pid, T_REPORT, "orphan got %s tag %lld", kind_name(k), (long long)lg_msg_tag());
}

/* Spawns orphan linked (tag 7), waits until it is ready, then traps. */
LG_EXPORT("failing_parent")
void failing_parent(int64_t main_pid)
{
    lg_spawn_link(7, "orphan", LG_ARGS(LG_I64(main_pid), LG_I64(lg_self())));
    lg_receive_tag(T_READY, LG_FOREVER);
    lg_trap();
}

/* Prints the next message, waiting at most ms. */
static void expect(const char *what, uint64_t ms)
{
    uint32_t k = lg_receive_any(ms);
    if (k == LG_TIMEOUT)
        say("%s: nothing\n", what);
    else if (k == LG_PROCESS_DIED)
        say("%s: %s\n", what, kind_name(k));
    else
        say("%s: %s tag %lld\n", what, kind_name(k), (long long)lg_msg_tag());
}

int main(void)
{
    char buf[128];
    uint64_t me = lg_self();
    lg_die_when_link_dies(0);

    lg_spawn_link(42, "trapper", LG_NOARGS);
    expect("linked child traps", 10000);

    uint64_t c = lg_spawn_link(43, "returner", LG_NOARGS);
    lg_monitor(c);
    expect("linked child returns", 10000);
    expect("then", 100);

    c = lg_spawn_link(44, "exit_with", LG_ARGS(LG_I32(0)));
    lg_monitor(c);
    expect("linked child calls proc_exit(0)", 10000);
    expect("then", 100);

    lg_spawn_link(45, "exit_with", LG_ARGS(LG_I32(3)));
    expect("linked child calls proc_exit(3)", 10000);

    c = lg_spawn_link(46, "blocker", LG_NOARGS);
    lg_kill(c);
    expect("linked child killed", 10000);

    lg_link(47, 999999);
    expect("link to a missing pid", 10000);

    c = lg_spawn("blocker", LG_NOARGS);
    lg_link(48, c);
    lg_kill(c);
    expect("link() with tag 48, then kill", 10000);

    c = lg_spawn_link(49, "trap_on_message", LG_NOARGS);
    lg_unlink(c);
    lg_monitor(c);
    lg_send_u64(c, 1, 0);
    expect("unlinked child traps", 10000);
    expect("then", 100);

    /* Tags filter LinkDied like data. */
    lg_send_u64(me, 5, 0);
    lg_spawn_link(50, "trapper", LG_NOARGS);
    int64_t t50 = 50;
    uint32_t k = lg_receive(&t50, 1, 10000);
    say("receive tag 50: %s tag %lld\n", kind_name(k), (long long)lg_msg_tag());
    expect("then", 100);

    /* Default die_when_link_dies: the middle process dies with its child. */
    c = lg_spawn("middle", LG_ARGS(LG_I64(me)));
    lg_monitor(c);
    k = lg_receive_any(10000);
    say("middle: %s pid %s\n", kind_name(k), lg_msg_pid() == c ? "same" : "other");

    /* A parent that fails: its linked child gets LinkDied without a tag. */
    c = lg_spawn("failing_parent", LG_ARGS(LG_I64(me)));
    lg_monitor(c);
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));
    k = lg_receive_any(10000);
    say("failing parent: %s pid %s\n", kind_name(k), lg_msg_pid() == c ? "same" : "other");
    expect("finally", 100);
    return 0;
}
