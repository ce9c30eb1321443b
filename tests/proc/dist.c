/* dist.c - lunatic::distributed on a node outside any cluster: node_id 0,
 * nodes_count 0, module_id 0, get_nodes copies nothing; spawn, send,
 * send_receive_skip_search and exec_lookup_nodes trap ("Distributed is not
 * initialized"), killing only the caller; copy_lookup_nodes_results of an
 * unknown query returns -1 with an error id (ABI.md §2.10; lunatic 0.13
 * itself traps there too). */
#include "proc_test.h"

#define T_BEFORE 1
#define T_AFTER 2

LG_EXPORT("try_call")
void try_call(int64_t parent, int32_t which)
{
    uint64_t out = 0, out2 = 0, err = 0, nodes[4];
    uint8_t params[17] = {0x7F};
    lg_send_u64((uint64_t)parent, T_BEFORE, 0);
    uint32_t r = 0;
    switch (which) {
    case 0: r = lgi_distributed_spawn(1, -1, 0, "x", 1, params, 17, &out); break;
    case 1: lg_msg_create(1, 0); r = lgi_distributed_send(1, 1); break;
    case 2: lg_msg_create(1, 0); r = lgi_distributed_send_receive_skip_search(1, 1, 1, 100); break;
    case 3: r = lgi_distributed_exec_lookup_nodes("a=b", 3, &out, &out2, &err); break;
    case 4:
        r = (uint32_t)lgi_distributed_copy_lookup_nodes_results(0, nodes, 4, &err);
        if (r == (uint32_t)-1) {
            char text[128];
            size_t n = lg_error_string(err, text, sizeof text);
            lg_error_drop(err);
            if (n == 0)
                r = 1000; /* an empty error text */
        }
        break;
    }
    lg_send_u64((uint64_t)parent, T_AFTER, r);
}

int main(void)
{
    uint64_t nodes[8] = {0};
    say("node_id %llu\n", (unsigned long long)lg_node_id());
    say("nodes_count %u\n", lg_nodes_count());
    say("module_id %llu\n", (unsigned long long)lg_module_id());
    say("get_nodes %u\n", lg_get_nodes(nodes, 8));
    static const char *names[] = {"spawn", "send", "send_receive_skip_search", "exec_lookup_nodes",
                                  "copy_lookup_nodes_results"};
    for (int i = 0; i < 5; i++) {
        uint64_t c = lg_spawn("try_call", LG_ARGS(LG_I64(lg_self()), LG_I32(i)));
        lg_monitor(c);
        uint32_t k0 = lg_receive_any(10000);
        uint32_t k1 = lg_receive_any(10000);
        if (k1 == LG_PROCESS_DIED) {
            say("%s: %s trapped\n", names[i], k0 == LG_DATA ? "called," : "?");
        } else {
            int32_t r = (int32_t)lg_msg_read_u64();
            say("%s: %s returned %d\n", names[i], k0 == LG_DATA ? "called," : "?", r);
            lg_receive_any(10000);
        }
    }
    say("main still alive\n");
    return 0;
}
