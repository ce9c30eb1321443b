/* kill.c - a process killed in the middle of a transaction leaves the
 * database consistent: killed while parked inside BEGIN ... (its
 * connection closes and rolls back), and killed while one long statement
 * runs (the statement is interrupted, then rolled back). A runaway query
 * can be killed at all: the kill interrupts it; and the program can end
 * while one runs. */
#include "sql_test.h"

#define T_READY 1

LG_EXPORT("holder")
void holder(int64_t parent)
{
    uint64_t c = sql_open("k.db");
    sql_ok(c, "BEGIN");
    for (int i = 0; i < 1000; i++)
        sql_ok(c, "INSERT INTO t VALUES (randomblob(100))");
    lg_send_u64((uint64_t)parent, T_READY, 0);
    lg_receive_any(LG_FOREVER);
}

LG_EXPORT("bulk")
void bulk(int64_t parent)
{
    uint64_t c = sql_open("k.db");
    sql_ok(c, "BEGIN");
    lg_send_u64((uint64_t)parent, T_READY, 0);
    /* about a billion rows: it does not finish by itself */
    lg_sqlite_exec(c, "INSERT INTO t WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
                      "LIMIT 1000000000) SELECT randomblob(10) FROM r");
    lg_printf("FAIL the bulk insert returned\n");
}

LG_EXPORT("runaway")
void runaway(int64_t parent)
{
    uint64_t c = sql_open(":memory:");
    lg_send_u64((uint64_t)parent, T_READY, 0);
    uint64_t s = lg_sqlite_prepare(c, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
                                      "SELECT count(*) FROM r");
    lg_sqlite_step(s);
    lg_printf("FAIL the runaway query returned\n");
}

static void kill_after(const char *fn, uint64_t ms, int64_t max_ms)
{
    uint64_t pid = lg_spawn(fn, LG_ARGS(LG_I64(lg_self())));
    lg_monitor(pid);
    recv_u64(T_READY);
    lg_sleep_ms(ms);
    uint64_t t0 = now_ms();
    lg_kill(pid);
    char what[100];
    snprintf(what, sizeof what, "%s is killed within %lld ms", fn, (long long)max_ms);
    int died = got_died(pid);
    int64_t took = (int64_t)(now_ms() - t0);
    EXPECT(died && took < max_ms, what, "died %d after %lld ms", died, (long long)took);
}

static void consistent(uint64_t c, const char *what)
{
    char buf[100];
    int64_t n = sql_int(c, "SELECT count(*) FROM t");
    EXPECT(n == 1, what, "%lld rows", (long long)n);
    EXPECT(!strcmp(sql_text(c, "PRAGMA integrity_check", buf, sizeof buf), "ok"), "integrity_check", "%s", buf);
    EXPECT(lg_sqlite_exec(c, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1); ROLLBACK") == 0,
           "no lock is left behind", "?");
}

int main(void)
{
    uint64_t c = sql_open("k.db");
    sql_ok(c, "CREATE TABLE t (v)");
    sql_ok(c, "INSERT INTO t VALUES ('committed')");
    kill_after("holder", 10, 5000);
    consistent(c, "a killed open transaction left nothing behind");
    kill_after("bulk", 300, 5000);
    consistent(c, "a killed long statement left nothing behind");
    kill_after("runaway", 100, 5000);
    /* the program ends while a runaway query runs: the runtime stops it
     * (t-sqlite.sh's timeout fails a runtime that waits for it) */
    lg_spawn("runaway", LG_ARGS(LG_I64(lg_self())));
    recv_u64(T_READY);
    lg_sleep_ms(50);
    return 0;
}
