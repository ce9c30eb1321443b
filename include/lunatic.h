/*
 * lunatic.h - the embedding API of the lunatic runtime.
 *
 * Errors: functions returning int return 0 on success and -1 on failure;
 * functions returning a pointer return NULL; a spawn returns pid 0 (never
 * a valid pid) with a one-line reason in err.
 *
 * A runtime owns worker threads that run processes: Wasm instances spawned
 * from compiled modules, or native processes driven by a C handler. Every
 * process has a pid (unique within its environment), an inbox of signals
 * and a mailbox; processes interact only by messages, links, monitors and
 * kills. The CLI (`lunatic run`) is one user of this API.
 *
 * Ownership: lunatic_module and lunatic_config are refcounted; a spawn
 * retains what it uses, so the caller may release its references at once.
 * Threads: every function may be called from any thread, including from a
 * native handler.
 */
#ifndef LUNATIC_H
#define LUNATIC_H

#include <stddef.h>
#include <stdint.h>

typedef struct lt_runtime lunatic_runtime;
typedef struct lt_module lunatic_module;
typedef struct lt_config lunatic_config;
typedef struct lt_process lunatic_process;

typedef struct lunatic_options {
    unsigned threads;        /* worker threads; 0 = one per core */
    uint64_t reductions;     /* reduction budget per time slice; 0 = default */
} lunatic_options;

/* Starts a runtime and its workers. NULL on failure. If SIGPIPE has its
 * default disposition it is set to ignored (a peer closing a socket must
 * not end the host process). */
lunatic_runtime *lunatic_runtime_new(const lunatic_options *opt);

/* Stops the workers (each finishes the slice it runs), ends every process
 * still alive without notifying anyone, and frees the runtime. No other
 * call on rt may run concurrently or follow. Modules and configs the
 * caller still holds stay valid. */
void lunatic_runtime_free(lunatic_runtime *rt);

/* Stops running processes: each worker finishes the slice it runs, then
 * nothing runs any more; the processes stay until lunatic_runtime_free.
 * For a program that exits without freeing the runtime: call this first,
 * so that exit handlers (e.g. OpenSSL's cleanup) never run beside guest
 * code. Other calls on rt remain valid (a spawned process never runs). */
void lunatic_runtime_stop(lunatic_runtime *rt);

/* Clusters (ABI.md §3.5): makes rt a node of a cluster on the Erlang
 * distribution protocol, named NAME@HOST, before it spawns anything. Its
 * processes can then spawn on, message, link to and monitor processes of
 * other lunatic nodes and of Erlang/Elixir nodes. Connects to every peer
 * given and waits until each is up or its first attempt failed (a peer
 * that is not running yet is retried in the background). 0, or -1 with a
 * one-line reason in err: a name already registered, EPMD unreachable, a
 * certificate that cannot be loaded, a peer that refused our cookie or
 * certificate. The node stops with lunatic_runtime_free. */
typedef struct lunatic_node_options {
    const char *name;                /* NAME@HOST */
    const char *cookie;              /* NULL: ~/.erlang.cookie (made if missing, as Erlang does) */
    const char *const *peers;        /* NAME@HOST, or NAME@HOST:PORT without EPMD */
    size_t npeers;
    const char *const *tags;         /* KEY=VALUE, for lunatic::distributed lookups */
    size_t ntags;
    unsigned tick_time;              /* seconds (Erlang's net_ticktime); 0 = 60 */
    int no_epmd;                     /* do not register with EPMD; listen on port */
    unsigned port;                   /* 0 = any free port */
    const char *tls_cert, *tls_key, *tls_ca; /* PEM files: TLS with mutual verification */
} lunatic_node_options;
int lunatic_node_start(lunatic_runtime *rt, const lunatic_node_options *o, char *err,
                       size_t errsize);

/* Compiles a module and resolves its imports against the host modules
 * (WASI and every lunatic::* module). The bytes are not kept. NULL with a
 * one-line reason in err. The module may be spawned on any runtime. */
lunatic_module *lunatic_module_new(const uint8_t *wasm, size_t len, char *err, size_t errsize);
void lunatic_module_release(lunatic_module *m);
/* Keeps a copy of wasm (what m was compiled from) in m, so that the nodes
 * of a cluster can fetch m to spawn it (lunatic_node_start). Only modules
 * kept so can be spawned on other nodes; a module compiled by a guest in a
 * cluster keeps its bytes by itself. 0, or -1 when out of memory. */
int lunatic_module_keep_bytes(lunatic_module *m, const uint8_t *wasm, size_t len);
/* 0 if m exports a function `name` of type () -> (), else -1 with a
 * one-line reason in err (for a program's entry point, e.g. "_start"). */
int lunatic_module_check_entry(const lunatic_module *m, const char *name, char *err,
                               size_t errsize);
/* The exported functions of m: their number, and the name of the i-th
 * (in export order; not NUL-terminated, *len bytes, owned by m). */
