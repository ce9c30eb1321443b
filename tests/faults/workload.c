/*
 * workload.c - the program the fault-injection sweep runs (sweep.sh,
 * tests/t-faults.sh): a little of every process host function, so that
 * failing the k-th allocation of the runtime hits each of their paths.
 *
 * Spawn, link (at spawn and later), unlink, monitor, stop_monitoring,
 * send, receive with tags and timeouts, send_receive_skip_search, the
 * registry (put, get, get_or_spawn, remove), timers (send_after,
 * cancel_timer), configs (create, limits, permissions, environment,
 * arguments, preopens), modules (compile_module, spawn from one, push and
 * take one in a message), kill, processes ending normally, by a trap, by
 * proc_exit and by a failing link with die_when_link_dies.
 *
 * How a run ends, as the sweep reads it:
 *   exit 0, last line "faults workload: done"      everything worked
 *   exit 3  "workload: STEP: error: TEXT"          a call returned an error
 *   exit 4  "workload: STEP: child died"           a linked child failed (the
 *                                                  runtime logged why)
 *   exit 134, "lunatic: Process 1 failed ..."      main trapped (out of memory)
 *   exit 5  "workload: STEP: BUG: ..."             something the runtime said
 *                                                  it did did not happen
 * Main turns die_when_link_dies off and links every child it waits for, so
 * a child that fails shows up as LinkDied with that child's tag, matched by
 * the same receive that waits for the child's answer: no wait can outlast
 * a dead child. Waits for something that must come have a long timeout: a
 * timeout there is a lost message or notification, a bug.
 */
#include "lunatic_guest.h"
#include "../proc/tiny_module.h"

#define WAIT_MS 20000    /* for what must come */
#define QUIET_MS 30      /* for what must not */

#define T_PING 10
#define T_PONG 11
#define T_SELF 20        /* 20..23: messages to self */
#define T_SKIP 30
#define T_REPLY 31
#define T_REG 40
#define T_TIMER 50
#define T_CANCELLED 51
#define T_CFG 60
#define T_HELLO 55       /* what tiny_module's hello sends */
#define T_MODULE 70
#define T_FWD 71
/* link tags: one per child, 100 + the step */
#define L_ECHO 101
#define L_SKIP 102
#define L_TRAP 103
#define L_EXIT 104
#define L_KILLED 105
#define L_LATE 106
#define L_UNLINKED 107
#define L_NOPROC 108
#define L_CHAIN 109
#define L_REG 110
#define L_CFG 111
#define L_HELLO 112
#define L_FWD 113

static const char *step = "start";

__attribute__((noreturn)) static void end(int status, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lg_printf("workload: %s: %s\n", step, buf);
    exit(status);
}

/* A call answered with an error id: a clean failure. */
__attribute__((noreturn)) static void error_id(uint64_t id)
{
    char text[400];
    lg_error_string(id, text, sizeof text);
    end(3, "error: %s", text);
}

static uint64_t spawn_linked(int64_t tag, int64_t config, int64_t module, const char *func,
                             const lg_param *params, size_t n)
{
    uint64_t id;
    if (lg_spawn_ex(tag, config, module, func, params, n, &id) != LG_OK)
        error_id(id);
    return id;
}

/* An unlinked child (the caller monitors or kills it). */
static uint64_t spawn_child(const char *func)
{
    uint64_t id;
    if (lg_spawn_ex(0, LG_MINE, LG_MINE, func, LG_NOARGS, &id) != LG_OK)
        error_id(id);
    return id;
}

/* Waits for a data message tagged want; a LinkDied tagged link (the child
 * that was to send it failed) ends the run. */
static void expect(int64_t want, int64_t link)
{
    int64_t tags[2] = {want, link};
    uint32_t k = lg_receive(tags, 2, WAIT_MS);
    if (k == LG_LINK_DIED)
        end(4, "child died");
    if (k != LG_DATA || lg_msg_tag() != want)
        end(5, "BUG: waited for tag %lld, got kind %u tag %lld", (long long)want, k,
            (long long)lg_msg_tag());
}

/* Waits for LinkDied tagged link. */
static void expect_link_died(int64_t link)
{
    uint32_t k = lg_receive_tag(link, WAIT_MS);
    if (k != LG_LINK_DIED)
        end(5, "BUG: waited for LinkDied %lld, got kind %u", (long long)link, k);
}

