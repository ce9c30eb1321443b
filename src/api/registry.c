/*
 * registry.c - lunatic::registry (ABI.md 2.4): process names shared by a
 * process and its descendants. Names of a process that dies are removed
 * (decision 6), in process.c.
 */
#include "api/api.h"

static int registry_put(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    if (lt_registry_put(p->registry, name, A32(1), A64(2), A64(3)) < 0)
        return lapi_oom(x, "registry put");
    return LW_OK;
}

static int registry_get(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    uint64_t node, pid;
    int r = lt_registry_get(p->registry, name, A32(1), &node, &pid);
    if (r == LT_REG_PENDING)
        return lt_again(p); /* a get_or_spawn is spawning it: its answer */
    if (r == LT_REG_ABSENT) {
        SET_RESULT32(1);
        return LW_OK;
    }
    if (lapi_put_u64(x, A32(2), node) < 0 || lapi_put_u64(x, A32(3), pid) < 0)
        return lapi_trap(x, "registry get: pointer out of bounds");
    SET_RESULT32(0);
    return LW_OK;
}

static int registry_remove(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    lt_registry_remove(p->registry, name, A32(1));
    return LW_OK;
}

#define M "lunatic::registry"
const lw_host_func_def lapi_registry_defs[] = {
    {M, "put", "iiII:", registry_put},
    {M, "get", "iiii:i", registry_get},
    {M, "remove", "ii:", registry_remove},
};
const size_t lapi_registry_count = sizeof lapi_registry_defs / sizeof *lapi_registry_defs;
