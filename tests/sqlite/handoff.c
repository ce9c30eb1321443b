/* handoff.c - run on one worker thread: a query that runs for seconds
 * does not stop the other processes. Once a call has run a millisecond,
 * the worker's run queue goes to a new thread while the query finishes
 * on the old one; the main process, which wakes every 5 ms meanwhile,
 * is never held up for long. */
#include "sql_test.h"

#define T_DONE 1
#define N 20000000

LG_EXPORT("long_query")
void long_query(int64_t parent)
{
    uint64_t c = sql_open(":memory:");
    int64_t n = sql_int(c, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 20000000) "
                           "SELECT count(*) FROM r");
    lg_send_u64((uint64_t)parent, T_DONE, (uint64_t)n);
}

int main(void)
{
    uint64_t t0 = now_ms();
    lg_spawn("long_query", LG_ARGS(LG_I64(lg_self())));
    uint64_t last = now_ms(), worst = 0, wakes = 0;
    uint64_t n = 0;
    for (;;) {
        uint32_t k = lg_receive_tag(T_DONE, 5);
        uint64_t now = now_ms();
        if (now - last > worst)
            worst = now - last;
        last = now;
        wakes++;
        if (k == LG_DATA) {
            n = lg_msg_read_u64();
            break;
        }
    }
    uint64_t took = now_ms() - t0;
    EXPECT(n == N, "the long query's result", "%llu", (unsigned long long)n);
    /* without the hand-off the gap is the whole query (seconds); with it,
     * what a loaded machine (or ASan) adds to a 5 ms sleep */
    EXPECT(took > 1000, "it took long enough to matter", "%llu ms", (unsigned long long)took);
    EXPECT(worst < 500, "the other process never waited long", "worst gap %llu ms over %llu ms, %llu wakes",
           (unsigned long long)worst, (unsigned long long)took, (unsigned long long)wakes);
    return 0;
}
