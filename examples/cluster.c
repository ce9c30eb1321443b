/* cluster.c - a lunatic program spread over two nodes, and talking to Erlang
 * (README, "Clusters").
 *
 * Run as the main process of a node that has a peer tagged role=worker:
 *   lunatic node --name b@127.0.0.1 --cookie demo --tag role=worker
 *   lunatic run --name a@127.0.0.1 --cookie demo --peer b@127.0.0.1 cluster.wasm
 *
 * It spawns a worker on the other node, sends it numbers to square, then
 * registers a "greeter" that answers Erlang processes: {hello, From, Bin}
 * gets {lunatic, 1, <<"hello from lunatic, you said: ...">>} back, and
 * {stop} ends the program.
 */
#include "lunatic_guest.h"

/* On the worker node: squares every u64 it gets and sends it back to the
 * sender (given as the parameter: a pid carries its node). */
LG_EXPORT("square")
void square(int64_t parent)
{
    for (;;) {
        lg_receive_any(LG_FOREVER);
        uint64_t v = lg_msg_read_u64();
        lg_msg_create(2, 8);
        lg_msg_write_u64(v * v);
        lg_msg_send_to((uint64_t)parent);
    }
}

/* Answers Erlang processes (see above). */
LG_EXPORT("greeter")
void greeter(int64_t main_pid)
{
    static uint8_t buf[1024];
    for (;;) {
        lg_receive_any(LG_FOREVER);
        size_t n = lg_msg_read(buf, sizeof buf);
        lg_etf r;
        char atom[16];
        if (lg_etf_open(&r, buf, n) < 0 || lg_etf_tuple(&r) < 1 || lg_etf_atom(&r, atom, sizeof atom) < 0)
            continue;
        uint64_t from;
        const uint8_t *said;
        size_t len;
        if (!strcmp(atom, "hello") && lg_etf_pid(&r, &from) == 0 && lg_etf_binary(&r, &said, &len) == 0) {
            char out[300];
            int k = snprintf(out, sizeof out, "hello from lunatic, you said: %.*s", (int)len, said);
            lg_send_to(from, 1, out, (size_t)k);
            lg_printf("greeter: answered %.*s\n", (int)len, said);
        } else if (!strcmp(atom, "stop")) {
            lg_send_to((uint64_t)main_pid, 9, "", 0);
            return;
        }
    }
}

int main(void)
{
    if (!lg_node_id()) {
        lg_printf("not in a cluster: run with --name NAME@HOST\n");
        return 1;
    }
    uint64_t workers[4];
    uint32_t n = 0;
    for (int i = 0; i < 500 && !(n = lg_lookup_nodes("role=worker", workers, 4)); i++)
        lg_sleep_ms(10);
    lg_printf("node %llu: %u nodes in the cluster\n", (unsigned long long)lg_node_id(), lg_nodes_count());
    if (!n) {
        lg_printf("no node tagged role=worker\n");
        return 1;
    }
    uint64_t pid;
    uint32_t r = lg_spawn_on(workers[0], LG_MINE, "square", LG_ARGS(LG_I64(lg_self())), &pid);
    if (r != 0) {
        lg_printf("spawn failed: %u\n", r);
        return 1;
    }
    lg_printf("spawned process %llu on node %llu\n", (unsigned long long)(pid & 0xffffffffffffull),
              (unsigned long long)lg_pid_node(pid));
    for (uint64_t v = 1; v <= 3; v++) {
        lg_msg_create(1, 8);
        lg_msg_write_u64(v * 1111);
        lg_msg_send_to(pid);
        lg_receive_tag(2, 5000);
        lg_printf("%llu squared on the other node: %llu\n", (unsigned long long)(v * 1111),
                  (unsigned long long)lg_msg_read_u64());
    }
    lg_kill(pid);
    uint64_t g = lg_spawn("greeter", LG_ARGS(LG_I64(lg_self())));
    lg_register("greeter", g);
    lg_printf("greeter registered; waiting for Erlang\n");
    lg_receive_tag(9, LG_FOREVER);
    lg_printf("stopped\n");
    return 0;
}
