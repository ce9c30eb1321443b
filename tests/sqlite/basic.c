/* basic.c - every lunatic::sqlite function on an in-memory database:
 * create, insert and select each value kind (null, integer, real, text,
 * blob) bound by index, by name and by position; read_column, read_row,
 * column_count, column_name(s), sqlite3_changes, statement_reset; the raw
 * bytes the host returns, against the original's bincode encodings. */
#include "sql_test.h"

/* Bytes of the original's Rust values under bincode 1.3 (see
 * tests/unit/test_sqlite_wire.c). */
static const uint8_t TEXT_HE[] = {0x02, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x68, 0xc3, 0xa9};
static const uint8_t INT_M2[] = {0x04, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t DBL_25[] = {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x40};
static const uint8_t BLOB_01FF[] = {0x01, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0xff};
static const uint8_t NUL_[] = {0, 0, 0, 0};
static const uint8_t NAMES[] = {0x02, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 'i', 'd',
                                0x04, 0, 0, 0, 0, 0, 0, 0, 'n', 'a', 'm', 'e'};
static const uint8_t NO_ERROR[] = {0, 0};

/* The raw bytes of an allocating call, compared with want. */
static int same(uint32_t ptr, uint32_t len, const uint8_t *want, uint32_t n)
{
    int r = len == n && memcmp((const void *)(uintptr_t)ptr, want, n) == 0;
    free((void *)(uintptr_t)ptr);
    return r;
}

static void insert(uint64_t c)
{
    uint8_t buf[512];
    lg_sqlbind b;

    /* by index */
    uint64_t s = lg_sqlite_prepare(c, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
    EXPECT(lgi_sqlite_column_count(s) == 0, "an INSERT has no columns", "%u", lgi_sqlite_column_count(s));
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_int64(&b, -2);
    lg_sqlbind_at(&b, 2), lg_sqlbind_text(&b, "h\xc3\xa9");
    lg_sqlbind_at(&b, 3), lg_sqlbind_double(&b, 2.5);
    lg_sqlbind_at(&b, 4), lg_sqlbind_blob(&b, "\x00\x01\xff", 3);
    lg_sqlbind_at(&b, 5), lg_sqlbind_null(&b);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_DONE, "insert bound by index", "step");
    EXPECT(lgi_sqlite_sqlite3_changes(c) == 1, "sqlite3_changes after one insert", "%u",
           lgi_sqlite_sqlite3_changes(c));

    /* the same statement again after statement_reset, with an i32 */
    lg_sqlite_reset(s);
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_int(&b, 7);
    lg_sqlbind_at(&b, 2), lg_sqlbind_text(&b, "seven");
    lg_sqlbind_at(&b, 3), lg_sqlbind_null(&b);
    lg_sqlbind_at(&b, 4), lg_sqlbind_blob(&b, "", 0);
    lg_sqlbind_at(&b, 5), lg_sqlbind_int64(&b, INT64_MIN);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_DONE, "insert again after reset", "step");
    lg_sqlite_finalize(s);

    /* by name: with the prefix, and without it (":" is tried) */
    s = lg_sqlite_prepare(c, "INSERT INTO t VALUES (:a, @b, $c, :d, :e)");
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_named(&b, ":a"), lg_sqlbind_int64(&b, 8);
    lg_sqlbind_named(&b, "b"), lg_sqlbind_text(&b, "eight");
    lg_sqlbind_named(&b, "$c"), lg_sqlbind_double(&b, -0.125);
    lg_sqlbind_named(&b, "d"), lg_sqlbind_blob(&b, "\x08", 1);
    lg_sqlbind_named(&b, ":e"), lg_sqlbind_null(&b);
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_DONE, "insert bound by name", "step");
    lg_sqlite_finalize(s);

    /* by position (key None): one after the other */
    s = lg_sqlite_prepare(c, "INSERT INTO t VALUES (?, ?, ?, ?, ?)");
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_next(&b), lg_sqlbind_int64(&b, 9);
    lg_sqlbind_next(&b), lg_sqlbind_text(&b, "nine");
    lg_sqlbind_next(&b), lg_sqlbind_double(&b, 9.5);
    lg_sqlbind_next(&b), lg_sqlbind_null(&b);
    lg_sqlbind_next(&b), lg_sqlbind_text(&b, "");
    lg_sqlite_bind(s, &b);
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_DONE, "insert bound by position", "step");
    lg_sqlite_finalize(s);

    EXPECT(lg_sqlite_exec(c, "UPDATE t SET e = e WHERE i >= 7") == 0 && lgi_sqlite_sqlite3_changes(c) == 3,
           "sqlite3_changes after an update of three rows", "%u", lgi_sqlite_sqlite3_changes(c));
}

