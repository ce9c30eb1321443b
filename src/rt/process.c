/*
 * process.c - the life of a process (process.h): spawn, the run loop,
 * parking, death.
 *
 * Death: the process leaves its environment's table first (no signal can
 * reach it after that), drops its names, logs a failure like the original
 * ("Process 'name' failed, notifying: N links"), sends LinkDied with the
 * stored tag to every link and ProcessDied to every monitor, then frees
 * everything it owns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt/blocking.h"
#include "rt/config.h"
#include "rt/env.h"
#include "rt/module.h"
#include "rt/poller.h"
#include "rt/process.h"
#include "rt/registry.h"
#include "rt/runtime.h"
#include "rt/sched.h"
#include "rt/stats.h"
#include "rt/timer.h"

/* One unit of fuel in a config is 100,000 Wasm instructions in the
 * original; our engine charges at calls and backward branches, about every
 * ten instructions, so a unit is 10,000 charges. */
#define CHARGES_PER_FUEL_UNIT 10000ull
/* The bound on a start function, which runs inside the spawn call. */
#define START_REDUCTIONS 100000000ull

lt_process *lt_self(lw_exec *x) { return lw_exec_user(x); }

/* What an entry of each resource table is charged to its process's
 * memory account (idtab.h): rough sizes of the objects behind them as they
 * are allocated here, the library's share included (an OpenSSL stream
 * holds ~40 KiB of buffers, an SQLite connection its page cache). */
static const uint32_t restab_cost[LT_RK_COUNT] = {
    [LT_RK_DNS] = 512,           [LT_RK_TCP_LISTENER] = 256, [LT_RK_TCP_STREAM] = 512,
    [LT_RK_TLS_LISTENER] = 8192, [LT_RK_TLS_STREAM] = 49152, [LT_RK_UDP] = 256,
    [LT_RK_SQLITE_CONN] = 65536, [LT_RK_SQLITE_STMT] = 4096, [LT_RK_LOOKUP] = 256,
};

lt_idtab *lt_process_restab(lt_process *p, lt_reskind k, void (*drop)(void *))
{
    if (!p->res) {
        if (!(p->res = calloc(1, sizeof *p->res)))
            return NULL;
        for (int i = 0; i < LT_RK_COUNT; i++)
            lt_idtab_charge_to(&p->res->tab[i], &p->acct, restab_cost[i]);
    }
    if (!p->res->drop[k])
        p->res->drop[k] = drop;
    return &p->res->tab[k];
}

int lt_again(lt_process *p)
{
    p->again = true;
    return LW_SUSPEND;
}

int lt_charge(lt_process *p, uint32_t reductions)
{
    if (!p->started)
        return LW_OK; /* a start function runs inside a spawn: no slices */
    p->slice_work += reductions;
    if (p->slice_work < p->rt->sched.reductions)
        return LW_OK;
    p->slice_work = 0;
    return LW_YIELD;
}

bool lt_process_doomed(lt_process *p)
{
    if (atomic_load_explicit(&p->rt->sched.stopping, memory_order_relaxed))
        return true; /* the runtime is shutting down: it waits for this slice */
    lt_spin_lock(&p->lock);
    bool doomed = p->over_limit;
    for (lt_signal *s = p->in_head; s && !doomed; s = s->next)
        doomed = s->kind == LT_SIG_KILL ||
                 (s->kind == LT_SIG_LINK_DIED && s->reason != LT_REASON_NORMAL &&
                  p->die_when_link_dies);
    lt_spin_unlock(&p->lock);
    return doomed;
}

/* ---- links and monitors (owner side) ---------------------------------------- */

/* Room for one more link: 0, or -1 when out of memory. */
static int link_room(lt_process *p)
{
    if (p->nlinks < p->linkcap)
        return 0;
    uint32_t cap = p->linkcap ? p->linkcap * 2 : 4;
    lt_link *l = realloc(p->links, cap * sizeof *l);
    if (!l)
        return -1;
    p->links = l;
    p->linkcap = cap;
    return 0;
}

/* Records the link to pid with died as its LinkDied (taken: freed if the
 * link exists already, whose tag changes). 0, or -1 when there is no room
 * (died stays the caller's). */
static int keep_link(lt_process *p, uint64_t pid, bool has_tag, int64_t tag, lt_signal *died)
{
    for (uint32_t i = 0; i < p->nlinks; i++) {
        if (p->links[i].pid == pid) {
            p->links[i].has_tag = has_tag;
            p->links[i].tag = tag;
            lt_signal_free(died);
            return 0;
        }
    }
    if (link_room(p) < 0)
        return -1;
    p->links[p->nlinks++] = (lt_link){pid, tag, has_tag, died};
    /* a link has two ends: it counts once, at the lower pid's */
    if (p->pid < pid)
        lt_stat_add(LT_STAT_LINKS_UP, 1);
    return 0;
}

int lt_link_reserve(lt_process *p, lt_signal **died)
{
    if (link_room(p) < 0 || (!*died && !(*died = lt_signal_new(LT_SIG_LINK_DIED))))
        return -1;
    return 0;
}

void lt_link_add_reserved(lt_process *p, uint64_t pid, bool has_tag, int64_t tag, lt_signal *died)
{
    int r = keep_link(p, pid, has_tag, tag, died);
    (void)r; /* the room was made */
}

