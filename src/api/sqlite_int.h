/*
 * sqlite_int.h - internals of lunatic::sqlite (ABI.md 2.12), shared by
 * sqlite.c (the host functions and the per-process resources),
 * sqlite_wire.c (the bincode wire formats) and sqlite_vfs.c (the VFS that
 * confines database files to the process's preopened directories and
 * keeps long calls from freezing a worker).
 *
 * Threads. A connection and its statements belong to one process and are
 * used only by the thread running that process (SQLite's multi-thread
 * mode: SQLITE_OPEN_NOMUTEX). sq_cur, a thread-local, names the call in
 * progress on this thread, so that SQLite's callbacks (the progress
 * handler, the VFS) know which process they work for.
 */
#ifndef LUNATIC_API_SQLITE_INT_H
#define LUNATIC_API_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

/* ---- wire formats (sqlite_wire.c) ----------------------------------------
 * The original encodes with bincode 1.x's default options: integers and
 * floats little-endian at fixed width, enum variants as a u32 index,
 * Option as a u8 (0 None, 1 Some), String and Vec as a u64 length and
 * their elements. */

/* A growable byte buffer; on a failed allocation it keeps failing (oom set)
 * and its contents must be dropped. */
typedef struct sq_buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} sq_buf;

void sq_buf_bytes(sq_buf *b, const void *src, size_t n);
void sq_buf_u8(sq_buf *b, uint8_t v);
void sq_buf_u32(sq_buf *b, uint32_t v);
void sq_buf_u64(sq_buf *b, uint64_t v);
/* A bincode String / Vec<u8>: u64 length, then the bytes. */
void sq_buf_str(sq_buf *b, const void *s, size_t n);
void sq_buf_free(sq_buf *b);

/* SqliteValue variants (wire_format/sqlite_value/mod.rs). The original
 * never produces I64; integers are Integer. */
enum { SQ_VAL_NULL, SQ_VAL_BLOB, SQ_VAL_TEXT, SQ_VAL_DOUBLE, SQ_VAL_INTEGER, SQ_VAL_I64 };

/* Appends bincode SqliteValue for column col of st's current row: the
 * column's storage class as sqlite3_column_type reports it (Null, with
 * SQLITE_RANGE recorded on the connection, for a column out of range or
 * no current row). Text that is not valid UTF-8 is sent with each bad
 * sequence replaced by U+FFFD, as Rust's from_utf8_lossy does, so that
 * the guest can decode it (the original trapped). */
void sq_encode_column(sq_buf *b, sqlite3_stmt *st, int col);

/* Appends bincode SqliteError { code: Option<u32>, message: Option<String> }. */
void sq_encode_error(sq_buf *b, bool has_code, uint32_t code, const char *msg);

/* BindValue variants and BindKey variants (wire_format/bind_values/mod.rs). */
enum { SQ_BIND_NULL, SQ_BIND_BLOB, SQ_BIND_TEXT, SQ_BIND_DOUBLE, SQ_BIND_INT, SQ_BIND_INT64 };
enum { SQ_KEY_NONE, SQ_KEY_NUMERIC, SQ_KEY_STRING };

/* One decoded BindPair; pointers point into the decoded data. */
typedef struct sq_bind_pair {
    int key;                  /* SQ_KEY_* */
    uint64_t index;           /* SQ_KEY_NUMERIC */
    const char *name;         /* SQ_KEY_STRING: not NUL-terminated */
    size_t name_len;
    int kind;                 /* SQ_BIND_* */
    int64_t i;                /* INT (sign-extended), INT64 */
    double d;
    const uint8_t *data;      /* BLOB, TEXT */
    size_t data_len;
} sq_bind_pair;

/* Walks a bincode BindList(Vec<BindPair>) in data[0..len): *count gets
 * the number of pairs; sq_bind_next decodes the next one. Bytes after the
 * list are ignored (bincode::deserialize allows them). Each returns 0, or
 * -1 with a one-line reason in err (truncated data, an unknown variant,
 * text that is not UTF-8, a count larger than the data can hold). */
typedef struct sq_reader {
    const uint8_t *p;
    size_t len, pos;
} sq_reader;

/* What the inline reader below uses out of line: the error ("malformed
 * BindList at byte pos: what" in err) and the UTF-8 check of text and
 * names. */
void sq_bind_error(char *err, size_t errsize, const char *what, size_t pos);
bool sq_text_valid(const uint8_t *s, size_t n);

/* The reader is inline: bind_value's loop, with the reader and the pair in
 * registers, then takes 223 instructions instead of 319 to bind an int64
 * and a text (callgrind). sq_rd_fail: -1 after sq_bind_error (inline, so
 * that the compiler sees the -1). */
static inline int sq_rd_fail(char *err, size_t errsize, const char *what, size_t pos)
{
    sq_bind_error(err, errsize, what, pos);
    return -1;
}

/* The readers load little-endian values with memcpy: every host this
 * runtime supports is little-endian (the engine assumes it too). */
static inline bool sq_rd_take(sq_reader *r, size_t n, const uint8_t **out)
{
    if (n > r->len - r->pos)
        return false;
    *out = r->p + r->pos;
    r->pos += n;
    return true;
}

static inline bool sq_rd_u32(sq_reader *r, uint32_t *v)
{
    const uint8_t *p;
    if (!sq_rd_take(r, 4, &p))
        return false;
    memcpy(v, p, 4);
    return true;
}

static inline bool sq_rd_u64(sq_reader *r, uint64_t *v)
{
    const uint8_t *p;
    if (!sq_rd_take(r, 8, &p))
        return false;
    memcpy(v, p, 8);
    return true;
}

