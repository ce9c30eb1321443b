/*
 * api.c - the table of every lunatic::* host function, and the helpers
 * of api.h.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "rt/poller.h"

static lw_host_table table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static int table_ok;

static void build(void)
{
    struct { const lw_host_func_def *d; size_t n; } mods[] = {
        {lapi_process_defs, lapi_process_count},   {lapi_message_defs, lapi_message_count},
        {lapi_registry_defs, lapi_registry_count}, {lapi_timer_defs, lapi_timer_count},
        {lapi_error_defs, lapi_error_count},       {lapi_version_defs, lapi_version_count},
        {lapi_trap_defs, lapi_trap_count},         {lapi_wasi_defs, lapi_wasi_count},
        {lapi_metrics_defs, lapi_metrics_count},   {lapi_distributed_defs, lapi_distributed_count},
        {lapi_networking_defs, lapi_networking_count}, {lapi_sqlite_defs, lapi_sqlite_count},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof mods / sizeof *mods; i++)
        n += mods[i].n;
    lw_host_func_def *all = malloc(n * sizeof *all);
    if (!all)
        return;
    size_t k = 0;
    for (size_t i = 0; i < sizeof mods / sizeof *mods; i++)
        for (size_t j = 0; j < mods[i].n; j++)
            all[k++] = mods[i].d[j];
    table_ok = lw_host_table_init(&table, all, n) == 0;
}

const lw_host_table *lapi_host_table(void)
{
    pthread_once(&table_once, build);
    return table_ok ? &table : NULL;
}

uint64_t lapi_error_new(lt_process *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    uint64_t id;
    if (!s || lt_idtab_add(&p->errors, s, &id) < 0) {
        free(s);
        return LAPI_ERROR_OOM;
    }
    return id;
}

int lapi_trapf(lw_exec *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lapi_trap(x, msg);
}

int lapi_oom(lw_exec *x, const char *what)
{
    lt_process *p = lt_self(x);
    const char *sep = what ? ": " : "";
    what = what ? what : "";
    if (!p || !p->acct.refused)
        return lapi_trapf(x, "%s%sout of memory", what, sep);
    p->acct.refused = false;
    return lapi_trapf(x,
                      "%s%sout of memory: over the process's memory limit of %llu bytes (%llu "
                      "in messages and host objects, %llu in linear memory)",
                      what, sep, (unsigned long long)p->acct.limit,
                      (unsigned long long)lt_account_held(&p->acct),
                      (unsigned long long)atomic_load(&p->acct.linear));
}

int lapi_module_add(lt_process *p, lt_module *m, uint64_t *id)
{
    if (lt_account_charge(&p->acct, m->cost) < 0)
        return -1;
    if (lt_idtab_add(&p->modules, m, id) < 0) {
        lt_account_release(&p->acct, m->cost);
        return -1;
    }
    return 0;
}

const char *lapi_str(lw_exec *x, uint32_t ptr, uint32_t len)
{
    const char *s = lapi_mem(x, ptr, len);
    if (!s) {
        lapi_trap(x, "string out of bounds");
        return NULL;
    }
    if (!lw_utf8_valid((const uint8_t *)s, len)) {
        lapi_trap(x, "string is not valid UTF-8");
        return NULL;
    }
    return s;
}

bool lapi_wait_begin(lt_process *p, uint64_t timeout_ms)
{
    if (p->wait_started)
        return false;
    p->wait_started = true;
    if (timeout_ms == UINT64_MAX || timeout_ms > (uint64_t)INT64_MAX / 2000000)
        p->wait_deadline = -1;
    else
        p->wait_deadline = lt_now_ns() + (int64_t)timeout_ms * 1000000;
    return true;
}

bool lapi_wait_expired(const lt_process *p)
{
    return p->wait_deadline >= 0 && lt_now_ns() >= p->wait_deadline;
}

void lapi_wait_end(lt_process *p)
{
    lt_disarm(p);
    p->wait_started = false;
    p->wait_kind = LT_WAIT_NONE;
    p->wait_deadline = -1;
    p->wait_seq++;
    lt_mailbox_scan_from_head(&p->mailbox);
    if (p->io_fd >= 0) {
        lt_poll_cancel(p->rt, p, p->io_fd);
        p->io_fd = -1;
    }
}
