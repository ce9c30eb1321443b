/*
 * obs.h - the observability layer: what shows the runtime from outside.
 *
 *   prom.c       every metric in the Prometheus text format
 *   json.c       a process snapshot (rt/snapshot.h) as JSON, for /api/processes
 *   table.c      a process snapshot as a text table (SIGUSR1, like Erlang's i())
 *   http.c       a small HTTP/1.1 server on a thread of its own (http.h)
 *   server.c     the routes: /metrics, and with the dashboard /, /api/processes
 *   dashboard.html  the page served at /, compiled into the binary
 *
 * The layer sits above the runtime and the host API and below the
 * embedding API (include/lunatic.h), which offers it to embedders and the
 * CLI. It only reads the runtime, through the metrics store
 * (rt/metrics.h) and snapshots (rt/snapshot.h), and never runs on a worker
 * thread: a slow or hostile HTTP client costs the processes nothing.
 */
#ifndef LUNATIC_OBS_H
#define LUNATIC_OBS_H

#include "obs/buf.h"
#include "rt/base.h"
#include "rt/snapshot.h"

/* Appends every metric in the Prometheus text exposition format 0.0.4;
 * node_id is the value of the node_id label of every series. */
void lobs_render_prometheus(lobs_buf *b, const char *node_id);

/* Appends a snapshot as the JSON of GET /api/processes (docs in the
 * README, "Observing a runtime"): one object with totals, counters and
 * "processes". With one_pid, just that process's object (with its lists),
 * or nothing when the snapshot lacks it (returns false then). */
bool lobs_json_snapshot(lobs_buf *b, const lt_snapshot *s, uint64_t one_pid);

/* Appends a snapshot as a text table, one process a line, with totals. */
void lobs_table_snapshot(lobs_buf *b, const lt_snapshot *s);

/* An HTTP server for a runtime: /metrics always; with `dashboard` also the
 * dashboard page at / and the process API at /api/processes. */
typedef struct lobs_server lobs_server;
typedef struct lobs_server_opts {
    const char *addr;        /* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" */
    const char *default_host;   /* for ":PORT" and "PORT" */
    bool dashboard;
    uint64_t node_id;        /* the node_id label of /metrics */
} lobs_server_opts;

/* Listens on o->addr and serves from a thread of its own. NULL with a
 * one-line reason in err (a bad address, the port in use, ...). */
lobs_server *lobs_server_start(lt_runtime *rt, const lobs_server_opts *o, char *err,
                               size_t errsize);
/* The address it listens on, "HOST:PORT" with the real port (owned by s). */
const char *lobs_server_address(const lobs_server *s);
/* Stops serving, closes every connection, joins the thread, frees s. Call
 * before freeing the runtime. */
void lobs_server_stop(lobs_server *s);

#endif