int lt_add_link(lt_process *p, uint64_t pid, bool has_tag, int64_t tag)
{
    lt_signal *died = NULL;
    if (lt_link_reserve(p, &died) < 0)
        return -1;
    lt_link_add_reserved(p, pid, has_tag, tag, died);
    return 0;
}

static void remove_link(lt_process *p, uint64_t pid)
{
    for (uint32_t i = 0; i < p->nlinks; i++) {
        if (p->links[i].pid == pid) {
            lt_signal_free(p->links[i].died);
            p->links[i] = p->links[--p->nlinks];
            if (p->pid < pid)
                lt_stat_add(LT_STAT_LINKS_DOWN, 1);
            return;
        }
    }
}

/* Records that pid monitors p, with died as its ProcessDied (taken, as
 * keep_link's). 0, or -1 when there is no room. */
static int keep_monitor(lt_process *p, uint64_t pid, lt_signal *died)
{
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        if (p->monitors[i].pid == pid) {
            lt_signal_free(died);
            return 0;
        }
    }
    if (p->nmonitors == p->moncap) {
        uint32_t cap = p->moncap ? p->moncap * 2 : 4;
        lt_monitor *m = realloc(p->monitors, cap * sizeof *m);
        if (!m)
            return -1;
        p->monitors = m;
        p->moncap = cap;
    }
    p->monitors[p->nmonitors++] = (lt_monitor){pid, died};
    return 0;
}

static void remove_monitor(lt_process *p, uint64_t pid)
{
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        if (p->monitors[i].pid == pid) {
            lt_signal_free(p->monitors[i].died);
            p->monitors[i] = p->monitors[--p->nmonitors];
            return;
        }
    }
}

/* A link or monitor with a process of another node: the distribution
 * layer is told when p ends (remote.h). */
static inline void note_remote(lt_process *p, uint64_t pid)
{
    if ((pid & LT_PID_NODE_MASK) != p->rt->node_bits)
        p->remote = true;
}

/* Turns a reserved signal into the notice of p's end (kind LinkDied or
 * ProcessDied). */
static lt_signal *death_notice(lt_process *p, lt_signal *s, lt_sigkind kind, bool has_tag,
                               int64_t tag, lt_reason reason)
{
    s->kind = (uint8_t)kind;
    s->pid = p->pid;
    s->has_tag = has_tag;
    s->tag = has_tag ? tag : 0;
    s->reason = (uint8_t)reason;
    return s;
}

/* ---- links and monitors (any side) ------------------------------------------ */

static lt_signal *link_signal(lt_sigkind kind, uint64_t pid, int64_t tag)
{
    lt_signal *s = lt_signal_new(kind);
    if (s) {
        s->pid = pid;
        s->has_tag = tag != 0;
        s->tag = tag;
        s->reason = LT_REASON_NOPROCESS;
    }
    return s;
}

int lt_link_pids(lt_env *env, uint64_t a, uint64_t b, int64_t tag)
{
    /* both sides store the other as the node names it, with its node bits */
    a = lt_pid_of(env, a);
    b = lt_pid_of(env, b);
    /* Each side keeps the Link signal it gets as the LinkDied it will
     * send the other (lt_link): two allocations, both made here. */
    lt_signal *to_b = link_signal(LT_SIG_LINK, a, tag), *to_a = link_signal(LT_SIG_LINK, b, tag);
    if (!to_a || !to_b) {
        lt_signal_free(to_a);
        lt_signal_free(to_b);
        return -1;
    }
    /* b does not exist (or its node is unknown): a link that died at
     * once, told to a by the signal that was to link it (pid b, the tag,
     * NoProcess) */
    if (lt_send(env, b, to_b) < 0) {
        to_a->kind = LT_SIG_LINK_DIED;
        lt_send(env, a, to_a);
        return 0;
    }
    /* a does not exist (it is of this node): b is told with a's signal */
    if (lt_send_keep(env, a, to_a) == -1) {
        to_a->kind = LT_SIG_LINK_DIED;
        to_a->pid = a;
        lt_send(env, b, to_a);
    }
    return 0;
}

int lt_monitor_pid(lt_env *env, uint64_t watcher, uint64_t target)
{
    watcher = lt_pid_of(env, watcher);
    target = lt_pid_of(env, target);
    /* The target keeps the signal as the ProcessDied it will send. If it
     * does not exist that signal answers at once (decision 7, as Erlang's
     * noproc); one for another node's process is the distribution
     * layer's whatever happens, so a spare answer is made beforehand. */
    bool remote = (target & LT_PID_NODE_MASK) != env->rt->node_bits;
    lt_signal *s = lt_signal_new(LT_SIG_MONITOR);
    lt_signal *spare = remote ? lt_signal_new(LT_SIG_PROCESS_DIED) : NULL;
    if (!s || (remote && !spare)) {
        lt_signal_free(s);
        lt_signal_free(spare);
        return -1;
    }
    s->pid = watcher;
    if (lt_send_keep(env, target, s) < 0) {
        lt_signal *d = remote ? spare : s;
        spare = NULL;
        d->kind = LT_SIG_PROCESS_DIED;
        d->pid = target;
        lt_send(env, watcher, d);
    }
    lt_signal_free(spare);
    return 0;
}

/* ---- creation -------------------------------------------------------------- */

/* Charges for the entries of a process's own tables (idtab.h): a config
 * with its lists' slots (the strings are charged as they are added,
 * api/wasi.c), a module reference (the module itself: lt_module.cost),
 * an error message (at most 512 bytes), a timer (its message stays
 * charged to the sender until the handle goes: api/timer.c). */
