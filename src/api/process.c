/*
 * process.c - lunatic::process (ABI.md 2.3): modules, configs, spawning,
 * links, monitors, kill. Signals to other processes go through lt_send;
 * signals to self too, so they take effect at the next signal handling,
 * in order with what other processes sent before (as in the original).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"

#define SELF lt_process *p = lt_self(x)

/* ---- modules ----------------------------------------------------------------- */

static int compile_module(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    if (!p->config->can_compile) {
        RET32(-1);
        return WASM_OK;
    }
    const uint8_t *data = api_mem(x, A32(0), A32(1));
    if (!data || !api_mem(x, A32(2), 8))
        return api_trap(x, "compile_module: buffer out of bounds");
    char err[300];
    lt_module *m = lt_module_compile(data, A32(1), err, sizeof err);
    if (!m) {
        api_put_u64(x, A32(2), api_error_new(p, "%s", err));
        RET32(API_ERR);
        return WASM_OK;
    }
    api_put_u64(x, A32(2), lt_idtab_add(&p->modules, m));
    RET32(API_OK);
    return WASM_OK;
}

static int drop_module(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_module *m = lt_idtab_take(&p->modules, A64(0));
    if (!m)
        return api_trap(x, "drop_module: unknown module id");
    lt_module_release(m);
    return WASM_OK;
}

/* ---- configs ------------------------------------------------------------------- */

static int create_config(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    if (!p->config->can_create_configs) {
        RET64(-1);
        return WASM_OK;
    }
    lt_config *c = lt_config_new();
    /* a captured stdout/stderr (test mode) is inherited, as in the original */
    if (c && lt_config_set_stdio(c, p->config->stdout_fd, p->config->stderr_fd) < 0) {
        lt_config_release(c);
        c = NULL;
    }
    if (!c)
        return api_trap(x, "out of memory");
    RET64(lt_idtab_add(&p->configs, c));
    return WASM_OK;
}

static int drop_config(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_config *c = lt_idtab_take(&p->configs, A64(0));
    if (!c)
        return api_trap(x, "drop_config: unknown config id");
    lt_config_release(c);
    return WASM_OK;
}

/* A config to read, or NULL after a trap. */
static lt_config *config_get(wasm_exec *x, uint64_t id)
{
    lt_config *c = lt_idtab_get(&lt_self(x)->configs, id);
    if (!c)
        api_trap(x, "unknown config id");
    return c;
}

/* A config to change. Spawned processes share configs by reference, so a
 * config in use by one is copied first (copy on write). */
lt_config *api_config_mut(wasm_exec *x, uint64_t id);
lt_config *api_config_mut(wasm_exec *x, uint64_t id)
{
    lt_process *p = lt_self(x);
    lt_config *c = config_get(x, id);
    if (!c || atomic_load(&c->refs) == 1)
        return c;
    lt_config *copy = lt_config_clone(c);
    if (!copy) {
        api_trap(x, "out of memory");
        return NULL;
    }
    lt_idtab_take(&p->configs, id);
    /* keep the id: put the copy back under the same id */
    lt_idtab_readd(&p->configs, id, copy);
    lt_config_release(c);
    return copy;
}

static int config_set_max_memory(wasm_exec *x, void *env, wasm_val *args)
{
    lt_config *c = api_config_mut(x, A64(0));
    if (!c)
        return WASM_TRAP;
    c->max_memory = A64(1);
    return WASM_OK;
}

static int config_get_max_memory(wasm_exec *x, void *env, wasm_val *args)
{
    lt_config *c = config_get(x, A64(0));
    if (!c)
        return WASM_TRAP;
    RET64(c->max_memory);
    return WASM_OK;
}

static int config_set_max_fuel(wasm_exec *x, void *env, wasm_val *args)
{
    lt_config *c = api_config_mut(x, A64(0));
    if (!c)
        return WASM_TRAP;
    c->max_fuel = A64(1);
    return WASM_OK;
}

static int config_get_max_fuel(wasm_exec *x, void *env, wasm_val *args)
{
    lt_config *c = config_get(x, A64(0));
    if (!c)
        return WASM_TRAP;
    RET64(c->max_fuel);
    return WASM_OK;
}

#define PERMISSION(field, name)                                                   \
    static int config_##name(wasm_exec *x, void *env, wasm_val *args)             \
    {                                                                             \
        lt_config *c = config_get(x, A64(0));                                     \
        if (!c)                                                                   \
            return WASM_TRAP;                                                     \
        RET32(c->field ? 1 : 0);                                                  \
        return WASM_OK;                                                           \
    }                                                                             \
    static int config_set_##name(wasm_exec *x, void *env, wasm_val *args)         \
    {                                                                             \
        lt_config *c = api_config_mut(x, A64(0));                                 \
        if (!c)                                                                   \
            return WASM_TRAP;                                                     \
        c->field = A32(1) != 0;                                                   \
        return WASM_OK;                                                           \
    }
PERMISSION(can_compile, can_compile_modules)
PERMISSION(can_create_configs, can_create_configs)
PERMISSION(can_spawn, can_spawn_processes)

