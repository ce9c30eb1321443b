/*
 * version.c - lunatic::version (ABI.md 2.8): the version of the original
 * API crate this runtime is compatible with, 0.13.2.
 */
#include "api/api.h"

static int major(wasm_exec *x, void *env, wasm_val *args) { RET32(0); return WASM_OK; }
static int minor(wasm_exec *x, void *env, wasm_val *args) { RET32(13); return WASM_OK; }
static int patch(wasm_exec *x, void *env, wasm_val *args) { RET32(2); return WASM_OK; }

#define M "lunatic::version"
const host_func_def api_version_defs[] = {
    {M, "major", ":i", major},
    {M, "minor", ":i", minor},
    {M, "patch", ":i", patch},
};
const size_t api_version_count = sizeof api_version_defs / sizeof *api_version_defs;