enum { CONFIG_COST = sizeof(lt_config) + 64, MODULE_REF_COST = 64, ERROR_COST = 576,
       TIMER_COST = 160 };

/* The engine asks before memory.grow (lw_limits.memory_growing): linear
 * memory and what the account holds share one limit. */
static int memory_growing(void *ud, uint64_t from, uint64_t to)
{
    lt_process *p = ud;
    if (to > from && !lt_account_fits(&p->acct, to - from)) {
        p->acct.refused = true;
        return -1;
    }
    atomic_store_explicit(&p->acct.linear, to, memory_order_relaxed);
    return 0;
}

static lt_process *process_alloc(lt_runtime *rt, lt_env *env)
{
    lt_process *p = lw_obj_alloc(sizeof *p);
    if (!p)
        return NULL;
    lt_idtab_charge_to(&p->configs, &p->acct, CONFIG_COST);
    lt_idtab_charge_to(&p->modules, &p->acct, MODULE_REF_COST);
    lt_idtab_charge_to(&p->errors, &p->acct, ERROR_COST);
    lt_idtab_charge_to(&p->timers, &p->acct, TIMER_COST);
    p->rt = rt;
    p->env = env;
    p->pid = atomic_fetch_add(&env->next_pid, 1) | rt->node_bits;
    p->die_when_link_dies = true;
    p->wait_deadline = -1;
    p->armed_deadline = -1;
    p->io_fd = -1;
    p->state = LT_PS_QUEUED;
    p->born = lt_ticks();
    return p;
}

static void process_free(lt_process *p)
{
    lt_signal *s = p->in_head;
    while (s) {
        lt_signal *n = s->next;
        lt_signal_free(s);
        s = n;
    }
    lt_mailbox_free(&p->mailbox);
    lt_disarm(p);
    if (p->io_fd >= 0)
        lt_poll_cancel(p->rt, p, p->io_fd);
    lt_job_release(p->job);
    lt_signal_free(p->scratch);
    uint32_t up = 0;
    for (uint32_t i = 0; i < p->nlinks; i++) {
        up += p->pid < p->links[i].pid;
        lt_signal_free(p->links[i].died);
    }
    if (up)
        lt_stat_add(LT_STAT_LINKS_DOWN, up);
    for (uint32_t i = 0; i < p->nmonitors; i++)
        lt_signal_free(p->monitors[i].died);
    free(p->links);
    free(p->monitors);
    lt_idtab_free(&p->configs, (void (*)(void *))lt_config_release);
    lt_idtab_free(&p->modules, (void (*)(void *))lt_module_release);
    lt_idtab_free(&p->errors, free);
    lt_idtab_free(&p->timers, (void (*)(void *))lt_timer_release);
    if (p->res) {
        for (int k = 0; k < LT_RK_COUNT; k++)
            lt_idtab_free(&p->res->tab[k], p->res->drop[k]);
        free(p->res);
    }
    free(p->done);
    if (p->native_ud_free)
        p->native_ud_free(p->native_ud);
    if (p->wasi)
        lwasi_ctx_free(p->wasi);
    if (p->wasi_share)
        lwasi_shared_release(p->wasi_share);
    lw_exec_free(p->x);
    lw_instance_free(p->inst);
    lt_module_release(p->module);
    lt_config_release(p->config);
    lt_registry_release(p->registry);
    if (p->spawning)
        process_free(p->spawning); /* died in the middle of a spawn */
    lt_signal_free(p->spawn_died);
    if (p->params != p->params_inline)
        free(p->params);
    lw_obj_free(p, sizeof *p);
}

void lt_process_destroy(lt_process *p) { process_free(p); }

/* The WASI context of the running process, made on its first WASI call. */
static lwasi_ctx *process_wasi(lw_exec *x)
{
    lt_process *p = lt_self(x);
    if (!p)
        return NULL;
    if (!p->wasi && p->wasi_share)
        p->wasi = lwasi_ctx_new_shared(p->wasi_share);
    return p->wasi;
}

/* WASI host functions find their context through the resolver: the
 * running process's. Installed before the first process exists. */
static void install_wasi_resolver(void)
{
    static atomic_int done;
    if (!atomic_load_explicit(&done, memory_order_acquire)) {
        lwasi_set_ctx_resolver(process_wasi);
        atomic_store_explicit(&done, 1, memory_order_release);
    }
}

/* Ends a spawn that failed: frees p, says why. */
static int spawn_failed(lt_process *p, char *err, size_t errsize, const char *why)
{
    if (why)
        snprintf(err, errsize, "%s", why);
    process_free(p);
    return -1;
}

/* How a run of p's start function ended: 0 done (or proc_exit), 1 it
 * needs another slice (within START_REDUCTIONS), -1 failed (err says why). */
