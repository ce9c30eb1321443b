/*
 * dist.h - the distribution layer: this runtime as a node of a cluster on
 * the Erlang distribution protocol (ABI.md §3.5). It sits between the
 * process runtime (src/rt, which it calls, and which reaches it only
 * through the hooks of rt/remote.h) and the host API (src/api/distributed.c
 * and the embedding layer call this header). Prefix ld_.
 *
 * A node has a name NAME@HOST, a cookie, and a listening socket registered
 * with EPMD (or a static port). Its own thread (node.c) owns every
 * connection: handshakes (ours, so that we can advertise monitors by name
 * to Erlang nodes), ticks, reads, and the writes that workers queue. Other
 * lunatic nodes and Erlang/Elixir nodes are peers alike; lunatic nodes
 * also exchange a hello (their tags and the peers they know, for a full
 * mesh) and serve remote spawns.
 *
 * Node ids: a node's id (1..65535) is derived from its name and creation
 * (a new random number at each start), so a node that restarts has a new
 * id and a pid of its previous life names no node (ABI.md §3.5).
 *
 * Error convention: as the runtime's (rt/base.h), with a one-line reason
 * in an err buffer where a caller shows it.
 */
#ifndef LUNATIC_DIST_H
#define LUNATIC_DIST_H

#include "rt/base.h"

typedef struct ld_node ld_node;

typedef struct ld_options {
    const char *name;               /* NAME@HOST */
    const char *cookie;             /* NULL: ~/.erlang.cookie (created as Erlang does) */
    const char *const *peers;       /* NAME@HOST or NAME@HOST:PORT, connected at start */
    size_t npeers;
    const char *const *tags;        /* KEY=VALUE, for exec_lookup_nodes */
    size_t ntags;
    unsigned tick_time;             /* seconds; 0 = 60, as Erlang's net_ticktime */
    bool no_epmd;                   /* do not register with EPMD ... */
    unsigned port;                  /* ... and listen on this port (0: any free port) */
    const char *tls_cert, *tls_key, *tls_ca; /* all three: TLS with mutual verification */
} ld_options;

/* Makes rt a node (rt must not have spawned anything yet): registers the
 * name, starts the node's thread, and connects to every peer of o, waiting
 * until each connection is up or has failed. 0, or -1 with a reason in err
 * (a name already taken, EPMD unreachable, a certificate that cannot be
 * loaded, a peer that refused our cookie or certificate). The node lives
 * until lt_runtime_free. */
int ld_start(lt_runtime *rt, const ld_options *o, char *err, size_t errsize);

/* The node rt belongs to, or NULL outside a cluster. */
ld_node *ld_of(const lt_runtime *rt);

/* This node's id (1..65535). */
uint16_t ld_node_id(const ld_node *n);
/* The lunatic nodes of the cluster, this one first, then the connected
 * ones: up to max ids into out; returns how many there are in all. */
uint32_t ld_nodes(ld_node *n, uint64_t *out, uint32_t max);
/* The nodes (this one included) whose tags contain every KEY=VALUE pair
 * of query ("k=v&k2=v2"; empty: all nodes). A new array in *ids (the
 * caller frees it) with *count entries; 0, or -1 (out of memory). */
int ld_lookup(ld_node *n, const char *query, size_t len, uint64_t **ids, uint32_t *count);

/* The registry a process spawned into environment env on this node gets
 * (lunatic run's main process, remote spawns): one per environment, so
 * that an Erlang node can reach names registered there. A new reference,
 * or NULL when out of memory. */
lt_registry *ld_env_registry(ld_node *n, uint64_t env);

/* Sends data message m (owned from then on) from a process of env to pid
 * on node. 0 when queued on the connection to node, -1 when node is not
 * connected (m freed). */
int ld_send(ld_node *n, lt_env *env, uint16_t node, uint64_t pid, lt_signal *m);

/* Whether so much is queued for node that a sender should wait (as
 * Erlang suspends a process that sends on a busy distribution port). */
bool ld_busy(ld_node *n, uint16_t node);

/* Remote spawn (ABI.md §2.10 spawn). ld_spawn_begin sends the request on
 * behalf of p and returns 0 (p then waits, woken for its current wait
 * number when the answer comes), or -1 when node is not connected.
 * ld_spawn_poll tells where it stands: LD_PENDING, or an answer with the
 * pid (LD_OK) or a reason in err. ld_spawn_end forgets p's request (after
 * an answer or when p gives up). */
enum { LD_PENDING = -1, LD_OK = 0, LD_ERR_NODE, LD_ERR_MODULE, LD_ERR_REMOTE, LD_ERR_CONN };
int ld_spawn_begin(ld_node *n, lt_process *p, uint16_t node, const lt_config *c,
                   uint64_t module_id, const char *func, size_t funclen,
                   const uint8_t *params, size_t paramslen);
int ld_spawn_poll(ld_node *n, lt_process *p, uint64_t *pid, char *err, size_t errsize);
void ld_spawn_end(ld_node *n, lt_process *p);

/* A request/reply across nodes (send_receive_skip_search): p waits for
 * a reply from node. ld_watch_begin registers the wait (node-down wakes
 * p), ld_watch_failed tells whether node went down since, ld_watch_end
 * forgets it. ld_watch_begin returns -1 when node is not connected. */
int ld_watch_begin(ld_node *n, lt_process *p, uint16_t node);
bool ld_watch_failed(ld_node *n, lt_process *p);
void ld_watch_end(ld_node *n, lt_process *p);

#endif
