/*
 * distributed.c - lunatic::distributed (ABI.md §2.10) on the distribution
 * layer (src/dist): a runtime started as a node (`lunatic node`, `lunatic
 * run --name`) answers with the cluster it is in; any other is a node
 * outside a cluster, as in the original without a control server: the
 * queries answer "empty" (no nodes, node id 0, module id 0) and the calls
 * that need a cluster trap with "Distributed is not initialized".
 *
 * In a cluster, where the original trapped we return codes: spawn returns
 * 1 (node not found, or the remote spawn failed), 2 (module not found) or
 * 9027 (no answer within 5 s, or the node went down), each with an error
 * id; send returns 1 for a node that is not connected; a request/reply
 * (send_receive_skip_search) to a node that goes down ends at once with
 * 9027.
 *
 * The certificate helpers (test_root_cert, default_server_certificates,
 * sign_node) serve the original's control server, which this runtime does
 * not have: they trap. Their ABI: a pointer from the guest's
 * lunatic_alloc, the length written at len_ptr (ABI.md 1.3).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "dist/dist.h"

#define NOT_INITIALIZED "Distributed is not initialized"
#define SPAWN_TIMEOUT_MS 5000 /* as the original's response timeout */
#define SCAN_BUDGET 2000      /* messages a receive examines per turn (message.c) */

static ld_node *node_of(lw_exec *x) { return ld_of(lt_self(x)->rt); }

/* nodes_count() -> i32: the lunatic nodes of the cluster, this one
 * included (as the original's list from its control server) */
static int distributed_nodes_count(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    ld_node *n = node_of(x);
    SET_RESULT32(n ? ld_nodes(n, NULL, 0) : 0);
    return LW_OK;
}

/* get_nodes(nodes_ptr, max) -> i32: copies min(nodes, max) u64 ids */
static int distributed_get_nodes(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    ld_node *n = node_of(x);
    uint32_t max = A32(1);
    if (!n || !max) {
        SET_RESULT32(0);
        return LW_OK;
    }
    uint64_t buf[64], *ids = buf;
    uint32_t total = ld_nodes(n, buf, 64);
    if (total > 64) {
        if (!(ids = calloc(total, sizeof *ids)))
            return lapi_oom(x, NULL);
        total = ld_nodes(n, ids, total);
    }
    uint32_t k = total < max ? total : max;
    uint8_t *dst = lapi_mem(x, A32(0), (uint64_t)k * 8);
    if (dst)
        memcpy(dst, ids, (size_t)k * 8);
    if (ids != buf)
        free(ids);
    if (!dst)
        return lapi_trap(x, "get_nodes: buffer out of bounds");
    SET_RESULT32(k);
    return LW_OK;
}

/* node_id() -> i64 */
static int distributed_node_id(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    ld_node *n = node_of(x);
    SET_RESULT64(n ? ld_node_id(n) : 0);
    return LW_OK;
}

/* module_id() -> i64: the content hash of the caller's module, the same
 * on every node */
static int distributed_module_id(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    SET_RESULT64(node_of(x) && p->module ? p->module->hash : 0);
    return LW_OK;
}

/* A finished lookup: its node ids (a resource of the process). */
typedef struct lookup {
    uint32_t count;
    uint64_t *ids;
} lookup;

static void lookup_free(void *v)
{
    lookup *l = v;
    free(l->ids);
    free(l);
}

/* exec_lookup_nodes(query_ptr, query_len, query_id_ptr, nodes_len_ptr,
 * error_ptr) -> i32: the nodes whose --tag KEY=VALUE pairs include every
 * pair of the query ("k=v&k2=v2"); 0 with the query id and the count as a
 * u32 (decision 2) */
