/*
 * prom.c - every metric (rt/metrics.h) in the Prometheus text exposition
 * format 0.0.4 (obs.h: lobs_render_prometheus).
 *
 * Names: each character outside [a-zA-Z0-9_] becomes '_' (dots, and a
 * whole UTF-8 sequence as one '_'; ':' too, which Prometheus keeps for
 * recording rules), and a leading digit gets a '_' before it: the
 * original's exporter writes "lunatic.process.signals.send" as
 * lunatic_process_signals_send. Counters get the suffix _total. Every
 * family has # HELP (the runtime's description and unit; "Guest metric"
 * for names recorded through lunatic::metrics) and # TYPE, and every
 * series the label node_id.
 *
 * The output always parses: a family whose sample names would repeat
 * another's (a guest gauge "x_total" beside a counter "x", two names that
 * sanitize alike) is left out, the first one wins.
 */
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"
#include "rt/metrics.h"

/* The sample names already written, so that no family repeats one. */
typedef struct nameset {
    char **slot;
    size_t cap, n;
} nameset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static bool set_has(const nameset *ns, const char *s)
{
    if (!ns->cap)
        return false;
    for (size_t i = hash_str(s) & (ns->cap - 1); ns->slot[i]; i = (i + 1) & (ns->cap - 1))
        if (!strcmp(ns->slot[i], s))
            return true;
    return false;
}

/* Adds a copy of s; false when out of memory. */
static bool set_add(nameset *ns, const char *s)
{
    if ((ns->n + 1) * 2 > ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        char **slot = calloc(cap, sizeof *slot);
        if (!slot)
            return false;
        for (size_t i = 0; i < ns->cap; i++) {
            if (!ns->slot[i])
                continue;
            size_t j = hash_str(ns->slot[i]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = ns->slot[i];
        }
        free(ns->slot);
        ns->slot = slot;
        ns->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return false;
    size_t i = hash_str(s) & (ns->cap - 1);
    while (ns->slot[i])
        i = (i + 1) & (ns->cap - 1);
    ns->slot[i] = copy;
    ns->n++;
    return true;
}

static void set_free(nameset *ns)
{
    for (size_t i = 0; i < ns->cap; i++)
        free(ns->slot[i]);
    free(ns->slot);
}

typedef struct render {
    lobs_buf *b;
    const char *node_id;
    nameset used;
    /* the family being written: its dotted name and kind, and whether it
     * was left out */
    const char *family;
    size_t family_len;
    lt_metric_kind kind;
    bool skip;
    char name[LT_METRICS_NAME_MAX + 16];    /* its exported name (without _total) */
} render;

static bool name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
}

/* The exported name of a dotted name, into out (room for len + 2). */
static void sanitize(const char *name, size_t len, char *out)
{
    const uint8_t *s = (const uint8_t *)name;
    size_t o = 0;
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        out[o++] = '_';
    for (size_t i = 0; i < len; i++) {
        if ((s[i] & 0xc0) == 0x80)
            continue;   /* continuation byte of a sequence already replaced */
        out[o++] = name_char(s[i]) ? (char)s[i] : '_';
    }
    out[o] = 0;
}

/* # HELP text: one line, with \ and newlines escaped. */
static void help_text(lobs_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            lobs_buf_str(b, "\\\\");
        else if (*s == '\n')
            lobs_buf_str(b, "\\n");
        else
            lobs_buf_add(b, s, 1);
    }
}

/* A label value: \, " and newlines escaped. */
static void label_value(lobs_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            lobs_buf_add(b, "\\", 1);
        if (*s == '\n')
            lobs_buf_str(b, "\\n");
        else
            lobs_buf_add(b, s, 1);
    }
}

/* Starts a family: decides whether it can be written, then writes # HELP
 * and # TYPE. */