uint32_t lunatic_module_func_exports(const lunatic_module *m);
const char *lunatic_module_func_export(const lunatic_module *m, uint32_t i, size_t *len);

/* A config as `create_config` makes it: no permissions, 4 GiB - 1 memory,
 * no fuel limit, no args, env or preopens. */
lunatic_config *lunatic_config_new(void);
void lunatic_config_release(lunatic_config *c);
void lunatic_config_set_max_memory(lunatic_config *c, uint64_t bytes);
void lunatic_config_set_max_fuel(lunatic_config *c, uint64_t units); /* x100k instructions; 0 = none */
void lunatic_config_set_permissions(lunatic_config *c, int compile, int create_configs, int spawn);
/* 0: the process may not open sockets or resolve names (default 1), nor may
 * any process it spawns or config it creates. */
void lunatic_config_set_network(lunatic_config *c, int allowed);
int lunatic_config_add_arg(lunatic_config *c, const char *arg);
int lunatic_config_add_env(lunatic_config *c, const char *key_eq_value);
int lunatic_config_add_preopen(lunatic_config *c, const char *dir);
/* Preopens the host directory host, which the guest sees as guest (e.g. "/"). */
int lunatic_config_add_preopen_as(lunatic_config *c, const char *host, const char *guest);
/* Redirects the guest's stdout (fd 1) and stderr (fd 2) to host
 * descriptors, e.g. a pipe to capture a test's output; 0 = the host's own
 * fd 1 / 2 (the default). The config keeps duplicates, so the caller may
 * close its descriptors. Every process spawned with the config, and every
 * config a guest creates while running with it, writes there; so do the
 * runtime's failure messages about those processes. 0, or -1 with errno. */
int lunatic_config_set_stdio(lunatic_config *c, int stdout_fd, int stderr_fd);

/* Spawns func(params) of module m as a new process in environment env_id
 * (created on first use). params are i32/i64 values as 64-bit cells in the
 * function's parameter order. Returns the pid, or 0 with a reason in err. */
uint64_t lunatic_spawn(lunatic_runtime *rt, uint64_t env_id, lunatic_module *m,
                       lunatic_config *c, const char *func, const uint64_t *params,
                       uint32_t nparams, char *err, size_t errsize);

/* Native processes. The handler runs on a worker: first with msg == NULL
 * when the process starts, then once per message in its mailbox (data,
 * link-died and process-died messages). It returns LUNATIC_CONTINUE to
 * wait for the next message, LUNATIC_DONE to finish normally or
 * LUNATIC_FAILED to fail (links are then notified with a failure). It must
 * not block. */
enum { LUNATIC_CONTINUE = 0, LUNATIC_DONE = 1, LUNATIC_FAILED = -1 };
enum { LUNATIC_MSG_DATA = 0, LUNATIC_MSG_LINK_DIED = 1, LUNATIC_MSG_PROCESS_DIED = 2 };
typedef struct lunatic_msg {
    int kind;                /* LUNATIC_MSG_* */
    int64_t tag;             /* 0 when the message has no tag */
    uint64_t pid;            /* PROCESS_DIED: the process that died */
    const uint8_t *data;     /* DATA: the bytes (valid during the call) */
    size_t len;
} lunatic_msg;
typedef int (*lunatic_native_fn)(lunatic_process *self, const lunatic_msg *msg, void *ud);

uint64_t lunatic_spawn_native(lunatic_runtime *rt, uint64_t env_id, lunatic_native_fn fn, void *ud);
/* The pid of a native process (inside its handler). */
uint64_t lunatic_process_id(const lunatic_process *self);

/* Signals from outside any process (or from a native handler). A message
 * to a pid that does not exist is dropped, as in the guest ABI. */
int lunatic_send(lunatic_runtime *rt, uint64_t env_id, uint64_t pid, int64_t tag,
                 const void *data, size_t len);
/* Links a and b (both store `tag`, 0 = none); monitor: watcher gets a
 * process-died message when target dies. These three return 0, or -1
 * when out of memory (nothing was done). */
int lunatic_kill(lunatic_runtime *rt, uint64_t env_id, uint64_t pid);
int lunatic_link(lunatic_runtime *rt, uint64_t env_id, uint64_t a, uint64_t b, int64_t tag);
int lunatic_monitor(lunatic_runtime *rt, uint64_t env_id, uint64_t watcher, uint64_t target);
int lunatic_exists(lunatic_runtime *rt, uint64_t env_id, uint64_t pid);

/* Names m for observers (the dashboard, the process table), e.g. after its
 * file; by default a module is "#N", N counting compiles from 1. Call
 * before spawning from m. 0, or -1 when out of memory. */
int lunatic_module_set_name(lunatic_module *m, const char *name);

/* Blocks until pid, spawned by lunatic_spawn or lunatic_spawn_native, has
 * finished, and returns its exit status: 0 for a normal end, its proc_exit
 * code, or LUNATIC_STATUS_FAILED / LUNATIC_STATUS_KILLED. Each process
 * spawned through this API is waited for at most once. */
