/* modules.c - compile_module (a valid module, invalid bytes, an unknown
 * import: decision 10), spawn from a compiled module (with parameters, a
 * missing export fails the process, not the spawn; a trapping export),
 * push_module/take_module to hand a module to a child (indices from 0, the
 * receiver's module ids from 0, the sender keeps its module), drop_module. */
#include "proc_test.h"
#include "tiny_module.h"

#define T_HELLO 55
#define T_MODULE 60
#define T_REPORT 61

static void show_hello(const char *what)
{
    char text[32] = {0};
    int32_t n = -1;
    uint32_t k = lg_receive_tag(T_HELLO, 10000);
    if (k != LG_DATA) {
        say("%s: %s\n", what, kind_name(k));
        return;
    }
    uint64_t size = lg_msg_size();
    lg_msg_read(text, 17);
    lg_msg_read(&n, 4);
    say("%s: '%s' n=%d size %llu\n", what, text, n, (unsigned long long)size);
}

/* Takes the two modules of a message and spawns hello from the second. */
LG_EXPORT("forwarder")
void forwarder(int64_t main_pid)
{
    lg_receive_tag(T_MODULE, LG_FOREVER);
    uint64_t m1 = lg_msg_take_module(1);
    uint64_t m0 = lg_msg_take_module(0);
    uint64_t pid = 0;
    uint32_t r = lg_spawn_ex(0, LG_MINE, (int64_t)m1, "hello", LG_ARGS(LG_I64(main_pid), LG_I32(8)), &pid);
    report((uint64_t)main_pid, T_REPORT, "child: took index 1 as module %llu, index 0 as module %llu, spawn %u",
           (unsigned long long)m1, (unsigned long long)m0, r);
}

int main(void)
{
    char buf[256];
    uint64_t me = lg_self();
    uint64_t m = 0, err = 0, pid = 0;

    int32_t r = lg_compile(tiny_module, sizeof tiny_module, &m);
    say("compile: %d\n", r);
    uint32_t s = lg_spawn_ex(0, LG_MINE, (int64_t)m, "hello", LG_ARGS(LG_I64(me), LG_I32(7)), &pid);
    say("spawn hello: %u\n", s);
    show_hello("hello");

    s = lg_spawn_ex(0, LG_MINE, (int64_t)m, "no_such_export", LG_NOARGS, &pid);
    lg_monitor(pid);
    say("spawn of a missing export: %u, then died %d\n", s, got_died(pid));
    s = lg_spawn_ex(0, LG_MINE, (int64_t)m, "boom", LG_NOARGS, &pid);
    lg_monitor(pid);
    say("spawn boom: %u, then died %d\n", s, got_died(pid));

    r = lg_compile("this is not wasm", 16, &err);
    size_t n = lg_error_string(err, buf, sizeof buf);
    lg_error_drop(err);
    say("compile garbage: %d, error text %s\n", r, n > 0 ? "present" : "empty");
    r = lg_compile(bad_import_module, sizeof bad_import_module, &err);
    n = lg_error_string(err, buf, sizeof buf);
    lg_error_drop(err);
    say("compile with an unknown import: %d, error names it: %s\n", r, strstr(buf, "nope") ? "yes" : buf);

    uint64_t f = lg_spawn("forwarder", LG_ARGS(LG_I64(me)));
    lg_msg_create(T_MODULE, 0);
    uint64_t i0 = lg_msg_push_module(m);
    uint64_t i1 = lg_msg_push_module(m);
    lg_msg_send(f);
    say("pushed at indices %llu %llu\n", (unsigned long long)i0, (unsigned long long)i1);
    show_hello("hello via the child");
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));

    s = lg_spawn_ex(0, LG_MINE, (int64_t)m, "hello", LG_ARGS(LG_I64(me), LG_I32(9)), &pid);
    say("spawn after push: %u\n", s);
    show_hello("hello again");

    lg_module_drop(m);
    say("dropped\n");
    return 0;
}
