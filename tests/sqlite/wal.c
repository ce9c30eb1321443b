/* wal.c - processes writing one database file in WAL mode at once, each
 * through its own connection, with readers alongside: every row arrives,
 * none twice, and the file passes integrity_check. Lock waits go through
 * SQLite's busy handler (PRAGMA busy_timeout), whose sleeps hand the
 * worker off instead of blocking the others. */
#include "sql_test.h"

#define WRITERS 3
#define BATCHES 20
#define ROWS 50
#define T_DONE 1

LG_EXPORT("writer")
void writer(int64_t parent, int32_t id)
{
    uint64_t c = sql_open("wal.db");
    sql_ok(c, "PRAGMA busy_timeout = 20000");
    uint64_t ins = lg_sqlite_prepare(c, "INSERT INTO t (w, n) VALUES (?, ?)");
    uint32_t bad = 0;
    for (int b = 0; b < BATCHES; b++) {
        if (lg_sqlite_exec(c, "BEGIN IMMEDIATE"))
            bad++;
        for (int r = 0; r < ROWS; r++) {
            uint8_t buf[64];
            lg_sqlbind bl;
            lg_sqlbind_init(&bl, buf, sizeof buf);
            lg_sqlbind_next(&bl), lg_sqlbind_int(&bl, id);
            lg_sqlbind_next(&bl), lg_sqlbind_int(&bl, b * ROWS + r);
            lg_sqlite_bind(ins, &bl);
            if (lg_sqlite_step(ins) != LG_SQLITE_DONE)
                bad++;
            lg_sqlite_reset(ins);
        }
        if (lg_sqlite_exec(c, "COMMIT"))
            bad++;
        lg_sleep_ms(0); /* let the others in */
    }
    lg_sqlite_finalize(ins);
    lg_send_u64((uint64_t)parent, T_DONE, bad);
}

LG_EXPORT("reader")
void reader(int64_t parent)
{
    uint64_t c = sql_open("wal.db");
    sql_ok(c, "PRAGMA busy_timeout = 20000");
    uint32_t bad = 0;
    int64_t prev = 0;
    for (int i = 0; i < 200; i++) {
        int64_t n = sql_int(c, "SELECT count(*) FROM t");
        if (n < prev) /* committed rows never go away */
            bad++;
        prev = n;
        lg_sleep_ms(1);
    }
    lg_send_u64((uint64_t)parent, T_DONE, bad);
}

int main(void)
{
    uint64_t c = sql_open("wal.db");
    char buf[100];
    EXPECT(!strcmp(sql_text(c, "PRAGMA journal_mode = WAL", buf, sizeof buf), "wal"), "WAL mode", "%s", buf);
    sql_ok(c, "CREATE TABLE t (w INTEGER, n INTEGER, UNIQUE (w, n))");
    for (int i = 0; i < WRITERS; i++)
        lg_spawn("writer", LG_ARGS(LG_I64(lg_self()), LG_I32(i)));
    lg_spawn("reader", LG_ARGS(LG_I64(lg_self())));
    uint64_t bad = 0;
    for (int i = 0; i < WRITERS + 1; i++) {
        uint64_t b = recv_u64(T_DONE);
        bad += b;
    }
    EXPECT(bad == 0, "every statement of every process succeeded", "%llu failures", (unsigned long long)bad);
    EXPECT(sql_int(c, "SELECT count(*) FROM t") == WRITERS * BATCHES * ROWS, "every row arrived",
           "%lld", (long long)sql_int(c, "SELECT count(*) FROM t"));
    EXPECT(sql_int(c, "SELECT count(DISTINCT w) FROM t") == WRITERS, "from every writer", "?");
    EXPECT(!strcmp(sql_text(c, "PRAGMA integrity_check", buf, sizeof buf), "ok"), "integrity_check", "%s", buf);
    return 0;
}
