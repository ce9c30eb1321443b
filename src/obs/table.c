/*
 * table.c - a process snapshot as a text table (obs.h:
 * lobs_table_snapshot), what SIGUSR1 prints on stderr, like Erlang's i().
 */
#include <stdio.h>
#include <string.h>

#include "obs/obs.h"
#include "rt/process.h"

/* bytes as "512", "64K", "1.5M", "2.0G" */
static void size_text(char *out, size_t n, uint64_t v)
{
    if (v < 1024)
        snprintf(out, n, "%llu", (unsigned long long)v);
    else if (v < 1024 * 1024)
        snprintf(out, n, "%lluK", (unsigned long long)(v / 1024));
    else if (v < 1024ull * 1024 * 1024)
        snprintf(out, n, "%.1fM", (double)v / (1024.0 * 1024));
    else
        snprintf(out, n, "%.1fG", (double)v / (1024.0 * 1024 * 1024));
}

static void age_text(char *out, size_t n, int64_t ns)
{
    double s = (double)ns / 1e9;
    if (s < 1)
        snprintf(out, n, "%.0fms", s * 1000);
    else if (s < 120)
        snprintf(out, n, "%.1fs", s);
    else if (s < 7200)
        snprintf(out, n, "%.0fm", s / 60);
    else
        snprintf(out, n, "%.1fh", s / 3600);
}

/* What the process does: "running", "runnable", "receive [1,2]",
 * "sleep 1500ms", "io", "waiting". */
static void state_text(char *out, size_t n, const lt_procinfo *in)
{
    if (in->state == LT_SNAP_RUNNING) {
        snprintf(out, n, "running");
        return;
    }
    if (in->state == LT_SNAP_RUNNABLE) {
        snprintf(out, n, "runnable");
        return;
    }
    int k = 0;
    switch (in->wait) {
    case LT_WAIT_RECEIVE:
        k = snprintf(out, n, "receive");
        if (in->ntags) {
            k += snprintf(out + k, n - (size_t)k, " [");
            for (uint32_t i = 0; i < in->ntags && i < LT_SNAP_TAGS && (size_t)k < n; i++)
                k += snprintf(out + k, n - (size_t)k, "%s%lld", i ? "," : "",
                              (long long)in->tags[i]);
            if ((size_t)k < n)
                k += snprintf(out + k, n - (size_t)k, "%s]",
                              in->ntags > LT_SNAP_TAGS ? ",..." : "");
        }
        break;
    case LT_WAIT_SLEEP: k = snprintf(out, n, "sleep"); break;
    case LT_WAIT_IO: k = snprintf(out, n, "io"); break;
    default: k = snprintf(out, n, "waiting"); break;
    }
    if (in->timeout_ns >= 0 && (size_t)k < n)
        snprintf(out + k, n - (size_t)k, " %llums",
                 (unsigned long long)(in->timeout_ns + 999999) / 1000000);
}

void lobs_table_snapshot(lobs_buf *b, const lt_snapshot *s)
{
    char mem[16];
    size_text(mem, sizeof mem, s->memory_bytes);
    lobs_buf_printf(b,
                    "lunatic: %llu process%s (%llu running, %llu runnable, %llu waiting), %llu "
                    "message%s in mailboxes, %s of linear memory\n",
                    (unsigned long long)s->total, s->total == 1 ? "" : "es",
                    (unsigned long long)s->running,
                    (unsigned long long)s->runnable, (unsigned long long)s->waiting,
                    (unsigned long long)s->mailbox_len, s->mailbox_len == 1 ? "" : "s", mem);
    lobs_buf_printf(b, "%4s %8s %-20s %-22s %8s %8s %7s %11s %5s %4s %7s  %s\n", "ENV", "PID",
                    "NAME", "STATE", "MAILBOX", "BYTES", "MEMORY", "REDUCTIONS", "LINKS", "MONS", "AGE",
                    "FUNCTION");
    for (size_t i = 0; i < s->n; i++) {
        const lt_procinfo *in = &s->procs[i];
        char name[21], state[64], mbox[16], bytes[16], age[16];
        snprintf(name, sizeof name, "%s", in->nnames ? in->names[0] : "-");
        state_text(state, sizeof state, in);
        age_text(age, sizeof age, in->age_ns);
        if (in->detailed) {
            snprintf(mbox, sizeof mbox, "%u", in->mailbox_len);
            size_text(bytes, sizeof bytes, in->mailbox_bytes);
            size_text(mem, sizeof mem, in->memory_bytes);
            lobs_buf_printf(b, "%4llu %8llu %-20s %-22s %8s %8s %7s %11llu %5u %4u %7s  %s:%s\n",
                            (unsigned long long)in->env, (unsigned long long)in->pid, name, state,
                            mbox, bytes, mem, (unsigned long long)in->reductions, in->nlinks,
                            in->nmonitors, age, in->native ? "(native)" : in->module, in->function);
        } else {
            lobs_buf_printf(b, "%4llu %8llu %-20s %-22s %8s %8s %7s %11llu %5s %4s %7s  %s:%s\n",
                            (unsigned long long)in->env, (unsigned long long)in->pid, name, state,
                            "-", "-", "-", (unsigned long long)in->reductions, "-", "-", age,
                            in->native ? "(native)" : in->module, in->function);
        }
    }
    if (s->n < s->total)
        lobs_buf_printf(b, "(%llu more not listed)\n", (unsigned long long)(s->total - s->n));
}
