/*
 * version.c - lunatic::version (ABI.md 2.8): the version of the original
 * API crate this runtime is compatible with, 0.13.2.
 */
#include "api/api.h"

static int version_major(lw_exec *x, void *env, lw_val *args) { SET_RESULT32(0); return LW_OK; }
static int version_minor(lw_exec *x, void *env, lw_val *args) { SET_RESULT32(13); return LW_OK; }
static int version_patch(lw_exec *x, void *env, lw_val *args) { SET_RESULT32(2); return LW_OK; }

#define M "lunatic::version"
const lw_host_func_def lapi_version_defs[] = {
    {M, "major", ":i", version_major},
    {M, "minor", ":i", version_minor},
    {M, "patch", ":i", version_patch},
};
const size_t lapi_version_count = sizeof lapi_version_defs / sizeof *lapi_version_defs;
