/* scan_fair.c - a selective receive is charged for what it scans: a
 * process that keeps looking for a tag none of its 100,000 queued
 * messages has must not hold up a ping-pong pair on the same worker
 * (t-proc.sh's one-worker mode makes them share it). Each round trip of
 * the pair stays far below the time one unbudgeted scan loop takes. */
#include "proc_test.h"

#define T_PING 1
#define T_PONG 2
#define T_DONE 3

LG_EXPORT("hoarder") void hoarder(int64_t main_pid)
{
    for (int i = 0; i < 100000; i++) {
        lg_msg_create(7, 0);
        lg_msg_send(lg_self());
    }
    lg_send_u64((uint64_t)main_pid, T_DONE, 0);
    for (;;)
        lg_receive_tag(8, 0); /* never there: each call scans all of them */
}

LG_EXPORT("ponger") void ponger(void)
{
    for (;;) {
        lg_receive_tag(T_PING, LG_FOREVER);
        lg_send_u64(lg_msg_read_u64(), T_PONG, 0);
    }
}

int main(void)
{
    uint64_t h = lg_spawn("hoarder", LG_ARGS(LG_I64(lg_self())));
    lg_receive_tag(T_DONE, LG_FOREVER);
    uint64_t p = lg_spawn("ponger", LG_NOARGS);
    uint64_t worst = 0, t0 = now_ms();
    for (int i = 0; i < 300; i++) {
        uint64_t t = now_ms();
        lg_send_u64(p, T_PING, lg_self());
        lg_receive_tag(T_PONG, LG_FOREVER);
        if (now_ms() - t > worst)
            worst = now_ms() - t;
    }
    say("300 round trips beside a process scanning 100,000 messages: %s\n",
        worst < 200 ? "none took 200 ms" : "some took too long");
    fprintf(stderr, "worst round trip %llu ms, all %llu ms\n", (unsigned long long)worst,
              (unsigned long long)(now_ms() - t0));
    lg_kill(h);
    lg_kill(p);
    return 0;
}
