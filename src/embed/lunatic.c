/*
 * lunatic.c - the embedding API (include/lunatic.h): the runtime layer
 * (src/rt) joined with its host modules, WASI (src/wasi) and lunatic::*
 * (src/api). This is the top of the library; the CLI uses only this.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "api/api.h"
#include "dist/dist.h"
#include "lunatic.h"
#include "obs/obs.h"
#include "rt/config.h"
#include "rt/env.h"
#include "rt/module.h"
#include "rt/process.h"
#include "rt/runtime.h"
#include "rt/snapshot.h"
#include "rt/stats.h"
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
void lunatic_runtime_stop(lunatic_runtime *rt) { lt_runtime_stop(rt); }

int lunatic_node_start(lunatic_runtime *rt, const lunatic_node_options *o, char *err,
                       size_t errsize)
{
    ld_options d = {
        .name = o->name, .cookie = o->cookie, .peers = o->peers, .npeers = o->npeers,
        .tags = o->tags, .ntags = o->ntags, .tick_time = o->tick_time, .no_epmd = o->no_epmd != 0,
        .port = o->port, .tls_cert = o->tls_cert, .tls_key = o->tls_key, .tls_ca = o->tls_ca,
    };
    return ld_start(rt, &d, err, errsize);
}

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

int lunatic_module_keep_bytes(lunatic_module *m, const uint8_t *wasm, size_t len)
{
    return lt_module_keep(m, wasm, len);
}

int lunatic_module_set_name(lunatic_module *m, const char *name)
{
    return lt_module_set_name(m, name);
}

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

void lunatic_config_set_network(lunatic_config *c, int allowed) { c->no_network = !allowed; }

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
    /* on a node, the environment's registry: Erlang nodes reach the names
     * registered there */
    ld_node *node = ld_of(rt);
    if (node && !(o.registry = ld_env_registry(node, env_id))) {
        snprintf(err, errsize, "out of memory");
        return 0;
    }
    if (!env) {
        lt_registry_release(o.registry);
        snprintf(err, errsize, "out of memory");
        return 0;
    }
    int r = lt_spawn_wasm(rt, env, m, c, func, strlen(func), params, nparams, &o, &pid, err,
                          errsize);
    lt_registry_release(o.registry);
    return r < 0 ? 0 : pid;
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

int lunatic_kill(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    lt_env *env = lt_env_get(rt, env_id);
    lt_signal *s = env ? lt_signal_new(LT_SIG_KILL) : NULL;
    if (!s)
        return -1;
    lt_send(env, pid, s);
    return 0;
}

int lunatic_link(lunatic_runtime *rt, uint64_t env_id, uint64_t a, uint64_t b, int64_t tag)
{
    lt_env *env = lt_env_get(rt, env_id);
    return env ? lt_link_pids(env, a, b, tag) : -1;
}

