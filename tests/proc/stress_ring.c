/* stress_ring.c - a ring of 1,000 processes passes a token around 10 times
 * (10,000 hops, one process runnable at a time), then main kills every
 * member and sees each death. */
#include "proc_test.h"

#define N 1000
#define ROUNDS 10
#define T_TOKEN 1
#define T_NEXT 2

/* Learns its successor, then forwards tokens; the token's count of hops
 * left goes back to main when it reaches 0. */
LG_EXPORT("member")
void member(int64_t main_pid)
{
    uint64_t next = recv_u64(T_NEXT);
    for (;;) {
        lg_receive_tag(T_TOKEN, LG_FOREVER);
        uint64_t left = lg_msg_read_u64();
        lg_send_u64(left == 0 ? (uint64_t)main_pid : next, T_TOKEN, left == 0 ? 0 : left - 1);
    }
}

static uint64_t pids[N];

int main(void)
{
    uint64_t me = lg_self();
    for (int i = 0; i < N; i++)
        pids[i] = lg_spawn("member", LG_ARGS(LG_I64(me)));
    for (int i = 0; i < N; i++)
        lg_send_u64(pids[i], T_NEXT, pids[(i + 1) % N]);
    lg_send_u64(pids[0], T_TOKEN, N * ROUNDS - 1);
    uint64_t v = recv_u64(T_TOKEN);
    say("token went %d rounds (%d hops): %s\n", ROUNDS, N * ROUNDS, v == 0 ? "ok" : "LOST");
    for (int i = 0; i < N; i++)
        lg_monitor(pids[i]);
    for (int i = 0; i < N; i++)
        lg_kill(pids[i]);
    int died = 0;
    for (int i = 0; i < N; i++)
        died += lg_receive_any(10000) == LG_PROCESS_DIED;
    say("killed: %d deaths seen\n", died);
    return 0;
}
