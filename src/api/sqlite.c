/*
 * sqlite.c - lunatic::sqlite (ABI.md 2.12) on Debian's libsqlite3: the 14
 * host functions, connections and statements as per-process resources.
 *
 * Resources. A connection (sq_conn) and a statement (sq_stmt) live in the
 * process's tables LT_RK_SQLITE_CONN / LT_RK_SQLITE_STMT, ids from 0, and
 * are freed when the process ends. A statement holds a reference to its
 * connection, so however the tables are torn down, sqlite3_close_v2 runs
 * after the last sqlite3_finalize and nothing is used after it is freed.
 * Only the thread running the process touches them (SQLITE_OPEN_NOMUTEX).
 *
 * Errors. The original traps (or panics) on most failures; we report them
 * instead, each the way its call can (ABI.md 2.12 lists every case):
 *  - open: 1 with an error id (a path outside the preopens included);
 *  - execute, sqlite3_step: the SQLite result code (primary codes: the
 *    extended ones are off, as in the original, and lunatic-rs decodes
 *    only those);
 *  - query_prepare: a failed preparation still gives a statement id; the
 *    statement's sqlite3_step returns the error's code and last_error
 *    reports its message (the original trapped);
 *  - bind_value: a value that cannot be bound, or a malformed BindList,
 *    leaves the error pending on the statement: sqlite3_step returns it
 *    until statement_reset or a bind_value that succeeds;
 *  - a column index out of range reads as Null (read_column) or an empty
 *    name (column_name), with SQLITE_RANGE for last_error.
 * last_error reports our own error (conn->err_*) when the last call on
 * the connection made one, else SQLite's sqlite3_errcode/errmsg.
 * An unknown id is MISUSE (21) where the call reports a code (execute,
 * sqlite3_step, last_error, and a statement prepared on it), and traps
 * like the original where it cannot. (So this module bends api.h's rule
 * that a guest mistake traps, as issue 10 asks: SQLite's own answer to
 * misuse is a code, and a guest can use one.) Guest memory out of bounds
 * and strings that are not UTF-8 trap (ABI.md 1.2).
 *
 * Long calls. SQLite runs on the worker thread that runs the process,
 * with no hand-over per call: a point read costs a few microseconds, the
 * cost of moving a call to another thread and back. A call that runs long
 * instead hands the worker's queue to a fresh thread (lt_hand_off) once it
 * has run SQ_HANDOFF_NS doing real work, noticed by SQLite's progress
 * handler every PROGRESS_OPS virtual machine instructions and by the VFS
 * around I/O and sleeps (sqlite_vfs.c); the call finishes on the old
 * thread, which ends the process's slice (LW_YIELD) and then ends. SQLite
 * cannot suspend a statement half-way and continue it later, so a
 * progress handler alone could only abort long queries, not yield; and a
 * pool of threads running the calls while the process waits would add two
 * hand-overs to every call. The same checks interrupt a call
 * (SQLITE_INTERRUPT) when the process is about to be killed or the
 * runtime stops, so a runaway query can be killed.
 *
 * Allocating calls (last_error, read_column, read_row, column_name,
 * column_names) build their whole result first, then call the guest's
 * lunatic_alloc on a nested execution context (the guest code it runs may
 * itself call the host, even finalize the very statement), copy the bytes
 * there and write the length as 4 bytes (decision 2).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/sqlite_int.h"

#define FN(name) "lunatic::sqlite::" name

/* Progress handler period, in SQLite VM instructions (about 10-50 us). */
#define PROGRESS_OPS 1000
/* Reductions for lunatic_alloc: a slice and how many slices at most. */
#define ALLOC_SLICE 1000000
#define ALLOC_SLICES 100
/* SQL longer than this is parsed after a hand-off (parsing is linear). */
#define LONG_SQL (256u << 10)

_Thread_local sq_call *sq_cur;

typedef struct sq_conn {
    int refs;                 /* the table's + one per statement */
    sqlite3 *db;
    /* the guest's lunatic_alloc and an execution context to run it on,
     * found and made at the first allocating call (alloc_busy: in use by
     * a call that is running it, so a nested one makes its own) */
    lw_func *alloc_fn;
    lw_exec *alloc_x;
    bool alloc_busy;
    bool err_set;             /* our own error, reported by last_error */
    int err_code;
    char err_msg[200];
} sq_conn;

