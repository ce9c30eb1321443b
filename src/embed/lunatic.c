/*
 * lunatic.c - the embedding API (include/lunatic.h): the runtime layer
 * (src/rt) joined with its host modules, WASI (src/wasi) and lunatic::*
 * (src/api). This is the top of the library; the CLI uses only this.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lunatic.h"
#include "rt/config.h"
#include "rt/env.h"
#include "rt/module.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "wasi/wasi.h"

/* The host modules of every runtime: WASI and lunatic::*. 0, or -1 when
 * they cannot be made (out of memory). */
static int default_hosts(const lw_host_table *hosts[2])
{
    hosts[0] = lwasi_host_table();
    hosts[1] = lapi_host_table();
    return hosts[0] && hosts[1] ? 0 : -1;
}

lunatic_runtime *lunatic_runtime_new(const lunatic_options *opt)
{
    /* A peer that closes a socket must not kill the host: writes get EPIPE
     * instead of SIGPIPE (OpenSSL writes to sockets with write(2)). Only
     * the default disposition is changed, never an embedder's handler. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
    const lw_host_table *hosts[2];
    if (default_hosts(hosts) < 0)
        return NULL;
    lt_runtime_opts o = {
        .threads = opt ? opt->threads : 0,
        .reductions = opt ? opt->reductions : 0,
        .hosts = hosts,
        .nhosts = 2,
    };
    return lt_runtime_new(&o);
}

void lunatic_runtime_free(lunatic_runtime *rt) { lt_runtime_free(rt); }

/* ---- modules and configs ---------------------------------------------------------- */

lunatic_module *lunatic_module_new(const uint8_t *wasm, size_t len, char *err, size_t errsize)
{
    const lw_host_table *hosts[2];
    if (default_hosts(hosts) < 0) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    return lt_module_compile(hosts, 2, wasm, len, err, errsize);
}

void lunatic_module_release(lunatic_module *m) { lt_module_release(m); }

int lunatic_module_check_entry(const lunatic_module *m, const char *name, char *err,
                               size_t errsize)
{
    return lt_module_check_entry(m, name, err, errsize);
}

/* The i-th export of m that is a function, or -1. */
static int64_t func_export(const lunatic_module *m, uint32_t i, lw_export *e)
{
    uint32_t n = lw_module_num_exports(m->wasm);
    for (uint32_t k = 0; k < n; k++) {
        lw_module_export(m->wasm, k, e);
        if (e->type.kind == LW_EXTERN_FUNC && i-- == 0)
            return k;
    }
    return -1;
}

uint32_t lunatic_module_func_exports(const lunatic_module *m)
{
    uint32_t n = lw_module_num_exports(m->wasm), funcs = 0;
    for (uint32_t k = 0; k < n; k++) {
        lw_export e;
        lw_module_export(m->wasm, k, &e);
        funcs += e.type.kind == LW_EXTERN_FUNC;
    }
    return funcs;
}

const char *lunatic_module_func_export(const lunatic_module *m, uint32_t i, size_t *len)
{
    lw_export e;
    if (func_export(m, i, &e) < 0)
        return NULL;
    *len = e.name_len;
    return e.name;
}

lunatic_config *lunatic_config_new(void) { return lt_config_new(); }
void lunatic_config_release(lunatic_config *c) { lt_config_release(c); }
void lunatic_config_set_max_memory(lunatic_config *c, uint64_t bytes) { c->max_memory = bytes; }
void lunatic_config_set_max_fuel(lunatic_config *c, uint64_t units) { c->max_fuel = units; }

void lunatic_config_set_permissions(lunatic_config *c, int compile, int create_configs, int spawn)
{
    c->can_compile = compile != 0;
    c->can_create_configs = create_configs != 0;
    c->can_spawn = spawn != 0;
}

int lunatic_config_add_arg(lunatic_config *c, const char *arg)
{
    return lt_config_add(c, LT_CFG_ARG, arg, strlen(arg));
}

int lunatic_config_add_env(lunatic_config *c, const char *kv)
{
    return lt_config_add(c, LT_CFG_ENV, kv, strlen(kv));
}

int lunatic_config_add_preopen(lunatic_config *c, const char *dir)
{
    return lt_config_add(c, LT_CFG_PREOPEN, dir, strlen(dir));
}

int lunatic_config_add_preopen_as(lunatic_config *c, const char *host, const char *guest)
{
    return lt_config_add_preopen(c, host, guest);
}

int lunatic_config_set_stdio(lunatic_config *c, int stdout_fd, int stderr_fd)
{
    return lt_config_set_stdio(c, stdout_fd, stderr_fd);
}

/* ---- processes ------------------------------------------------------------------------ */

uint64_t lunatic_spawn(lunatic_runtime *rt, uint64_t env_id, lunatic_module *m, lunatic_config *c,
                       const char *func, const uint64_t *params, uint32_t nparams, char *err,
                       size_t errsize)
{
    lt_env *env = lt_env_get(rt, env_id);
    uint64_t pid;
    lt_spawn_opts o = {.watched = true};
    if (!env) {
        snprintf(err, errsize, "out of memory");
        return 0;
    }
    if (lt_spawn_wasm(rt, env, m, c, func, strlen(func), params, nparams, &o, &pid, err,
                      errsize) < 0)
        return 0;
    return pid;
}

/* A native handler with the public signature, called from the runtime's. */
typedef struct native {
    lunatic_native_fn fn;
    void *ud;
} native;

static int native_trampoline(lt_process *self, const lt_native_msg *m, void *ud)
{
    native *n = ud;
    if (!m)
        return n->fn(self, NULL, n->ud);
    lunatic_msg msg = {.kind = m->kind, .tag = m->tag, .pid = m->pid, .data = m->data,
                       .len = m->len};
    return n->fn(self, &msg, n->ud);
}

uint64_t lunatic_spawn_native(lunatic_runtime *rt, uint64_t env_id, lunatic_native_fn fn, void *ud)
{
    lt_env *env = lt_env_get(rt, env_id);
    native *n = malloc(sizeof *n);
    uint64_t pid;
    if (!env || !n) {
        free(n);
        return 0;
    }
    n->fn = fn;
    n->ud = ud;
    if (lt_spawn_native(rt, env, native_trampoline, n, free, true, &pid) < 0) {
        free(n);
        return 0;
    }
    return pid;
}

uint64_t lunatic_process_id(const lunatic_process *self) { return self->pid; }

int lunatic_send(lunatic_runtime *rt, uint64_t env_id, uint64_t pid, int64_t tag, const void *data,
                 size_t len)
{
    lt_env *env = lt_env_get(rt, env_id);
    lt_signal *m = env ? lt_message_new(tag, len) : NULL;
    if (!m || lt_message_write(m, data, len) < 0) {
        lt_signal_free(m);
        return -1;
    }
    return lt_send(env, pid, m);
}

void lunatic_kill(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    lt_env *env = lt_env_get(rt, env_id);
    lt_signal *s = env ? lt_signal_new(LT_SIG_KILL) : NULL;
    if (s)
        lt_send(env, pid, s);
}

void lunatic_link(lunatic_runtime *rt, uint64_t env_id, uint64_t a, uint64_t b, int64_t tag)
{
    lt_env *env = lt_env_get(rt, env_id);
    if (env)
        lt_link_pids(env, a, b, tag);
}

void lunatic_monitor(lunatic_runtime *rt, uint64_t env_id, uint64_t watcher, uint64_t target)
{
    lt_env *env = lt_env_get(rt, env_id);
    if (env)
        lt_monitor_pid(env, watcher, target);
}

int lunatic_exists(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    lt_env *env = lt_env_get(rt, env_id);
    return env && lt_env_exists(env, pid);
}

int lunatic_wait(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    return lt_runtime_wait(rt, env_id, pid);
}