static int start_ended(lt_process *p, int st, bool sliced, char *err, size_t errsize)
{
    if (st == LW_YIELD && sliced && lw_exec_reductions(p->x) < START_REDUCTIONS)
        return 1;
    lw_exec_set_budget(p->x, p->rt->sched.reductions);
    if (st == LW_OK)
        return 0;
    if (st == LW_TRAP && lw_exec_trap_kind(p->x) == LW_TRAP_EXIT) {
        /* the process ends at its first slice with this exit code */
        p->exited_in_start = true;
        p->exit_code = lw_exec_exit_code(p->x);
        return 0;
    }
    char buf[512];
    if (st == LW_TRAP)
        lw_exec_trap_format(p->x, buf, sizeof buf);
    else if (st == LW_YIELD)
        snprintf(buf, sizeof buf, "it did not finish within %llu reductions",
                 (unsigned long long)START_REDUCTIONS);
    else
        snprintf(buf, sizeof buf, "it blocked");
    snprintf(err, errsize, "start function failed: %s", buf);
    return -1;
}

/* The last step of a spawn: p gets its name, becomes visible and runnable. */
static int spawn_insert(lt_process *p, const lt_spawn_name *name, uint64_t *pid, char *err,
                        size_t errsize)
{
    if (lt_env_insert(p->env, p) < 0)
        return spawn_failed(p, err, errsize, "out of memory");
    if (name)
        lt_registry_settle(p->registry, name->name, name->len, name->owner, true, p->pid);
    *pid = p->pid;
    lt_schedule(p->rt, p);
    return 0;
}

int lt_spawn_wasm(lt_runtime *rt, lt_env *env, lt_module *m, lt_config *c,
                  const char *func, size_t funclen, const lw_val *params, uint32_t nparams,
                  const lt_spawn_opts *o, uint64_t *pid, char *err, size_t errsize)
{
    install_wasi_resolver();
    lt_process *p = process_alloc(rt, env);
    if (!p) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    lt_registry *reg = o->registry;
    lt_module_retain(m);
    p->module = m;
    lt_config_retain(c);
    p->config = c;
    if (reg)
        lt_registry_retain(reg);
    p->registry = reg ? reg : lt_registry_new();
    if (!p->registry || (o->watched && !(p->done = calloc(1, sizeof *p->done))))
        return spawn_failed(p, err, errsize, "out of memory");

    /* The WASI part is taken now: later changes to the config do not
     * reach a process already spawned with it. */
    p->wasi_share = lt_config_wasi(c, err, errsize);
    if (!p->wasi_share)
        return spawn_failed(p, err, errsize, NULL);
    /* Data segments are copied in when the child first touches them (on
     * whichever worker runs it), and not at all by an idle child: the page
     * faults of a fresh memory are the larger part of a spawn. */
    uint64_t max_memory = c->max_memory;
    if (o->memory_cap && (max_memory == 0 || max_memory > o->memory_cap))
        max_memory = o->memory_cap;
    p->acct.limit = max_memory ? max_memory : (uint64_t)65536 * 65536; /* 4 GiB, as the engine */
    lw_limits lim = {.max_memory_bytes = max_memory, .max_table_elems = 100000, .defer_data = 1,
                     .memory_growing = memory_growing, .growing_ud = p};
    lw_error werr;
    p->inst = lw_instance_new(m->wasm, m->imports, m->nimports, &lim, &werr);
    if (p->inst)
        atomic_store_explicit(&p->acct.linear, lw_instance_memory_bytes(p->inst),
                              memory_order_relaxed);
    p->x = lw_exec_new(0);
    if (!p->inst || !p->x)
        return spawn_failed(p, err, errsize, p->inst ? "out of memory" : werr.msg);
    lw_exec_set_user(p->x, p);
    lw_exec_set_budget(p->x, rt->sched.reductions);
    uint64_t fuel = !c->max_fuel ? UINT64_MAX
                    : c->max_fuel > UINT64_MAX / CHARGES_PER_FUEL_UNIT - 1 ? UINT64_MAX - 1
                                                                           : c->max_fuel * CHARGES_PER_FUEL_UNIT;
    if (o->fuel_cap && fuel > o->fuel_cap)
        fuel = o->fuel_cap;
    if (fuel != UINT64_MAX)
        lw_exec_set_fuel(p->x, fuel);

    lw_extern ex;
    if (lw_instance_export_n(p->inst, func, funclen, &ex) == 0 && ex.kind == LW_EXTERN_FUNC) {
        p->entry = ex.u.func;
        /* allocate the exec's stack now, beside the process's other
         * structures, not on whichever worker runs the first slice */
        lw_exec_reserve(p->x, p->entry);
    }
    if (nparams) {
        p->params = nparams <= 2 ? p->params_inline : malloc(nparams * sizeof *p->params);
        if (!p->params)
            return spawn_failed(p, err, errsize, "out of memory");
        memcpy(p->params, params, nparams * sizeof *params);
    }
    p->nparams = nparams;
    p->watched = o->watched;
    if (o->link && lt_add_link(p, o->link->pid, o->link->has_tag, o->link->tag) < 0)
        return spawn_failed(p, err, errsize, "out of memory");

    /* The start function runs inside spawn, as in the original: a trap
     * there is a spawn error. */
    lw_func *start = lw_instance_start_func(p->inst);
    if (start) {
        /* It runs on the spawner's worker, so it gets a bound: a start
         * function that does not finish within it fails the spawn. A
         * process spawning runs it a slice at a time (o->pending), of at
         * least 1,000 reductions (with tiny slices, as LUNATIC_REDUCTIONS=1
         * sets, a start function would take a round of the queue per
         * reduction). */
        uint64_t slice = rt->sched.reductions < 1000 ? 1000 : rt->sched.reductions;
        lw_exec_set_budget(p->x, o->pending ? slice : START_REDUCTIONS);
        int r = start_ended(p, lw_exec_call(p->x, start, NULL), o->pending, err, errsize);
        if (r < 0)
            return spawn_failed(p, err, errsize, NULL);
        if (r > 0) {
            *o->pending = p;
            *pid = p->pid;
            return 1;
        }
    }
    return spawn_insert(p, o->name, pid, err, errsize);
}

