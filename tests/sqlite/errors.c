/* errors.c - errors reach the guest as codes and last_error messages, never
 * as a crash: a syntax error (execute and query_prepare), a constraint
 * violation (execute and sqlite3_step), a bad column index, bind errors
 * (unknown name, index 0 or too large, a malformed BindList), SQL with a
 * NUL byte, an unknown connection, a finalized statement; and the cases
 * that trap (memory out of bounds, an unknown statement where no code can
 * be returned, a module without lunatic_alloc) end only that process. */
#include "sql_test.h"

static uint32_t last(uint64_t c, char *m) { return lg_sqlite_last_error(c, m, 200); }

/* Children that must trap: each reports nothing, the parent watches it die. */
LG_EXPORT("bad_sql_ptr")
void bad_sql_ptr(void)
{
    uint64_t c = sql_open(":memory:");
    lgi_sqlite_execute(c, (const char *)(uintptr_t)0xfffffff0u, 100);
}

LG_EXPORT("bad_len_ptr")
void bad_len_ptr(void)
{
    uint64_t c = sql_open(":memory:");
    lgi_sqlite_last_error(c, (uint32_t *)(uintptr_t)0xfffffffeu);
}

LG_EXPORT("finalize_twice")
void finalize_twice(void)
{
    uint64_t c = sql_open(":memory:");
    uint64_t s = lg_sqlite_prepare(c, "SELECT 1");
    lg_sqlite_finalize(s);
    lg_sqlite_finalize(s);
}

static void dies(const char *fn)
{
    uint64_t pid = lg_spawn(fn, NULL, 0);
    lg_monitor(pid);
    char what[80];
    snprintf(what, sizeof what, "%s traps and only that process dies", fn);
    EXPECT(got_died(pid), what, "no ProcessDied");
}

