/* registry.c - put/get/remove, overwrite, no existence check on put, the
 * registry shared with children, a name removed when its process dies
 * (decision 6) but not when it already points elsewhere, get_or_spawn
 * (spawned, found, respawned after death, linked, a spawn error registers
 * nothing: decision 5). */
#include "proc_test.h"

#define T_REPORT 60

LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }
LG_EXPORT("trapper") void trapper(void) { lg_trap(); }

LG_EXPORT("reader")
void reader(int64_t main_pid)
{
    uint64_t node = 9, pid = 9;
    uint32_t r = lg_lookup("svc", &node, &pid);
    lg_register("from_child", lg_self());
    report((uint64_t)main_pid, T_REPORT, "child: get svc %u node %llu pid %llu", r, (unsigned long long)node,
           (unsigned long long)pid);
    lg_receive_any(LG_FOREVER);
}

static void show(const char *name, uint64_t want)
{
    uint64_t node = 9, pid = 9;
    uint32_t r = lg_lookup(name, &node, &pid);
    if (r == 0)
        say("get %s: 0 node %llu pid %s\n", name, (unsigned long long)node, pid == want ? "as expected" : "WRONG");
    else
        say("get %s: %u\n", name, r);
}

static void kill_and_wait(uint64_t pid)
{
    lg_monitor(pid);
    lg_kill(pid);
    lg_receive_any(10000);
}

int main(void)
{
    char buf[128];
    uint64_t me = lg_self();
    show("nobody", 0);

    uint64_t a = lg_spawn("blocker", LG_NOARGS);
    lg_register("svc", a);
    show("svc", a);
    uint64_t r = lg_spawn("reader", LG_ARGS(LG_I64(me)));
    const char *s = recv_str(T_REPORT, buf, sizeof buf);
    char want[64];
    snprintf(want, sizeof want, "child: get svc 0 node 0 pid %llu", (unsigned long long)a);
    say("child saw main's name: %s\n", strcmp(s, want) == 0 ? "yes" : s);
    show("from_child", r);

    lg_unregister("svc");
    show("svc", 0);
    lg_unregister("svc");
    say("remove of an absent name: ok\n");

    uint64_t b = lg_spawn("blocker", LG_NOARGS);
    lg_register("x", a);
    lg_register("x", b);
    show("x", b);
    kill_and_wait(a);
    show("x", b);
    lg_register("dies", b);
    kill_and_wait(b);
    show("dies", 0);
    show("x", 0);

    lg_register("ghost", 999999);
    show("ghost", 999999);

    uint64_t node = 9, p1 = 0, p2 = 0;
    uint32_t k = lg_get_or_spawn("gs", 0, LG_MINE, LG_MINE, "blocker", LG_NOARGS, &node, &p1);
    say("get_or_spawn gs: %u node %llu exists %d\n", k, (unsigned long long)node, lg_exists(p1));
    show("gs", p1);
    k = lg_get_or_spawn("gs", 0, LG_MINE, LG_MINE, "blocker", LG_NOARGS, &node, &p2);
    say("get_or_spawn gs again: %u node %llu same pid %s\n", k, (unsigned long long)node, p2 == p1 ? "yes" : "no");
    kill_and_wait(p1);
    show("gs", 0);
    k = lg_get_or_spawn("gs", 0, LG_MINE, LG_MINE, "blocker", LG_NOARGS, &node, &p2);
    say("get_or_spawn gs after its death: %u new pid %s\n", k, p2 != p1 && lg_exists(p2) ? "yes" : "no");

    int64_t cfg = lg_config_create();
    lg_config_set_max_memory(cfg, 65536); /* below the module's initial memory */
    uint64_t err = 0;
    k = lg_get_or_spawn("bad", 0, cfg, LG_MINE, "blocker", LG_NOARGS, &node, &err);
    char msg[256];
    size_t n = lg_error_string(err, msg, sizeof msg);
    lg_error_drop(err);
    say("get_or_spawn with a failing spawn: %u, error text %s\n", k, n > 0 ? "present" : "empty");
    show("bad", 0);

    lg_die_when_link_dies(0);
    k = lg_get_or_spawn("linked", 33, LG_MINE, LG_MINE, "trapper", LG_NOARGS, &node, &p1);
    uint32_t kind = lg_receive_any(10000);
    say("get_or_spawn linked: %u, then %s tag %lld\n", k, kind_name(kind), (long long)lg_msg_tag());
    lg_sleep_ms(20);
    show("linked", 0);
    return 0;
}