int lt_spawn_continue(lt_process *p, const lt_spawn_name *name, uint64_t *pid, char *err,
                      size_t errsize)
{
    int r = start_ended(p, lw_exec_resume(p->x), true, err, errsize);
    if (r < 0)
        return spawn_failed(p, err, errsize, NULL);
    if (r > 0)
        return 1;
    return spawn_insert(p, name, pid, err, errsize);
}

int lt_spawn_native(lt_runtime *rt, lt_env *env, lt_native_fn fn, void *ud,
                    void (*ud_free)(void *), bool watched, uint64_t *pid)
{
    install_wasi_resolver();
    lt_process *p = process_alloc(rt, env);
    if (!p)
        return -1;
    p->watched = watched;
    p->native = fn;
    p->is_native = true;
    p->registry = lt_registry_new();
    if (!p->registry || (watched && !(p->done = calloc(1, sizeof *p->done))) ||
        lt_env_insert(env, p) < 0) {
        process_free(p);
        return -1;
    }
    /* from here on the process frees ud when it ends */
    p->native_ud = ud;
    p->native_ud_free = ud_free;
    *pid = p->pid;
    lt_schedule(rt, p);
    return 0;
}

/* ---- death ------------------------------------------------------------------- */

/* The exit record was made at spawn, so this cannot fail (a waiter would
 * wait for ever). */
static void record_done(lt_process *p, int status)
{
    lt_done *d = p->done;
    p->done = NULL;
    d->env = p->env->id;
    d->pid = p->pid;
    d->status = status;
    lt_runtime_record_exit(p->rt, d);
}

/* May one more failure be reported now? A token bucket: LT_LOG_BURST at
 * once, then LT_LOG_RATE a second. *suppressed gets how many were dropped
 * since the last one allowed (to say so). */
static bool log_allowed(lt_runtime *rt, uint64_t *suppressed)
{
    int64_t now = lt_now_ns();
    lt_spin_lock(&rt->log_lock);
    double t = rt->log_tokens + (double)(now - rt->log_refilled) * LT_LOG_RATE / 1e9;
    rt->log_refilled = now;
    rt->log_tokens = t > LT_LOG_BURST ? LT_LOG_BURST : t;
    bool ok = rt->log_tokens >= 1;
    if (ok) {
        rt->log_tokens -= 1;
        *suppressed = rt->log_suppressed;
        rt->log_suppressed = 0;
    } else {
        rt->log_suppressed++;
    }
    lt_spin_unlock(&rt->log_lock);
    return ok;
}

void lt_log_failure(lt_process *p, const char *what)
{
    /* Levels (README, "Logging"). A failure (a trap, a native process
     * failing) is a warning, as in the original. A kill (by `kill`, or by a
     * failing link) is routine, as Erlang's `killed` and `shutdown` exits
     * that its logger does not report: a supervisor taking down 10,000
     * children must not write 10,000 lines. It is info, except for a
     * process the embedder waits for (lunatic run's main process, a test),
     * whose end is the program's outcome. proc_exit(n != 0) is debug: the
     * program chose it, and its stderr stays what it wrote. */
    lt_runtime *rt = p->rt;
    int level = p->killed ? (p->watched ? LT_LOG_WARN : LT_LOG_INFO)
                : what    ? LT_LOG_WARN
                          : LT_LOG_DEBUG;
    if (rt->log_level < level)
        return;
    /* Below debug level, failure reports are rate limited: 10,000 workers
     * failing on one bug would otherwise bury the first, useful report. A
     * waited-for process is always reported. */
    uint64_t suppressed = 0;
    if (level == LT_LOG_WARN && !p->killed && !p->watched && rt->log_level < LT_LOG_DEBUG &&
        !log_allowed(rt, &suppressed))
        return;
    char namebuf[200];
    const char *name = p->registry ? lt_registry_name_of(p->registry, p->pid, namebuf, sizeof namebuf)
                                   : NULL;
    char idbuf[32];
    if (!name) {
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)p->pid);
        name = idbuf;
    }
    /* A process whose stderr is captured (test mode) logs into the capture.
     * One write(2) of a formatted line: dprintf would link a temporary
     * stream into stdio's list, which exit() on another thread flushes. */
    int fd = p->config && p->config->stderr_fd > 0 ? p->config->stderr_fd : 2;
    char line[4096];
    int n = 0;
    if (suppressed)
        n = snprintf(line, sizeof line,
                     "lunatic: %llu more process failures were not reported (more than %d at "
                     "once; LUNATIC_LOG=debug reports every one)\n",
                     (unsigned long long)suppressed, LT_LOG_BURST);
    if (n < 0 || n >= (int)sizeof line)
        n = 0;
    int m = 0;
    char *rest = line + n;
    size_t room = sizeof line - (size_t)n;
    if (p->killed)
        m = snprintf(rest, room, "%sProcess %s was killed, notifying: %u links\n",
                     level == LT_LOG_WARN ? "lunatic: " : "[info] ", name, p->nlinks);
    else if (!what)
        m = snprintf(rest, room, "[debug] Process %s exited with status %d, notifying: %u links\n",
                     name, p->exit_code, p->nlinks);
    else
        m = snprintf(rest, room, "lunatic: Process %s failed, notifying: %u links: %s\n", name,
                     p->nlinks, what);
    if (m > (int)room - 1) {
        m = (int)room - 1;
        rest[m - 1] = '\n';
    }
    n += m > 0 ? m : 0;
    if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
}