int main(void)
{
    char m[200];
    uint64_t c = sql_open(":memory:");
    sql_ok(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
    sql_ok(c, "INSERT INTO t VALUES (1, 'one')");

    /* syntax errors */
    EXPECT(lg_sqlite_exec(c, "SELEC 1") == 1, "execute: syntax error is code 1", "?");
    uint32_t code = last(c, m);
    EXPECT(code == 1 && !strcmp(m, "near \"SELEC\": syntax error"), "last_error of execute", "%u %s", code, m);
    uint64_t s = lg_sqlite_prepare(c, "SELECT * FROM nowhere");
    code = last(c, m);
    EXPECT(code == 1 && !strcmp(m, "no such table: nowhere"), "query_prepare error in last_error", "%u %s", code, m);
    EXPECT(lgi_sqlite_column_count(s) == 0, "a failed statement has no columns", "?");
    EXPECT(lg_sqlite_step(s) == 1 && lg_sqlite_step(s) == 1, "a failed statement steps to its code", "?");
    code = last(c, m);
    EXPECT(code == 1 && !strcmp(m, "no such table: nowhere"), "its message after step", "%u %s", code, m);
    lg_sqlite_finalize(s);

    /* constraint violations */
    EXPECT(lg_sqlite_exec(c, "INSERT INTO t VALUES (2, 'one')") == 19, "execute: UNIQUE violation is 19", "?");
    code = last(c, m);
    EXPECT(code == 19 && !strcmp(m, "UNIQUE constraint failed: t.v"), "its message", "%u %s", code, m);
    s = lg_sqlite_prepare(c, "INSERT INTO t VALUES (?, ?)");
    uint8_t buf[200];
    lg_sqlbind b;
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_int64(&b, 1);
    lg_sqlbind_at(&b, 2), lg_sqlbind_text(&b, "uno");
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == 19, "sqlite3_step: PRIMARY KEY violation is 19 (the original trapped)", "?");
    code = last(c, m);
    EXPECT(code == 19 && !strcmp(m, "UNIQUE constraint failed: t.id"), "its message", "%u %s", code, m);
    lg_sqlite_reset(s);
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_int64(&b, 3);
    lg_sqlbind_at(&b, 2), lg_sqlbind_null(&b);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == 19, "NOT NULL violation is 19", "?");
    lg_sqlite_finalize(s);
    EXPECT(sql_int(c, "SELECT count(*) FROM t") == 1, "nothing was inserted", "?");

    /* bad column index */
    s = lg_sqlite_prepare(c, "SELECT id, v FROM t");
    lg_sqlite_step(s);
    lg_sqlval v;
    free(lg_sqlite_column(s, 2, &v));
    code = last(c, m);
    EXPECT(v.kind == LG_SQL_NULL && code == 25 && !strcmp(m, "column index out of range"),
           "read_column past the last column: Null and SQLITE_RANGE", "%u %u %s", v.kind, code, m);
    free(lg_sqlite_column(s, 0x80000000u, &v));
    EXPECT(v.kind == LG_SQL_NULL && last(c, m) == 25, "read_column with a huge index", "%u", v.kind);
    uint32_t n;
    uint32_t p = lgi_sqlite_column_name(s, 7, &n);
    free((void *)(uintptr_t)p);
    code = last(c, m);
    EXPECT(n == 0 && code == 25, "column_name out of range: empty and SQLITE_RANGE", "%u %u", n, code);
    free(lg_sqlite_column(s, 1, &v));
    EXPECT(v.kind == LG_SQL_TEXT && v.len == 3, "the good column still reads", "%u", v.kind);
    lg_sqlite_finalize(s);

    /* bind errors wait for sqlite3_step */
    s = lg_sqlite_prepare(c, "SELECT :x");
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_named(&b, "y"), lg_sqlbind_int(&b, 1);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == 25 && last(c, m) == 25 && !strcmp(m, "no parameter named 'y'"),
           "binding an unknown name", "%s", m);
    lg_sqlite_reset(s);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_ROW, "statement_reset clears it", "?");
    lg_sqlite_reset(s);
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 0), lg_sqlbind_int(&b, 1);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == 25, "binding index 0", "?");
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 2), lg_sqlbind_int(&b, 1);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == 25, "binding past the last parameter", "?");
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_text(&b, "fine");
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_ROW, "a good bind_value clears it", "?");
    lg_sqlite_reset(s);
    static const uint8_t malformed[] = {1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0};
    lgi_sqlite_bind_value(s, malformed, sizeof malformed);
    EXPECT(lg_sqlite_step(s) == 21 && last(c, m) == 21 && strstr(m, "malformed BindList"),
           "a malformed BindList is MISUSE, not a panic", "%s", m);
    static const uint8_t truncated[] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    lgi_sqlite_bind_value(s, truncated, sizeof truncated);
    EXPECT(lg_sqlite_step(s) == 21, "a truncated BindList", "?");
    lg_sqlite_finalize(s);

    /* NUL in SQL, as the original: code 1 */
    EXPECT(lgi_sqlite_execute(c, "SELECT 1\0x", 10) == 1 && last(c, m) == 1, "execute with a NUL byte", "%s", m);

    /* unknown connection, finalized statement */
    EXPECT(lg_sqlite_exec(7, "SELECT 1") == 21, "execute on an unknown connection is MISUSE", "?");
    code = last(7, m);
    EXPECT(code == 21 && !strcmp(m, "unknown connection id 7"), "last_error on it", "%u %s", code, m);
    s = lg_sqlite_prepare(7, "SELECT 1");
    EXPECT(lg_sqlite_step(s) == 21, "a statement of an unknown connection steps to MISUSE", "?");
    lg_sqlite_finalize(s);
    s = lg_sqlite_prepare(c, "SELECT 1");
    lg_sqlite_finalize(s);
    EXPECT(lg_sqlite_step(s) == 21, "sqlite3_step of a finalized statement is MISUSE", "?");
    EXPECT(lg_sqlite_exec(c, "SELECT 1") == 0, "the connection still works", "?");

    dies("bad_sql_ptr");
    dies("bad_len_ptr");
    dies("finalize_twice");
    return 0;
}