typedef struct sq_stmt {
    sq_conn *conn;            /* NULL: prepared on an unknown connection */
    sqlite3_stmt *st;         /* NULL: empty SQL, or a failed preparation */
    int nparams;              /* sqlite3_bind_parameter_count(st): fixed by the SQL */
    int fail_code;            /* failed preparation (for ever), or 0 */
    int bind_code;            /* pending bind error, or 0 */
    char *fail_msg, *bind_msg;
} sq_stmt;

/* ---- resources ------------------------------------------------------------------ */

static void conn_release(sq_conn *c)
{
    if (c && --c->refs == 0) {
        sqlite3_close_v2(c->db);
        lw_exec_free(c->alloc_x);
        free(c);
    }
}

static void conn_drop(void *v) { conn_release(v); }

static void stmt_drop(void *v)
{
    sq_stmt *s = v;
    sqlite3_finalize(s->st);
    conn_release(s->conn);
    free(s->fail_msg);
    free(s->bind_msg);
    free(s);
}

static lt_idtab *tab(lt_process *p, lt_reskind k)
{
    return lt_process_restab(p, k, k == LT_RK_SQLITE_CONN ? conn_drop : stmt_drop);
}

static sq_conn *conn_get(lt_process *p, uint64_t id)
{
    return p->res ? lt_idtab_get(&p->res->tab[LT_RK_SQLITE_CONN], id) : NULL;
}

static sq_stmt *stmt_get(lt_process *p, uint64_t id)
{
    return p->res ? lt_idtab_get(&p->res->tab[LT_RK_SQLITE_STMT], id) : NULL;
}

/* Our own error on c, for last_error (c may be NULL). */
__attribute__((format(printf, 3, 4))) static void conn_err(sq_conn *c, int code, const char *fmt, ...)
{
    if (!c)
        return;
    c->err_set = true;
    c->err_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
    va_end(ap);
}

static void conn_clear(sq_conn *c)
{
    if (c)
        c->err_set = false;
}

/* ---- calls -------------------------------------------------------------------------- */

/* A call's clock starts at its first check, not here: most calls never
 * get one, and a clock read is a fifth of a short call's overhead. The
 * first SQ_HANDOFF_WORK units before it are not timed (tens of us). */
static void call_begin(sq_call *c, lt_process *p)
{
    *c = (sq_call){.p = p, .prev = sq_cur};
    sq_cur = c;
}

/* LW_OK, or LW_YIELD (results written) to end the slice after a hand-off
 * (the extra thread ends with it) or when a kill is queued. */
static int call_end(sq_call *c)
{
    sq_cur = c->prev;
    if ((c->handed_off || c->doomed) && c->p->started)
        return LW_YIELD;
    return LW_OK;
}

void sq_hand_off_now(void)
{
    sq_call *c = sq_cur;
    if (c && !c->handed_off && c->p->started) {
        c->handed_off = true;
        lt_hand_off(c->p);
    }
}

bool sq_long_call_check(uint32_t work)
{
    sq_call *c = sq_cur;
    if (!c)
        return false;
    c->work += work;
    int64_t now = lt_now_ns();
    if (!c->start)
        c->start = now;
    if (c->work < SQ_HANDOFF_WORK || now - c->start < SQ_HANDOFF_NS)
        return false;
    sq_hand_off_now();
    if (!c->doomed && lt_process_doomed(c->p))
        c->doomed = true;
    return c->doomed;
}

/* SQLite's progress handler: nonzero interrupts the statement. */
static int progress(void *ud) { return sq_long_call_check(1); }

/* ---- guest memory ---------------------------------------------------------------------- */