/* Takes out of list *l the signal of that kind from pid, and frees it. */
static void drop_from(lt_signal **l, lt_sigkind kind, uint64_t pid)
{
    for (; *l; l = &(*l)->next) {
        if ((*l)->kind == kind && (*l)->pid == pid) {
            lt_signal *s = *l;
            *l = s->next;
            lt_signal_free(s);
            return;
        }
    }
}

/* After removal from the table nothing new reaches p. Of what is still in
 * its inbox, a Monitor or Link must still be answered: the sender believed
 * p alive, so it gets ProcessDied / LinkDied like any other watcher; an
 * Unlink or StopMonitoring after it, in order, takes it back. One that
 * finds no room in the tables waits in a list of its own, and is answered
 * with its own signal. */
static void adopt_late_watchers(lt_process *p)
{
    lt_signal *s = p->in_head, *unkept = NULL;
    p->in_head = p->in_tail = NULL;
    while (s) {
        lt_signal *next = s->next;
        s->next = NULL;
        if (s->kind == LT_SIG_MONITOR || s->kind == LT_SIG_LINK)
            note_remote(p, s->pid);
        if (s->kind == LT_SIG_MONITOR) {
            if (keep_monitor(p, s->pid, s) < 0) {
                s->next = unkept;
                unkept = s;
            }
            s = NULL;
        } else if (s->kind == LT_SIG_LINK) {
            if (keep_link(p, s->pid, s->has_tag, s->tag, s) < 0) {
                s->next = unkept;
                unkept = s;
            }
            s = NULL;
        } else if (s->kind == LT_SIG_STOP_MONITORING) {
            remove_monitor(p, s->pid);
            drop_from(&unkept, LT_SIG_MONITOR, s->pid);
        } else if (s->kind == LT_SIG_UNLINK) {
            remove_link(p, s->pid);
            drop_from(&unkept, LT_SIG_LINK, s->pid);
        }
        lt_signal_free(s);
        s = next;
    }
    while (unkept) {
        s = unkept;
        unkept = s->next;
        uint64_t to = s->pid;
        if (s->kind == LT_SIG_MONITOR)
            death_notice(p, s, LT_SIG_PROCESS_DIED, false, 0, p->reason);
        else
            death_notice(p, s, LT_SIG_LINK_DIED, s->has_tag, s->tag, p->reason);
        lt_send(p->env, to, s);
    }
}

/* Ends p. `what` describes a failure to log (a trap, with its backtrace);
 * NULL for a kill (logged too) or a deliberate exit (proc_exit with a
 * nonzero code: a failure for links, but only a debug line, so that a
 * program's stderr stays what it wrote). Allocates nothing: the signals it
 * sends were made with the links and monitors, the exit record at spawn. */
static void finish(lt_process *p, lt_reason reason, int status, const char *what)
{
    lt_env_remove(p->env, p);
    p->reason = reason;
    p->exit_code = status;
    adopt_late_watchers(p);
    lt_stat_add(reason == LT_REASON_NORMAL ? LT_STAT_EXIT_NORMAL
                : p->killed                ? LT_STAT_EXIT_KILLED
                                           : LT_STAT_EXIT_FAILURE, 1);
    lt_hist_record(LT_HIST_LIFETIME, (uint64_t)lt_ticks_to_ns(p->rt, lt_ticks() - p->born));
    if (reason != LT_REASON_NORMAL)
        lt_log_failure(p, what);
    if (p->registry)
        lt_registry_remove_pid(p->registry, p->pid);
    for (uint32_t i = 0; i < p->nlinks; i++) {
        lt_link *l = &p->links[i];
        lt_signal *s = l->died;
        l->died = NULL;
        lt_send(p->env, l->pid, death_notice(p, s, LT_SIG_LINK_DIED, l->has_tag, l->tag, reason));
    }
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        lt_signal *s = p->monitors[i].died;
        p->monitors[i].died = NULL;
        /* (with the reason: a watcher on another node learns it) */
        lt_send(p->env, p->monitors[i].pid,
                death_notice(p, s, LT_SIG_PROCESS_DIED, false, 0, reason));
    }
    /* (outside a cluster a pid with node bits names nothing: p->remote
     * may be set by a link or monitor to one, and there is nobody to tell) */
    if (p->remote && p->rt->remote)
        p->rt->remote->exited(p->rt->remote_ud, p->env, p->pid);
    if (p->watched)
        record_done(p, status);
    process_free(p);
}

/* ---- signals --------------------------------------------------------------------- */

/* Handles the signals taken from the inbox. Returns false when the process
 * must die (killed, or a link failed while die_when_link_dies); the signals
 * after the fatal one go back to the inbox for finish(). Sets *relevant
 * when something other than a stale wake arrived. */
