/*
 * process.c - the life of a process: spawn, the run loop, parking, death.
 *
 * lt_process_run is the seed's biased loop: a worker first takes every
 * signal from the inbox and handles it (messages to the mailbox, links,
 * monitors, kill, link-died), and only then runs code until the budget is
 * used up or the process blocks. So a kill takes effect at the next slice
 * boundary even while the guest spins, and at once while it is blocked.
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

#include "rt/rt.h"

/* One unit of fuel in a config is 100,000 Wasm instructions in the
 * original; our engine charges at calls and backward branches, about every
 * ten instructions, so a unit is 10,000 charges. */
#define CHARGES_PER_FUEL_UNIT 10000ull
/* The bound on a start function, which runs inside the spawn call. */
#define START_REDUCTIONS 100000000ull

lt_process *lt_self(lw_exec *x) { return lw_exec_user(x); }

uint64_t lunatic_process_id(const lunatic_process *self) { return self->pid; }

/* ---- links and monitors (owner side) ---------------------------------------- */

void lt_add_link(lt_process *p, uint64_t pid, bool has_tag, int64_t tag)
{
    for (uint32_t i = 0; i < p->nlinks; i++) {
        if (p->links[i].pid == pid) {
            p->links[i].has_tag = has_tag;
            p->links[i].tag = tag;
            return;
        }
    }
    if (p->nlinks == p->linkcap) {
        uint32_t cap = p->linkcap ? p->linkcap * 2 : 4;
        lt_link *l = realloc(p->links, cap * sizeof *l);
        if (!l)
            return;
        p->links = l;
        p->linkcap = cap;
    }
    p->links[p->nlinks++] = (lt_link){pid, tag, has_tag};
}

void lt_remove_link(lt_process *p, uint64_t pid)
{
    for (uint32_t i = 0; i < p->nlinks; i++) {
        if (p->links[i].pid == pid) {
            p->links[i] = p->links[--p->nlinks];
            return;
        }
    }
}

static void add_monitor(lt_process *p, uint64_t pid)
{
    for (uint32_t i = 0; i < p->nmonitors; i++)
        if (p->monitors[i] == pid)
            return;
    if (p->nmonitors == p->moncap) {
        uint32_t cap = p->moncap ? p->moncap * 2 : 4;
        uint64_t *m = realloc(p->monitors, cap * sizeof *m);
        if (!m)
            return;
        p->monitors = m;
        p->moncap = cap;
    }
    p->monitors[p->nmonitors++] = pid;
}

static void remove_monitor(lt_process *p, uint64_t pid)
{
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        if (p->monitors[i] == pid) {
            p->monitors[i] = p->monitors[--p->nmonitors];
            return;
        }
    }
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
    lt_signal *to_b = link_signal(LT_SIG_LINK, a, tag), *to_a = link_signal(LT_SIG_LINK, b, tag);
    if (!to_a || !to_b) {
        lt_signal_free(to_a);
        lt_signal_free(to_b);
        return -1;
    }
    bool b_alive = lt_send(env, b, to_b);
    bool a_alive = lt_send(env, a, to_a);
    /* a side that does not exist is a link that died at once */
    lt_signal *d;
    if (!b_alive && (d = link_signal(LT_SIG_LINK_DIED, b, tag)))
        lt_send(env, a, d);
    if (!a_alive && (d = link_signal(LT_SIG_LINK_DIED, a, tag)))
        lt_send(env, b, d);
    return 0;
}

int lt_monitor_pid(lt_env *env, uint64_t watcher, uint64_t target)
{
    lt_signal *s = lt_signal_new(LT_SIG_MONITOR);
    if (!s)
        return -1;
    s->pid = watcher;
    if (!lt_send(env, target, s)) {
        /* decision 7: monitoring a process that does not exist reports
         * its death at once, as Erlang's noproc */
        lt_signal *d = lt_signal_new(LT_SIG_PROCESS_DIED);
        if (d) {
            d->pid = target;
            lt_send(env, watcher, d);
        }
    }
    return 0;
}

static void mailbox_push(lt_process *p, lt_signal *m)
{
    m->next = NULL;
    if (p->mb_tail)
        p->mb_tail->next = m;
    else
        p->mb_head = m;
    p->mb_tail = m;
    p->mb_len++;
}

