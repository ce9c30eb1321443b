/* catch.c - lunatic::trap::catch through the SDK's _lunatic_catch_trap
 * export: the result of a function that returns, 0 for one that traps
 * (unreachable, deep in a call chain, division by zero, out-of-bounds
 * memory) with the process living on; nested catches; effects before the
 * trap stay (a message sent); a caught function may block in receive; a
 * kill is not caught. */
#include "proc_test.h"

#define T_REPORT 40
#define T_VALUE 41

static volatile int32_t zero = 0;

static int32_t returns_arg(int32_t x) { return x * 2; }
static int32_t traps(int32_t x) { (void)x; lg_trap(); }
static __attribute__((noinline)) int32_t deep(int32_t x)
{
    if (x == 0)
        lg_trap();
    return deep(x - 1) + 1;
}
static int32_t divides(int32_t x) { return x / zero; }
static int32_t out_of_bounds(int32_t x)
{
    volatile int32_t *p = (volatile int32_t *)(uintptr_t)0xFFFFFFF0u;
    return *p + x;
}
static int32_t inner_traps_outer_returns(int32_t x) { return lg_catch(traps, x) + 5; }
static int32_t sends_then_traps(int32_t pid)
{
    lg_send_u64((uint64_t)lg_self(), T_VALUE, (uint64_t)pid);
    lg_trap();
}
static int32_t waits_for_message(int32_t x)
{
    (void)x;
    lg_receive_tag(T_VALUE, LG_FOREVER);
    return (int32_t)lg_msg_read_u64();
}

LG_EXPORT("sender")
void sender(int64_t parent)
{
    lg_sleep_ms(20);
    lg_send_u64((uint64_t)parent, T_VALUE, 42);
}

LG_EXPORT("blocked_in_catch")
void blocked_in_catch(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_REPORT, 0);
    int32_t r = lg_catch(waits_for_message, 0);
    lg_send_u64((uint64_t)parent, T_REPORT, (uint64_t)r + 100); /* must not happen */
}

int main(void)
{
    volatile int32_t local = 1234;
    say("returns: %d\n", lg_catch(returns_arg, 21));
    say("unreachable: %d\n", lg_catch(traps, 0));
    say("trap 50 calls deep: %d\n", lg_catch(deep, 50));
    say("divide by zero: %d\n", lg_catch(divides, 1));
    say("out of bounds: %d\n", lg_catch(out_of_bounds, 1));
    say("nested: %d\n", lg_catch(inner_traps_outer_returns, 0));
    say("local variable intact: %d\n", local);

    say("sends then traps: %d\n", lg_catch(sends_then_traps, 77));
    say("its message arrived: %llu\n", (unsigned long long)recv_u64(T_VALUE));

    lg_spawn("sender", LG_ARGS(LG_I64(lg_self())));
    say("blocks in receive inside catch: %d\n", lg_catch(waits_for_message, 0));

    uint64_t c = lg_spawn("blocked_in_catch", LG_ARGS(LG_I64(lg_self())));
    lg_monitor(c);
    recv_u64(T_REPORT);
    lg_sleep_ms(20);
    lg_kill(c);
    say("killed inside catch: died %d\n", got_died(c));
    say("then: %s\n", kind_name(lg_receive_any(100)));
    say("still alive\n");
    return 0;
}
