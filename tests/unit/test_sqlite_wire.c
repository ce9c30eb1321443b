/*
 * test_sqlite_wire.c - lunatic::sqlite's wire formats (src/api/sqlite_wire.c)
 * against the bytes the original's Rust types give with bincode 1.3, and
 * the resolver that maps a guest's database path to a preopen
 * (sq_resolve).
 *
 * The expected bytes were printed by a Rust program that declares the
 * types of crates/lunatic-sqlite-api/src/wire_format (SqliteValue,
 * SqliteRow, BindKey, BindValue, BindPair, BindList, SqliteError, same
 * variants and fields in the same order) and serializes sample values
 * with bincode::serialize (Debian's librust-bincode-dev 1.3.3), e.g.
 * SqliteValue::Text("hé".into()) gave 02 00 00 00 03 00.. 68 c3 a9. Any
 * change of variant index, integer width or length prefix fails here.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"
#include "api/sqlite_int.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void check_bytes(const char *what, const sq_buf *b, const uint8_t *want, size_t n)
{
    CHECK(!b->oom && b->len == n && memcmp(b->p, want, n) == 0, "%s: %zu bytes, want %zu", what,
          b->len, n);
    if (b->len == n && memcmp(b->p, want, n) != 0)
        for (size_t i = 0; i < n; i++)
            if (b->p[i] != want[i]) {
                printf("     first difference at byte %zu: %02x, want %02x\n", i, b->p[i], want[i]);
                break;
            }
}

/* One row of every storage class, read through sq_encode_column. */
static void test_values(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK, "open");
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT NULL, x'0001ff', 'hé', 2.5, -2, 7, 'a', CAST(x'61ff62' AS TEXT)",
                             -1, &st, NULL) == SQLITE_OK,
          "prepare: %s", sqlite3_errmsg(db));
    CHECK(sqlite3_step(st) == SQLITE_ROW, "step");
    struct {
        const char *what;
        const uint8_t *want;
        size_t n;
    } cols[] = {
        {"Null", BYTES(0x00, 0x00, 0x00, 0x00)},
        {"Blob", BYTES(0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                       0x01, 0xff)},
        {"Text", BYTES(0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68,
                       0xc3, 0xa9)},
        {"Double", BYTES(0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40)},
        {"Integer", BYTES(0x04, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
    };
    for (int i = 0; i < 5; i++) {
        sq_buf b = {0};
        sq_encode_column(&b, st, i);
        check_bytes(cols[i].what, &b, cols[i].want, cols[i].n);
        sq_buf_free(&b);
    }
    /* SqliteRow(vec![Integer(7), Null, Text("a")]) */
    sq_buf b = {0};
    sq_buf_u64(&b, 3);
    sq_encode_column(&b, st, 5);
    sq_encode_column(&b, st, 0);
    sq_encode_column(&b, st, 6);
    check_bytes("SqliteRow", &b,
                BYTES(0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                      0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61));
    sq_buf_free(&b);
    /* text that is not UTF-8: the bad byte becomes U+FFFD (from_utf8_lossy) */
    sq_encode_column(&b, st, 7);
    check_bytes("lossy Text", &b,
                BYTES(0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61,
                      0xef, 0xbf, 0xbd, 0x62));
    sq_buf_free(&b);
    /* a column out of range reads as Null and records SQLITE_RANGE */
    sq_encode_column(&b, st, 99);
    check_bytes("out of range", &b, BYTES(0x00, 0x00, 0x00, 0x00));
    CHECK(sqlite3_errcode(db) == SQLITE_RANGE, "errcode %d after a bad column", sqlite3_errcode(db));
    sq_buf_free(&b);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_names_errors(void)
{
    /* vec!["id".to_string(), "name".to_string()] */
    sq_buf b = {0};
    sq_buf_u64(&b, 2);
    sq_buf_str(&b, "id", 2);
    sq_buf_str(&b, "name", 4);
    check_bytes("Vec<String>", &b,
                BYTES(0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
                      0x00, 0x00, 0x00, 0x69, 0x64, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                      0x6e, 0x61, 0x6d, 0x65));
    sq_buf_free(&b);
    sq_encode_error(&b, false, 0, NULL);
    check_bytes("SqliteError::default()", &b, BYTES(0x00, 0x00));
    sq_buf_free(&b);
    sq_encode_error(&b, true, 19, "x");
    check_bytes("SqliteError{Some(19), Some(\"x\")}", &b,
                BYTES(0x01, 0x13, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                      0x00, 0x78));
    sq_buf_free(&b);
    sq_encode_error(&b, true, 5, NULL);
    check_bytes("SqliteError{Some(5), None}", &b, BYTES(0x01, 0x05, 0x00, 0x00, 0x00, 0x00));
    sq_buf_free(&b);
}

/* BindList(vec![(Numeric(1), Int64(-3)), (String(":n"), Text("hi")),
 * (None, Null), (Numeric(4), Double(0.5)), (Numeric(5), Int(-1)),
 * (Numeric(6), Blob(vec![9]))]) */
static const uint8_t bindlist[] = {
    0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x6e, 0x02, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x69, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x01, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
};

static void test_bind_list(void)
{
    sq_reader r;
    uint64_t n = 0;
    char err[160];
    CHECK(sq_bind_list_begin(&r, bindlist, sizeof bindlist, &n, err, sizeof err) == 0 && n == 6,
          "begin: %s, count %llu", err, (unsigned long long)n);
    sq_bind_pair p[6];
    for (int i = 0; i < 6; i++)
        CHECK(sq_bind_next(&r, &p[i], err, sizeof err) == 0, "pair %d: %s", i, err);
    CHECK(p[0].key == SQ_KEY_NUMERIC && p[0].index == 1 && p[0].kind == SQ_BIND_INT64 && p[0].i == -3,
          "pair 0");
    CHECK(p[1].key == SQ_KEY_STRING && p[1].name_len == 2 && !memcmp(p[1].name, ":n", 2) &&
              p[1].kind == SQ_BIND_TEXT && p[1].data_len == 2 && !memcmp(p[1].data, "hi", 2),
          "pair 1");
    CHECK(p[2].key == SQ_KEY_NONE && p[2].kind == SQ_BIND_NULL, "pair 2");
    CHECK(p[3].index == 4 && p[3].kind == SQ_BIND_DOUBLE && p[3].d == 0.5, "pair 3");
    CHECK(p[4].index == 5 && p[4].kind == SQ_BIND_INT && p[4].i == -1, "pair 4 (i32 sign-extended)");
    CHECK(p[5].index == 6 && p[5].kind == SQ_BIND_BLOB && p[5].data_len == 1 && p[5].data[0] == 9,
          "pair 5");
    CHECK(r.pos == sizeof bindlist, "consumed %zu of %zu", r.pos, sizeof bindlist);

    /* BindList(vec![]) */
    CHECK(sq_bind_list_begin(&r, BYTES(0, 0, 0, 0, 0, 0, 0, 0), &n, err, sizeof err) == 0 && n == 0,
          "empty list");

    /* every truncation of the list fails cleanly, never reads past it */
    for (size_t cut = 0; cut < sizeof bindlist; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, bindlist, cut);
        int bad = sq_bind_list_begin(&r, copy, cut, &n, err, sizeof err) < 0;
        for (uint64_t i = 0; !bad && i < n; i++)
            bad = sq_bind_next(&r, &p[0], err, sizeof err) < 0;
        CHECK(bad, "a list cut to %zu bytes decoded", cut);
        free(copy);
    }
    /* an unknown variant, text that is not UTF-8, a count too large */
    uint8_t bad[sizeof bindlist];
    memcpy(bad, bindlist, sizeof bad);
    bad[8] = 3; /* BindKey variant 3 */
    sq_bind_list_begin(&r, bad, sizeof bad, &n, err, sizeof err);
    CHECK(sq_bind_next(&r, &p[0], err, sizeof err) < 0 && strstr(err, "BindKey"), "key 3: %s", err);
    memcpy(bad, bindlist, sizeof bad);
    bad[58] = 0xff; /* "hi" -> "\xffi" */
    sq_bind_list_begin(&r, bad, sizeof bad, &n, err, sizeof err);
    sq_bind_next(&r, &p[0], err, sizeof err);
    CHECK(sq_bind_next(&r, &p[1], err, sizeof err) < 0 && strstr(err, "UTF-8"), "bad text: %s", err);
    memcpy(bad, bindlist, sizeof bad);
    bad[7] = 0x10;
    CHECK(sq_bind_list_begin(&r, bad, sizeof bad, &n, err, sizeof err) < 0, "huge count accepted");
}

/* Decodes BindList([(None, Text(s[0..n)))]): 0, or -1 when refused. */
static int bind_text(const char *s, size_t n)
{
    uint8_t list[128] = {1}; /* count 1; key 0 (None); value 2 (Text) */
    list[12] = 2;
    for (int i = 0; i < 8; i++)
        list[16 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(list + 24, s, n);
    sq_reader r;
    uint64_t count;
    sq_bind_pair p;
    char err[160];
    if (sq_bind_list_begin(&r, list, 24 + n, &count, err, sizeof err) < 0 ||
        sq_bind_next(&r, &p, err, sizeof err) < 0)
        return -1;
    return p.kind == SQ_BIND_TEXT && p.data_len == n && !memcmp(p.data, s, n) ? 0 : -2;
}

/* The UTF-8 check of bound text takes 32 and then 8 bytes at a time while
 * they are ASCII: a bad byte or a good sequence in each part of a text. */
static void test_bind_text_utf8(void)
{
    char t[100];
    memset(t, 'a', sizeof t);
    for (size_t n = 0; n <= sizeof t; n++)
        CHECK(bind_text(t, n) == 0, "%zu ASCII bytes", n);
    /* 75 bytes: a 32-byte block, then a 40-byte one, 8-byte words, 3 bytes */
    const size_t at[] = {0, 31, 32, 63, 64, 71, 72, 74};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        memset(t, 'a', 75);
        t[at[k]] = (char)0xff;
        CHECK(bind_text(t, 75) == -1, "0xff at %zu accepted", at[k]);
        if (at[k] + 2 <= 75) {
            t[at[k]] = (char)0xc3, t[at[k] + 1] = (char)0xa9; /* é */
            CHECK(bind_text(t, 75) == 0, "é at %zu refused", at[k]);
            t[at[k] + 1] = 'a'; /* a lead byte without its continuation */
            CHECK(bind_text(t, 75) == -1, "a lone 0xc3 at %zu accepted", at[k]);
        }
    }
}

/* Text that is not UTF-8 is sent lossy: each maximal invalid part becomes
 * one U+FFFD, as Rust's String::from_utf8_lossy does. */
static void test_lossy(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open(":memory:", &db);
    /* 61 | e2 82 (truncated 3-byte) | 62 | ed a0 80 (surrogate: 3 parts) | f0 9f 98 80 */
    sqlite3_prepare_v2(db, "SELECT CAST(x'61e28262eda080f09f9880' AS TEXT)", -1, &st, NULL);
    sqlite3_step(st);
    sq_buf b = {0};
    sq_encode_column(&b, st, 0);
    check_bytes("from_utf8_lossy", &b,
                BYTES(0x02, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61,
                      0xef, 0xbf, 0xbd, 0x62, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd,
                      0xf0, 0x9f, 0x98, 0x80));
    sq_buf_free(&b);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* sq_resolve: the longest preopen whose guest name prefixes the path. */
static void test_resolve(void)
{
    char dir[] = "/tmp/lunatic-sqlite-resolve-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char data[200];
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0700);
    lwasi_preopen pre[2] = {{".", dir}, {"data", data}};
    lwasi_config cfg = {.npreopens = 2, .preopens = pre};
    char err[200];
    lwasi_shared *sh = lwasi_shared_new(&cfg, err, sizeof err);
    CHECK(sh != NULL, "share: %s", err);
    if (!sh)
        return;
    const char *n0, *n1;
    int fd0, fd1;
    lwasi_shared_preopen(sh, 0, &n0, &fd0);
    lwasi_shared_preopen(sh, 1, &n1, &fd1);
    CHECK(lwasi_shared_preopen(sh, 2, &n0, &fd0) < 0, "a third preopen");
    struct {
        const char *path;
        int fd;             /* -1: refused */
        const char *rel;
    } cases[] = {
        {"x.db", fd0, "x.db"},
        {"./x.db", fd0, "x.db"},
        {"data/x.db", fd1, "x.db"},
        {"./data/x.db", fd1, "x.db"},
        {"data//x.db", fd1, "x.db"},
        {"database.db", fd0, "database.db"},
        {"data", fd1, "."},
        {"sub/../x.db", fd0, "sub/../x.db"}, /* ".." is resolved beneath */
        {"/etc/x.db", -1, NULL},
        {"/data/x.db", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rel[64];
        int fd = -1;
        int r = sq_resolve(sh, cases[i].path, strlen(cases[i].path), &fd, rel, sizeof rel);
        if (cases[i].fd < 0)
            CHECK(r < 0, "%s resolved", cases[i].path);
        else
            CHECK(r == 0 && fd == cases[i].fd && !strcmp(rel, cases[i].rel), "%s: %d fd %d rel %s",
                  cases[i].path, r, fd, r == 0 ? rel : "-");
    }
    lwasi_shared_release(sh);
    rmdir(data);
    rmdir(dir);
}

int main(void)
{
    test_values();
    test_names_errors();
    test_bind_list();
    test_bind_text_utf8();
    test_lossy();
    test_resolve();
    return check_report();
}