static int distributed_exec_lookup_nodes(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    ld_node *n = node_of(x);
    if (!n)
        return lapi_trap(x, NOT_INITIALIZED);
    const char *q = lapi_str(x, A32(0), A32(1));
    if (!q)
        return LW_TRAP;
    if (!lapi_mem(x, A32(2), 8) || !lapi_mem(x, A32(3), 4) || !lapi_mem(x, A32(4), 8))
        return lapi_trap(x, "exec_lookup_nodes: pointer out of bounds");
    lookup *l = calloc(1, sizeof *l);
    lt_idtab *t = lt_process_restab(p, LT_RK_LOOKUP, lookup_free);
    uint64_t id;
    if (!l || !t || ld_lookup(n, q, A32(1), &l->ids, &l->count) < 0) {
        free(l);
        return lapi_oom(x, NULL);
    }
    if (lt_idtab_add(t, l, &id) < 0) {
        lookup_free(l);
        return lapi_oom(x, NULL);
    }
    lapi_put_u64(x, A32(2), id);
    lapi_put_u32(x, A32(3), l->count);
    SET_RESULT32(LAPI_OK);
    return LW_OK;
}

/* copy_lookup_nodes_results(i64 query_id, nodes_ptr, max, error_ptr) -> i32:
 * the count copied (the query is consumed), or -1 with an error id at
 * error_ptr for an unknown query */
static int distributed_copy_lookup_nodes_results(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    uint64_t query_id = A64(0);
    uint32_t max = A32(2);
    lookup *l = p->res ? lt_idtab_get(&p->res->tab[LT_RK_LOOKUP], query_id) : NULL;
    if (!l) {
        uint64_t err = lapi_error_new(p, "Query %llu doesn't exist", (unsigned long long)query_id);
        if (err == UINT64_MAX)
            return lapi_oom(x, NULL);
        if (lapi_put_u64(x, A32(3), err) != 0)
            return lapi_trap(x, "lunatic::distributed::copy_lookup_nodes_results: error_ptr out of bounds");
        SET_RESULT32(-1);
        return LW_OK;
    }
    uint32_t k = l->count < max ? l->count : max;
    uint8_t *dst = lapi_mem(x, A32(1), (uint64_t)k * 8);
    if (!dst)
        return lapi_trap(x, "copy_lookup_nodes_results: buffer out of bounds");
    memcpy(dst, l->ids, (size_t)k * 8);
    lookup_free(lt_idtab_take(&p->res->tab[LT_RK_LOOKUP], query_id));
    SET_RESULT32(k);
    return LW_OK;
}

/* An error code with an error id at ptr. */
static int fail_with(lw_exec *x, lw_val *args, uint32_t ptr, uint32_t code, const char *what)
{
    uint64_t err = lapi_error_new(lt_self(x), "%s", what);
    if (err == UINT64_MAX)
        return lapi_oom(x, NULL);
    lapi_put_u64(x, ptr, err);
    SET_RESULT32(code);
    return LW_OK;
}

/* spawn(i64 node_id, i64 config_id, i64 module_id, func_ptr, func_len,
 * params_ptr, params_len, id_ptr) -> i32: blocks until the node answers
 * (at most 5 s). 0 with the pid (its node id in the top bits), or 1, 2,
 * 9027 with an error id. */
