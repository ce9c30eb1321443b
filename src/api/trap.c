/*
 * trap.c - lunatic::trap::catch (ABI.md 2.9): runs the guest export
 * _lunatic_catch_trap(function, pointer) as the continuation of the host
 * call; a trap inside it makes catch return 0 and the process lives on.
 * The guest keeps running on the same exec, so it stays preemptible and
 * may block inside the caught region.
 */
#include "api/api.h"

static int trap_catch(lw_exec *x, void *env, lw_val *args)
{
    lw_extern ex;
    if (lw_instance_export(lw_exec_instance(x), "_lunatic_catch_trap", &ex) != 0 ||
        ex.kind != LW_EXTERN_FUNC)
        return lapi_trap(x, "catch: the module does not export _lunatic_catch_trap");
    static const uint8_t ii[2] = {LW_I32, LW_I32}, i[1] = {LW_I32};
    if (lw_func_type(ex.u.func) != lw_functype_get(2, ii, 1, i))
        return lapi_trap(x, "catch: _lunatic_catch_trap must be (i32, i32) -> i32");
    /* args[0], args[1] already hold (function, pointer) */
    return lw_exec_continue_with(x, ex.u.func, 1, 0);
}

#define M "lunatic::trap"
const lw_host_func_def lapi_trap_defs[] = {
    {M, "catch", "ii:i", trap_catch},
};
const size_t lapi_trap_count = sizeof lapi_trap_defs / sizeof *lapi_trap_defs;
