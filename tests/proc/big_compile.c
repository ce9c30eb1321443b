/* big_compile.c - compiling a 50 MB module (500 functions of 105 KB of
 * code each) does not stall the other processes: it runs on the
 * runtime's pool while the compiling process is parked, so a ping-pong
 * pair on the same worker (t-proc.sh's one-worker mode) keeps going; the
 * module then spawns and runs. */
#include "proc_test.h"

#define T_PING 1
#define T_PONG 2
#define T_DONE 3
#define NFUNCS 500
#define OPS 35000 /* (i32.const 1, drop) pairs per body: 105,000 bytes */

static size_t leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

/* A module exporting "f0" (the first of NFUNCS functions () -> ()). */
static uint8_t *make_module(size_t *len)
{
    uint32_t body = 1 + 3 * OPS + 1;            /* locals count, ops, end */
    uint8_t bl[5];
    size_t bll = leb(bl, body);
    size_t code = 5 + NFUNCS * (bll + body);
    uint8_t *m = malloc(code + 4096), *p = m;
    memcpy(p, "\0asm\1\0\0\0", 8);
    p += 8;
    *p++ = 1; *p++ = 4; *p++ = 1; *p++ = 0x60; *p++ = 0; *p++ = 0;   /* type () -> () */
    uint8_t fs[8];
    size_t fsl = leb(fs, NFUNCS);
    *p++ = 3;
    p += leb(p, (uint32_t)(fsl + NFUNCS));
    memcpy(p, fs, fsl);
    p += fsl;
    memset(p, 0, NFUNCS);
    p += NFUNCS;
    *p++ = 7; *p++ = 6; *p++ = 1; *p++ = 2; *p++ = 'f'; *p++ = '0'; *p++ = 0; *p++ = 0; /* export f0 */
    *p++ = 10;
    uint8_t cs[8];
    size_t csz = fsl + NFUNCS * (bll + body);
    p += leb(p, (uint32_t)csz);
    memcpy(p, fs, fsl);
    p += fsl;
    for (int f = 0; f < NFUNCS; f++) {
        memcpy(p, bl, bll);
        p += bll;
        *p++ = 0;
        for (int i = 0; i < OPS; i++) {
            *p++ = 0x41; *p++ = 1; *p++ = 0x1a;
        }
        *p++ = 0x0b;
    }
    (void)cs;
    *len = (size_t)(p - m);
    return m;
}

LG_EXPORT("compiler") void compiler(int64_t main_pid)
{
    size_t len;
    uint8_t *bytes = make_module(&len);
    lg_send_u64((uint64_t)main_pid, T_DONE, len);
    uint64_t id;
    int32_t r = lg_compile(bytes, len, &id);
    uint64_t pid = 0;
    if (r == 0) {
        uint32_t s = lg_spawn_ex(0, LG_MINE, (int64_t)id, "f0", LG_NOARGS, &pid);
        if (s == 0)
            lg_monitor(pid);
        r = s == 0 && lg_receive_any(20000) == LG_PROCESS_DIED ? 0 : 2;
    }
    lg_send_u64((uint64_t)main_pid, T_DONE, (uint64_t)r);
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
    uint64_t p = lg_spawn("ponger", LG_NOARGS);
    lg_spawn("compiler", LG_ARGS(LG_I64(lg_self())));
    lg_receive_tag(T_DONE, LG_FOREVER);
    uint64_t len = lg_msg_read_u64();
    say("module of %llu MB built\n", (unsigned long long)(len >> 20));
    uint64_t worst = 0, t0 = now_ms();
    int rounds = 0;
    int64_t tags[2] = {T_PONG, T_DONE};
    uint64_t result = 99;
    for (;;) {
        uint64_t t = now_ms();
        lg_send_u64(p, T_PING, lg_self());
        if (lg_receive(tags, 2, 60000) != LG_DATA)
            break;
        if (lg_msg_tag() == T_DONE) {
            result = lg_msg_read_u64();
            lg_receive_tag(T_PONG, 10000);
            break;
        }
        rounds++;
        if (now_ms() - t > worst)
            worst = now_ms() - t;
        lg_sleep_ms(1);
    }
    say("compiled, spawned and ran: %s\n", result == 0 ? "yes" : "no");
    say("ping-pong during the compile: %s\n",
        rounds > 10 && worst < 200 ? "kept going (no round trip took 200 ms)" : "stalled");
    fprintf(stderr, "%d round trips, worst %llu ms, compile %llu ms\n", rounds,
            (unsigned long long)worst, (unsigned long long)(now_ms() - t0));
    lg_kill(p);
    return 0;
}