static int distributed_spawn(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    ld_node *n = node_of(x);
    if (!n)
        return lapi_trap(x, NOT_INITIALIZED);
    uint64_t node = A64(0), config_id = A64(1), module_id = A64(2);
    uint32_t id_ptr = A32(7);
    if (!lapi_mem(x, id_ptr, 8))
        return lapi_trap(x, "spawn: id pointer out of bounds");
    if (!p->wait_started) {
        /* the first entry: check, send the request, wait for the answer */
        if (!p->config->can_spawn)
            return lapi_trap(x, "spawn: the process may not spawn processes");
        if (!p->started)
            return lapi_trap(x, "spawn: called from the start section");
        const lt_config *c = config_id == UINT64_MAX ? p->config : lt_idtab_get(&p->configs, config_id);
        if (!c)
            return lapi_trap(x, "spawn: unknown config id");
        const char *func = lapi_str(x, A32(3), A32(4));
        if (!func)
            return LW_TRAP;
        const uint8_t *params = lapi_mem(x, A32(5), A32(6));
        if (!params)
            return lapi_trap(x, "spawn: parameters out of bounds");
        /* capabilities only narrow, as for process::spawn: a config the
         * process made grants nothing it lacks (its preopens are checked
         * against the spawner's on this node); the request caps memory,
         * fuel and networking by the spawner's config (dist/spawn.c) */
        char why[400];
        if (c != p->config && lt_config_check_within(p->config, c, why, sizeof why) < 0) {
            char what[440];
            snprintf(what, sizeof what, "spawn refused: %s", why);
            return fail_with(x, args, id_ptr, LAPI_ERR, what);
        }
        lapi_wait_begin(p, SPAWN_TIMEOUT_MS);
        if (node > 0xffff || node == ld_node_id(n) ||
            ld_spawn_begin(n, p, (uint16_t)node, c, module_id, func, A32(4), params, A32(6)) < 0) {
            char what[96];
            lapi_wait_end(p);
            snprintf(what, sizeof what, "Node %llu not found", (unsigned long long)node);
            return fail_with(x, args, id_ptr, LAPI_ERR, what);
        }
        return LW_SUSPEND;
    }
    uint64_t pid;
    char err[200];
    int r = ld_spawn_poll(n, p, &pid, err, sizeof err);
    if (r == LD_PENDING && !lapi_wait_expired(p))
        return LW_SUSPEND;
    ld_spawn_end(n, p);
    lapi_wait_end(p);
    switch (r) {
    case LD_OK:
        lapi_put_u64(x, id_ptr, pid);
        SET_RESULT32(LAPI_OK);
        return lt_charge(p, 1000);
    case LD_PENDING:
        return fail_with(x, args, id_ptr, LAPI_TIMEOUT, "Response timeout.");
    case LD_ERR_MODULE:
        return fail_with(x, args, id_ptr, 2, err[0] ? err : "Module not found");
    case LD_ERR_CONN:
        return fail_with(x, args, id_ptr, LAPI_TIMEOUT, err[0] ? err : "Connection error");
    default:
        return fail_with(x, args, id_ptr, LAPI_ERR, err[0] ? err : "Remote spawn failed");
    }
}

/* The scratch message, taken for a send; NULL after a trap. */
static lt_signal *take_scratch(lw_exec *x, const char *fn)
{
    lt_process *p = lt_self(x);
    lt_signal *m = p->scratch;
    if (!m) {
        lapi_trapf(x, "%s: no message in the scratch area", fn);
        return NULL;
    }
    if (m->msgkind != LT_MSG_DATA) {
        lapi_trapf(x, "%s: the scratch message is not a data message", fn);
        return NULL;
    }
    if (m->nres) {
        lapi_trapf(x, "%s: a message with resources cannot go to another node", fn);
        return NULL;
    }
    p->scratch = NULL;
    /* the receiver's (lt_send), or the node's send queue's, bounded by
     * ld_busy */
    lt_account_release(&p->acct, lt_signal_bytes(m));
    m->read_ptr = 0;
    return m;
}

/* Sends m to pid on node (this node's id: a local send). 0, or -1 for a
 * node that is not connected. */
static int send_to(ld_node *n, lt_process *p, uint64_t node, uint64_t pid, lt_signal *m)
{
    if (node == ld_node_id(n)) {
        lt_send(p->env, pid, m);
        return 0;
    }
    if (node > 0xffff) {
        lt_signal_free(m);
        return -1;
    }
    return ld_send(n, p->env, (uint16_t)node, pid, m);
}

/* send(i64 node_id, i64 pid) -> i32: 0 once queued (delivery is
 * best-effort), 1 when the node is not connected. While more than 16 MiB
 * wait for that node's connection the caller waits (polling every
 * millisecond), so a fast sender cannot fill this node's memory. */
static int distributed_send(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    ld_node *n = node_of(x);
    if (!n)
        return lapi_trap(x, NOT_INITIALIZED);
    if (A64(0) <= 0xffff && ld_busy(n, (uint16_t)A64(0))) {
        if (!p->scratch)
            return lapi_trap(x, "send: no message in the scratch area");
        if (p->wait_started)
            lapi_wait_end(p);
        lapi_wait_begin(p, 1);
        return LW_SUSPEND;
    }
    if (p->wait_started)
        lapi_wait_end(p);
    lt_signal *m = take_scratch(x, "send");
    if (!m)
        return LW_TRAP;
    SET_RESULT32(send_to(n, lt_self(x), A64(0), A64(1), m) < 0 ? LAPI_ERR : LAPI_OK);
    return LW_OK;
}

