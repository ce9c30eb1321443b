/*
 * error.c - lunatic::error (ABI.md 2.1): error strings as per-process
 * resources, created by failing host calls (lapi_error_new).
 */
#include <stdlib.h>

#include "api/api.h"

/* The error lapi_error_new gives when it cannot store one: always valid,
 * never stored (docs/ABI.md §2.1). */
static const char oom_text[] = "out of memory (an error's text could not be stored)";

static const char *error_get(lw_exec *x, uint64_t id)
{
    if (id == LAPI_ERROR_OOM)
        return oom_text;
    const char *s = lt_idtab_get(&lt_self(x)->errors, id);
    if (!s)
        lapi_trap(x, "unknown error id");
    return s;
}

static int error_string_size(lw_exec *x, void *env, lw_val *args)
{
    const char *s = error_get(x, A64(0));
    if (!s)
        return LW_TRAP;
    SET_RESULT32(strlen(s));
    return LW_OK;
}

static int error_to_string(lw_exec *x, void *env, lw_val *args)
{
    const char *s = error_get(x, A64(0));
    if (!s)
        return LW_TRAP;
    size_t n = strlen(s);
    void *dst = lapi_mem(x, A32(1), n);
    if (!dst)
        return lapi_trap(x, "error to_string: buffer out of bounds");
    memcpy(dst, s, n);
    return LW_OK;
}

static int error_drop(lw_exec *x, void *env, lw_val *args)
{
    if (A64(0) == LAPI_ERROR_OOM)
        return LW_OK;
    char *s = lt_idtab_take(&lt_self(x)->errors, A64(0));
    if (!s)
        return lapi_trap(x, "unknown error id");
    free(s);
    return LW_OK;
}

#define M "lunatic::error"
const lw_host_func_def lapi_error_defs[] = {
    {M, "string_size", "I:i", error_string_size},
    {M, "to_string", "Ii:", error_to_string},
    {M, "drop", "I:", error_drop},
};
const size_t lapi_error_count = sizeof lapi_error_defs / sizeof *lapi_error_defs;