enum { LUNATIC_STATUS_FAILED = 134, LUNATIC_STATUS_KILLED = 137 };
int lunatic_wait(lunatic_runtime *rt, uint64_t env_id, uint64_t pid);

/* ---- observing a runtime -------------------------------------------------------
 * Metrics (docs/ABI.md §3.3) are process-wide: every runtime adds to the
 * same ones, and guests add their own through lunatic::metrics. */

/* Turns the runtime's own metrics on or off for the whole process (on by
 * default; off, the runtime records none and exporters show only guest
 * metrics). Call before creating runtimes. */
void lunatic_metrics_enable(int on);
/* Every metric in the Prometheus text exposition format 0.0.4, each
 * series labelled node_id="<node_id>". Returns a NUL-terminated string
 * the caller frees, or NULL when out of memory. */
char *lunatic_metrics_prometheus(uint64_t node_id);

/* A snapshot of the live processes: what the dashboard and SIGUSR1 show.
 * Taking one costs the processes nothing but a short hold of the locks
 * that guard their tables (see src/rt/snapshot.h). */
enum { LUNATIC_PROC_RUNNING, LUNATIC_PROC_RUNNABLE, LUNATIC_PROC_WAITING };
enum { LUNATIC_WAIT_NONE, LUNATIC_WAIT_RECEIVE, LUNATIC_WAIT_SLEEP, LUNATIC_WAIT_IO };
typedef struct lunatic_link_info {
    uint64_t pid;
    int64_t tag;                 /* 0: none */
} lunatic_link_info;
typedef struct lunatic_process_info {
    uint64_t env, pid;
    int state;                   /* LUNATIC_PROC_* */
    int wait;                    /* LUNATIC_WAIT_* while waiting */
    int native;                  /* a native process (else Wasm) */
    int detailed;                /* 0: it was running at that instant, and only env, pid,
                                  * state, native, reductions, age, names, module and
                                  * function are known */
    int die_when_link_dies;
    uint32_t ntags;              /* a receive's tag set (0: any message) */
    const int64_t *tags;         /* its first min(ntags, 8) tags */
    int64_t timeout_ms;          /* left of the wait's timeout; -1: none */
    uint32_t mailbox_len;
    uint64_t mailbox_bytes;
    uint64_t memory_bytes;       /* linear memory */
    uint64_t host_bytes;         /* the runtime's own memory for it (an estimate) */
    uint64_t reductions;         /* function calls and loop iterations run */
    uint64_t age_ms;
    uint32_t nlinks, nmonitors, nmonitoring;
    const lunatic_link_info *links;   /* with lists: its links */
    const uint64_t *monitors;         /* with lists: who monitors it */
    const uint64_t *monitoring;       /* with lists: whom it monitors */
    uint32_t nnames;             /* registered names that point at it */
    const char *const *names;    /* the first min(nnames, 8) */
    const char *module;          /* lunatic_module_set_name, or "#N" */
    const char *function;        /* the function it was spawned with; "" if native */
} lunatic_process_info;
typedef struct lunatic_snapshot {
    size_t n;                    /* processes listed, sorted by (env, pid) */
    const lunatic_process_info *procs;
    /* every live process (of env_id, if given) */
    uint64_t total, running, runnable, waiting;
    uint64_t mailbox_len, mailbox_bytes, memory_bytes;
} lunatic_snapshot;
/* Takes a snapshot of environment env_id's processes (0: every
 * environment's), or only of pid (0: all). With lists, links and monitors
 * are listed too. NULL when out of memory; free with lunatic_snapshot_free.
 * Strings and arrays live as long as the snapshot. */
lunatic_snapshot *lunatic_snapshot_new(lunatic_runtime *rt, uint64_t env_id, uint64_t pid,
                                       int lists);
void lunatic_snapshot_free(lunatic_snapshot *s);
/* Writes the process table (one line per process, the first 10,000 pids at
 * most, with totals over all) to fd. 0, or -1 when out of memory. */
int lunatic_print_processes(lunatic_runtime *rt, int fd);

/* An HTTP server observing rt from a thread of its own (never a worker):
 * GET /metrics always; with LUNATIC_SERVE_DASHBOARD also the dashboard at
 * / and the processes as JSON at /api/processes and /api/processes/PID.
 * addr: "HOST:PORT", "[IPV6]:PORT", or ":PORT" / "PORT" for default_host
 * (NULL: 127.0.0.1). NULL with a one-line reason in err. Stop it before
 * freeing rt. */
enum { LUNATIC_SERVE_DASHBOARD = 1 };
typedef struct lunatic_server lunatic_server;
lunatic_server *lunatic_server_start(lunatic_runtime *rt, const char *addr,
                                     const char *default_host, int flags, uint64_t node_id,
                                     char *err, size_t errsize);
/* "HOST:PORT" as bound, with the real port (owned by s). */
const char *lunatic_server_address(const lunatic_server *s);
void lunatic_server_stop(lunatic_server *s);

#endif