/* Waits for ProcessDied of pid (nothing else may be in the mailbox). */
static void expect_process_died(uint64_t pid)
{
    uint32_t k = lg_receive_any(WAIT_MS);
    if (k != LG_PROCESS_DIED || lg_msg_pid() != pid)
        end(5, "BUG: waited for ProcessDied %llu, got kind %u pid %llu", (unsigned long long)pid, k,
            (unsigned long long)lg_msg_pid());
}

/* Nothing may arrive (with these tags; none: anything). */
static void expect_nothing(const int64_t *tags, size_t n)
{
    uint32_t k = lg_receive(tags, n, QUIET_MS);
    if (k != LG_TIMEOUT)
        end(5, "BUG: expected nothing, got kind %u tag %lld", k, (long long)lg_msg_tag());
}

static void wait_gone(uint64_t pid)
{
    for (int i = 0; i < WAIT_MS && lg_exists(pid); i++)
        lg_sleep_ms(1);
    if (lg_exists(pid))
        end(5, "BUG: process %llu does not end", (unsigned long long)pid);
}

/* ---- children --------------------------------------------------------------- */

/* A child's call answered with an error id: says why, then fails (main
 * sees LinkDied; the sweep reads the reason here). */
__attribute__((noreturn)) static void child_error(const char *what, uint64_t id)
{
    char text[400];
    lg_error_string(id, text, sizeof text);
    lg_printf("workload: child: %s: error: %s\n", what, text);
    lg_trap();
}

/* Answers one T_PING with T_PONG and the same bytes, after checking that a
 * receive with a timeout times out. */
LG_EXPORT("echo")
void echo(int64_t main_pid)
{
    if (lg_receive_tag(9999, 1) != LG_TIMEOUT)
        lg_trap();
    if (lg_receive_tag(T_PING, LG_FOREVER) != LG_DATA)
        lg_trap();
    char buf[64];
    size_t n = lg_msg_read_str(buf, sizeof buf);
    lg_msg_create(T_PONG, n);
    lg_msg_write(buf, n);
    lg_msg_send((uint64_t)main_pid);
}

/* Answers every message with T_REPLY until one tagged 0. */
LG_EXPORT("replier")
void replier(int64_t main_pid)
{
    for (;;) {
        lg_receive_any(LG_FOREVER);
        if (lg_msg_tag() == 0)
            return;
        lg_send_u64((uint64_t)main_pid, T_REPLY, lg_msg_read_u64() + 1);
    }
}

LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }
LG_EXPORT("trapper") void trapper(void) { lg_trap(); }
LG_EXPORT("exiter") void exiter(void) { exit(7); }
LG_EXPORT("returner") void returner(void) {}

/* Keeps the default die_when_link_dies and links a trapper: dies with it. */
LG_EXPORT("chained")
void chained(void)
{
    uint64_t id;
    if (lg_spawn_ex(1, LG_MINE, LG_MINE, "trapper", LG_NOARGS, &id) != LG_OK)
        child_error("spawn", id);
    lg_receive_any(LG_FOREVER);   /* never comes: the link kills us first */
}

/* Reports what its config gave it. */
LG_EXPORT("configured")
void configured(int64_t main_pid)
{
    const char *v = getenv("FW_VAR");
    FILE *f = fopen("workload.txt", "r");
    char line[32] = "";
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
    }
    char text[160];
    snprintf(text, sizeof text, "var %s, file %s, config %lld", v ? v : "-", line,
             (long long)lg_config_create());
    lg_send_str((uint64_t)main_pid, T_CFG, text);
}

/* Takes a module from a message and spawns its hello, linked (if hello
 * fails, so does the forwarder, and main sees it); answers once hello has
 * ended. */
LG_EXPORT("forwarder")
void forwarder(int64_t main_pid)
{
    if (lg_receive_tag(T_MODULE, LG_FOREVER) != LG_DATA)
        lg_trap();
    uint64_t m = lg_msg_take_module(0), id;
    if (lg_spawn_ex(1, LG_MINE, (int64_t)m, "hello", LG_ARGS(LG_I64(main_pid), LG_I32(2)), &id) !=
        LG_OK)
        child_error("spawn", id);
    lg_monitor(id);
    if (lg_receive_any(LG_FOREVER) != LG_PROCESS_DIED)
        lg_trap();
    lg_send_u64((uint64_t)main_pid, T_FWD, 1);
}

