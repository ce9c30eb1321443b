/*
 * sqlite.c - lunatic::sqlite (ABI.md 2.12).
 *
 * SQLite is not built into this runtime yet. All 14 functions exist with
 * their exact signatures, so modules importing them load:
 *  - open checks its path (bounds, UTF-8) and returns 1 with an error id
 *    "SQLite support is not available yet" written at conn_id_ptr;
 *  - every function taking a connection or statement id traps with
 *    "unknown connection id" / "unknown statement id", since no connection
 *    can exist (the original's behaviour for an id not in the process's
 *    table).
 *
 * One C function per ABI function, named sqlite_<name>; the lookups
 * sqlite_conn_get / sqlite_stmt_get are where the per-process tables go.
 * Reminders for the real implementation: open returns i64; the
 * "allocating" calls (last_error, read_column, read_row, column_name,
 * column_names) return a pointer from the guest's lunatic_alloc and write
 * the length at len_ptr (ABI.md 1.3).
 */
#include <stdarg.h>
#include <stdio.h>

#include "api/api.h"

#define FN(name) "lunatic::sqlite::" name
#define SQLITE_UNSUPPORTED "SQLite support is not available yet"

typedef struct sqlite_res sqlite_res;
static sqlite_res *sqlite_conn_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }
static sqlite_res *sqlite_stmt_get(lt_process *p, uint64_t id) { (void)p, (void)id; return NULL; }


/* Resolves the connection id in args[0], or traps. */
#define CONN(fn)                                                                  \
    do {                                                                          \
        if (!sqlite_conn_get(lt_self(x), A64(0)))                                 \
            return lapi_trapf(x, "%s: unknown connection id %llu", fn,            \
                                (unsigned long long)A64(0));                      \
    } while (0)
#define STMT(fn)                                                                  \
    do {                                                                          \
        if (!sqlite_stmt_get(lt_self(x), A64(0)))                                 \
            return lapi_trapf(x, "%s: unknown statement id %llu", fn,             \
                                (unsigned long long)A64(0));                      \
    } while (0)
/* What a call does once it found its resource: nothing can be found yet. */
#define UNSUPPORTED(fn) return lapi_trapf(x, "%s: %s", fn, SQLITE_UNSUPPORTED)

/* open(path_ptr, path_len, conn_id_ptr) -> i64: 0 with a connection id, or 1
 * with an error id, at conn_id_ptr */
static int sqlite_open(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    if (!lapi_str(x, A32(0), A32(1)))
        return LW_TRAP;
    uint32_t ptr = A32(2);
    if (!lapi_mem(x, ptr, 8))
        return lapi_trapf(x, "%s: conn_id_ptr out of bounds", FN("open"));
    uint64_t err = lapi_error_new(lt_self(x), "%s", SQLITE_UNSUPPORTED);
    if (err == UINT64_MAX)
        return lapi_trapf(x, "%s: out of memory", FN("open"));
    lapi_put_u64(x, ptr, err);
    SET_RESULT64(LAPI_ERR);
    return LW_OK;
}

/* query_prepare(i64 conn, sql_ptr, sql_len) -> i64 statement id */
static int sqlite_query_prepare(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    CONN(FN("query_prepare"));
    UNSUPPORTED(FN("query_prepare"));
}

/* execute(i64 conn, sql_ptr, sql_len) -> i32: 0 or the SQLite error code */
static int sqlite_execute(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    CONN(FN("execute"));
    UNSUPPORTED(FN("execute"));
}

/* bind_value(i64 stmt, data_ptr, data_len): a bincode BindList */
static int sqlite_bind_value(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("bind_value"));
    UNSUPPORTED(FN("bind_value"));
}

/* sqlite3_changes(i64 conn) -> i32 */
static int sqlite_sqlite3_changes(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    CONN(FN("sqlite3_changes"));
    UNSUPPORTED(FN("sqlite3_changes"));
}

/* statement_reset(i64 stmt) */
static int sqlite_statement_reset(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("statement_reset"));
    UNSUPPORTED(FN("statement_reset"));
}

/* sqlite3_step(i64 stmt) -> i32: 100 SQLITE_ROW, 101 SQLITE_DONE */
static int sqlite_sqlite3_step(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("sqlite3_step"));
    UNSUPPORTED(FN("sqlite3_step"));
}

/* sqlite3_finalize(i64 stmt) */
static int sqlite_sqlite3_finalize(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("sqlite3_finalize"));
    UNSUPPORTED(FN("sqlite3_finalize"));
}

/* column_count(i64 stmt) -> i32 */
static int sqlite_column_count(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("column_count"));
    UNSUPPORTED(FN("column_count"));
}

/* last_error(i64 conn, len_ptr) -> i32 */
static int sqlite_last_error(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    CONN(FN("last_error"));
    UNSUPPORTED(FN("last_error"));
}

/* read_column(i64 stmt, col, len_ptr) -> i32 */
static int sqlite_read_column(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("read_column"));
    UNSUPPORTED(FN("read_column"));
}

/* read_row(i64 stmt, len_ptr) -> i32 */
static int sqlite_read_row(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("read_row"));
    UNSUPPORTED(FN("read_row"));
}

/* column_name(i64 stmt, col, len_ptr) -> i32 */
static int sqlite_column_name(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("column_name"));
    UNSUPPORTED(FN("column_name"));
}

/* column_names(i64 stmt, len_ptr) -> i32 */
static int sqlite_column_names(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    STMT(FN("column_names"));
    UNSUPPORTED(FN("column_names"));
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