/* ---- spawning ---------------------------------------------------------------------- */

/* Decodes the 17-byte parameter records of ABI.md 2.3 (4) into buf (room
 * for PARAMS_BUF) or, if more, a new array in *out; returns their number,
 * or -1 after a trap. */
#define PARAMS_BUF 16
static int decode_params(wasm_exec *x, uint32_t ptr, uint32_t len, wasm_val *buf, wasm_val **out)
{
    *out = buf;
    if (len % 17)
        return api_trap(x, "spawn: parameters are not whole 17-byte records"), -1;
    const uint8_t *b = api_mem(x, ptr, len);
    if (!b)
        return api_trap(x, "spawn: parameters out of bounds"), -1;
    uint32_t n = len / 17;
    if (!n)
        return 0;
    wasm_val *v = n <= PARAMS_BUF ? buf : calloc(n, sizeof *v);
    if (!v)
        return api_trap(x, "out of memory"), -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = b + 17 * i;
        uint64_t lo;
        memcpy(&lo, r + 1, 8);
        if (r[0] == WASM_I32) {
            v[i] = (uint32_t)lo;
        } else if (r[0] == WASM_I64) {
            v[i] = lo;
        } else {
            if (v != buf)
                free(v);
            return api_trap(x, r[0] == WASM_V128 ? "spawn: v128 parameters are not supported"
                                                 : "spawn: unknown parameter type"),
                   -1;
        }
    }
    *out = v;
    return (int)n;
}

/* What a spawn costs the spawner's slice, in reductions (the default slice
 * is 20,000): a spawn loop yields every ~20 spawns, so its children run
 * (and short-lived ones free their memory) instead of piling up in the run
 * queues, and an idle worker can take the spawner itself (see steal() in
 * sched.c). Measured on 2 workers, 200,000 short-lived children from 8
 * spawners: 1.35 M spawns/s; yielding every ~200 spawns instead, 0.8 (the
 * 1,600 children in flight spill the caches). */
#define SPAWN_REDUCTIONS 1000

/* The common part of spawn and get_or_spawn. Returns API_OK with *pid, or
 * API_ERR with an error id in *pid, or -1 after a trap. */
static int do_spawn(wasm_exec *x, int64_t link, uint64_t config_id, uint64_t module_id,
                    uint32_t func_ptr, uint32_t func_len, uint32_t params_ptr, uint32_t params_len,
                    uint64_t *pid)
{
    lt_process *p = lt_self(x);
    if (!p->config->can_spawn)
        return api_trap(x, "spawn: the process may not spawn processes"), -1;
    /* ABI.md 2.3: not from a start section (which runs inside the spawn
     * of this very process: spawning there would recurse without end) */
    if (!p->started)
        return api_trap(x, "spawn: called from the start section"), -1;
    lt_config *c = config_id == UINT64_MAX ? p->config : lt_idtab_get(&p->configs, config_id);
    lt_module *m = module_id == UINT64_MAX ? p->module : lt_idtab_get(&p->modules, module_id);
    if (!c)
        return api_trap(x, "spawn: unknown config id"), -1;
    if (!m)
        return api_trap(x, "spawn: unknown module id"), -1;
    const char *func = api_str(x, func_ptr, func_len);
    if (!func)
        return -1;
    wasm_val buf[PARAMS_BUF], *params;
    int n = decode_params(x, params_ptr, params_len, buf, &params);
    if (n < 0)
        return -1;
    char err[300];
    lt_link to_parent = {.pid = p->pid, .tag = link, .has_tag = true};
    uint64_t child = lt_spawn_wasm(p->rt, p->env, m, c, p->registry, func, func_len, params,
                                   (uint32_t)n, link ? &to_parent : NULL, false, err, sizeof err);
    if (params != buf)
        free(params);
    if (!child) {
        *pid = api_error_new(p, "%s", err);
        return API_ERR;
    }
    if (link)
        lt_add_link(p, child, false, 0);
    *pid = child;
    return API_OK;
}

static int h_spawn(wasm_exec *x, void *env, wasm_val *args)
{
    if (!api_mem(x, A32(7), 8))
        return api_trap(x, "spawn: id pointer out of bounds");
    uint64_t pid;
    int r = do_spawn(x, (int64_t)A64(0), A64(1), A64(2), A32(3), A32(4), A32(5), A32(6), &pid);
    if (r < 0)
        return WASM_TRAP;
    api_put_u64(x, A32(7), pid);
    RET32(r);
    return api_charge(lt_self(x), SPAWN_REDUCTIONS);
}

