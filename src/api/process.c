/*
 * process.c - lunatic::process (ABI.md 2.3): modules, configs, spawning,
 * links, monitors, kill. Signals to other processes go through lt_send;
 * signals to self too, so they take effect at the next signal handling,
 * in order with what other processes sent before (as in the original).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "rt/blocking.h"

#define SELF lt_process *p = lt_self(x)

/* ---- modules ----------------------------------------------------------------- */

/* Modules above this size compile on the runtime's pool for blocking work
 * while the caller is parked, so that a large compile never holds a
 * worker (50 MB of code takes seconds); smaller ones, the usual case,
 * compile at once (a pool round trip costs more than they do). */
#define COMPILE_INLINE_MAX (256u << 10)

typedef struct compiling {
    lt_job job;
    const lw_host_table *const *hosts;
    size_t nhosts;
    uint8_t *bytes;             /* a copy: the caller's memory may go if it dies */
    size_t len;
    bool keep;                  /* in a cluster: the module keeps its bytes (module.h) */
    lt_module *m;               /* the result, or NULL with err */
    char err[300];
} compiling;

static void compiling_run(lt_job *j)
{
    compiling *c = (compiling *)j;
    c->m = lt_module_compile(c->hosts, c->nhosts, c->bytes, c->len, c->err, sizeof c->err);
    if (c->m && c->keep && lt_module_keep(c->m, c->bytes, c->len) < 0) {
        lt_module_release(c->m);
        c->m = NULL;
        snprintf(c->err, sizeof c->err, "out of memory");
    }
    free(c->bytes);
    c->bytes = NULL;
}

static void compiling_free(lt_job *j)
{
    compiling *c = (compiling *)j;
    lt_module_release(c->m);
    free(c->bytes);
    free(c);
}

/* Puts the result of a compile (m, or NULL with err) in the caller's
 * table and at id_ptr. */
static int compiled(lw_exec *x, lw_val *args, lt_module *m, const char *err)
{
    lt_process *p = lt_self(x);
    if (!m) {
        lapi_put_u64(x, A32(2), lapi_error_new(p, "%s", err));
        SET_RESULT32(LAPI_ERR);
        return LW_OK;
    }
    uint64_t id;
    if (lapi_module_add(p, m, &id) < 0) {
        lt_module_release(m);
        return lapi_oom(x, "compile_module");
    }
    lapi_put_u64(x, A32(2), id);
    SET_RESULT32(LAPI_OK);
    return LW_OK;
}

static int process_compile_module(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (!p->config->can_compile) {
        SET_RESULT32(-1);
        return LW_OK;
    }
    const uint8_t *data = lapi_mem(x, A32(0), A32(1));
    if (!data || !lapi_mem(x, A32(2), 8))
        return lapi_trap(x, "compile_module: buffer out of bounds");
    /* the module will be charged its size (lt_module.cost): refuse a
     * compile that could not be kept before paying for it */
    if (!p->wait_started && !lt_account_fits(&p->acct, lt_module_size_cost(A32(1), p->rt->remote))) {
        p->acct.refused = true;
        return lapi_oom(x, "compile_module");
    }
    compiling *c = (compiling *)p->job;
    if (p->wait_started && c && c->job.free == compiling_free) {
        /* woken: the pool may be done */
        if (!lt_job_done(&c->job))
            return LW_SUSPEND;
        lapi_wait_end(p);
        lt_module *m = c->m;
        c->m = NULL;
        int r = compiled(x, args, m, c->err);
        lt_job_release(&c->job);
        p->job = NULL;
        return r;
    }
    if (A32(1) <= COMPILE_INLINE_MAX) {
        char err[300];
        lt_module *m = lt_module_compile(p->rt->hosts, p->rt->nhosts, data, A32(1), err, sizeof err);
        if (m && p->rt->remote && lt_module_keep(m, data, A32(1)) < 0) {
            lt_module_release(m);
            return lapi_oom(x, "compile_module");
        }
        return compiled(x, args, m, err);
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->bytes = malloc(A32(1)))) {
        free(c);
        return lapi_oom(x, NULL);
    }
    memcpy(c->bytes, data, A32(1));
    c->len = A32(1);
    c->keep = p->rt->remote != NULL;
    c->hosts = p->rt->hosts;
    c->nhosts = p->rt->nhosts;
    c->job.run = compiling_run;
    c->job.free = compiling_free;
    atomic_init(&c->job.refs, 1);
    lapi_wait_begin(p, UINT64_MAX);
    if (lt_job_submit(p->rt, p, &c->job) < 0) {
        /* no thread for it: compile here after all */
        lapi_wait_end(p);
        compiling_run(&c->job);
        int r = compiled(x, args, c->m, c->err);
        c->m = NULL;
        lt_job_release(&c->job);
        return r;
    }
    lt_job_release(p->job);
    p->job = &c->job;
    return LW_SUSPEND;
}

