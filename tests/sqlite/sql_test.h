/*
 * sql_test.h - helpers shared by the lunatic::sqlite test programs
 * (tests/sqlite/NAME.c, run by tests/t-sqlite.sh; the process helpers of
 * tests/proc/proc_test.h are included).
 *
 * EXPECT prints "ok <what>" or "FAIL <what>: <detail>", so the program's
 * output, compared with NAME.expected, fails on any unmet expectation.
 */
#ifndef SQL_TEST_H
#define SQL_TEST_H

#include "proc_test.h"

#define EXPECT(cond, what, ...)                                                    \
    do {                                                                           \
        if (cond)                                                                  \
            lg_printf("ok %s\n", what);                                            \
        else {                                                                     \
            char d_[300];                                                          \
            snprintf(d_, sizeof d_, __VA_ARGS__);                                  \
            lg_printf("FAIL %s: %s\n", what, d_);                                  \
        }                                                                          \
    } while (0)

/* Opens path or prints why not; the connection id, or UINT64_MAX. */
static inline uint64_t sql_open(const char *path)
{
    uint64_t c;
    if (lg_sqlite_open(path, &c) != 0) {
        char e[300];
        lg_error_string(c, e, sizeof e);
        lg_error_drop(c);
        lg_printf("FAIL open %s: %s\n", path, e);
        return UINT64_MAX;
    }
    return c;
}

/* Runs SQL that must succeed. */
static inline void sql_ok(uint64_t c, const char *sql)
{
    uint32_t rc = lg_sqlite_exec(c, sql);
    if (rc) {
        char m[200];
        lg_sqlite_last_error(c, m, sizeof m);
        lg_printf("FAIL exec %s: %u %s\n", sql, rc, m);
    }
}

/* The integer in the first column of the first row of sql (-1 if none). */
static inline int64_t sql_int(uint64_t c, const char *sql)
{
    uint64_t s = lg_sqlite_prepare(c, sql);
    int64_t v = -1;
    if (lg_sqlite_step(s) == LG_SQLITE_ROW) {
        lg_sqlval val;
        free(lg_sqlite_column(s, 0, &val));
        if (val.kind == LG_SQL_INTEGER)
            v = val.i;
    }
    lg_sqlite_finalize(s);
    return v;
}

/* The text of the first column of the first row of sql, into buf. */
static inline const char *sql_text(uint64_t c, const char *sql, char *buf, size_t cap)
{
    uint64_t s = lg_sqlite_prepare(c, sql);
    snprintf(buf, cap, "<none>");
    if (lg_sqlite_step(s) == LG_SQLITE_ROW) {
        lg_sqlval val;
        void *p = lg_sqlite_column(s, 0, &val);
        if (val.kind == LG_SQL_TEXT)
            snprintf(buf, cap, "%.*s", (int)val.len, (const char *)val.data);
        free(p);
    }
    lg_sqlite_finalize(s);
    return buf;
}

#endif
