/* stdin_others.c - blocking WASI calls suspend only their process.
 * A child blocks in read(0) on a pipe that gets data only after a delay,
 * another in nanosleep; meanwhile main exchanges 2,000 messages with a
 * third child and reports before the stdin data arrives. Run with
 *   (sleep 1; echo hello) | lunatic run --threads 1 stdin_others.wasm
 * (one worker: a blocked thread would stop everything). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lunatic_guest.h"

LG_EXPORT("reader") void reader(uint64_t boss)
{
    char buf[64] = {0};
    ssize_t n = read(0, buf, sizeof buf - 1);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = 0;
    lg_send_str(boss, 2, buf);
}

LG_EXPORT("sleeper") void sleeper(uint64_t boss)
{
    struct timespec d = {0, 300 * 1000000};
    nanosleep(&d, NULL);
    lg_send_u64(boss, 3, 1);
}

LG_EXPORT("echo") void echo(uint64_t boss)
{
    for (;;) {
        lg_receive_tag(1, LG_FOREVER);
        uint64_t v = lg_msg_read_u64();
        lg_send_u64(boss, 4, v + 1);
    }
}

int main(void)
{
    uint64_t me = lg_self();
    lg_spawn("reader", LG_ARGS(LG_I64(me)));
    lg_spawn("sleeper", LG_ARGS(LG_I64(me)));
    uint64_t e = lg_spawn("echo", LG_ARGS(LG_I64(me)));
    uint64_t v = 0;
    for (int i = 0; i < 2000; i++) {
        lg_send_u64(e, 1, v);
        lg_receive_tag(4, LG_FOREVER);
        v = lg_msg_read_u64();
    }
    /* if a blocked read held the only worker, we would not get here first */
    int64_t got_stdin = 2;
    uint32_t early = lg_receive(&got_stdin, 1, 0);
    printf("round trips: %llu, stdin already read: %s\n", (unsigned long long)v,
           early == LG_TIMEOUT ? "no" : "yes");
    lg_receive_tag(3, 5000);
    printf("sleeper woke\n");
    if (lg_receive_tag(2, 10000) == LG_TIMEOUT) {
        printf("no stdin\n");
        return 1;
    }
    char buf[64] = {0};
    lg_msg_read(buf, sizeof buf - 1);
    printf("read: %s\n", buf);
    return 0;
}
