/*
 * registry.c - lunatic::registry (ABI.md 2.4): process names shared by a
 * process and its descendants. Names of a process that dies are removed
 * (decision 6), in process.c.
 */
#include "api/api.h"

static int put(wasm_exec *x, void *env, wasm_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = api_str(x, A32(0), A32(1));
    if (!name)
        return WASM_TRAP;
    lt_registry_put(p->registry, name, A32(1), A64(2), A64(3));
    return WASM_OK;
}

static int get(wasm_exec *x, void *env, wasm_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = api_str(x, A32(0), A32(1));
    if (!name)
        return WASM_TRAP;
    uint64_t node, pid;
    if (lt_registry_get(p->registry, name, A32(1), &node, &pid) < 0) {
        RET32(1);
        return WASM_OK;
    }
    if (api_put_u64(x, A32(2), node) < 0 || api_put_u64(x, A32(3), pid) < 0)
        return api_trap(x, "registry get: pointer out of bounds");
    RET32(0);
    return WASM_OK;
}

static int h_remove(wasm_exec *x, void *env, wasm_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = api_str(x, A32(0), A32(1));
    if (!name)
        return WASM_TRAP;
    lt_registry_remove(p->registry, name, A32(1));
    return WASM_OK;
}

#define M "lunatic::registry"
const host_func_def api_registry_defs[] = {
    {M, "put", "iiII:", put},
    {M, "get", "iiii:i", get},
    {M, "remove", "ii:", h_remove},
};
const size_t api_registry_count = sizeof api_registry_defs / sizeof *api_registry_defs;