static bool handle_signals(lt_process *p, lt_signal *s, bool *relevant)
{
    bool alive = true;
    /* Counting: a message is counted as it enters the mailbox (the data
     * message's size histogram, LinkDied, ProcessDied); the other signals,
     * rarer, each in their case (LT_STAT_SIGNALS_CONTROL). Signals received
     * is their sum, so the message path adds nothing for it. */
    while (s) {
        lt_signal *next = s->next;
        s->next = NULL;
        if (!alive) {
            /* put the rest back in front of whatever arrived since */
            lt_signal *last = s;
            last->next = next;
            while (last->next)
                last = last->next;
            lt_spin_lock(&p->lock);
            last->next = p->in_head;
            if (!p->in_head)
                p->in_tail = last;
            p->in_head = s;
            lt_spin_unlock(&p->lock);
            break;
        }
        if (s->kind != LT_SIG_MESSAGE && s->kind != LT_SIG_PROCESS_DIED && s->kind != LT_SIG_WAKE)
            lt_stat_add(LT_STAT_SIGNALS_CONTROL, 1);   /* a LinkDied that becomes a message too */
        switch (s->kind) {
        case LT_SIG_MESSAGE:
            if (s->msgkind == LT_MSG_DATA) {
                lt_stat_msg_size(s->len);
                if (s->nres)
                    lt_hist_record(LT_HIST_MSG_RESOURCES, s->nres);
            } else {
                lt_stat_add(s->msgkind == LT_MSG_LINK_DIED ? LT_STAT_MSG_LINK_DIED
                                                           : LT_STAT_MSG_PROCESS_DIED, 1);
            }
            lt_mailbox_push(&p->mailbox, s);
            *relevant = true;
            s = NULL;
            break;
        case LT_SIG_KILL:
            p->killed = true;
            alive = false;
            break;
        case LT_SIG_DIE_WHEN_LINK_DIES:
            p->die_when_link_dies = s->flag;
            break;
        case LT_SIG_LINK:
            /* the signal becomes the LinkDied p will send (lt_link) */
            note_remote(p, s->pid);
            if (keep_link(p, s->pid, s->has_tag, s->tag, s) < 0) {
                /* no room for it: p dies of that, and finish() answers
                 * the link with this very signal */
                p->fatal = "out of memory: no room to record a link";
                alive = false;
                s->next = next;
                continue;
            }
            lt_account_drop_delivered(&p->acct, sizeof *s);   /* (no buffer) */
            s = NULL;
            break;
        case LT_SIG_UNLINK:
            remove_link(p, s->pid);
            break;
        case LT_SIG_LINK_DIED:
            remove_link(p, s->pid);
            if (s->reason == LT_REASON_NORMAL)
                break;
            if (p->die_when_link_dies) {
                p->killed = true;
                alive = false;
                break;
            }
            s->kind = LT_SIG_MESSAGE;
            s->msgkind = LT_MSG_LINK_DIED;
            lt_stat_add(LT_STAT_MSG_LINK_DIED, 1);   /* (counted received above) */
            lt_mailbox_push(&p->mailbox, s);
            *relevant = true;
            s = NULL;
            break;
        case LT_SIG_MONITOR:
            note_remote(p, s->pid);
            if (keep_monitor(p, s->pid, s) < 0) {
                p->fatal = "out of memory: no room to record a monitor";
                alive = false;
                s->next = next;
                continue;
            }
            lt_account_drop_delivered(&p->acct, sizeof *s);
            s = NULL;
            break;
        case LT_SIG_STOP_MONITORING:
            remove_monitor(p, s->pid);
            break;
        case LT_SIG_PROCESS_DIED:
            s->kind = LT_SIG_MESSAGE;
            s->msgkind = LT_MSG_PROCESS_DIED;
            s->has_tag = 0;
            s->tag = 0;
            lt_stat_add(LT_STAT_MSG_PROCESS_DIED, 1);
            lt_mailbox_push(&p->mailbox, s);
            *relevant = true;
            s = NULL;
            break;
        case LT_SIG_WAKE:   /* the runtime's own, not a signal between processes */
            if ((uint64_t)s->tag == p->wait_seq)
                *relevant = true;
            break;
        }
        if (s && s->kind != LT_SIG_MESSAGE) {
            lt_account_drop_delivered(&p->acct, lt_signal_bytes(s));
            lt_signal_free(s);
        }
        s = next;
    }
    return alive;
}

/* ---- running --------------------------------------------------------------------- */

/* Parks p after a suspend: registers what it waits for, then waits unless a
 * signal arrived meanwhile. */