/* ---- creation -------------------------------------------------------------- */

static lt_process *process_alloc(lt_runtime *rt, lt_env *env)
{
    lt_process *p = lw_obj_alloc(sizeof *p);
    if (!p)
        return NULL;
    p->rt = rt;
    p->env = env;
    p->pid = atomic_fetch_add(&env->next_pid, 1);
    p->die_when_link_dies = true;
    p->wait_deadline = -1;
    p->armed_deadline = -1;
    p->state = LT_PS_QUEUED;
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
    for (s = p->mb_head; s;) {
        lt_signal *n = s->next;
        lt_signal_free(s);
        s = n;
    }
    lt_disarm(p);
    lt_signal_free(p->scratch);
    free(p->links);
    free(p->monitors);
    lt_idtab_free(&p->configs, (void (*)(void *))lt_config_release);
    lt_idtab_free(&p->modules, (void (*)(void *))lt_module_release);
    lt_idtab_free(&p->errors, free);
    lt_idtab_free(&p->timers, (void (*)(void *))lt_timer_release);
    if (p->wasi)
        lwasi_ctx_free(p->wasi);
    if (p->lwasi_share)
        lwasi_shared_release(p->lwasi_share);
    lw_exec_free(p->x);
    lw_instance_free(p->inst);
    lt_module_release(p->module);
    lt_config_release(p->config);
    lt_registry_release(p->registry);
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
    if (!p->wasi && p->lwasi_share)
        p->wasi = lwasi_ctx_new_shared(p->lwasi_share);
    return p->wasi;
}

uint64_t lt_spawn_wasm(lt_runtime *rt, lt_env *env, lt_module *m, lt_config *c,
                          lt_registry *reg, const char *func, size_t funclen,
                          const lw_val *params, uint32_t nparams, const lt_link *link_to_parent,
                          bool watched, char *err, size_t errsize)
{
    lt_process *p = process_alloc(rt, env);
    if (!p) {
        snprintf(err, errsize, "out of memory");
        return 0;
    }
    lt_module_retain(m);
    p->module = m;
    lt_config_retain(c);
    p->config = c;
    if (reg)
        lt_registry_retain(reg);
    p->registry = reg ? reg : lt_registry_new();

    /* The WASI part is taken now: later changes to the config do not
     * reach a process already spawned with it. */
    p->lwasi_share = lt_config_wasi(c, err, errsize);
    if (!p->lwasi_share) {
        process_free(p);
        return 0;
    }
    /* Data segments are copied in when the child first touches them (on
     * whichever worker runs it), and not at all by an idle child: the page
     * faults of a fresh memory are the larger part of a spawn. */
    lw_limits lim = {.max_memory_bytes = c->max_memory, .max_table_elems = 100000, .defer_data = 1};
    lw_error werr;
    p->inst = lw_instance_new(m->wasm, m->imports, m->nimports, &lim, &werr);
    p->x = lw_exec_new(0);
    if (!p->inst || !p->x) {
        snprintf(err, errsize, "%s", p->inst ? "out of memory" : werr.msg);
        process_free(p);
        return 0;
    }
    lw_exec_set_user(p->x, p);
    lw_exec_set_budget(p->x, rt->reductions);
    if (c->max_fuel)
        lw_exec_set_fuel(p->x, c->max_fuel > UINT64_MAX / CHARGES_PER_FUEL_UNIT - 1
                                     ? UINT64_MAX - 1
                                     : c->max_fuel * CHARGES_PER_FUEL_UNIT);

    /* The start function runs inside spawn, as in the original: a trap
     * there is a spawn error. */
    lw_func *start = lw_instance_start_func(p->inst);
    if (start) {
        /* It runs on the spawner's worker, so it gets a bound: a start
         * function that does not finish within it fails the spawn. */
        lw_exec_set_budget(p->x, START_REDUCTIONS);
        int st = lw_exec_call(p->x, start, NULL);
        lw_exec_set_budget(p->x, rt->reductions);
        if (st == LW_TRAP && lw_exec_trap_kind(p->x) == LW_TRAP_EXIT) {
            /* the process ends at its first slice with this exit code */
            p->exited_in_start = true;
            p->exit_code = lw_exec_exit_code(p->x);
        } else if (st != LW_OK) {
            char buf[512];
            if (st == LW_TRAP)
                lw_exec_trap_format(p->x, buf, sizeof buf);
            else if (st == LW_YIELD)
                snprintf(buf, sizeof buf, "it did not finish within %llu reductions",
                         (unsigned long long)START_REDUCTIONS);
            else
                snprintf(buf, sizeof buf, "it blocked");
            snprintf(err, errsize, "start function failed: %s", buf);
            process_free(p);
            return 0;
        }
    }

    char name[256];
    size_t n = funclen < sizeof name - 1 ? funclen : sizeof name - 1;
    memcpy(name, func, n);
    name[n] = 0;
    lw_extern ex;
    if (lw_instance_export_n(p->inst, func, funclen, &ex) == 0 && ex.kind == LW_EXTERN_FUNC) {
        p->entry = ex.u.func;
        /* allocate the exec's stack now, beside the process's other
         * structures, not on whichever worker runs the first slice */
        lw_exec_reserve(p->x, p->entry);
    }
    if (nparams) {
        p->params = nparams <= 2 ? p->params_inline : malloc(nparams * sizeof *p->params);
        if (!p->params) {
            snprintf(err, errsize, "out of memory");
            process_free(p);
            return 0;
        }
        memcpy(p->params, params, nparams * sizeof *params);
    }
    p->nparams = nparams;
    p->watched = watched;
    if (link_to_parent)
        lt_add_link(p, link_to_parent->pid, link_to_parent->has_tag, link_to_parent->tag);
    if (lt_env_insert(env, p) < 0) {
        snprintf(err, errsize, "out of memory");
        process_free(p);
        return 0;
    }
    uint64_t pid = p->pid;
    lt_schedule(rt, p);
    return pid;
}