static void begin_family(render *r, const lt_metric_view *v)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    r->family = v->name;
    r->family_len = v->len;
    r->kind = v->kind;
    sanitize(v->name, v->len, r->name);
    char full[sizeof r->name + 8];
    const char *suffixes[4] = {"", NULL, NULL, NULL};
    if (v->kind == LT_METRIC_COUNTER) {
        suffixes[0] = "_total";
    } else if (v->kind == LT_METRIC_HISTOGRAM) {
        suffixes[1] = "_bucket";
        suffixes[2] = "_sum";
        suffixes[3] = "_count";
    }
    r->skip = false;
    for (int i = 0; i < 4 && suffixes[i]; i++) {
        strcpy(full, r->name);
        strcat(full, suffixes[i]);
        if (set_has(&r->used, full))
            r->skip = true;
    }
    if (r->skip)
        return;
    for (int i = 0; i < 4 && suffixes[i]; i++) {
        strcpy(full, r->name);
        strcat(full, suffixes[i]);
        if (!set_add(&r->used, full))
            r->b->oom = true;
    }
    const char *family = v->kind == LT_METRIC_COUNTER ? "_total" : "";
    lobs_buf_printf(r->b, "# HELP %s%s ", r->name, family);
    if (v->help) {
        help_text(r->b, v->help);
        if (v->unit)
            lobs_buf_printf(r->b, " (%s)", v->unit);
    } else {
        lobs_buf_str(r->b, "Guest metric (lunatic::metrics)");
    }
    lobs_buf_printf(r->b, "\n# TYPE %s%s %s\n", r->name, family, types[v->kind]);
}

/* name{node_id="..",label="..",le=".."} */
static void series_name(render *r, const lt_metric_view *v, const char *suffix, const double *le)
{
    lobs_buf *b = r->b;
    lobs_buf_str(b, r->name);
    lobs_buf_str(b, suffix);
    lobs_buf_str(b, "{node_id=\"");
    label_value(b, r->node_id);
    lobs_buf_str(b, "\"");
    if (v->label && v->label_value) {
        lobs_buf_printf(b, ",%s=\"", v->label);
        label_value(b, v->label_value);
        lobs_buf_str(b, "\"");
    }
    if (le) {
        lobs_buf_str(b, ",le=\"");
        lobs_buf_double(b, *le);
        lobs_buf_str(b, "\"");
    } else if (suffix[0] == '_' && !strcmp(suffix, "_bucket")) {
        lobs_buf_str(b, ",le=\"+Inf\"");
    }
    lobs_buf_str(b, "} ");
}

static void visit(const lt_metric_view *v, void *ud)
{
    render *r = ud;
    /* the runtime's families come as consecutive series with one name
     * pointer; every named metric is its own family */
    if (r->family != v->name || r->kind != v->kind)
        begin_family(r, v);
    if (r->skip)
        return;
    lobs_buf *b = r->b;
    switch (v->kind) {
    case LT_METRIC_COUNTER:
        series_name(r, v, "_total", NULL);
        lobs_buf_u64(b, v->count);
        break;
    case LT_METRIC_GAUGE:
        series_name(r, v, "", NULL);
        lobs_buf_double(b, v->value);
        break;
    case LT_METRIC_HISTOGRAM:
        for (size_t i = 0; i < v->nbuckets; i++) {
            series_name(r, v, "_bucket", &v->le[i]);
            lobs_buf_u64(b, v->cumulative[i]);
            lobs_buf_str(b, "\n");
        }
        series_name(r, v, "_bucket", NULL);
        lobs_buf_u64(b, v->count);
        lobs_buf_str(b, "\n");
        series_name(r, v, "_sum", NULL);
        lobs_buf_double(b, v->value);
        lobs_buf_str(b, "\n");
        series_name(r, v, "_count", NULL);
        lobs_buf_u64(b, v->count);
        break;
    }
    lobs_buf_str(b, "\n");
}

void lobs_render_prometheus(lobs_buf *b, const char *node_id)
{
    render r = {.b = b, .node_id = node_id ? node_id : "0"};
    lt_metrics_visit(visit, &r);
    set_free(&r.used);
}
