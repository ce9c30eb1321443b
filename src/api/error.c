/*
 * error.c - lunatic::error (ABI.md 2.1): error strings as per-process
 * resources, created by failing host calls (api_error_new).
 */
#include <stdlib.h>

#include "api/api.h"

static const char *error_get(wasm_exec *x, uint64_t id)
{
    const char *s = lt_idtab_get(&lt_self(x)->errors, id);
    if (!s)
        api_trap(x, "unknown error id");
    return s;
}

static int string_size(wasm_exec *x, void *env, wasm_val *args)
{
    const char *s = error_get(x, A64(0));
    if (!s)
        return WASM_TRAP;
    RET32(strlen(s));
    return WASM_OK;
}

static int to_string(wasm_exec *x, void *env, wasm_val *args)
{
    const char *s = error_get(x, A64(0));
    if (!s)
        return WASM_TRAP;
    size_t n = strlen(s);
    void *dst = api_mem(x, A32(1), n);
    if (!dst)
        return api_trap(x, "error to_string: buffer out of bounds");
    memcpy(dst, s, n);
    return WASM_OK;
}

static int drop(wasm_exec *x, void *env, wasm_val *args)
{
    char *s = lt_idtab_take(&lt_self(x)->errors, A64(0));
    if (!s)
        return api_trap(x, "unknown error id");
    free(s);
    return WASM_OK;
}

#define M "lunatic::error"
const host_func_def api_error_defs[] = {
    {M, "string_size", "I:i", string_size},
    {M, "to_string", "Ii:", to_string},
    {M, "drop", "I:", drop},
};
const size_t api_error_count = sizeof api_error_defs / sizeof *api_error_defs;