/* A u64 length and that many bytes. */
static inline bool sq_rd_bytes(sq_reader *r, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (!sq_rd_u64(r, &len) || len > r->len - r->pos)
        return false;
    *n = (size_t)len;
    return sq_rd_take(r, (size_t)len, p);
}

static inline int sq_bind_list_begin(sq_reader *r, const void *data, size_t len, uint64_t *count,
                                     char *err, size_t errsize)
{
    *r = (sq_reader){data, len, 0};
    if (!sq_rd_u64(r, count))
        return sq_rd_fail(err, errsize, "truncated length", r->pos);
    /* a pair is at least 8 bytes (two variant tags): a count the data
     * cannot hold is refused before any work */
    if (*count > (len - r->pos) / 8)
        return sq_rd_fail(err, errsize, "more pairs than the data can hold", 0);
    return 0;
}

static inline int sq_bind_next(sq_reader *r, sq_bind_pair *o, char *err, size_t errsize)
{
    o->index = 0;
    o->name = NULL;
    o->name_len = 0;
    o->i = 0;
    o->d = 0;
    o->data = NULL;
    o->data_len = 0;
    size_t at = r->pos;
    uint32_t tag;
    if (!sq_rd_u32(r, &tag))
        return sq_rd_fail(err, errsize, "truncated key", at);
    switch (tag) {
    case SQ_KEY_NONE:
        break;
    case SQ_KEY_NUMERIC:
        if (!sq_rd_u64(r, &o->index))
            return sq_rd_fail(err, errsize, "truncated index", at);
        break;
    case SQ_KEY_STRING: {
        const uint8_t *p;
        if (!sq_rd_bytes(r, &p, &o->name_len))
            return sq_rd_fail(err, errsize, "truncated key name", at);
        if (!sq_text_valid(p, o->name_len))
            return sq_rd_fail(err, errsize, "key name is not UTF-8", at);
        o->name = (const char *)p;
        break;
    }
    default:
        return sq_rd_fail(err, errsize, "unknown BindKey variant", at);
    }
    o->key = (int)tag;
    at = r->pos;
    if (!sq_rd_u32(r, &tag))
        return sq_rd_fail(err, errsize, "truncated value", at);
    uint64_t v;
    switch (tag) {
    case SQ_BIND_NULL:
        break;
    case SQ_BIND_BLOB:
    case SQ_BIND_TEXT:
        if (!sq_rd_bytes(r, &o->data, &o->data_len))
            return sq_rd_fail(err, errsize, "truncated blob or text", at);
        if (tag == SQ_BIND_TEXT && !sq_text_valid(o->data, o->data_len))
            return sq_rd_fail(err, errsize, "text is not UTF-8", at);
        break;
    case SQ_BIND_DOUBLE:
        if (!sq_rd_u64(r, &v))
            return sq_rd_fail(err, errsize, "truncated double", at);
        memcpy(&o->d, &v, 8);
        break;
    case SQ_BIND_INT: {
        uint32_t u;
        if (!sq_rd_u32(r, &u))
            return sq_rd_fail(err, errsize, "truncated int", at);
        o->i = (int32_t)u;
        break;
    }
    case SQ_BIND_INT64:
        if (!sq_rd_u64(r, &v))
            return sq_rd_fail(err, errsize, "truncated int64", at);
        o->i = (int64_t)v;
        break;
    default:
        return sq_rd_fail(err, errsize, "unknown BindValue variant", at);
    }
    o->kind = (int)tag;
    return 0;
}

/* ---- the call in progress (sqlite.c) ------------------------------------ */

typedef struct sq_call {
    lt_process *p;
    int64_t start;            /* lt_now_ns at the first check, 0 before */
    uint32_t work;            /* units of work done so far (see sq_long_call_check) */
    bool handed_off;          /* the worker's queues went to another thread */
    bool doomed;              /* a kill is queued: SQLite was interrupted */
    struct sq_call *prev;     /* the call this one is nested in (lunatic_alloc) */
} sq_call;

extern _Thread_local sq_call *sq_cur;

/* Called from SQLite's callbacks with the work done since the last call
 * (a progress callback: 1000 VM instructions; a file read or write: one
 * page): once the call has run SQ_HANDOFF_NS and done SQ_HANDOFF_WORK
 * units of work, hands the worker's queues to another thread (once per
 * call), and tells whether the process is doomed (a kill is queued), in
 * which case the caller makes SQLite stop. Both conditions, because on a
 * busy machine the OS may preempt a short call for longer than
 * SQ_HANDOFF_NS: time alone would hand off calls that do little. */
#define SQ_HANDOFF_NS 1000000
#define SQ_HANDOFF_WORK 10
bool sq_long_call_check(uint32_t work);
/* Hands the worker off now, before something that blocks (a lock wait). */
void sq_hand_off_now(void);

/* ---- the VFS (sqlite_vfs.c) ---------------------------------------------- */

/* Registers the "lunatic" VFS once (thread-safe); 0, or -1 when SQLite
 * could not be set up. */
int sq_vfs_init(void);
#define SQ_VFS_NAME "lunatic"
/* Whether URI file names are off (after sq_vfs_init); when they could not
 * be switched off, connections must not ATTACH. */
bool sq_vfs_uris_off(void);

/* Resolves a path the guest names the way its libc resolves paths against
 * the preopened directories of its WASI share sh: the longest preopen whose
 * guest name is a prefix (by components) of the path, "." matching any
 * relative path. On success writes the host descriptor of that preopen to
 * *dirfd and the rest of the path to rel (NUL-terminated, may hold ".."
 * components: the final open is beneath dirfd) and returns 0; -1 when no
 * preopen contains the path or rel does not fit. */
int sq_resolve(const lwasi_shared *sh, const char *path, size_t len, int *dirfd, char *rel,
               size_t relsize);

#endif
