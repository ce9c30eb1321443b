/*
 * json.c - a process snapshot as JSON (obs.h: lobs_json_snapshot), the
 * body of GET /api/processes and /api/processes/PID.
 *
 * Guest-chosen text (registered names) is escaped so that it is inert
 * inside HTML as well (buf.h: lobs_buf_json_str); the dashboard also
 * inserts it only as text.
 */
#include <string.h>
#include <time.h>

#include "obs/obs.h"
#include "rt/process.h"
#include "rt/stats.h"

static const char *state_name(uint8_t s)
{
    return s == LT_SNAP_RUNNING ? "running" : s == LT_SNAP_RUNNABLE ? "runnable" : "waiting";
}

static const char *wait_name(uint8_t w)
{
    switch (w) {
    case LT_WAIT_RECEIVE: return "\"receive\"";
    case LT_WAIT_SLEEP: return "\"sleep\"";
    case LT_WAIT_IO: return "\"io\"";
    }
    return "null";
}

static void u64_field(lobs_buf *b, const char *name, uint64_t v)
{
    lobs_buf_printf(b, ",\"%s\":%llu", name, (unsigned long long)v);
}

static void process(lobs_buf *b, const lt_procinfo *in, bool lists)
{
    lobs_buf_printf(b, "{\"env\":%llu,\"pid\":%llu,\"names\":[", (unsigned long long)in->env,
                    (unsigned long long)in->pid);
    for (uint32_t i = 0; i < in->nnames && i < LT_SNAP_NAMES; i++) {
        if (i)
            lobs_buf_str(b, ",");
        lobs_buf_json_str(b, in->names[i], strlen(in->names[i]));
    }
    lobs_buf_printf(b, "],\"kind\":\"%s\",\"state\":\"%s\",\"detailed\":%s",
                    in->native ? "native" : "wasm", state_name(in->state),
                    in->detailed ? "true" : "false");
    lobs_buf_str(b, ",\"module\":");
    lobs_buf_json_str(b, in->module, strlen(in->module));
    lobs_buf_str(b, ",\"function\":");
    lobs_buf_json_str(b, in->function, strlen(in->function));
    u64_field(b, "reductions", in->reductions);
    u64_field(b, "age_ms", (uint64_t)(in->age_ns / 1000000));
    if (in->detailed) {
        lobs_buf_printf(b, ",\"wait\":%s",
                        in->state == LT_SNAP_WAITING ? wait_name(in->wait) : "null");
        if (in->state == LT_SNAP_WAITING && in->wait == LT_WAIT_RECEIVE) {
            lobs_buf_printf(b, ",\"ntags\":%u,\"tags\":[", in->ntags);
            for (uint32_t i = 0; i < in->ntags && i < LT_SNAP_TAGS; i++)
                lobs_buf_printf(b, "%s%lld", i ? "," : "", (long long)in->tags[i]);
            lobs_buf_str(b, "]");
        }
        if (in->timeout_ns >= 0)
            u64_field(b, "timeout_ms", (uint64_t)(in->timeout_ns + 999999) / 1000000);
        u64_field(b, "mailbox_len", in->mailbox_len);
        u64_field(b, "mailbox_bytes", in->mailbox_bytes);
        u64_field(b, "memory_bytes", in->memory_bytes);
        u64_field(b, "host_bytes", in->host_bytes);
        u64_field(b, "links", in->nlinks);
        u64_field(b, "monitors", in->nmonitors);
        lobs_buf_printf(b, ",\"die_when_link_dies\":%s", in->die_when_link_dies ? "true" : "false");
    }
    if (lists) {
        lobs_buf_str(b, ",\"link_list\":[");
        for (uint32_t i = 0; in->links && i < in->nlinks; i++)
            lobs_buf_printf(b, "%s{\"pid\":%llu,\"tag\":%lld}", i ? "," : "",
                            (unsigned long long)in->links[i].pid, (long long)in->links[i].tag);
        lobs_buf_str(b, "],\"monitored_by\":[");
        for (uint32_t i = 0; in->monitors && i < in->nmonitors; i++)
            lobs_buf_printf(b, "%s%llu", i ? "," : "", (unsigned long long)in->monitors[i]);
        lobs_buf_str(b, "],\"monitoring\":[");
        for (uint32_t i = 0; in->monitoring && i < in->nmonitoring; i++)
            lobs_buf_printf(b, "%s%llu", i ? "," : "", (unsigned long long)in->monitoring[i]);
        lobs_buf_str(b, "]");
    }
    lobs_buf_str(b, "}");
}

bool lobs_json_snapshot(lobs_buf *b, const lt_snapshot *s, uint64_t one_pid)
{
    if (one_pid) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->procs[i].pid == one_pid) {
                process(b, &s->procs[i], true);
                return true;
            }
        }
        return false;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    lobs_buf_printf(b, "{\"time_ms\":%llu,\"totals\":{",
                    (unsigned long long)now.tv_sec * 1000 +
                        (unsigned long long)now.tv_nsec / 1000000);
    lobs_buf_printf(b, "\"processes\":%llu", (unsigned long long)s->total);
    u64_field(b, "running", s->running);
    u64_field(b, "runnable", s->runnable);
    u64_field(b, "waiting", s->waiting);
    u64_field(b, "mailbox_len", s->mailbox_len);
    u64_field(b, "mailbox_bytes", s->mailbox_bytes);
    u64_field(b, "memory_bytes", s->memory_bytes);
    u64_field(b, "host_bytes", s->host_bytes);
    u64_field(b, "environments", s->nenvs);
    lobs_buf_str(b, "},\"counters\":");
    if (lt_stats_enabled()) {
        /* running totals: the dashboard turns them into rates */
        lt_stats_totals t;
        lt_stats_read(&t);
        lobs_buf_printf(b, "{\"messages\":%llu",
                        (unsigned long long)(t.c[LT_STAT_DATA_MESSAGES] +
                                             t.c[LT_STAT_MSG_LINK_DIED]));
        u64_field(b, "signals", t.c[LT_STAT_SIGNALS_SENT_WASM] + t.c[LT_STAT_SIGNALS_SENT_NATIVE]);
        u64_field(b, "spawned", t.c[LT_STAT_SPAWNED_WASM] + t.c[LT_STAT_SPAWNED_NATIVE]);
        u64_field(b, "exited", t.c[LT_STAT_EXIT_NORMAL] + t.c[LT_STAT_EXIT_FAILURE] +
                                   t.c[LT_STAT_EXIT_KILLED]);
        u64_field(b, "failed", t.c[LT_STAT_EXIT_FAILURE]);
        lobs_buf_str(b, "}");
    } else {
        lobs_buf_str(b, "null");
    }
    lobs_buf_printf(b, ",\"listed\":%zu,\"partial\":%s,\"processes\":[", s->n,
                    s->partial ? "true" : "false");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            lobs_buf_str(b, ",\n");
        process(b, &s->procs[i], false);
    }
    lobs_buf_str(b, "]}\n");
    return true;
}