/* ---- steps ---------------------------------------------------------------------- */

static void messages(uint64_t me)
{
    step = "spawn and messages";
    uint64_t c = spawn_linked(L_ECHO, LG_MINE, LG_MINE, "echo", LG_ARGS(LG_I64(me)));
    lg_send_str(c, T_PING, "ping");
    expect(T_PONG, L_ECHO);
    char buf[16];
    lg_msg_read_str(buf, sizeof buf);
    if (strcmp(buf, "ping"))
        end(5, "BUG: echo answered '%s'", buf);

    step = "selective receive";
    for (int i = 0; i < 3; i++)
        lg_send_u64(me, T_SELF + i, (uint64_t)i);
    int64_t order[3] = {T_SELF + 2, T_SELF, T_SELF + 1};
    for (int i = 0; i < 3; i++) {
        expect(order[i], 0);
        if (lg_msg_read_u64() != (uint64_t)(order[i] - T_SELF))
            end(5, "BUG: wrong message for tag %lld", (long long)order[i]);
    }
    int64_t none = T_SELF + 3;
    expect_nothing(&none, 1);

    step = "send_receive_skip_search";
    c = spawn_linked(L_SKIP, LG_MINE, LG_MINE, "replier", LG_ARGS(LG_I64(me)));
    lg_send_u64(me, T_REPLY, 100);   /* already queued: skipped */
    int64_t other = T_REPLY + 1;     /* (a wait: self-sent messages reach the mailbox) */
    expect_nothing(&other, 1);
    lg_msg_create(1, 8);
    lg_msg_write_u64(41);
    if (lg_send_receive_skip_search(c, T_REPLY, WAIT_MS) != 0) {
        /* (the replier may have died before answering) */
        if (lg_receive_tag(L_SKIP, 0) == LG_LINK_DIED)
            end(4, "child died");
        end(5, "BUG: no reply");
    }
    if (lg_msg_read_u64() != 42)
        end(5, "BUG: the queued message instead of the reply");
    expect(T_REPLY, 0);              /* the skipped one is still there */
    if (lg_msg_read_u64() != 100)
        end(5, "BUG: the skipped message changed");
    lg_send_u64(c, 0, 0);
}

static void deaths(uint64_t me)
{
    step = "a linked child traps";
    spawn_linked(L_TRAP, LG_MINE, LG_MINE, "trapper", LG_NOARGS);
    expect_link_died(L_TRAP);

    step = "a linked child exits with 7";
    spawn_linked(L_EXIT, LG_MINE, LG_MINE, "exiter", LG_NOARGS);
    expect_link_died(L_EXIT);

    step = "monitor a child that returns";
    uint64_t c = spawn_child("returner");
    lg_monitor(c);
    expect_process_died(c);

    step = "monitor and kill";
    c = spawn_child("blocker");
    lg_monitor(c);
    lg_kill(c);
    expect_process_died(c);

    step = "monitor a missing process";
    lg_monitor(987654);
    expect_process_died(987654);

    step = "stop_monitoring";
    c = spawn_child("blocker");
    lg_monitor(c);
    lg_stop_monitoring(c);
    lg_kill(c);
    wait_gone(c);
    expect_nothing(NULL, 0);

    step = "link later, then kill";
    c = spawn_child("blocker");
    lg_link(L_LATE, c);
    lg_kill(c);
    expect_link_died(L_LATE);

    step = "unlink";
    c = spawn_child("blocker");
    lg_link(L_UNLINKED, c);
    lg_unlink(c);
    lg_kill(c);
    wait_gone(c);
    int64_t t = L_UNLINKED;
    expect_nothing(&t, 1);

    step = "link a missing process";
    lg_link(L_NOPROC, 987655);
    expect_link_died(L_NOPROC);

    step = "die_when_link_dies";
    spawn_linked(L_CHAIN, LG_MINE, LG_MINE, "chained", LG_NOARGS);
    expect_link_died(L_CHAIN);
    (void)me;
}