uint64_t lt_spawn_native(lt_runtime *rt, lt_env *env, lunatic_native_fn fn, void *ud,
                         bool watched)
{
    lt_process *p = process_alloc(rt, env);
    if (!p)
        return 0;
    p->watched = watched;
    p->native = fn;
    p->native_ud = ud;
    p->registry = lt_registry_new();
    if (lt_env_insert(env, p) < 0) {
        process_free(p);
        return 0;
    }
    uint64_t pid = p->pid;
    lt_schedule(rt, p);
    return pid;
}

/* ---- death ------------------------------------------------------------------- */

static void record_done(lt_process *p, int status)
{
    lt_runtime *rt = p->rt;
    lt_done *d = malloc(sizeof *d);
    if (!d)
        return;
    d->env = p->env->id;
    d->pid = p->pid;
    d->status = status;
    pthread_mutex_lock(&rt->done_lock);
    d->next = rt->done;
    rt->done = d;
    pthread_cond_broadcast(&rt->done_cond);
    pthread_mutex_unlock(&rt->done_lock);
}

void lt_log_failure(lt_process *p, const char *what)
{
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
    if (p->killed)
        n = snprintf(line, sizeof line, "lunatic: Process %s was killed, notifying: %u links\n",
                     name, p->nlinks);
    else if (!what && p->rt->log_debug)
        n = snprintf(line, sizeof line,
                     "[debug] Process %s exited with status %d, notifying: %u links\n", name,
                     p->exit_code, p->nlinks);
    else if (what)
        n = snprintf(line, sizeof line, "lunatic: Process %s failed, notifying: %u links: %s\n",
                     name, p->nlinks, what);
    if (n > (int)sizeof line - 1) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
}

/* After removal from the table nothing new reaches p. Of what is still in
 * its inbox, a Monitor or Link must still be answered: the sender believed
 * p alive, so it gets ProcessDied / LinkDied like any other watcher; an
 * Unlink or StopMonitoring after it, in order, takes it back. */
static void adopt_late_watchers(lt_process *p)
{
    lt_signal *s = p->in_head;
    p->in_head = p->in_tail = NULL;
    while (s) {
        lt_signal *next = s->next;
        if (s->kind == LT_SIG_MONITOR)
            add_monitor(p, s->pid);
        else if (s->kind == LT_SIG_STOP_MONITORING)
            remove_monitor(p, s->pid);
        else if (s->kind == LT_SIG_LINK)
            lt_add_link(p, s->pid, s->has_tag, s->tag);
        else if (s->kind == LT_SIG_UNLINK)
            lt_remove_link(p, s->pid);
        lt_signal_free(s);
        s = next;
    }
}