static int process_drop_module(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_module *m = lt_idtab_take(&p->modules, A64(0));
    if (!m)
        return lapi_trap(x, "drop_module: unknown module id");
    lt_account_release(&p->acct, m->cost);
    lt_module_release(m);
    return LW_OK;
}

/* ---- configs ------------------------------------------------------------------- */

static int process_create_config(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (!p->config->can_create_configs) {
        SET_RESULT64(-1);
        return LW_OK;
    }
    lt_config *c = lt_config_new();
    if (c)
        c->no_network = p->config->no_network; /* capabilities only narrow */
    /* a captured stdout/stderr (test mode) is inherited, as in the original */
    if (c && lt_config_set_stdio(c, p->config->stdout_fd, p->config->stderr_fd) < 0) {
        lt_config_release(c);
        c = NULL;
    }
    uint64_t id;
    if (c && lt_idtab_add(&p->configs, c, &id) < 0) {
        lt_config_release(c);
        c = NULL;
    }
    if (!c)
        return lapi_oom(x, NULL);
    SET_RESULT64(id);
    return LW_OK;
}

static int process_drop_config(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_config *c = lt_idtab_take(&p->configs, A64(0));
    if (!c)
        return lapi_trap(x, "drop_config: unknown config id");
    lt_account_release(&p->acct, c->charged);
    lt_config_release(c);
    return LW_OK;
}

/* A config to read, or NULL after a trap. */
static lt_config *config_get(lw_exec *x, uint64_t id)
{
    lt_config *c = lt_idtab_get(&lt_self(x)->configs, id);
    if (!c)
        lapi_trap(x, "unknown config id");
    return c;
}

/* A config to change. Spawned processes share configs by reference, so a
 * config in use by one is copied first (copy on write). */
lt_config *lapi_config_mut(lw_exec *x, uint64_t id);
lt_config *lapi_config_mut(lw_exec *x, uint64_t id)
{
    lt_process *p = lt_self(x);
    lt_config *c = config_get(x, id);
    if (!c || atomic_load(&c->refs) == 1)
        return c;
    lt_config *copy = lt_config_clone(c);
    if (!copy) {
        lapi_oom(x, NULL);
        return NULL;
    }
    /* the copy takes the id (and the charges) over */
    lt_idtab_swap(&p->configs, id, copy);
    lt_config_release(c);
    return copy;
}

static int process_config_set_max_memory(lw_exec *x, void *env, lw_val *args)
{
    lt_config *c = lapi_config_mut(x, A64(0));
    if (!c)
        return LW_TRAP;
    c->max_memory = A64(1);
    return LW_OK;
}

static int process_config_get_max_memory(lw_exec *x, void *env, lw_val *args)
{
    lt_config *c = config_get(x, A64(0));
    if (!c)
        return LW_TRAP;
    SET_RESULT64(c->max_memory);
    return LW_OK;
}

static int process_config_set_max_fuel(lw_exec *x, void *env, lw_val *args)
{
    lt_config *c = lapi_config_mut(x, A64(0));
    if (!c)
        return LW_TRAP;
    c->max_fuel = A64(1);
    return LW_OK;
}

static int process_config_get_max_fuel(lw_exec *x, void *env, lw_val *args)
{
    lt_config *c = config_get(x, A64(0));
    if (!c)
        return LW_TRAP;
    SET_RESULT64(c->max_fuel);
    return LW_OK;
}

#define PERMISSION(field, name)                                               \
    static int process_config_##name(lw_exec *x, void *env, lw_val *args)     \
    {                                                                         \
        lt_config *c = config_get(x, A64(0));                                 \
        if (!c)                                                               \
            return LW_TRAP;                                                   \
        SET_RESULT32(c->field ? 1 : 0);                                       \
        return LW_OK;                                                         \
    }                                                                         \
    static int process_config_set_##name(lw_exec *x, void *env, lw_val *args) \
    {                                                                         \
        lt_config *c = lapi_config_mut(x, A64(0));                            \
        if (!c)                                                               \
            return LW_TRAP;                                                   \
        c->field = A32(1) != 0;                                               \
        return LW_OK;                                                         \
    }