static void registry(uint64_t me)
{
    step = "registry";
    uint64_t node = 9, pid = 9;
    lg_register("fw/self", me);
    if (lg_lookup("fw/self", &node, &pid) != 0 || node != 0 || pid != me)
        end(5, "BUG: a put name is not found");
    lg_unregister("fw/self");
    if (lg_lookup("fw/self", &node, &pid) == 0)
        end(5, "BUG: a removed name is found");

    step = "get_or_spawn";
    uint64_t first;
    uint32_t r = lg_get_or_spawn("fw/replier", L_REG, LG_MINE, LG_MINE, "replier",
                                 LG_ARGS(LG_I64(me)), &node, &first);
    if (r == LG_ERROR)
        error_id(first);
    if (r != LG_SPAWNED)
        end(5, "BUG: get_or_spawn of a new name gave %u", r);
    r = lg_get_or_spawn("fw/replier", L_REG, LG_MINE, LG_MINE, "replier", LG_ARGS(LG_I64(me)), &node,
                        &pid);
    if (r == LG_ERROR)
        error_id(pid);
    if (r != LG_FOUND || pid != first)
        end(5, "BUG: get_or_spawn of a known name gave %u", r);
    lg_send_u64(first, T_REG, 1);
    expect(T_REPLY, L_REG);
    lg_send_u64(first, 0, 0);        /* ends it: its name goes (decision 6) */
    wait_gone(first);
    if (lg_lookup("fw/replier", &node, &pid) == 0)
        end(5, "BUG: the name of a dead process is found");
}

static void timers(uint64_t me)
{
    step = "send_after";
    lg_msg_create(T_TIMER, 8);
    lg_msg_write_u64(5);
    lg_send_after(me, 5);
    expect(T_TIMER, 0);

    step = "cancel_timer";
    lg_msg_create(T_CANCELLED, 8);
    lg_msg_write_u64(6);
    uint64_t t = lg_send_after(me, 60000);
    if (lg_cancel_timer(t) != 1)
        end(5, "BUG: a pending timer is not cancelled");
    int64_t tag = T_CANCELLED;
    expect_nothing(&tag, 1);
}

static void configs(uint64_t me)
{
    step = "configs";
    int64_t c = lg_config_create();
    if (c < 0)
        end(5, "BUG: main may not create configs");
    lg_config_set_max_memory(c, 8 << 20);
    lg_config_set_max_fuel(c, 1000);
    lg_config_set_can_spawn(c, 1);
    lg_config_set_can_spawn(c, 0);
    lg_config_add_env(c, "FW_VAR", "set");
    lg_config_add_arg(c, "child");
    lg_config_preopen(c, ".");
    if (lg_config_max_memory(c) != 8 << 20 || lg_config_max_fuel(c) != 1000 || lg_config_can_spawn(c))
        end(5, "BUG: config values");
    spawn_linked(L_CFG, c, LG_MINE, "configured", LG_ARGS(LG_I64(me)));
    lg_config_drop(c);
    expect(T_CFG, L_CFG);
    char text[160];
    lg_msg_read_str(text, sizeof text);
    if (strcmp(text, "var set, file workload file, config -1"))
        end(5, "BUG: the child saw: %s", text);
}

static void modules(uint64_t me)
{
    step = "compile_module";
    uint64_t m;
    int32_t r = lg_compile(tiny_module, sizeof tiny_module, &m);
    if (r == 1)
        error_id(m);
    if (r != 0)
        end(5, "BUG: compile_module gave %d", r);
    spawn_linked(L_HELLO, LG_MINE, (int64_t)m, "hello", LG_ARGS(LG_I64(me), LG_I32(1)));
    expect(T_HELLO, L_HELLO);

    step = "push_module";
    uint64_t f = spawn_linked(L_FWD, LG_MINE, LG_MINE, "forwarder", LG_ARGS(LG_I64(me)));
    lg_msg_create(T_MODULE, 0);
    lg_msg_push_module(m);
    lg_msg_send(f);
    expect(T_FWD, L_FWD);
    expect(T_HELLO, L_FWD);
    lg_module_drop(m);
}

int main(void)
{
    FILE *f = fopen("workload.txt", "w");
    if (!f || fputs("workload file", f) < 0 || fclose(f))
        end(5, "cannot write workload.txt in the working directory");
    uint64_t me = lg_self();
    lg_die_when_link_dies(0);
    messages(me);
    deaths(me);
    registry(me);
    timers(me);
    configs(me);
    modules(me);
    step = "end";
    expect_nothing(NULL, 0);
    lg_printf("faults workload: done\n");
    return 0;
}
