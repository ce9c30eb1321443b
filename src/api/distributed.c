/*
 * distributed.c - lunatic::distributed (ABI.md 2.10) for a node that is not
 * part of a cluster: the queries answer "empty" (no nodes, node id 0,
 * module id 0), and the calls that need a cluster trap with "Distributed
 * is not initialized", as the original does without a control server.
 *
 * The certificate helpers (test_root_cert, default_server_certificates,
 * sign_node) trap too: this runtime has no built-in test CA and no X.509
 * code. Their ABI: a pointer from the guest's lunatic_alloc, the length
 * written at len_ptr (ABI.md 1.3).
 */
#include "api/api.h"

#define NOT_INITIALIZED "Distributed is not initialized"

/* nodes_count() -> i32 */
static int distributed_nodes_count(lw_exec *x, void *env, lw_val *args)
{
    (void)x, (void)env;
    SET_RESULT32(0);
    return LW_OK;
}

/* get_nodes(nodes_ptr, max) -> i32: copies min(nodes, max) u64 ids; there
 * are none, so nothing is written. */
static int distributed_get_nodes(lw_exec *x, void *env, lw_val *args)
{
    (void)x, (void)env;
    SET_RESULT32(0);
    return LW_OK;
}

/* node_id() -> i64 */
static int distributed_node_id(lw_exec *x, void *env, lw_val *args)
{
    (void)x, (void)env;
    SET_RESULT64(0);
    return LW_OK;
}

/* module_id() -> i64: the control-server id of the caller's module */
static int distributed_module_id(lw_exec *x, void *env, lw_val *args)
{
    (void)x, (void)env;
    SET_RESULT64(0);
    return LW_OK;
}

/* exec_lookup_nodes(query_ptr, query_len, query_id_ptr, nodes_len_ptr,
 * error_ptr) -> i32 */
static int distributed_exec_lookup_nodes(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* copy_lookup_nodes_results(i64 query_id, nodes_ptr, max, error_ptr) -> i32:
 * the count copied, or -1 with an error id at error_ptr for an unknown
 * query. Queries come only from exec_lookup_nodes, so none exists here. */
static int distributed_copy_lookup_nodes_results(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    uint64_t query_id = A64(0);
    uint32_t error_ptr = A32(3);
    uint64_t err = lapi_error_new(lt_self(x), "Query %llu doesn't exist", (unsigned long long)query_id);
    if (err == UINT64_MAX)
        return lapi_oom(x, NULL);
    if (lapi_put_u64(x, error_ptr, err) != 0)
        return lapi_trap(x, "lunatic::distributed::copy_lookup_nodes_results: error_ptr out of bounds");
    SET_RESULT32(-1);
    return LW_OK;
}

/* spawn(i64 node_id, i64 config_id, i64 module_id, func_ptr, func_len,
 * params_ptr, params_len, id_ptr) -> i32 */
static int distributed_spawn(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* send(i64 node_id, i64 pid) -> i32 */
static int distributed_send(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* send_receive_skip_search(i64 node_id, i64 pid, i64 wait_tag,
 * i64 timeout_ms) -> i32 */
static int distributed_send_receive_skip_search(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* test_root_cert(len_ptr) -> i32 */
static int distributed_test_root_cert(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* default_server_certificates(ca_cert_ptr, ca_cert_len, ca_key_ptr,
 * ca_key_len, len_ptr) -> i32 */
static int distributed_default_server_certificates(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
}

/* sign_node(ca_cert_ptr, ca_cert_len, ca_key_ptr, ca_key_len, csr_ptr,
 * csr_len, len_ptr) -> i32 */
static int distributed_sign_node(lw_exec *x, void *env, lw_val *args)
{
    (void)env, (void)args;
    return lapi_trap(x, NOT_INITIALIZED);
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