/* Ends p. `what` describes a failure to log (a trap, with its backtrace);
 * NULL for a kill (logged too) or a deliberate exit (proc_exit with a
 * nonzero code: a failure for links, but only a debug line, so that a
 * program's stderr stays what it wrote). */
static void finish(lt_process *p, lt_reason reason, int status, const char *what)
{
    lt_env_remove(p->env, p);
    adopt_late_watchers(p);
    p->reason = reason;
    p->exit_code = status;
    if (reason != LT_REASON_NORMAL)
        lt_log_failure(p, what);
    if (p->registry)
        lt_registry_remove_pid(p->registry, p->pid);
    for (uint32_t i = 0; i < p->nlinks; i++) {
        lt_signal *s = lt_signal_new(LT_SIG_LINK_DIED);
        if (!s)
            continue;
        s->pid = p->pid;
        s->has_tag = p->links[i].has_tag;
        s->tag = p->links[i].tag;
        s->reason = (uint8_t)reason;
        lt_send(p->env, p->links[i].pid, s);
    }
    for (uint32_t i = 0; i < p->nmonitors; i++) {
        lt_signal *s = lt_signal_new(LT_SIG_PROCESS_DIED);
        if (!s)
            continue;
        s->pid = p->pid;
        lt_send(p->env, p->monitors[i], s);
    }
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
        switch (s->kind) {
        case LT_SIG_MESSAGE:
            mailbox_push(p, s);
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
            lt_add_link(p, s->pid, s->has_tag, s->tag);
            break;
        case LT_SIG_UNLINK:
            lt_remove_link(p, s->pid);
            break;
        case LT_SIG_LINK_DIED:
            lt_remove_link(p, s->pid);
            if (s->reason == LT_REASON_NORMAL)
                break;
            if (p->die_when_link_dies) {
                p->killed = true;
                alive = false;
                break;
            }
            s->kind = LT_SIG_MESSAGE;
            s->msgkind = LT_MSG_LINK_DIED;
            mailbox_push(p, s);
            *relevant = true;
            s = NULL;
            break;
        case LT_SIG_MONITOR:
            add_monitor(p, s->pid);
            break;
        case LT_SIG_STOP_MONITORING:
            remove_monitor(p, s->pid);
            break;
        case LT_SIG_PROCESS_DIED:
            s->kind = LT_SIG_MESSAGE;
            s->msgkind = LT_MSG_PROCESS_DIED;
            s->has_tag = 0;
            s->tag = 0;
            mailbox_push(p, s);
            *relevant = true;
            s = NULL;
            break;
        case LT_SIG_WAKE:
            if ((uint64_t)s->tag == p->wait_seq)
                *relevant = true;
            break;
        }
        if (s && s->kind != LT_SIG_MESSAGE)
            lt_signal_free(s);
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
    if (wi && wi->active) {
        if (wi->nfds == 0 && wi->deadline < 0) {
            /* sched_yield: to the back of the queue */
            p->resume = true;
            lt_spin_lock(&p->lock);
            p->state = LT_PS_QUEUED;
            lt_spin_unlock(&p->lock);
            lt_schedule(rt, p);
            return;
        }
        bool registered = true;
        for (int i = 0; i < wi->nfds; i++)
            if (lt_poll_fd(rt, p, wi->fds[i].fd, (uint32_t)wi->fds[i].events) < 0)
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
        p->wake_timer = lt_timer_wake(rt, p, deadline);
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
    int r = LUNATIC_CONTINUE;
    if (!p->started) {
        p->started = true;
        r = p->native(p, NULL, p->native_ud);
    }
    while (r == LUNATIC_CONTINUE && p->mb_head) {
        lt_signal *m = p->mb_head;
        p->mb_head = m->next;
        if (!p->mb_head)
            p->mb_tail = NULL;
        p->mb_len--;
        lunatic_msg msg = {.kind = m->msgkind, .tag = m->has_tag ? m->tag : 0, .pid = m->pid,
                           .data = m->buf, .len = m->len};
        r = p->native(p, &msg, p->native_ud);
        lt_signal_free(m);
    }
    if (r == LUNATIC_DONE)
        finish(p, LT_REASON_NORMAL, 0, NULL);
    else if (r != LUNATIC_CONTINUE)
        finish(p, LT_REASON_FAILURE, LUNATIC_STATUS_FAILED, "native process failed");
    else
        park(p);
}

void lt_process_run(lt_process *p)
{
    lt_spin_lock(&p->lock);
    p->state = LT_PS_RUNNING;
    p->notified = false;
    lt_signal *in = p->in_head;
    p->in_head = p->in_tail = NULL;
    lt_spin_unlock(&p->lock);

    bool relevant = !p->started || p->resume;
    p->resume = false;
    p->slice_work = 0;
    if (!handle_signals(p, in, &relevant)) {
        finish(p, LT_REASON_FAILURE, LUNATIC_STATUS_KILLED, NULL);
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
            finish(p, LT_REASON_FAILURE, LUNATIC_STATUS_FAILED, "the function to spawn was not found");
            return;
        }
        const lw_functype *t = lw_func_type(p->entry);
        if (t->nparams != p->nparams) {
            finish(p, LT_REASON_FAILURE, LUNATIC_STATUS_FAILED,
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
        finish(p, LT_REASON_FAILURE, LUNATIC_STATUS_FAILED, buf);
        return;
    }
    }
}

/* ---- embedding API -------------------------------------------------------------- */

static void install_wasi_resolver(void)
{
    static atomic_int done;
    if (!atomic_exchange(&done, 1))
        lwasi_set_ctx_resolver(process_wasi);
}

uint64_t lunatic_spawn(lunatic_runtime *rt, uint64_t env_id, lunatic_module *m, lunatic_config *c,
                       const char *func, const uint64_t *params, uint32_t nparams, char *err,
                       size_t errsize)
{
    install_wasi_resolver();
    lt_env *env = lt_env_get(rt, env_id);
    if (!env) {
        snprintf(err, errsize, "out of memory");
        return 0;
    }
    return lt_spawn_wasm(rt, env, m, c, NULL, func, strlen(func), params, nparams, NULL, true,
                         err, errsize);
}

uint64_t lunatic_spawn_native(lunatic_runtime *rt, uint64_t env_id, lunatic_native_fn fn, void *ud)
{
    install_wasi_resolver();
    lt_env *env = lt_env_get(rt, env_id);
    if (!env)
        return 0;
    return lt_spawn_native(rt, env, fn, ud, true);
}

int lunatic_send(lunatic_runtime *rt, uint64_t env_id, uint64_t pid, int64_t tag, const void *data,
                 size_t len)
{
    lt_signal *m = lt_message_new(tag, len);
    if (!m || lt_message_write(m, data, len) < 0) {
        lt_signal_free(m);
        return -1;
    }
    return lt_send(lt_env_get(rt, env_id), pid, m) ? 0 : -1;
}

void lunatic_kill(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    lt_signal *s = lt_signal_new(LT_SIG_KILL);
    if (s)
        lt_send(lt_env_get(rt, env_id), pid, s);
}

void lunatic_link(lunatic_runtime *rt, uint64_t env_id, uint64_t a, uint64_t b, int64_t tag)
{
    lt_link_pids(lt_env_get(rt, env_id), a, b, tag);
}

void lunatic_monitor(lunatic_runtime *rt, uint64_t env_id, uint64_t watcher, uint64_t target)
{
    lt_monitor_pid(lt_env_get(rt, env_id), watcher, target);
}

int lunatic_exists(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    return lt_env_exists(lt_env_get(rt, env_id), pid);
}

int lunatic_wait(lunatic_runtime *rt, uint64_t env_id, uint64_t pid)
{
    pthread_mutex_lock(&rt->done_lock);
    for (;;) {
        for (lt_done **d = &rt->done; *d; d = &(*d)->next) {
            if ((*d)->env == env_id && (*d)->pid == pid) {
                lt_done *found = *d;
                *d = found->next;
                pthread_mutex_unlock(&rt->done_lock);
                int status = found->status;
                free(found);
                return status;
            }
        }
        pthread_cond_wait(&rt->done_cond, &rt->done_lock);
    }
}
