/* messages.c - the scratch message and the mailbox: create/write/read/seek/
 * data_size/get_tag/get_process_id on data, a message to oneself, selective
 * receive by tag lists, FIFO order, receive timeouts (0 = poll, finite,
 * a message arriving before the timeout), a large message, send to a dead
 * process. */
#include "proc_test.h"

#define T_DONE 9

/* Sends tags 1,2,3,1,2,3 carrying 0..5, then T_DONE. */
LG_EXPORT("burst")
void burst(int64_t parent)
{
    static const int64_t tags[6] = {1, 2, 3, 1, 2, 3};
    for (int i = 0; i < 6; i++)
        lg_send_u64((uint64_t)parent, tags[i], (uint64_t)i);
    lg_send_u64((uint64_t)parent, T_DONE, 0);
}

LG_EXPORT("late")
void late(int64_t parent)
{
    lg_sleep_ms(30);
    lg_send_u64((uint64_t)parent, 4, 44);
}

LG_EXPORT("big")
void big(int64_t parent, int32_t size)
{
    uint8_t *p = malloc((size_t)size);
    for (int32_t i = 0; i < size; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    lg_msg_create(5, 0);
    lg_msg_write(p, (size_t)size / 2);
    lg_msg_write(p + size / 2, (size_t)(size - size / 2));
    lg_msg_send((uint64_t)parent);
}

LG_EXPORT("returner") void returner(void) {}

static void show_next(const char *what, const int64_t *tags, size_t n)
{
    uint32_t k = lg_receive(tags, n, 0);
    if (k == LG_DATA)
        say("%s: tag %lld value %llu\n", what, (long long)lg_msg_tag(), (unsigned long long)lg_msg_read_u64());
    else
        say("%s: %s\n", what, kind_name(k));
}

int main(void)
{
    char buf[64];
    uint64_t me = lg_self();

    /* The scratch message. */
    lg_msg_create(77, 4);
    uint32_t w1 = lg_msg_write("hello", 5);
    uint32_t w2 = lg_msg_write(" world", 6);
    say("write: %u %u\n", w1, w2);
    say("size before send: %llu\n", (unsigned long long)lg_msg_size());
    say("tag before send: %lld\n", (long long)lg_msg_tag());
    say("send to self: %u\n", lgi_message_send(me));
    uint32_t k = lg_receive_any(LG_FOREVER);
    say("receive: %s tag %lld size %llu pid %llu\n", kind_name(k), (long long)lg_msg_tag(),
        (unsigned long long)lg_msg_size(), (unsigned long long)lg_msg_pid());
    memset(buf, 0, sizeof buf);
    uint32_t r1 = lg_msg_read(buf, 5);
    say("read 5: %u '%s'\n", r1, buf);
    memset(buf, 0, sizeof buf);
    uint32_t r2 = lg_msg_read(buf, 60);
    say("read rest: %u '%s'\n", r2, buf);
    say("read at end: %u\n", lg_msg_read(buf, 60));
    lg_msg_seek(6);
    memset(buf, 0, sizeof buf);
    uint32_t r3 = lg_msg_read(buf, 60);
    say("seek 6, read: %u '%s'\n", r3, buf);
    lg_msg_seek(11);
    say("seek to end, read: %u\n", lg_msg_read(buf, 60));
    lg_msg_seek(0);
    say("seek 0, read: %u\n", lg_msg_read(buf, 60));
    say("size after reads: %llu\n", (unsigned long long)lg_msg_size());

    /* An untagged message reads as tag 0; an empty one has size 0. */
    lg_msg_create(0, 0);
    lg_msg_send(me);
    k = lg_receive_any(LG_FOREVER);
    say("untagged: %s tag %lld size %llu read %u\n", kind_name(k), (long long)lg_msg_tag(),
        (unsigned long long)lg_msg_size(), lg_msg_read(buf, 8));

    /* Selective receive. All of burst's messages are queued once T_DONE,
     * its last, has arrived. */
    lg_spawn("burst", LG_ARGS(LG_I64(me)));
    say("done marker: %s\n", kind_name(lg_receive_tag(T_DONE, LG_FOREVER)));
    int64_t t77 = 77, t3 = 3, t23[2] = {2, 3}, t31[2] = {3, 1};
    show_next("tag 77 (absent), poll", &t77, 1);
    show_next("tag 3", &t3, 1);
    show_next("tags {2,3}", t23, 2);
    show_next("any", NULL, 0);
    show_next("tags {3,1}", t31, 2);
    show_next("tag 3", &t3, 1);
    show_next("any", NULL, 0);
    show_next("any", NULL, 0);
    show_next("any, empty", NULL, 0);

    /* Timeouts. */
    uint64_t t0 = now_ms();
    k = lg_receive_any(60);
    say("receive, 60 ms: %s, waited >= 55 ms: %s\n", kind_name(k), now_ms() - t0 >= 55 ? "yes" : "no");
    t0 = now_ms();
    k = lg_receive_tag(8, 40);
    say("receive tag 8, 40 ms: %s, waited >= 35 ms: %s\n", kind_name(k), now_ms() - t0 >= 35 ? "yes" : "no");
    lg_spawn("late", LG_ARGS(LG_I64(me)));
    k = lg_receive_any(10000);
    say("late message within 10 s: %s tag %lld value %llu\n", kind_name(k), (long long)lg_msg_tag(),
        (unsigned long long)lg_msg_read_u64());

    /* A large message, written in two parts. */
    int32_t size = 200000;
    lg_spawn("big", LG_ARGS(LG_I64(me), LG_I32(size)));
    k = lg_receive_tag(5, 10000);
    uint64_t sz = lg_msg_size();
    uint8_t *p = malloc((size_t)size);
    uint32_t got = 0, r;
    while ((r = lg_msg_read(p + got, 4096)) > 0)
        got += r;
    int same = 1;
    for (int32_t i = 0; i < size; i++)
        if (p[i] != (uint8_t)(i * 7 + 3))
            same = 0;
    say("big: %s size %llu read %u content %s\n", kind_name(k), (unsigned long long)sz, got, same ? "ok" : "BAD");

    /* Sending to a process that is gone is silently dropped. */
    uint64_t dead = lg_spawn("returner", LG_NOARGS);
    lg_monitor(dead);
    lg_receive_any(10000);
    lg_msg_create(1, 0);
    say("send to a dead process: %u\n", lgi_message_send(dead));
    lg_msg_create(1, 0);
    say("send to a pid never used: %u\n", lgi_message_send(987654321));
    say("nothing came back: %s\n", kind_name(lg_receive_any(50)));
    return 0;
}