static int h_get_or_spawn(wasm_exec *x, void *env, wasm_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = api_str(x, A32(0), A32(1));
    if (!name)
        return WASM_TRAP;
    if (!api_mem(x, A32(9), 8) || !api_mem(x, A32(10), 8))
        return api_trap(x, "get_or_spawn: pointer out of bounds");
    lt_registry_lock(p->registry);
    uint64_t node, pid;
    int r;
    if (lt_registry_get(p->registry, name, A32(1), &node, &pid) == 0) {
        api_put_u64(x, A32(9), node);
        api_put_u64(x, A32(10), pid);
        r = 2;
    } else {
        r = do_spawn(x, (int64_t)A64(2), A64(3), A64(4), A32(5), A32(6), A32(7), A32(8), &pid);
        if (r == API_OK) {
            lt_registry_put(p->registry, name, A32(1), 0, pid);
            api_put_u64(x, A32(9), 0);
            api_put_u64(x, A32(10), pid);
        } else if (r == API_ERR) {
            /* decision 5: an error id is never registered */
            api_put_u64(x, A32(10), pid);
        }
    }
    lt_registry_unlock(p->registry);
    if (r < 0)
        return WASM_TRAP;
    RET32(r);
    return r == 2 ? WASM_OK : api_charge(p, SPAWN_REDUCTIONS); /* 2: found, not spawned */
}

/* ---- the process itself ------------------------------------------------------------- */

static int h_sleep_ms(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    if (A64(0) == 0) /* sleep(0) gives the others a turn (not in a start function) */
        return p->started ? WASM_YIELD : WASM_OK;
    api_wait_begin(p, A64(0));
    /* no deadline (u64::MAX, or too far to represent): sleep for ever */
    if (p->wait_deadline >= 0 && api_wait_expired(p)) {
        api_wait_end(p);
        return WASM_OK;
    }
    return WASM_SUSPEND;
}

static void signal_self(lt_process *p, lt_signal *s)
{
    if (s)
        lt_send(p->env, p->pid, s);
}

static int h_die_when_link_dies(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(SIG_DIE_WHEN_LINK_DIES);
    if (s)
        s->flag = A32(0) != 0;
    signal_self(p, s);
    return WASM_OK;
}

static int h_process_id(wasm_exec *x, void *env, wasm_val *args)
{
    RET64(lt_self(x)->pid);
    return WASM_OK;
}

static int h_environment_id(wasm_exec *x, void *env, wasm_val *args)
{
    RET64(lt_self(x)->env->id);
    return WASM_OK;
}

static int h_link(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    if (lt_link_pids(p->env, p->pid, A64(1), (int64_t)A64(0)) < 0)
        return api_trap(x, "out of memory");
    return WASM_OK;
}

static int h_unlink(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_signal *a = lt_signal_new(SIG_UNLINK), *b = lt_signal_new(SIG_UNLINK);
    if (a) {
        a->pid = p->pid;
        lt_send(p->env, A64(0), a);
    }
    if (b) {
        b->pid = A64(0);
        signal_self(p, b);
    }
    return WASM_OK;
}

static int h_monitor(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    if (lt_monitor_pid(p->env, p->pid, A64(0)) < 0)
        return api_trap(x, "out of memory");
    return WASM_OK;
}

static int h_stop_monitoring(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(SIG_STOP_MONITORING);
    if (s) {
        s->pid = p->pid;
        lt_send(p->env, A64(0), s);
    }
    return WASM_OK;
}

static int h_kill(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(SIG_KILL);
    if (s)
        lt_send(p->env, A64(0), s);
    return WASM_OK;
}

static int h_exists(wasm_exec *x, void *env, wasm_val *args)
{
    SELF;
    RET32(lt_env_exists(p->env, A64(0)) ? 1 : 0);
    return WASM_OK;
}

#define M "lunatic::process"
const host_func_def api_process_defs[] = {
    {M, "compile_module", "iii:i", compile_module},
    {M, "drop_module", "I:", drop_module},
    {M, "create_config", ":I", create_config},
    {M, "drop_config", "I:", drop_config},
    {M, "config_set_max_memory", "II:", config_set_max_memory},
    {M, "config_get_max_memory", "I:I", config_get_max_memory},
    {M, "config_set_max_fuel", "II:", config_set_max_fuel},
    {M, "config_get_max_fuel", "I:I", config_get_max_fuel},
    {M, "config_can_compile_modules", "I:i", config_can_compile_modules},
    {M, "config_set_can_compile_modules", "Ii:", config_set_can_compile_modules},
    {M, "config_can_create_configs", "I:i", config_can_create_configs},
    {M, "config_set_can_create_configs", "Ii:", config_set_can_create_configs},
    {M, "config_can_spawn_processes", "I:i", config_can_spawn_processes},
    {M, "config_set_can_spawn_processes", "Ii:", config_set_can_spawn_processes},
    {M, "spawn", "IIIiiiii:i", h_spawn},
    {M, "get_or_spawn", "iiIIIiiiiii:i", h_get_or_spawn},
    {M, "sleep_ms", "I:", h_sleep_ms},
    {M, "die_when_link_dies", "i:", h_die_when_link_dies},
    {M, "process_id", ":I", h_process_id},
    {M, "environment_id", ":I", h_environment_id},
    {M, "link", "II:", h_link},
    {M, "unlink", "I:", h_unlink},
    {M, "monitor", "I:", h_monitor},
    {M, "stop_monitoring", "I:", h_stop_monitoring},
    {M, "kill", "I:", h_kill},
    {M, "exists", "I:i", h_exists},
};
const size_t api_process_count = sizeof api_process_defs / sizeof *api_process_defs;