/* A guest string argument: bounds and UTF-8 checked (a trap names fn). */
static const char *guest_str(lw_exec *x, const char *fn, const char *what, uint32_t ptr,
                             uint32_t len)
{
    const char *s = lapi_mem(x, ptr, len);
    if (!s) {
        lapi_trapf(x, "%s: %s out of bounds", fn, what);
        return NULL;
    }
    if (!lw_utf8_valid((const uint8_t *)s, len)) {
        lapi_trapf(x, "%s: %s is not valid UTF-8", fn, what);
        return NULL;
    }
    return s;
}

/* The guest's lunatic_alloc export, or NULL after a trap naming fn. */
static lw_func *alloc_export(lw_exec *x, const char *fn)
{
    lw_extern ex;
    static const uint8_t i32[1] = {LW_I32};
    if (lw_instance_export(lw_exec_instance(x), "lunatic_alloc", &ex) != 0 ||
        ex.kind != LW_EXTERN_FUNC || lw_func_type(ex.u.func) != lw_functype_get(1, i32, 1, i32)) {
        lapi_trapf(x, "%s: the module does not export lunatic_alloc (i32) -> i32", fn);
        return NULL;
    }
    return ex.u.func;
}

/* Calls the guest's lunatic_alloc(len) on a nested execution context of
 * the same instance: conn's (kept from call to call), or a fresh one when
 * there is no connection or its context is busy (the guest's allocator
 * itself called an allocating function). 0 with the guest pointer in
 * *out, or LW_TRAP. */
static int guest_alloc(lw_exec *x, sq_conn *conn, const char *fn, uint32_t len, uint32_t *out)
{
    bool mine = conn && !conn->alloc_busy;
    lw_func *f = mine && conn->alloc_fn ? conn->alloc_fn : alloc_export(x, fn);
    if (!f)
        return LW_TRAP;
    lw_exec *y = mine && conn->alloc_x ? conn->alloc_x : lw_exec_new(0);
    if (!y)
        return lapi_oom(x, fn);
    if (mine) {
        conn->alloc_fn = f;
        conn->alloc_x = y;
        conn->alloc_busy = true;
        conn->refs++; /* the guest code may drop the statement we came from */
    }
    lw_exec_set_user(y, lw_exec_user(x));
    lw_exec_set_budget(y, ALLOC_SLICE);
    lw_val a = len;
    int st = lw_exec_call(y, f, &a);
    for (int n = 1; st == LW_YIELD && n < ALLOC_SLICES; n++)
        st = lw_exec_resume(y);
    int r = LW_TRAP;
    if (st == LW_OK) {
        *out = (uint32_t)lw_exec_results(y)[0];
        r = 0;
    } else if (st == LW_TRAP && lw_exec_trap_kind(y) == LW_TRAP_EXIT) {
        lw_exec_exit(x, lw_exec_exit_code(y));
    } else if (st == LW_TRAP) {
        lapi_trapf(x, "%s: lunatic_alloc trapped: %s", fn, lw_exec_trap_message(y));
    } else if (st == LW_SUSPEND) {
        lapi_trapf(x, "%s: lunatic_alloc blocked", fn);
    } else {
        lapi_trapf(x, "%s: lunatic_alloc did not return", fn);
    }
    if (mine) {
        conn->alloc_busy = false;
        if (st != LW_OK) {
            /* a context stopped half-way is not reused */
            conn->alloc_x = NULL;
            lw_exec_free(y);
        }
        conn_release(conn);
    } else {
        lw_exec_free(y);
    }
    return r;
}

/* The end of an allocating call: b's bytes into a lunatic_alloc'ed guest
 * buffer, its length (u32) at len_ptr, the pointer as the result. Frees b. */
static int alloc_result(lw_exec *x, lw_val *args, sq_conn *conn, const char *fn, sq_buf *b,
                        uint32_t len_ptr)
{
    if (b->oom || b->len > UINT32_MAX) {
        sq_buf_free(b);
        return lapi_oom(x, fn);
    }
    uint32_t n = (uint32_t)b->len, ptr = 0;
    if (guest_alloc(x, conn, fn, n, &ptr) != 0) {
        sq_buf_free(b);
        return LW_TRAP;
    }
    /* memory may have grown (never shrunk) in lunatic_alloc: look again */
    void *dst = lapi_mem(x, ptr, n);
    if (!dst) {
        sq_buf_free(b);
        return lapi_trapf(x, "%s: lunatic_alloc returned a buffer outside memory", fn);
    }
    if (n)
        memcpy(dst, b->p, n);
    sq_buf_free(b);
    if (lapi_put_u32(x, len_ptr, n) < 0)
        return lapi_trapf(x, "%s: len_ptr out of bounds", fn);
    SET_RESULT32(ptr);
    return LW_OK;
}

