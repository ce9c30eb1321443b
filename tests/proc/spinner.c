/* spinner.c - endless loops do not stop the others: while two processes
 * spin forever (one without calls, one with), main exchanges 200 messages
 * with an echo process, sleeps, gets a timer, then kills the spinners. */
#include "proc_test.h"

static volatile uint64_t counter;
static __attribute__((noinline)) void step(void) { counter++; }

LG_EXPORT("tight") void tight(void) { for (;;) { } }
LG_EXPORT("calls") void calls(void) { for (;;) step(); }

LG_EXPORT("echo")
void echo(int64_t parent)
{
    for (;;) {
        lg_receive_any(LG_FOREVER);
        uint64_t v = lg_msg_read_u64();
        lg_send_u64((uint64_t)parent, 2, v + 1);
    }
}

int main(void)
{
    uint64_t me = lg_self();
    uint64_t s1 = lg_spawn("tight", LG_NOARGS);
    uint64_t s2 = lg_spawn("calls", LG_NOARGS);
    lg_monitor(s1);
    lg_monitor(s2);
    lg_sleep_ms(20);
    uint64_t e = lg_spawn("echo", LG_ARGS(LG_I64(me)));
    uint64_t v = 0;
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        lg_send_u64(e, 1, v);
        uint64_t w = recv_u64(2);
        if (w != v + 1)
            ok = 0;
        v = w;
    }
    say("200 round trips while 2 processes spin: %s, value %llu\n", ok ? "ok" : "WRONG", (unsigned long long)v);
    uint64_t t0 = now_ms();
    lg_sleep_ms(30);
    say("slept 30 ms: %s\n", now_ms() - t0 >= 28 ? "yes" : "no");
    lg_msg_create(3, 0);
    lg_send_after(me, 10);
    say("timer: %s\n", kind_name(lg_receive_tag(3, 10000)));
    say("spinners alive: %d %d\n", lg_exists(s1), lg_exists(s2));
    lg_kill(s1);
    lg_kill(s2);
    int d1 = 0, d2 = 0;
    for (int i = 0; i < 2; i++) {
        if (lg_receive_any(10000) == LG_PROCESS_DIED) {
            d1 += lg_msg_pid() == s1;
            d2 += lg_msg_pid() == s2;
        }
    }
    say("spinners killed: %d %d\n", d1, d2);
    lg_kill(e);
    return 0;
}