int lunatic_monitor(lunatic_runtime *rt, uint64_t env_id, uint64_t watcher, uint64_t target)
{
    lt_env *env = lt_env_get(rt, env_id);
    return env ? lt_monitor_pid(env, watcher, target) : -1;
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

/* ---- observing ---------------------------------------------------------------------- */

void lunatic_metrics_enable(int on) { lt_stats_set_enabled(on != 0); }

char *lunatic_metrics_prometheus(uint64_t node_id)
{
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)node_id);
    lobs_buf b = {0};
    lobs_render_prometheus(&b, id);
    lobs_buf_add(&b, "", 0);   /* an empty store still gives a string */
    if (b.oom) {
        lobs_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* The public snapshot beside the runtime's, whose storage it points into. */
typedef struct snapshot {
    lunatic_snapshot pub;
    lt_snapshot *s;
    lunatic_process_info *infos;
    const char **names;        /* LT_SNAP_NAMES per process */
    lunatic_link_info *links;  /* every process's, one after the other */
} snapshot;

lunatic_snapshot *lunatic_snapshot_new(lunatic_runtime *rt, uint64_t env_id, uint64_t pid,
                                       int lists)
{
    lt_snapopts o = {.env = env_id, .pid = pid, .lists = lists != 0};
    snapshot *w = calloc(1, sizeof *w);
    lt_snapshot *s = w ? lt_snapshot_take(rt, &o) : NULL;
    if (!s) {
        free(w);
        return NULL;
    }
    w->s = s;
    size_t nlinks = 0;
    for (size_t i = 0; i < s->n; i++)
        nlinks += s->procs[i].links ? s->procs[i].nlinks : 0;
    w->infos = calloc(s->n ? s->n : 1, sizeof *w->infos);
    w->names = calloc(s->n ? s->n * LT_SNAP_NAMES : 1, sizeof *w->names);
    w->links = calloc(nlinks ? nlinks : 1, sizeof *w->links);
    if (!w->infos || !w->names || !w->links) {
        lunatic_snapshot_free(&w->pub);
        return NULL;
    }
    lunatic_link_info *link = w->links;
    for (size_t i = 0; i < s->n; i++) {
        const lt_procinfo *in = &s->procs[i];
        lunatic_process_info *out = &w->infos[i];
        const char **names = w->names + i * LT_SNAP_NAMES;
        for (uint32_t k = 0; k < in->nnames && k < LT_SNAP_NAMES; k++)
            names[k] = in->names[k];
        *out = (lunatic_process_info){
            .env = in->env, .pid = in->pid, .state = in->state, .wait = in->wait,
            .native = in->native, .detailed = in->detailed,
            .die_when_link_dies = in->die_when_link_dies, .ntags = in->ntags, .tags = in->tags,
            .timeout_ms = in->timeout_ns < 0 ? -1 : (in->timeout_ns + 999999) / 1000000,
            .mailbox_len = in->mailbox_len, .mailbox_bytes = in->mailbox_bytes,
            .memory_bytes = in->memory_bytes, .host_bytes = in->host_bytes,
            .reductions = in->reductions, .age_ms = (uint64_t)in->age_ns / 1000000,
            .nlinks = in->links ? in->nlinks : 0, .nmonitors = in->monitors ? in->nmonitors : 0,
            .nmonitoring = in->nmonitoring,
            .links = link,
            .monitors = in->monitors, .monitoring = in->monitoring, .nnames = in->nnames,
            .names = names, .module = in->module, .function = in->function};
        for (uint32_t k = 0; in->links && k < in->nlinks; k++)
            *link++ = (lunatic_link_info){in->links[k].pid, in->links[k].tag};
        if (!lists) {
            out->links = NULL;
            out->nlinks = in->nlinks;
            out->nmonitors = in->nmonitors;
        }
    }
    w->pub = (lunatic_snapshot){.n = s->n, .procs = w->infos, .total = s->total,
                                .running = s->running, .runnable = s->runnable,
                                .waiting = s->waiting, .mailbox_len = s->mailbox_len,
                                .mailbox_bytes = s->mailbox_bytes, .memory_bytes = s->memory_bytes};
    return &w->pub;
}

void lunatic_snapshot_free(lunatic_snapshot *pub)
{
    if (!pub)
        return;
    snapshot *w = (snapshot *)(void *)pub;   /* pub is its first member */
    lt_snapshot_free(w->s);
    free(w->infos);
    free(w->names);
    free(w->links);
    free(w);
}

int lunatic_print_processes(lunatic_runtime *rt, int fd)
{
    /* a million processes would be a million lines: the table stops at
     * the first 10,000 pids and says how many more there are */
    lt_snapopts o = {.limit = 10000, .sort = LT_SNAP_BY_PID};
    lt_snapshot *s = lt_snapshot_take(rt, &o);
    if (!s)
        return -1;
    lobs_buf b = {0};
    lobs_table_snapshot(&b, s);
    lt_snapshot_free(s);
    int r = b.oom ? -1 : 0;
    for (size_t off = 0; !b.oom && off < b.len;) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w <= 0) {
            r = -1;
            break;
        }
        off += (size_t)w;
    }
    lobs_buf_free(&b);
    return r;
}

struct lunatic_server {
    lobs_server *s;
};

lunatic_server *lunatic_server_start(lunatic_runtime *rt, const char *addr,
                                     const char *default_host, int flags, uint64_t node_id,
                                     char *err, size_t errsize)
{
    lunatic_server *ls = malloc(sizeof *ls);
    if (!ls) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    lobs_server_opts o = {.addr = addr, .default_host = default_host ? default_host : "127.0.0.1",
                          .dashboard = (flags & LUNATIC_SERVE_DASHBOARD) != 0, .node_id = node_id};
    ls->s = lobs_server_start(rt, &o, err, errsize);
    if (!ls->s) {
        free(ls);
        return NULL;
    }
    return ls;
}

const char *lunatic_server_address(const lunatic_server *s) { return lobs_server_address(s->s); }

void lunatic_server_stop(lunatic_server *s)
{
    if (!s)
        return;
    lobs_server_stop(s->s);
    free(s);
}
