/* limits.c - per-process limits from the config: max_memory caps
 * memory.grow (it returns -1 past the limit, malloc returns NULL) and a
 * limit below the module's initial memory makes spawn fail with an error;
 * max_fuel makes a spinning process trap (the linked parent gets LinkDied,
 * a monitor ProcessDied) while a short job under the same limit ends
 * normally. */
#include "proc_test.h"

#define T_REPORT 90
#define PAGE 65536

static void *volatile keep; /* so that the malloc is not optimized away */

LG_EXPORT("grower")
void grower(int64_t main_pid)
{
    /* What a process holds outside its linear memory (here its scratch
     * message) shares the limit (src/rt/account.h): a message made before
     * growing keeps room for the report, and the memory stops a page
     * short of the 16. */
    lg_msg_create(T_REPORT, 512);
    size_t start = __builtin_wasm_memory_size(0);
    int big = (int)__builtin_wasm_memory_grow(0, 1000);
    while (__builtin_wasm_memory_grow(0, 1) != (size_t)-1) {
    }
    size_t end = __builtin_wasm_memory_size(0);
    keep = malloc(2 * 1024 * 1024);
    void *p = keep;
    report((uint64_t)main_pid, T_REPORT, "child: start <= 16 pages %s, grow by 1000: %d, grew to %zu pages, malloc(2 MiB) %s",
           start <= 16 ? "yes" : "no", big, end, p ? "succeeded" : "NULL");
}

static volatile uint64_t counter;

LG_EXPORT("spinner")
void spinner(void)
{
    for (;;)
        counter++;
}

LG_EXPORT("light")
void light(int64_t main_pid)
{
    for (int i = 0; i < 1000; i++)
        counter += (uint64_t)i;
    lg_send_u64((uint64_t)main_pid, T_REPORT, counter);
}

LG_EXPORT("blocker") void blocker(void) { lg_receive_any(LG_FOREVER); }

int main(void)
{
    char buf[256];
    uint64_t me = lg_self(), pid = 0;

    int64_t mem = lg_config_create();
    lg_config_set_max_memory(mem, 16 * PAGE);
    uint32_t r = lg_spawn_ex(0, mem, LG_MINE, "grower", LG_ARGS(LG_I64(me)), &pid);
    say("spawn with 1 MiB: %u\n", r);
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));

    int64_t tiny = lg_config_create();
    lg_config_set_max_memory(tiny, PAGE);
    r = lg_spawn_ex(0, tiny, LG_MINE, "blocker", LG_NOARGS, &pid);
    size_t n = r == 1 ? lg_error_string(pid, buf, sizeof buf) : 0;
    if (r == 1)
        lg_error_drop(pid);
    say("spawn with 64 KiB (below the initial 128 KiB): %u, error text %s\n", r, n > 0 ? "present" : "empty");

    int64_t fuel = lg_config_create();
    lg_config_set_max_fuel(fuel, 1);
    lg_die_when_link_dies(0);
    r = lg_spawn_ex(21, fuel, LG_MINE, "spinner", LG_NOARGS, &pid);
    uint32_t k = lg_receive_any(10000);
    say("linked spinner with fuel 1: spawn %u, then %s tag %lld\n", r, kind_name(k), (long long)lg_msg_tag());

    r = lg_spawn_ex(0, fuel, LG_MINE, "spinner", LG_NOARGS, &pid);
    lg_monitor(pid);
    say("monitored spinner with fuel 1: died %d\n", got_died(pid));

    r = lg_spawn_ex(22, fuel, LG_MINE, "light", LG_ARGS(LG_I64(me)), &pid);
    lg_monitor(pid);
    uint64_t v = recv_u64(T_REPORT);
    say("light job with fuel 1: sum %llu, ended normally %d\n", (unsigned long long)v, got_died(pid));
    say("then: %s\n", kind_name(lg_receive_any(100)));
    return 0;
}