PERMISSION(can_compile, can_compile_modules)
PERMISSION(can_create_configs, can_create_configs)
PERMISSION(can_spawn, can_spawn_processes)

/* ---- spawning ---------------------------------------------------------------------- */

/* Decodes the 17-byte parameter records of ABI.md 2.3 (4) into buf (room
 * for PARAMS_BUF) or, if more, a new array in *out; returns their number,
 * or -1 after a trap. */
#define PARAMS_BUF 16
static int decode_params(lw_exec *x, uint32_t ptr, uint32_t len, lw_val *buf, lw_val **out)
{
    *out = buf;
    if (len % 17)
        return lapi_trap(x, "spawn: parameters are not whole 17-byte records"), -1;
    const uint8_t *b = lapi_mem(x, ptr, len);
    if (!b)
        return lapi_trap(x, "spawn: parameters out of bounds"), -1;
    uint32_t n = len / 17;
    if (!n)
        return 0;
    lw_val *v = n <= PARAMS_BUF ? buf : calloc(n, sizeof *v);
    if (!v)
        return lapi_oom(x, NULL), -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = b + 17 * i;
        uint64_t lo;
        memcpy(&lo, r + 1, 8);
        if (r[0] == LW_I32) {
            v[i] = (uint32_t)lo;
        } else if (r[0] == LW_I64) {
            v[i] = lo;
        } else {
            if (v != buf)
                free(v);
            return lapi_trap(x, r[0] == LW_V128 ? "spawn: v128 parameters are not supported"
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

/* do_spawn's answer when the child's start function needs more slices:
 * the host call yields (lt_again) and do_spawn goes on when it is made
 * again. */
#define SPAWN_AGAIN (-2)

/* The common part of spawn and get_or_spawn. Returns LAPI_OK with *pid,
 * LAPI_ERR with an error id in *pid, SPAWN_AGAIN, or -1 after a trap. */
static int do_spawn(lw_exec *x, int64_t link, uint64_t config_id, uint64_t module_id,
                    uint32_t func_ptr, uint32_t func_len, uint32_t params_ptr, uint32_t params_len,
                    const lt_spawn_name *name, uint64_t *pid)
{
    lt_process *p = lt_self(x);
    char err[300];
    uint64_t child;
    int r;
    /* The parent's end of a link is made before the child can run (once it
     * runs nothing may fail the link: its LinkDied must come): the signal
     * at the first call, kept in p->spawn_died across the slices of a
     * start function, and the room for it before each step that may be
     * the last (a spawn, a slice). */
    if (p->spawning) {
        /* the same call made again: the next slice of the child's start
         * function (its arguments were checked by the first) */
        if (link && lt_link_reserve(p, &p->spawn_died) < 0)
            return lapi_oom(x, "spawn"), -1;
        r = lt_spawn_continue(p->spawning, name, &child, err, sizeof err);
        if (r > 0)
            return SPAWN_AGAIN;
        p->spawning = NULL;
    } else {
        if (!p->config->can_spawn)
            return lapi_trap(x, "spawn: the process may not spawn processes"), -1;
        /* ABI.md 2.3: not from a start section (which runs inside the spawn
         * of this very process: spawning there would recurse without end) */
        if (!p->started)
            return lapi_trap(x, "spawn: called from the start section"), -1;
        lt_config *c = config_id == UINT64_MAX ? p->config : lt_idtab_get(&p->configs, config_id);
        lt_module *m = module_id == UINT64_MAX ? p->module : lt_idtab_get(&p->modules, module_id);
        if (!c)
            return lapi_trap(x, "spawn: unknown config id"), -1;
        if (!m)
            return lapi_trap(x, "spawn: unknown module id"), -1;
        const char *func = lapi_str(x, func_ptr, func_len);
        if (!func)
            return -1;
        lw_val buf[PARAMS_BUF], *params;
        int n = decode_params(x, params_ptr, params_len, buf, &params);
        if (n < 0)
            return -1;
        /* capabilities only narrow: a config the process made grants nothing
         * it lacks, and no child gets more memory or fuel than it has */
        if (c != p->config && lt_config_check_within(p->config, c, err, sizeof err) < 0) {
            if (params != buf)
                free(params);
            *pid = lapi_error_new(p, "spawn refused: %s", err);
            return LAPI_ERR;
        }
        if (link && lt_link_reserve(p, &p->spawn_died) < 0) {
            if (params != buf)
                free(params);
            return lapi_oom(x, "spawn"), -1;
        }
        lt_link to_parent = {.pid = p->pid, .tag = link, .has_tag = true};
        uint64_t fuel_left = lw_exec_fuel(p->x);
        lt_spawn_opts o = {.registry = p->registry,
                           .link = link ? &to_parent : NULL,
                           .memory_cap = p->config->max_memory,
                           .fuel_cap = fuel_left == UINT64_MAX ? 0 : fuel_left,
                           .pending = &p->spawning,
                           .name = name};
        r = lt_spawn_wasm(p->rt, p->env, m, c, func, func_len, params, (uint32_t)n, &o, &child,
                          err, sizeof err);
        if (params != buf)
            free(params);
        if (r > 0)
            return SPAWN_AGAIN;
    }
    lt_signal *died = p->spawn_died;
    p->spawn_died = NULL;
    if (r < 0) {
        lt_signal_free(died);
        *pid = lapi_error_new(p, "%s", err);
        return LAPI_ERR;
    }
    if (link)
        lt_link_add_reserved(p, child, false, 0, died);
    *pid = child;
    return LAPI_OK;
}

static int process_spawn(lw_exec *x, void *env, lw_val *args)
{
    if (!lapi_mem(x, A32(7), 8))
        return lapi_trap(x, "spawn: id pointer out of bounds");
    uint64_t pid;
    int r = do_spawn(x, (int64_t)A64(0), A64(1), A64(2), A32(3), A32(4), A32(5), A32(6), NULL, &pid);
    if (r == SPAWN_AGAIN)
        return lt_again(lt_self(x));
    if (r < 0)
        return LW_TRAP;
    lapi_put_u64(x, A32(7), pid);
    SET_RESULT32(r);
    return lt_charge(lt_self(x), SPAWN_REDUCTIONS);
}

/* The name is reserved in the registry while the child's start function
 * runs (registry.h), so no lock is held across the spawn; others asking
 * for the name meanwhile wait, as for the original's write lock. */
static int process_get_or_spawn(lw_exec *x, void *env, lw_val *args)
{
    lt_process *p = lt_self(x);
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    if (!lapi_mem(x, A32(9), 8) || !lapi_mem(x, A32(10), 8))
        return lapi_trap(x, "get_or_spawn: pointer out of bounds");
    uint64_t node, pid;
    if (!p->spawning) {
        int found = lt_registry_reserve(p->registry, name, A32(1), p->pid, &node, &pid);
        if (found < 0)
            return lapi_oom(x, "get_or_spawn");
        if (found == LT_REG_PENDING)
            return lt_again(p); /* another process is spawning it */
        if (found == LT_REG_FOUND) {
            lapi_put_u64(x, A32(9), node);
            lapi_put_u64(x, A32(10), pid);
            SET_RESULT32(2);
            return LW_OK;
        }
    }
    /* the spawn registers the child before it can run (and die) */
    lt_spawn_name sn = {.name = name, .len = A32(1), .owner = p->pid};
    int r = do_spawn(x, (int64_t)A64(2), A64(3), A64(4), A32(5), A32(6), A32(7), A32(8), &sn, &pid);
    if (r == SPAWN_AGAIN)
        return lt_again(p);
    if (r != LAPI_OK) /* decision 5: an error id is never registered */
        lt_registry_settle(p->registry, name, A32(1), p->pid, false, 0);
    if (r < 0)
        return LW_TRAP;
    if (r == LAPI_OK)
        lapi_put_u64(x, A32(9), 0);
    lapi_put_u64(x, A32(10), pid);
    SET_RESULT32(r);
    return lt_charge(p, SPAWN_REDUCTIONS);
}

/* ---- the process itself ------------------------------------------------------------- */

static int process_sleep_ms(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (A64(0) == 0) /* sleep(0) gives the others a turn (not in a start function) */
        return p->started ? LW_YIELD : LW_OK;
    if (lapi_wait_begin(p, A64(0)))
        p->wait_kind = LT_WAIT_SLEEP;
    /* no deadline (u64::MAX, or too far to represent): sleep for ever */
    if (p->wait_deadline >= 0 && lapi_wait_expired(p)) {
        lapi_wait_end(p);
        return LW_OK;
    }
    return LW_SUSPEND;
}

static void signal_self(lt_process *p, lt_signal *s) { lt_send(p->env, p->pid, s); }

static int process_die_when_link_dies(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(LT_SIG_DIE_WHEN_LINK_DIES);
    if (!s)
        return lapi_oom(x, "die_when_link_dies");
    s->flag = A32(0) != 0;
    signal_self(p, s);
    return LW_OK;
}

static int process_process_id(lw_exec *x, void *env, lw_val *args)
{
    SET_RESULT64(lt_self(x)->pid);
    return LW_OK;
}

static int process_environment_id(lw_exec *x, void *env, lw_val *args)
{
    SET_RESULT64(lt_self(x)->env->id);
    return LW_OK;
}

static int process_link(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (lt_link_pids(p->env, p->pid, A64(1), (int64_t)A64(0)) < 0)
        return lapi_oom(x, "link");
    return LW_OK;
}

static int process_unlink(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *a = lt_signal_new(LT_SIG_UNLINK), *b = lt_signal_new(LT_SIG_UNLINK);
    if (!a || !b) {
        lt_signal_free(a);
        lt_signal_free(b);
        return lapi_oom(x, "unlink");
    }
    a->pid = p->pid;
    lt_send(p->env, A64(0), a);
    b->pid = lt_pid_of(p->env, A64(0)); /* as the link stored it */
    signal_self(p, b);
    return LW_OK;
}

static int process_monitor(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    if (lt_monitor_pid(p->env, p->pid, A64(0)) < 0)
        return lapi_oom(x, "monitor");
    /* a monitor on another node's process: the distribution layer is told
     * when p ends, to cancel it (rt/remote.h) */
    if ((lt_pid_of(p->env, A64(0)) & LT_PID_NODE_MASK) != p->rt->node_bits)
        p->remote = true;
    return LW_OK;
}

static int process_stop_monitoring(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(LT_SIG_STOP_MONITORING);
    if (!s)
        return lapi_oom(x, "stop_monitoring");
    s->pid = p->pid;
    lt_send(p->env, A64(0), s);
    return LW_OK;
}

static int process_kill(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    lt_signal *s = lt_signal_new(LT_SIG_KILL);
    if (!s)
        return lapi_oom(x, "kill");
    lt_send(p->env, A64(0), s);
    return LW_OK;
}

static int process_exists(lw_exec *x, void *env, lw_val *args)
{
    SELF;
    SET_RESULT32(lt_env_exists(p->env, A64(0)) ? 1 : 0);
    return LW_OK;
}

#define M "lunatic::process"
const lw_host_func_def lapi_process_defs[] = {
    {M, "compile_module", "iii:i", process_compile_module},
    {M, "drop_module", "I:", process_drop_module},
    {M, "create_config", ":I", process_create_config},
    {M, "drop_config", "I:", process_drop_config},
    {M, "config_set_max_memory", "II:", process_config_set_max_memory},
    {M, "config_get_max_memory", "I:I", process_config_get_max_memory},
    {M, "config_set_max_fuel", "II:", process_config_set_max_fuel},
    {M, "config_get_max_fuel", "I:I", process_config_get_max_fuel},
    {M, "config_can_compile_modules", "I:i", process_config_can_compile_modules},
    {M, "config_set_can_compile_modules", "Ii:", process_config_set_can_compile_modules},
    {M, "config_can_create_configs", "I:i", process_config_can_create_configs},
    {M, "config_set_can_create_configs", "Ii:", process_config_set_can_create_configs},
    {M, "config_can_spawn_processes", "I:i", process_config_can_spawn_processes},
    {M, "config_set_can_spawn_processes", "Ii:", process_config_set_can_spawn_processes},
    {M, "spawn", "IIIiiiii:i", process_spawn},
    {M, "get_or_spawn", "iiIIIiiiiii:i", process_get_or_spawn},
    {M, "sleep_ms", "I:", process_sleep_ms},
    {M, "die_when_link_dies", "i:", process_die_when_link_dies},
    {M, "process_id", ":I", process_process_id},
    {M, "environment_id", ":I", process_environment_id},
    {M, "link", "II:", process_link},
    {M, "unlink", "I:", process_unlink},
    {M, "monitor", "I:", process_monitor},
    {M, "stop_monitoring", "I:", process_stop_monitoring},
    {M, "kill", "I:", process_kill},
    {M, "exists", "I:i", process_exists},
};
const size_t lapi_process_count = sizeof lapi_process_defs / sizeof *lapi_process_defs;
