/* timers.c - send_after (delivery order by due time, ids per process from
 * 0), cancel_timer (1 while pending, then 0; 0 once fired; 0 for an
 * unknown id), a timer to a dead process, a timer to another process,
 * sleep_ms. */
#include "proc_test.h"

#define T_REPORT 50

LG_EXPORT("returner") void returner(void) {}

/* Its own first timer id, and a timer message from main. */
LG_EXPORT("timer_child")
void timer_child(int64_t main_pid)
{
    lg_msg_create(1, 0);
    uint64_t id = lg_send_after(lg_self(), 1);
    lg_receive_tag(1, LG_FOREVER);
    uint32_t k = lg_receive_tag(2, LG_FOREVER);
    report((uint64_t)main_pid, T_REPORT, "child: first timer id %llu, main's timer: %s value %llu",
           (unsigned long long)id, kind_name(k), (unsigned long long)lg_msg_read_u64());
}

int main(void)
{
    char buf[128];
    uint64_t me = lg_self();

    lg_msg_create(1, 0);
    uint64_t a = lg_send_after(me, 80);
    lg_msg_create(2, 0);
    uint64_t b = lg_send_after(me, 10);
    say("timer ids: %llu %llu\n", (unsigned long long)a, (unsigned long long)b);
    uint32_t k1 = lg_receive_any(10000);
    int64_t tag1 = lg_msg_tag();
    uint32_t k2 = lg_receive_any(10000);
    int64_t tag2 = lg_msg_tag();
    say("first %s tag %lld, then %s tag %lld\n", kind_name(k1), (long long)tag1, kind_name(k2), (long long)tag2);
    say("cancel a timer that fired: %d\n", lg_cancel_timer(b));

    lg_msg_create(3, 0);
    uint64_t c = lg_send_after(me, 50);
    say("timer id %llu\n", (unsigned long long)c);
    say("cancel: %d\n", lg_cancel_timer(c));
    say("cancel again: %d\n", lg_cancel_timer(c));
    say("cancel unknown id: %d\n", lg_cancel_timer(12345));
    say("cancelled timer delivered nothing: %s\n", kind_name(lg_receive_any(150)));

    uint64_t dead = lg_spawn("returner", LG_NOARGS);
    lg_monitor(dead);
    lg_receive_any(10000);
    lg_msg_create(4, 0);
    uint64_t d = lg_send_after(dead, 5);
    lg_sleep_ms(30);
    say("timer %llu to a dead process: fired into nothing\n", (unsigned long long)d);

    uint64_t child = lg_spawn("timer_child", LG_ARGS(LG_I64(me)));
    lg_msg_create(2, 8);
    lg_msg_write_u64(1234);
    lg_send_after(child, 20);
    say("%s\n", recv_str(T_REPORT, buf, sizeof buf));

    uint64_t t0 = now_ms();
    lg_sleep_ms(40);
    say("sleep_ms(40) slept >= 38 ms: %s\n", now_ms() - t0 >= 38 ? "yes" : "no");
    lg_sleep_ms(0);
    say("sleep_ms(0) returns\n");
    say("finally: %s\n", kind_name(lg_receive_any(50)));
    return 0;
}
