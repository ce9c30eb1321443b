/* skip_search.c - send_receive_skip_search: sends the scratch message and
 * waits for a message with the given tag that arrives after the send,
 * skipping one with that tag already queued; returns 9027 on timeout; any
 * kind of message with the tag matches, LinkDied included. */
#include "proc_test.h"

#define T_OLD 77
#define T_BARRIER 5

/* Replies to each request {reply_to, reply_tag, value} with value + 1. */
LG_EXPORT("echo")
void echo(void)
{
    for (;;) {
        lg_receive_any(LG_FOREVER);
        uint64_t to = lg_msg_read_u64(), tag = lg_msg_read_u64(), v = lg_msg_read_u64();
        lg_send_u64(to, (int64_t)tag, v + 1);
    }
}

LG_EXPORT("preload")
void preload(int64_t parent)
{
    lg_send_u64((uint64_t)parent, T_OLD, 7);
    lg_send_u64((uint64_t)parent, T_BARRIER, 0);
}

LG_EXPORT("silent") void silent(void) { lg_receive_any(LG_FOREVER); }

LG_EXPORT("trap_on_message")
void trap_on_message(void)
{
    lg_receive_any(LG_FOREVER);
    lg_trap();
}

static void request(uint64_t tag, uint64_t v)
{
    uint64_t me = lg_self();
    lg_msg_create(1, 24);
    lg_msg_write(&me, 8);
    lg_msg_write(&tag, 8);
    lg_msg_write(&v, 8);
}

int main(void)
{
    uint64_t echo_pid = lg_spawn("echo", LG_NOARGS);
    lg_spawn("preload", LG_ARGS(LG_I64(lg_self())));
    lg_receive_tag(T_BARRIER, 10000); /* the T_OLD message is queued now */

    request(T_OLD, 41);
    uint32_t r = lg_send_receive_skip_search(echo_pid, T_OLD, 10000);
    say("skip search: %u, tag %lld value %llu\n", r, (long long)lg_msg_tag(), (unsigned long long)lg_msg_read_u64());
    r = lg_receive_tag(T_OLD, 0);
    say("the queued one: %s value %llu\n", kind_name(r), (unsigned long long)lg_msg_read_u64());

    request(12, 99);
    r = lg_send_receive_skip_search(echo_pid, 12, LG_FOREVER);
    say("no timeout: %u value %llu\n", r, (unsigned long long)lg_msg_read_u64());

    uint64_t s = lg_spawn("silent", LG_NOARGS);
    request(13, 0);
    uint64_t t0 = now_ms();
    r = lg_send_receive_skip_search(s, 13, 50);
    say("no reply, 50 ms: %u, waited >= 45 ms: %s\n", r, now_ms() - t0 >= 45 ? "yes" : "no");

    /* The request reaches the child, which traps: its LinkDied carries the
     * awaited tag. */
    lg_die_when_link_dies(0);
    uint64_t c = lg_spawn_link(99, "trap_on_message", LG_NOARGS);
    lg_msg_create(1, 0);
    r = lg_send_receive_skip_search(c, 99, 10000);
    say("link died while waiting: %u, tag %lld\n", r, (long long)lg_msg_tag());

    lg_kill(s);
    lg_kill(echo_pid);
    say("finally: %s\n", kind_name(lg_receive_any(100)));
    return 0;
}
