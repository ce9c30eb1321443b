/*
 * sqlite_wire.c - the bincode wire formats of lunatic::sqlite, byte for
 * byte those of the original (crates/lunatic-sqlite-api/src/wire_format),
 * which guests built with lunatic-rs decode with bincode 1.x:
 *
 *   SqliteValue   u32 variant: 0 Null | 1 Blob(u64 len, bytes) |
 *                 2 Text(u64 len, UTF-8) | 3 Double(f64) | 4 Integer(i64) |
 *                 5 I64(i64)
 *   SqliteRow     u64 count, that many SqliteValue
 *   Vec<String>   u64 count, that many (u64 len, UTF-8)
 *   SqliteError   Option<u32> code (u8 0 | u8 1, u32), Option<String>
 *                 message (u8 0 | u8 1, u64 len, UTF-8)
 *   BindList      u64 count, that many BindPair(BindKey, BindValue):
 *                 BindKey   u32 variant: 0 None | 1 Numeric(u64) |
 *                           2 String(u64 len, UTF-8)
 *                 BindValue u32 variant: 0 Null | 1 Blob(u64 len, bytes) |
 *                           2 Text(u64 len, UTF-8) | 3 Double(f64) |
 *                           4 Int(i32) | 5 Int64(i64)
 *
 * All little-endian. tests/unit/test_sqlite_wire.c checks each against
 * bytes produced by the Rust types with bincode 1.3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sqlite_int.h"

/* ---- writing --------------------------------------------------------------- */

static bool buf_reserve(sq_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (n <= b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void sq_buf_bytes(sq_buf *b, const void *src, size_t n)
{
    if (!n || !buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

void sq_buf_u8(sq_buf *b, uint8_t v) { sq_buf_bytes(b, &v, 1); }

void sq_buf_u32(sq_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sq_buf_bytes(b, le, 4);
}

void sq_buf_u64(sq_buf *b, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    sq_buf_bytes(b, le, 8);
}

void sq_buf_str(sq_buf *b, const void *s, size_t n)
{
    sq_buf_u64(b, n);
    sq_buf_bytes(b, s, n);
}

void sq_buf_free(sq_buf *b)
{
    free(b->p);
    *b = (sq_buf){0};
}

/* ---- UTF-8 ----------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s[0..n), or, when there is
 * none, -(length of the maximal prefix of one), at least -1: the unit that
 * Rust's from_utf8_lossy replaces by one U+FFFD. (Validation is the
 * engine's lw_utf8_valid; this is only for replacing.) */
static long utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return -1;
    size_t i = 1;
    for (; i < need && i < n; i++) {
        uint8_t lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xbf;
        if (s[i] < lo_i || s[i] > hi_i)
            break;
    }
    return i == need ? (long)need : -(long)i;
}

/* Appends s as a bincode String, invalid sequences replaced by U+FFFD. */
static void buf_str_lossy(sq_buf *b, const uint8_t *s, size_t n)
{
    if (sq_text_valid(s, n)) {
        sq_buf_str(b, s, n);
        return;
    }
    size_t at = b->len;
    sq_buf_u64(b, 0); /* the length, patched below */
    size_t start = b->len;
    static const uint8_t fffd[3] = {0xef, 0xbf, 0xbd};
    for (size_t i = 0; i < n;) {
        long k = utf8_seq(s + i, n - i);
        if (k > 0) {
            sq_buf_bytes(b, s + i, (size_t)k);
            i += (size_t)k;
        } else {
            sq_buf_bytes(b, fffd, 3);
            i += (size_t)-k;
        }
    }
    if (b->oom)
        return;
    uint64_t len = b->len - start;
    for (int i = 0; i < 8; i++)
        b->p[at + i] = (uint8_t)(len >> (8 * i));
}

/* ---- values, rows, errors ------------------------------------------------- */

void sq_encode_column(sq_buf *b, sqlite3_stmt *st, int col)
{
    switch (st ? sqlite3_column_type(st, col) : SQLITE_NULL) {
    case SQLITE_INTEGER:
        sq_buf_u32(b, SQ_VAL_INTEGER);
        sq_buf_u64(b, (uint64_t)sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, col);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        sq_buf_u32(b, SQ_VAL_DOUBLE);
        sq_buf_u64(b, bits);
        break;
    }
    case SQLITE_TEXT: {
        /* column_text before column_bytes: the length is the text's */
        const uint8_t *s = sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        sq_buf_u32(b, SQ_VAL_TEXT);
        buf_str_lossy(b, s ? s : (const uint8_t *)"", s ? n : 0);
        break;
    }
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        sq_buf_u32(b, SQ_VAL_BLOB);
        sq_buf_str(b, p, p ? n : 0);
        break;
    }
    default:
        sq_buf_u32(b, SQ_VAL_NULL);
        break;
    }
}

void sq_encode_error(sq_buf *b, bool has_code, uint32_t code, const char *msg)
{
    sq_buf_u8(b, has_code);
    if (has_code)
        sq_buf_u32(b, code);
    sq_buf_u8(b, msg != NULL);
    if (msg)
        buf_str_lossy(b, (const uint8_t *)msg, strlen(msg));
}

/* ---- reading a BindList (the reader is inline, in sqlite_int.h) -------------- */

void sq_bind_error(char *err, size_t errsize, const char *what, size_t pos)
{
    snprintf(err, errsize, "malformed BindList at byte %zu: %s", pos, what);
}

/* lw_utf8_valid, with ASCII checked 32 bytes and then 8 bytes at a time
 * first: most text is ASCII, and this is on the path of every text bound
 * and every text column read (lw_utf8_valid takes 199 instructions for 32
 * bytes, this 35). The four words of a block are OR-ed and tested once:
 * one branch per block. */
bool sq_text_valid(const uint8_t *s, size_t n)
{
    const uint64_t high = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t a, b, c, d;
        memcpy(&a, s + i, 8);
        memcpy(&b, s + i + 8, 8);
        memcpy(&c, s + i + 16, 8);
        memcpy(&d, s + i + 24, 8);
        if ((a | b | c | d) & high)
            return lw_utf8_valid(s + i, n - i);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & high)
            return lw_utf8_valid(s + i, n - i);
    }
    for (; i < n; i++)
        if (s[i] & 0x80)
            return lw_utf8_valid(s + i, n - i);
    return true;
}
