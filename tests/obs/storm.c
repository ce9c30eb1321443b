/* storm.c - many processes ending at once, for the log levels and the rate
 * limit of failure reports (tests/t-obs.sh, README "Logging").
 *   storm.wasm fail N   N children trap at once; when they are gone, and
 *                       after 300 ms, one more does
 *   storm.wasm kill N   N children blocked in receive are killed
 * Prints "done" when every child has ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lunatic_guest.h"

LG_EXPORT("crash") void crash(void) { __builtin_trap(); }

LG_EXPORT("wait") void wait_forever(void) { lg_receive_tag(1, LG_FOREVER); }

static void wait_gone(const uint64_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        while (lg_exists(pids[i]))
            lg_sleep_ms(1);
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 10;
    if (argc < 2 || n < 1 || n > 100000)
        return 2;
    uint64_t *pids = calloc((size_t)n, sizeof *pids);
    if (!strcmp(argv[1], "fail")) {
        for (int i = 0; i < n; i++)
            pids[i] = lg_spawn("crash", LG_NOARGS);
        wait_gone(pids, n);
        lg_sleep_ms(300);
        uint64_t last = lg_spawn("crash", LG_NOARGS);
        wait_gone(&last, 1);
    } else {
        for (int i = 0; i < n; i++)
            pids[i] = lg_spawn("wait", LG_NOARGS);
        for (int i = 0; i < n; i++)
            lg_kill(pids[i]);
        wait_gone(pids, n);
    }
    printf("done\n");
    return 0;
}