static void select_all(uint64_t c)
{
    uint64_t s = lg_sqlite_prepare(c, "SELECT i AS id, s AS name, r, b, e FROM t ORDER BY i");
    EXPECT(lgi_sqlite_column_count(s) == 5, "column_count", "%u", lgi_sqlite_column_count(s));
    uint32_t n;
    uint32_t p = lgi_sqlite_column_name(s, 1, &n);
    EXPECT(n == 4 && !memcmp((void *)(uintptr_t)p, "name", 4), "column_name is raw UTF-8", "len %u", n);
    free((void *)(uintptr_t)p);
    /* column_names of the first two columns: a statement selecting them */
    uint64_t s2 = lg_sqlite_prepare(c, "SELECT i AS id, s AS name FROM t");
    p = lgi_sqlite_column_names(s2, &n);
    EXPECT(same(p, n, NAMES, sizeof NAMES), "column_names bytes = bincode vec![\"id\", \"name\"]", "len %u", n);
    lg_sqlite_finalize(s2);

    /* row 1: read_column of each kind, byte for byte */
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_ROW, "first row", "step");
    p = lgi_sqlite_read_column(s, 0, &n);
    EXPECT(same(p, n, INT_M2, sizeof INT_M2), "read_column Integer(-2) bytes", "len %u", n);
    p = lgi_sqlite_read_column(s, 1, &n);
    EXPECT(same(p, n, TEXT_HE, sizeof TEXT_HE), "read_column Text(\"hé\") bytes", "len %u", n);
    p = lgi_sqlite_read_column(s, 2, &n);
    EXPECT(same(p, n, DBL_25, sizeof DBL_25), "read_column Double(2.5) bytes", "len %u", n);
    p = lgi_sqlite_read_column(s, 3, &n);
    EXPECT(same(p, n, BLOB_01FF, sizeof BLOB_01FF), "read_column Blob([0, 1, 255]) bytes", "len %u", n);
    p = lgi_sqlite_read_column(s, 4, &n);
    EXPECT(same(p, n, NUL_, sizeof NUL_), "read_column Null bytes", "len %u", n);
    p = lgi_sqlite_last_error(c, &n);
    EXPECT(n >= 5 && ((uint8_t *)(uintptr_t)p)[0] == 1 && ((uint8_t *)(uintptr_t)p)[1] == 100,
           "last_error after a row is SQLite's code 100", "len %u", n);
    free((void *)(uintptr_t)p);

    /* rows 2-4 through read_row */
    static const char *want[] = {
        "7|seven|null|blob0|-9223372036854775808",
        "8|eight|-0.125|blob1|null",
        "9|nine|9.5|null|text0",
    };
    for (int r = 0; r < 3; r++) {
        EXPECT(lg_sqlite_step(s) == LG_SQLITE_ROW, "next row", "step");
        p = lgi_sqlite_read_row(s, &n);
        const uint8_t *q = (const uint8_t *)(uintptr_t)p;
        uint64_t count;
        memcpy(&count, q, 8);
        char line[200] = "";
        uint32_t at = 8;
        for (uint64_t i = 0; i < count; i++) {
            lg_sqlval v;
            uint32_t k = lg_sqlval_decode(q + at, n - at, &v);
            if (!k) {
                strcat(line, "BAD");
                break;
            }
            at += k;
            char cell[64];
            if (v.kind == LG_SQL_NULL)
                snprintf(cell, sizeof cell, "null");
            else if (v.kind == LG_SQL_INTEGER)
                snprintf(cell, sizeof cell, "%lld", (long long)v.i);
            else if (v.kind == LG_SQL_DOUBLE)
                snprintf(cell, sizeof cell, "%g", v.d);
            else if (v.kind == LG_SQL_TEXT && v.len == 0)
                snprintf(cell, sizeof cell, "text0");
            else if (v.kind == LG_SQL_TEXT)
                snprintf(cell, sizeof cell, "%.*s", (int)v.len, (const char *)v.data);
            else
                snprintf(cell, sizeof cell, "blob%u", v.len);
            if (i)
                strcat(line, "|");
            strcat(line, cell);
        }
        EXPECT(count == 5 && at == n && !strcmp(line, want[r]), "read_row", "%s (want %s)", line, want[r]);
        free((void *)(uintptr_t)p);
    }
    EXPECT(lg_sqlite_step(s) == LG_SQLITE_DONE, "done after four rows", "step");
    lg_sqlite_finalize(s);
}

int main(void)
{
    uint64_t c = sql_open(":memory:");
    uint32_t n;
    uint32_t p = lgi_sqlite_last_error(c, &n);
    EXPECT(same(p, n, NO_ERROR, sizeof NO_ERROR), "last_error without an error: both None", "len %u", n);
    sql_ok(c, "CREATE TABLE t (i INTEGER, s TEXT, r REAL, b BLOB, e)");
    insert(c);
    select_all(c);

    /* an empty statement: no columns, done at once */
    uint64_t s = lg_sqlite_prepare(c, "  -- nothing");
    EXPECT(lgi_sqlite_column_count(s) == 0 && lg_sqlite_step(s) == LG_SQLITE_DONE, "empty statement", "?");
    lg_sqlite_finalize(s);
    /* a second connection gets the next id */
    uint64_t c2 = sql_open(":memory:");
    EXPECT(c == 0 && c2 == 1, "connection ids count from 0", "%llu %llu", (unsigned long long)c,
           (unsigned long long)c2);
    /* lunatic-rs passes conn_id_ptr 0: the id is written at address 0 */
    uint64_t r = lgi_sqlite_open(":memory:", 8, (uint64_t *)0);
    /* address 0 is memory like any other (volatile: C calls it null) */
    const volatile uint8_t *zero = (const volatile uint8_t *)(uintptr_t)0;
    uint64_t at0 = 0;
    for (int i = 7; i >= 0; i--)
        at0 = at0 << 8 | zero[i];
    EXPECT(r == 0 && at0 == 2, "open with conn_id_ptr 0", "%llu %llu", (unsigned long long)r,
           (unsigned long long)at0);
    return 0;
}