/* ---- open ------------------------------------------------------------------------------ */

/* Writes the id for open's caller; 0/1 as the (i64) result. */
static int open_result(lw_exec *x, lw_val *args, uint32_t out, uint64_t id, int code)
{
    lapi_put_u64(x, out, id);
    SET_RESULT64(code);
    return LW_OK;
}

/* open(path_ptr, path_len, conn_id_ptr) -> i64: 0 with a connection id at
 * conn_id_ptr, or 1 with an error id there. lunatic-rs passes 0 as
 * conn_id_ptr and assumes the id is 0 (true for a process's first
 * connection): the 8 bytes at address 0 are written, as in the original.
 * A path outside every preopened directory is an error, not a trap. */
static int sqlite_open(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    uint32_t len = A32(1), out = A32(2);
    const char *path = guest_str(x, FN("open"), "path", A32(0), len);
    if (!path)
        return LW_TRAP;
    if (!lapi_mem(x, out, 8))
        return lapi_trapf(x, "%s: conn_id_ptr out of bounds", FN("open"));
    uint64_t err;
    char name[512];
    if (len >= sizeof name || memchr(path, 0, len)) {
        err = lapi_error_new(p, "Failed to access '%.*s': not a valid path", (int)(len > 200 ? 200 : len),
                             path);
        goto fail;
    }
    memcpy(name, path, len);
    name[len] = 0;
    if (sq_vfs_init() < 0) {
        err = lapi_error_new(p, "Failed to open '%s': SQLite could not be set up", name);
        goto fail;
    }
    /* ":memory:" and "" (a private temporary database) name no file; any
     * other path must lie in a preopened directory. The VFS enforces it
     * for every file; checking here first gives the guest a clear error. */
    if (len && strcmp(name, ":memory:") != 0) {
        char rel[1024];
        int dirfd;
        if (!p->wasi_share || sq_resolve(p->wasi_share, name, len, &dirfd, rel, sizeof rel) < 0) {
            err = lapi_error_new(p,
                                 "Failed to access '%s': permission denied, the path is not inside "
                                 "a preopened directory",
                                 name);
            goto fail;
        }
    }
    sq_call c;
    call_begin(&c, p);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(name, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             SQ_VFS_NAME);
    int st = call_end(&c);
    if (rc != SQLITE_OK) {
        err = lapi_error_new(p, "Failed to open '%s': %s (code %d)", name,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
        sqlite3_close_v2(db);
        goto fail;
    }
    sqlite3_progress_handler(db, PROGRESS_OPS, progress, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    if (!sq_vfs_uris_off())
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0); /* see sqlite_vfs.c */
    sq_conn *conn = calloc(1, sizeof *conn);
    lt_idtab *t = tab(p, LT_RK_SQLITE_CONN);
    uint64_t id;
    if (!conn || !t || lt_idtab_add(t, conn, &id) < 0) {
        free(conn);
        sqlite3_close_v2(db);
        return lapi_oom(x, FN("open"));
    }
    conn->refs = 1;
    conn->db = db;
    open_result(x, args, out, id, LAPI_OK);
    return st;
fail:
    if (err == UINT64_MAX)
        return lapi_oom(x, FN("open"));
    return open_result(x, args, out, err, LAPI_ERR);
}

/* ---- statements ------------------------------------------------------------------------- */

/* query_prepare(i64 conn, sql_ptr, sql_len) -> i64 statement id. Only the
 * first statement of the SQL is compiled (as sqlite3_prepare_v2). */
static int sqlite_query_prepare(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    uint32_t len = A32(2);
    const char *sql = guest_str(x, FN("query_prepare"), "SQL", A32(1), len);
    if (!sql)
        return LW_TRAP;
    sq_stmt *s = calloc(1, sizeof *s);
    lt_idtab *t = tab(p, LT_RK_SQLITE_STMT);
    if (!s || !t) {
        free(s);
        return lapi_oom(x, FN("query_prepare"));
    }
    sq_conn *conn = conn_get(p, A64(0));
    int st = LW_OK;
    if (!conn) {
        s->fail_code = SQLITE_MISUSE;
        char m[64];
        snprintf(m, sizeof m, "unknown connection id %llu", (unsigned long long)A64(0));
        s->fail_msg = strdup(m);
    } else {
        conn_clear(conn);
        conn->refs++;
        s->conn = conn;
        sq_call c;
        call_begin(&c, p);
        if (len > LONG_SQL)
            sq_hand_off_now();
        int rc = len > INT_MAX ? SQLITE_TOOBIG : sqlite3_prepare_v2(conn->db, sql, (int)len, &s->st, NULL);
        st = call_end(&c);
        s->nparams = s->st ? sqlite3_bind_parameter_count(s->st) : 0;
        if (rc != SQLITE_OK) {
            s->fail_code = rc;
            s->fail_msg = strdup(rc == SQLITE_TOOBIG ? "string or blob too big" : sqlite3_errmsg(conn->db));
        }
    }
    uint64_t id;
    if (lt_idtab_add(t, s, &id) < 0) {
        stmt_drop(s);
        return lapi_oom(x, FN("query_prepare"));
    }
    SET_RESULT64(id);
    return st;
}

/* execute(i64 conn, sql_ptr, sql_len) -> i32: 0, or the SQLite result
 * code of the first statement that failed (sqlite3_exec runs them all). */
static int sqlite_execute(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    uint32_t len = A32(2);
    const char *sql = guest_str(x, FN("execute"), "SQL", A32(1), len);
    if (!sql)
        return LW_TRAP;
    sq_conn *conn = conn_get(p, A64(0));
    if (!conn) {
        SET_RESULT32(SQLITE_MISUSE);
        return LW_OK;
    }
    conn_clear(conn);
    if (memchr(sql, 0, len)) {
        /* the original cannot pass it to SQLite either: code 1 */
        conn_err(conn, SQLITE_ERROR, "the SQL contains a NUL byte");
        SET_RESULT32(SQLITE_ERROR);
        return LW_OK;
    }
    char *z = malloc((size_t)len + 1);
    if (!z)
        return lapi_oom(x, FN("execute"));
    memcpy(z, sql, len);
    z[len] = 0;
    sq_call c;
    call_begin(&c, p);
    if (len > LONG_SQL)
        sq_hand_off_now();
    int rc = sqlite3_exec(conn->db, z, NULL, NULL, NULL);
    int st = call_end(&c);
    free(z);
    SET_RESULT32(rc);
    return st;
}

/* The parameter index a named key stands for: the name as given, else
 * with each of SQLite's prefixes (":", "@", "$") in front, so that
 * bind_named("id", ..) finds ":id". 0 when there is none. */
static int named_index(sqlite3_stmt *st, const char *name, size_t len)
{
    char buf[256];
    if (len + 2 > sizeof buf || memchr(name, 0, len))
        return 0;
    memcpy(buf + 1, name, len);
    buf[len + 1] = 0;
    int i = sqlite3_bind_parameter_index(st, buf + 1);
    for (const char *pre = ":@$"; !i && *pre; pre++) {
        buf[0] = *pre;
        i = sqlite3_bind_parameter_index(st, buf);
    }
    return i;
}

/* Binds one decoded pair at index i: 0 or a SQLite code. */
static int bind_one(sqlite3_stmt *st, int i, const sq_bind_pair *b)
{
    switch (b->kind) {
    case SQ_BIND_NULL:
        return sqlite3_bind_null(st, i);
    case SQ_BIND_BLOB:
        /* a NULL pointer would bind NULL, not an empty blob */
        return b->data_len ? sqlite3_bind_blob64(st, i, b->data, b->data_len, SQLITE_TRANSIENT)
                           : sqlite3_bind_zeroblob(st, i, 0);
    case SQ_BIND_TEXT:
        return sqlite3_bind_text64(st, i, b->data_len ? (const char *)b->data : "", b->data_len,
                                   SQLITE_TRANSIENT, SQLITE_UTF8);
    case SQ_BIND_DOUBLE:
        return sqlite3_bind_double(st, i, b->d);
    default:
        return sqlite3_bind_int64(st, i, b->i);
    }
}

/* Records a pending bind error on s (and on its connection). */
static void bind_fail(sq_stmt *s, int code, const char *msg)
{
    s->bind_code = code;
    free(s->bind_msg);
    s->bind_msg = strdup(msg);
    if (s->conn)
        conn_err(s->conn, code, "%s", msg);
}

/* bind_value(i64 stmt, data_ptr, data_len): binds a bincode BindList.
 * Keys: Numeric(i) binds parameter i (from 1); String(name) the parameter
 * of that name; None the parameter after the previous pair's (the first
 * one's is 1). The original binds every None and String key at index 1
 * and panics on Null and on malformed data; we bind as named and report
 * errors through sqlite3_step. */
static int sqlite_bind_value(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    const uint8_t *data = lapi_mem(x, A32(1), A32(2));
    if (!data)
        return lapi_trapf(x, "%s: data out of bounds", FN("bind_value"));
    sq_stmt *s = stmt_get(p, A64(0));
    if (!s)
        return lapi_trapf(x, "%s: unknown statement id %llu", FN("bind_value"),
                          (unsigned long long)A64(0));
    conn_clear(s->conn);
    if (s->fail_code)
        return LW_OK; /* never prepared: sqlite3_step reports why */
    char err[160];
    sq_reader r;
    uint64_t n;
    if (sq_bind_list_begin(&r, data, A32(2), &n, err, sizeof err) < 0) {
        bind_fail(s, SQLITE_MISUSE, err);
        return LW_OK;
    }
    int next = 1;
    for (uint64_t k = 0; k < n; k++) {
        sq_bind_pair b;
        if (sq_bind_next(&r, &b, err, sizeof err) < 0) {
            bind_fail(s, SQLITE_MISUSE, err);
            return LW_OK;
        }
        int i = next;
        if (b.key == SQ_KEY_NUMERIC)
            i = b.index == 0 || b.index > INT_MAX ? 0 : (int)b.index;
        else if (b.key == SQ_KEY_STRING && (!s->st || !(i = named_index(s->st, b.name, b.name_len)))) {
            snprintf(err, sizeof err, "no parameter named '%.*s'",
                     (int)(b.name_len > 64 ? 64 : b.name_len), b.name);
            bind_fail(s, SQLITE_RANGE, err);
            return LW_OK;
        }
        if (i < 1 || i > s->nparams) { /* none when !s->st */
            snprintf(err, sizeof err, "bind index %llu out of range",
                     b.key == SQ_KEY_NUMERIC ? (unsigned long long)b.index : (unsigned long long)i);
            bind_fail(s, SQLITE_RANGE, err);
            return LW_OK;
        }
        int rc = bind_one(s->st, i, &b);
        if (rc != SQLITE_OK) {
            bind_fail(s, rc, sqlite3_errmsg(s->conn->db));
            return LW_OK;
        }
        next = i + 1;
    }
    s->bind_code = 0;
    return LW_OK;
}

/* sqlite3_changes(i64 conn) -> i32 */
static int sqlite_sqlite3_changes(lw_exec *x, void *env, lw_val *args)
{
    sq_conn *conn = conn_get(lt_self(x), A64(0));
    if (!conn)
        return lapi_trapf(x, "%s: unknown connection id %llu", FN("sqlite3_changes"),
                          (unsigned long long)A64(0));
    SET_RESULT32(sqlite3_changes(conn->db));
    return LW_OK;
}

/* statement_reset(i64 stmt): back to the start, bindings kept; clears a
 * pending bind error. The original trapped when the last step had failed
 * (sqlite3_reset repeats that error); we do not. */
static int sqlite_statement_reset(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = stmt_get(lt_self(x), A64(0));
    if (!s)
        return lapi_trapf(x, "%s: unknown statement id %llu", FN("statement_reset"),
                          (unsigned long long)A64(0));
    conn_clear(s->conn);
    s->bind_code = 0;
    if (s->st)
        sqlite3_reset(s->st);
    return LW_OK;
}

/* sqlite3_step(i64 stmt) -> i32: 100 SQLITE_ROW, 101 SQLITE_DONE, or the
 * error's code (the original trapped). */
static int sqlite_sqlite3_step(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    sq_stmt *s = stmt_get(p, A64(0));
    if (!s) {
        SET_RESULT32(SQLITE_MISUSE);
        return LW_OK;
    }
    conn_clear(s->conn);
    if (s->fail_code || s->bind_code) {
        int code = s->fail_code ? s->fail_code : s->bind_code;
        conn_err(s->conn, code, "%s", (s->fail_code ? s->fail_msg : s->bind_msg) ?: "out of memory");
        SET_RESULT32(code);
        return LW_OK;
    }
    if (!s->st) {
        SET_RESULT32(SQLITE_DONE); /* empty SQL: nothing to run */
        return LW_OK;
    }
    sq_call c;
    call_begin(&c, p);
    int rc = sqlite3_step(s->st);
    int st = call_end(&c);
    SET_RESULT32(rc);
    return st;
}

/* sqlite3_finalize(i64 stmt): drops the statement. */
static int sqlite_sqlite3_finalize(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    sq_stmt *s = p->res ? lt_idtab_take(&p->res->tab[LT_RK_SQLITE_STMT], A64(0)) : NULL;
    if (!s)
        return lapi_trapf(x, "%s: unknown statement id %llu", FN("sqlite3_finalize"),
                          (unsigned long long)A64(0));
    stmt_drop(s);
    return LW_OK;
}

/* column_count(i64 stmt) -> i32 */
static int sqlite_column_count(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = stmt_get(lt_self(x), A64(0));
    if (!s)
        return lapi_trapf(x, "%s: unknown statement id %llu", FN("column_count"),
                          (unsigned long long)A64(0));
    SET_RESULT32(s->st ? sqlite3_column_count(s->st) : 0);
    return LW_OK;
}

/* ---- allocating calls -------------------------------------------------------------------- */

/* The statement of an allocating call, after checking len_ptr (a trap
 * names fn); NULL after a trap. */
static sq_stmt *alloc_stmt(lw_exec *x, const char *fn, uint64_t id, uint32_t len_ptr)
{
    if (!lapi_mem(x, len_ptr, 4)) {
        lapi_trapf(x, "%s: len_ptr out of bounds", fn);
        return NULL;
    }
    sq_stmt *s = stmt_get(lt_self(x), id);
    if (!s) {
        lapi_trapf(x, "%s: unknown statement id %llu", fn, (unsigned long long)id);
        return NULL;
    }
    conn_clear(s->conn);
    return s;
}

/* A guest column index as SQLite's int (-1, out of range, for a huge one). */
static int col_index(uint32_t col) { return col > INT_MAX ? -1 : (int)col; }

/* last_error(i64 conn, len_ptr) -> i32: bincode SqliteError. With no
 * error (SQLite's code is 0) both fields are None, which lunatic-rs
 * decodes as no error (the original trapped). An unknown connection
 * gives code 21 (MISUSE). */
static int sqlite_last_error(lw_exec *x, void *env, lw_val *args)
{
    uint32_t len_ptr = A32(1);
    if (!lapi_mem(x, len_ptr, 4))
        return lapi_trapf(x, "%s: len_ptr out of bounds", FN("last_error"));
    sq_conn *conn = conn_get(lt_self(x), A64(0));
    sq_buf b = {0};
    if (!conn) {
        char m[64];
        snprintf(m, sizeof m, "unknown connection id %llu", (unsigned long long)A64(0));
        sq_encode_error(&b, true, SQLITE_MISUSE, m);
    } else if (conn->err_set) {
        sq_encode_error(&b, true, (uint32_t)conn->err_code, conn->err_msg);
    } else {
        int code = sqlite3_errcode(conn->db);
        sq_encode_error(&b, code != SQLITE_OK, (uint32_t)code,
                        code != SQLITE_OK ? sqlite3_errmsg(conn->db) : NULL);
    }
    return alloc_result(x, args, conn, FN("last_error"), &b, len_ptr);
}

/* read_column(i64 stmt, col, len_ptr) -> i32: bincode SqliteValue. */
static int sqlite_read_column(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = alloc_stmt(x, FN("read_column"), A64(0), A32(2));
    if (!s)
        return LW_TRAP;
    sq_buf b = {0};
    int col = col_index(A32(1));
    sq_encode_column(&b, s->st, col);
    if (!s->st || col < 0)
        conn_err(s->conn, SQLITE_RANGE, "column index out of range");
    return alloc_result(x, args, s->conn, FN("read_column"), &b, A32(2));
}

/* read_row(i64 stmt, len_ptr) -> i32: bincode SqliteRow, every column of
 * the current row (Nulls when there is none, as SQLite reads them). */
static int sqlite_read_row(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = alloc_stmt(x, FN("read_row"), A64(0), A32(1));
    if (!s)
        return LW_TRAP;
    sq_buf b = {0};
    int n = s->st ? sqlite3_column_count(s->st) : 0;
    sq_buf_u64(&b, (uint64_t)n);
    for (int i = 0; i < n; i++)
        sq_encode_column(&b, s->st, i);
    return alloc_result(x, args, s->conn, FN("read_row"), &b, A32(1));
}

/* column_name(i64 stmt, col, len_ptr) -> i32: the name as raw UTF-8 (not
 * bincode). Out of range: an empty name and SQLITE_RANGE for last_error
 * (the original trapped). */
static int sqlite_column_name(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = alloc_stmt(x, FN("column_name"), A64(0), A32(2));
    if (!s)
        return LW_TRAP;
    sq_buf b = {0};
    int col = col_index(A32(1));
    const char *name = s->st && col >= 0 ? sqlite3_column_name(s->st, col) : NULL;
    if (name)
        sq_buf_bytes(&b, name, strlen(name));
    else
        conn_err(s->conn, SQLITE_RANGE, "column index out of range");
    return alloc_result(x, args, s->conn, FN("column_name"), &b, A32(2));
}

/* column_names(i64 stmt, len_ptr) -> i32: bincode Vec<String>. */
static int sqlite_column_names(lw_exec *x, void *env, lw_val *args)
{
    sq_stmt *s = alloc_stmt(x, FN("column_names"), A64(0), A32(1));
    if (!s)
        return LW_TRAP;
    sq_buf b = {0};
    int n = s->st ? sqlite3_column_count(s->st) : 0;
    sq_buf_u64(&b, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(s->st, i);
        sq_buf_str(&b, name ? name : "", name ? strlen(name) : 0);
    }
    return alloc_result(x, args, s->conn, FN("column_names"), &b, A32(1));
}

#define M "lunatic::sqlite"
const lw_host_func_def lapi_sqlite_defs[] = {
    {M, "open", "iii:I", sqlite_open},
    {M, "query_prepare", "Iii:I", sqlite_query_prepare},
    {M, "execute", "Iii:i", sqlite_execute},
    {M, "bind_value", "Iii:", sqlite_bind_value},
    {M, "sqlite3_changes", "I:i", sqlite_sqlite3_changes},
    {M, "statement_reset", "I:", sqlite_statement_reset},
    {M, "sqlite3_step", "I:i", sqlite_sqlite3_step},
    {M, "sqlite3_finalize", "I:", sqlite_sqlite3_finalize},
    {M, "column_count", "I:i", sqlite_column_count},
    {M, "last_error", "Ii:i", sqlite_last_error},
    {M, "read_column", "Iii:i", sqlite_read_column},
    {M, "read_row", "Ii:i", sqlite_read_row},
    {M, "column_name", "Iii:i", sqlite_column_name},
    {M, "column_names", "Ii:i", sqlite_column_names},
};
const size_t lapi_sqlite_count = sizeof lapi_sqlite_defs / sizeof lapi_sqlite_defs[0];
#undef M