static void park(lt_process *p)
{
    lt_runtime *rt = p->rt;
    int64_t deadline = p->wait_deadline;
    const lwasi_wait_info *wi = p->wasi ? lwasi_ctx_wait_info(p->wasi) : NULL;
    if (p->again || (wi && wi->active && wi->nfds == 0 && wi->deadline < 0)) {
        /* sched_yield, or a host call that did a slice's worth and goes
         * on where it stopped (lt_again): to the back of the queue */
        p->again = false;
        p->resume = true;
        lt_spin_lock(&p->lock);
        p->state = LT_PS_QUEUED;
        lt_spin_unlock(&p->lock);
        lt_schedule(rt, p);
        return;
    }
    if (wi && wi->active) {
        p->wait_kind = wi->nfds ? LT_WAIT_IO : LT_WAIT_SLEEP;
        bool registered = true;
        for (int i = 0; i < wi->nfds; i++)
            if (lt_poll_wait(rt, p, wi->fds[i].fd, (uint32_t)wi->fds[i].events) < 0)
                registered = false;
        deadline = wi->deadline;
        /* if the poller cannot watch an fd, look again soon rather than
         * park with nothing to wake us */
        if (!registered) {
            int64_t soon = lt_now_ns() + 10 * 1000000;
            if (deadline < 0 || deadline > soon)
                deadline = soon;
        }
    }
    /* one wake timer per wait, however often the wait is re-entered */
    if (deadline >= 0 && (deadline != p->armed_deadline || p->wait_seq != p->armed_seq)) {
        lt_disarm(p);
        if (lt_timer_wake(rt, p, deadline, &p->wake_timer) < 0) {
            /* nothing would end the wait at its deadline */
            finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED,
                   "out of memory: no timer for the deadline of a wait");
            return;
        }
        p->armed_deadline = deadline;
        p->armed_seq = p->wait_seq;
    }
    lt_spin_lock(&p->lock);
    bool again = p->in_head || p->notified;
    p->state = again ? LT_PS_QUEUED : LT_PS_WAITING;
    lt_spin_unlock(&p->lock);
    if (again)
        lt_schedule(rt, p);
}

static void requeue(lt_process *p)
{
    p->resume = true;
    lt_spin_lock(&p->lock);
    p->state = LT_PS_QUEUED;
    lt_spin_unlock(&p->lock);
    lt_schedule(p->rt, p);
}

static void run_native(lt_process *p)
{
    int r = LT_NATIVE_CONTINUE;
    if (!p->started) {
        p->started = true;
        r = p->native(p, NULL, p->native_ud);
    }
    lt_signal *m;
    while (r == LT_NATIVE_CONTINUE && (m = lt_mailbox_pop(&p->mailbox))) {
        lt_native_msg msg = {.kind = m->msgkind, .tag = m->has_tag ? m->tag : 0, .pid = m->pid,
                             .data = m->buf, .len = m->len};
        r = p->native(p, &msg, p->native_ud);
        lt_account_drop_delivered(&p->acct, lt_signal_bytes(m));
        lt_signal_free(m);
    }
    if (r == LT_NATIVE_DONE) {
        finish(p, LT_REASON_NORMAL, 0, NULL);
    } else if (r != LT_NATIVE_CONTINUE) {
        finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED, "native process failed");
    } else {
        p->wait_kind = LT_WAIT_RECEIVE;   /* any message */
        p->wait_ntags = 0;
        park(p);
    }
}

void lt_process_run(lt_process *p)
{
    lt_spin_lock(&p->lock);
    p->state = LT_PS_RUNNING;
    p->notified = false;
    lt_signal *in = p->in_head;
    p->in_head = p->in_tail = NULL;
    bool over_limit = p->over_limit;
    uint64_t woken = p->woken;
    p->woken = 0;
    lt_spin_unlock(&p->lock);

    bool relevant = !p->started || p->resume || woken == p->wait_seq + 1;
    p->resume = false;
    p->slice_work = 0;
    if (!handle_signals(p, in, &relevant)) {
        if (p->fatal)
            finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED, p->fatal);
        else
            finish(p, LT_REASON_FAILURE, LT_STATUS_KILLED, NULL);
        return;
    }
    if (over_limit) {
        char why[256];
        snprintf(why, sizeof why,
                 "mailbox limit exceeded: a message did not fit in the process's memory limit "
                 "of %llu bytes (%llu in messages and host objects, %llu in linear memory)",
                 (unsigned long long)p->acct.limit, (unsigned long long)lt_account_held(&p->acct),
                 (unsigned long long)atomic_load(&p->acct.linear));
        finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED, why);
        return;
    }
    if (p->native) {
        run_native(p);
        return;
    }
    int st;
    if (!p->started) {
        p->started = true;
        if (p->exited_in_start) {
            finish(p, p->exit_code ? LT_REASON_FAILURE : LT_REASON_NORMAL, p->exit_code, NULL);
            return;
        }
        if (!p->entry) {
            finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED, "the function to spawn was not found");
            return;
        }
        const lw_functype *t = lw_func_type(p->entry);
        if (t->nparams != p->nparams) {
            finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED,
                   "the spawned function takes other parameters");
            return;
        }
        st = lw_exec_call(p->x, p->entry, p->params);
    } else if (!relevant && p->wait_deadline < 0 && !(p->wasi && lwasi_ctx_wait_info(p->wasi)->active)) {
        /* Only stale wakeups: the blocking call would suspend again. */
        park(p);
        return;
    } else {
        st = lw_exec_resume(p->x);
    }
    if (st != LW_SUSPEND)
        lt_disarm(p); /* a blocking call (WASI's too) is over */
    switch (st) {
    case LW_OK:
        finish(p, LT_REASON_NORMAL, 0, NULL);
        return;
    case LW_YIELD:
        requeue(p);
        return;
    case LW_SUSPEND:
        park(p);
        return;
    default: {
        if (lw_exec_trap_kind(p->x) == LW_TRAP_EXIT) {
            int code = lw_exec_exit_code(p->x);
            if (code == 0)
                finish(p, LT_REASON_NORMAL, 0, NULL);
            else
                finish(p, LT_REASON_FAILURE, code, NULL);
            return;
        }
        char buf[2048];
        lw_exec_trap_format(p->x, buf, sizeof buf);
        finish(p, LT_REASON_FAILURE, LT_STATUS_FAILED, buf);
        return;
    }
    }
}
