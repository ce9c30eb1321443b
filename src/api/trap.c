/*
 * trap.c - lunatic::trap::catch (ABI.md 2.9): runs the guest export
 * _lunatic_catch_trap(function, pointer) as the continuation of the host
 * call; a trap inside it makes catch return 0 and the process lives on.
 * The guest keeps running on the same exec, so it stays preemptible and
 * may block inside the caught region.
 */
#include "api/api.h"

static int h_catch(wasm_exec *x, void *env, wasm_val *args)
{
    wasm_extern ex;
    if (wasm_instance_export(wasm_exec_instance(x), "_lunatic_catch_trap", &ex) != 0 ||
        ex.kind != WASM_EXTERN_FUNC)
        return api_trap(x, "catch: the module does not export _lunatic_catch_trap");
    static const uint8_t ii[2] = {WASM_I32, WASM_I32}, i[1] = {WASM_I32};
    if (wasm_func_type(ex.u.func) != wasm_functype_get(2, ii, 1, i))
        return api_trap(x, "catch: _lunatic_catch_trap must be (i32, i32) -> i32");
    /* args[0], args[1] already hold (function, pointer) */
    return wasm_exec_continue_with(x, ex.u.func, 1, 0);
}

#define M "lunatic::trap"
const host_func_def api_trap_defs[] = {
    {M, "catch", "ii:i", h_catch},
};
const size_t api_trap_count = sizeof api_trap_defs / sizeof *api_trap_defs;
