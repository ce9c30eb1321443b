/* start_slices.c - a module's start function runs in slices inside its
 * spawner's spawn call: a long one (30 M reductions) does not stall the
 * other processes on the worker (t-proc.sh's one-worker mode), holds no
 * registry lock (a lookup of the name get_or_spawn is spawning waits for
 * its answer, a second get_or_spawn finds the same child), one that never
 * ends fails the spawn with its reason, and a spawner killed in the middle
 * of a spawn takes the half-spawned child with it (no leak under ASan,
 * its reserved name gone). */
#include "proc_test.h"

#define T_PING 1
#define T_PONG 2
#define T_DONE 3
#define T_GOS 4
#define T_LOOKUP 5

/* A module whose start function counts down from n (one reduction per
 * round; n = 0 wraps: 4 G rounds) and exports "f0", which sleeps until it
 * is killed (so that a name stays registered to it). */
static size_t make_module(uint8_t *m, uint32_t n)
{
    uint8_t *p = m;
    memcpy(p, "\0asm\1\0\0\0", 8);
    p += 8;
    const uint8_t head[] = {1, 8, 2, 0x60, 0, 0, 0x60, 1, 0x7e, 0, /* () -> (), (i64) -> () */
                            2, 29, 1, 16, 'l', 'u', 'n', 'a', 't', 'i', 'c', ':', ':', 'p', 'r', 'o',
                            'c', 'e', 's', 's', 8, 's', 'l', 'e', 'e', 'p', '_', 'm', 's', 0, 1,
                            3, 3, 2, 0, 0,                  /* start (1) and f0 (2) */
                            7, 6, 1, 2, 'f', '0', 0, 2,     /* export f0 */
                            8, 1, 1};                       /* start */
    memcpy(p, head, sizeof head);
    p += sizeof head;
    uint8_t body[32], *b = body;
    *b++ = 1; *b++ = 1; *b++ = 0x7f;                        /* one i32 local */
    *b++ = 0x41;                                            /* i32.const n (sleb) */
    int32_t v = (int32_t)n;
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
            *b++ = byte;
            break;
        }
        *b++ = byte | 0x80;
    }
    const uint8_t loop[] = {0x21, 0, 0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x0b};
    memcpy(b, loop, sizeof loop);
    b += sizeof loop;
    size_t blen = (size_t)(b - body);
    const uint8_t f0[] = {12, 0, 0x03, 0x40, 0x42, 0xe8, 0x07, 0x10, 0, 0x0c, 0, 0x0b, 0x0b};
    *p++ = 10;
    *p++ = (uint8_t)(1 + 1 + blen + sizeof f0);
    *p++ = 2;
    *p++ = (uint8_t)blen;
    memcpy(p, body, blen);
    p += blen;
    memcpy(p, f0, sizeof f0);
    p += sizeof f0;
    return (size_t)(p - m);
}

static uint64_t compile_loop(uint32_t n)
{
    uint8_t m[128];
    uint64_t id;
    if (lg_compile(m, make_module(m, n), &id) != 0)
        lg_trap();
    return id;
}

LG_EXPORT("ponger") void ponger(void)
{
    for (;;) {
        lg_receive_tag(T_PING, LG_FOREVER);
        lg_send_u64(lg_msg_read_u64(), T_PONG, 0);
    }
}

/* Spawns f0 of a module counting down from n; reports 0 and the spawn's
 * time, or 1 and the error text. */
LG_EXPORT("spawner") void spawner(int64_t main_pid, int64_t n)
{
    uint64_t id = compile_loop((uint32_t)n), pid, t = now_ms();
    uint32_t r = lg_spawn_ex(0, LG_MINE, (int64_t)id, "f0", LG_NOARGS, &pid);
    char text[200] = "";
    if (r != 0)
        lg_error_string(pid, text, sizeof text);
    report((uint64_t)main_pid, T_DONE, "%u %llu %llu %s", r, (unsigned long long)(now_ms() - t),
           (unsigned long long)pid, text);
}

LG_EXPORT("gos") void gos(int64_t main_pid, int64_t n)
{
    uint64_t id = compile_loop((uint32_t)n), node, pid;
    uint32_t r = lg_get_or_spawn("slow", 0, LG_MINE, (int64_t)id, "f0", LG_NOARGS, &node, &pid);
    report((uint64_t)main_pid, T_GOS, "%u %llu", r, (unsigned long long)pid);
}

LG_EXPORT("lookup") void lookup(int64_t main_pid)
{
    uint64_t node, pid;
    uint32_t r = lg_lookup("slow", &node, &pid);
    report((uint64_t)main_pid, T_LOOKUP, "%u %llu", r, (unsigned long long)pid);
}