/* send_receive_skip_search(i64 node_id, i64 pid, i64 wait_tag,
 * i64 timeout_ms) -> i32: a send, then the wait of
 * message::send_receive_skip_search for a reply tagged wait_tag. 0: the
 * reply is in the scratch area; 9027: timeout, or the node is not
 * connected or went down. */
static int distributed_send_receive_skip_search(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    lt_process *p = lt_self(x);
    ld_node *n = node_of(x);
    if (!n)
        return lapi_trap(x, NOT_INITIALIZED);
    uint64_t node = A64(0), timeout = A64(3);
    bool remote = node != ld_node_id(n);
    if (lapi_wait_begin(p, timeout)) {
        lt_signal *m = take_scratch(x, "send_receive_skip_search");
        if (!m) {
            lapi_wait_end(p);
            return LW_TRAP;
        }
        lt_mailbox_scan_from_tail(&p->mailbox);
        if (remote && (node > 0xffff || ld_watch_begin(n, p, (uint16_t)node) < 0)) {
            lt_signal_free(m);
            lapi_wait_end(p);
            SET_RESULT32(LAPI_TIMEOUT); /* no such node: it cannot answer */
            return LW_OK;
        }
        if (send_to(n, p, node, A64(1), m) < 0) {
            ld_watch_end(n, p);
            lapi_wait_end(p);
            SET_RESULT32(LAPI_TIMEOUT);
            return LW_OK;
        }
    }
    uint8_t tag[8];
    memcpy(tag, &args[2], 8);
    /* the mailbox scan is charged and bounded as message.c's receive */
    uint32_t budget = SCAN_BUDGET;
    lt_signal *m = lt_mailbox_take_match(&p->mailbox, tag, 1, &budget);
    int slice = lt_charge(p, SCAN_BUDGET - budget);
    if (!m && budget == 0)
        return lt_again(p);
    if (!m && timeout != 0 && !lapi_wait_expired(p) && !(remote && ld_watch_failed(n, p)))
        return LW_SUSPEND;
    if (remote)
        ld_watch_end(n, p);
    lapi_wait_end(p);
    if (!m) {
        SET_RESULT32(LAPI_TIMEOUT);
        return LW_OK;
    }
    /* from the mailbox to the scratch area (account.h: delivered, then own) */
    m->read_ptr = 0;
    lt_account_adopt(&p->acct, lt_signal_bytes(m));
    lapi_scratch_set(p, m);
    SET_RESULT32(0);
    return slice;
}

/* test_root_cert(len_ptr) -> i32 */
static int distributed_test_root_cert(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, "test_root_cert: this runtime has no control server certificates");
}

/* default_server_certificates(ca_cert_ptr, ca_cert_len, ca_key_ptr,
 * ca_key_len, len_ptr) -> i32 */
static int distributed_default_server_certificates(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, "default_server_certificates: this runtime has no control server");
}

/* sign_node(ca_cert_ptr, ca_cert_len, ca_key_ptr, ca_key_len, csr_ptr,
 * csr_len, len_ptr) -> i32 */
static int distributed_sign_node(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, "sign_node: this runtime has no control server");
}

#define M "lunatic::distributed"
const lw_host_func_def lapi_distributed_defs[] = {
    {M, "nodes_count", ":i", distributed_nodes_count},
    {M, "get_nodes", "ii:i", distributed_get_nodes},
    {M, "node_id", ":I", distributed_node_id},
    {M, "module_id", ":I", distributed_module_id},
    {M, "exec_lookup_nodes", "iiiii:i", distributed_exec_lookup_nodes},
    {M, "copy_lookup_nodes_results", "Iiii:i", distributed_copy_lookup_nodes_results},
    {M, "spawn", "IIIiiiii:i", distributed_spawn},
    {M, "send", "II:i", distributed_send},
    {M, "send_receive_skip_search", "IIII:i", distributed_send_receive_skip_search},
    {M, "test_root_cert", "i:i", distributed_test_root_cert},
    {M, "default_server_certificates", "iiiii:i", distributed_default_server_certificates},
    {M, "sign_node", "iiiiiii:i", distributed_sign_node},
};
const size_t lapi_distributed_count = sizeof lapi_distributed_defs / sizeof lapi_distributed_defs[0];
#undef M
