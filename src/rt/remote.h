/*
 * remote.h - pids of processes on other nodes, and the hooks through which
 * the distribution layer (src/dist, above this one) carries signals to
 * them. The runtime never includes that layer: it installs a table of
 * callbacks here, and the runtime calls them.
 *
 * A pid is a u64 (ABI.md §3.5, "Pids across nodes"): the top 16 bits hold
 * the id of the node the process lives on, the low 48 bits its number in
 * its environment there (counting from 1). Outside a cluster the node bits
 * are 0. Inside one, this node's processes carry this node's id in those
 * bits (so a pid handed to another node still names its process there),
 * and a pid given with node bits 0 means a process of this node. Any other
 * node bits name a remote process: lt_send and the link and monitor
 * functions hand signals for it to route().
 */
#ifndef LUNATIC_RT_REMOTE_H
#define LUNATIC_RT_REMOTE_H

#include "rt/base.h"

#define LT_PID_NODE_SHIFT 48
#define LT_PID_NODE_MASK (0xffffull << LT_PID_NODE_SHIFT)
#define LT_PID_LOCAL_MASK (~LT_PID_NODE_MASK)

/* The node id (0 = this node, outside a cluster) in a pid. */
static inline uint16_t lt_pid_node(uint64_t pid) { return (uint16_t)(pid >> LT_PID_NODE_SHIFT); }

typedef struct lt_remote_ops {
    /* Takes s (ownership) for pid, a process of another node, sent from
     * environment env. 0 when it was handed to a connection to that node
     * (delivery stays best-effort, as for local pids); -1 when no such
     * node is known (s freed): as for a local pid that does not exist, a
     * link gets LinkDied and a monitor ProcessDied at once. Called on the
     * sender's thread (a worker, the poller, or the distribution layer's
     * own), without runtime locks held. */
    int (*route)(void *ud, lt_env *env, uint64_t pid, lt_signal *s);
    /* A process that had a link or monitor across nodes (lt_process.remote)
     * ended: its remote monitors can be cancelled. Called from the dying
     * process's worker after it sent its LinkDied and ProcessDied signals. */
    void (*exited)(void *ud, lt_env *env, uint64_t pid);
    /* lt_runtime_free, before the workers stop: no more signals may come
     * in from other nodes (route may still be called, and drops them). */
    void (*stop)(void *ud);
    /* lt_runtime_free, after the workers and the poller stopped: free
     * everything. */
    void (*free)(void *ud);
    /* An idle worker's poll, at each round of its spinning and yielding
     * before it sleeps: reads what came in from other nodes without
     * waiting, so the receivers run on this worker at once, where waking
     * the layer's own thread would cost a context switch per message.
     * `first`: its first poll since it last ran a process or slept. true
     * if it found something. Never blocks; may be NULL. */
    bool (*idle)(void *ud, bool first);
    /* The worker stops polling: it found a process to run, or (sleeping)
     * it goes to sleep. Called once after the first of a series of idle
     * calls. */
    void (*idle_end)(void *ud, bool sleeping);
} lt_remote_ops;

/* Makes rt a node of a cluster with this node id (1..65535): its
 * processes get pids with that id in their node bits, and signals for
 * other nodes go to ops (a table that must outlive rt). Must be called
 * before the first process is spawned. 0, or -1 (a process already
 * exists, or the id is 0). */
int lt_remote_install(lt_runtime *rt, uint16_t node_id, const lt_remote_ops *ops, void *ud);

#endif