static char *recv_text(int64_t tag, char *buf, size_t cap)
{
    if (lg_receive_tag(tag, 60000) != LG_DATA)
        return strcpy(buf, "(nothing)");
    size_t n = lg_msg_read(buf, cap - 1);
    buf[n] = 0;
    return buf;
}

int main(void)
{
    char buf[256];
    /* 1. a long start function beside a ping-pong pair */
    uint64_t p = lg_spawn("ponger", LG_NOARGS);
    lg_spawn("spawner", LG_ARGS(LG_I64(lg_self()), LG_I64(30000000)));
    uint64_t worst = 0;
    int rounds = 0;
    int64_t tags[2] = {T_PONG, T_DONE};
    unsigned r = 9;
    unsigned long long ms = 0, child = 0;
    for (;;) {
        uint64_t t = now_ms();
        lg_send_u64(p, T_PING, lg_self());
        if (lg_receive(tags, 2, 60000) != LG_DATA)
            break;
        if (lg_msg_tag() == T_DONE) {
            size_t n = lg_msg_read(buf, sizeof buf - 1);
            buf[n] = 0;
            sscanf(buf, "%u %llu %llu", &r, &ms, &child);
            lg_receive_tag(T_PONG, 10000);
            break;
        }
        rounds++;
        if (now_ms() - t > worst)
            worst = now_ms() - t;
    }
    say("long start function: %s\n", r == 0 ? "spawned" : buf);
    lg_kill(child);
    say("ping-pong meanwhile: %s\n",
        rounds > 10 && worst < 100 ? "kept going (no round trip took 100 ms)" : "stalled");
    fprintf(stderr, "start took %llu ms; %d round trips, worst %llu ms\n", ms, rounds,
            (unsigned long long)worst);

    /* 2. get_or_spawn holds no lock: a lookup meanwhile waits for its
     * answer, a second get_or_spawn finds the child */
    lg_spawn("gos", LG_ARGS(LG_I64(lg_self()), LG_I64(30000000)));
    lg_sleep_ms(30);
    lg_spawn("gos", LG_ARGS(LG_I64(lg_self()), LG_I64(30000000)));
    lg_spawn("lookup", LG_ARGS(LG_I64(lg_self())));
    unsigned r1, r2, rl;
    unsigned long long p1, p2, pl;
    sscanf(recv_text(T_GOS, buf, sizeof buf), "%u %llu", &r1, &p1);
    sscanf(recv_text(T_GOS, buf, sizeof buf), "%u %llu", &r2, &p2);
    sscanf(recv_text(T_LOOKUP, buf, sizeof buf), "%u %llu", &rl, &pl);
    say("get_or_spawn twice: %s\n",
        p1 == p2 && ((r1 == LG_SPAWNED && r2 == LG_FOUND) || (r1 == LG_FOUND && r2 == LG_SPAWNED))
            ? "one spawned, the other found it" : "wrong");
    say("lookup during the spawn: %s\n", rl == 0 && pl == p1 ? "the spawned pid" : "wrong");

    /* 3. a start function that never ends */
    lg_spawn("spawner", LG_ARGS(LG_I64(lg_self()), LG_I64(0)));
    char *t = recv_text(T_DONE, buf, sizeof buf);
    say("endless start function: %s\n",
        strstr(t, "did not finish within 100000000 reductions") ? "spawn failed, reason given" : t);

    /* 4. spawners killed in the middle of a spawn */
    uint64_t s = lg_spawn("spawner", LG_ARGS(LG_I64(lg_self()), LG_I64(0)));
    lg_monitor(s);
    lg_sleep_ms(30);
    lg_kill(s);
    uint32_t k = lg_receive_any(10000);
    say("spawner killed mid-spawn: %s\n", k == LG_PROCESS_DIED ? "died" : kind_name(k));
    lg_kill(p1);
    lg_unregister("slow");
    s = lg_spawn("gos", LG_ARGS(LG_I64(lg_self()), LG_I64(0)));
    lg_monitor(s);
    lg_sleep_ms(30);
    lg_spawn("lookup", LG_ARGS(LG_I64(lg_self())));
    lg_sleep_ms(30);
    uint64_t t0 = now_ms();
    lg_kill(s);
    /* the lookup's answer can come before the ProcessDied (the name goes
     * first), so take it by its tag, then the notification */
    sscanf(recv_text(T_LOOKUP, buf, sizeof buf), "%u %llu", &rl, &pl);
    uint64_t waited = now_ms() - t0;
    k = lg_receive_any(10000);
    uint64_t node, pid;
    say("get_or_spawn killed mid-spawn: %s; a lookup waiting meanwhile: %s; the name: %s\n",
        k == LG_PROCESS_DIED ? "died" : kind_name(k),
        rl == 1 && waited < 500 ? "told it is absent" : "wrong",
        lg_lookup("slow", &node, &pid) == 1 ? "free again" : "still reserved");
    lg_kill(p);
    return 0;
}
