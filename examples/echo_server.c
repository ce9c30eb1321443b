/* echo_server.c - a TCP echo server, one lunatic process per connection.
 *
 * The main process listens and accepts; every connection is handed to a
 * process of its own in a message (the stream moves with it). A client
 * that stalls, resets or floods holds up only its own process. Build:
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I sdk -o echo_server.wasm echo_server.c
 * Run: lunatic run echo_server.wasm [PORT]   (default 7000; 0: any free)
 * Try: nc 127.0.0.1 7000 */
#include <stdlib.h>

#include "lunatic_guest.h"

#define STREAM 1 /* message tag */

/* Echoes one connection until the client closes it. */
LG_EXPORT("connection") void connection(void)
{
    lg_receive_tag(STREAM, LG_FOREVER);
    uint64_t s = lg_msg_take_tcp_stream(lg_msg_read_u64());
    char buf[4096];
    size_t n;
    while (lg_tcp_read(s, buf, sizeof buf, &n, NULL) == LG_OK && n > 0)
        if (lg_tcp_write_all(s, buf, n, NULL) != LG_OK)
            break;
    lg_tcp_close(s);
}

int main(int argc, char **argv)
{
    uint16_t port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 7000);
    uint64_t listener, err;
    if (lg_tcp_bind(lg_localhost(port), &listener, &err) != LG_OK) {
        char why[256];
        lg_error_string(err, why, sizeof why);
        lg_printf("cannot listen on 127.0.0.1:%u: %s\n", port, why);
        return 1;
    }
    lg_printf("echo server on 127.0.0.1:%u\n", lg_tcp_local_port(listener));
    for (;;) {
        uint64_t s;
        if (lg_tcp_accept(listener, &s, NULL, &err) != LG_OK) {
            lg_error_drop(err); /* e.g. out of descriptors: the next accept may work */
            lg_sleep_ms(10);
            continue;
        }
        uint64_t pid = lg_spawn("connection", LG_NOARGS);
        lg_msg_create(STREAM, 8);
        lg_msg_write_u64(lg_msg_push_tcp_stream(s));
        lg_msg_send(pid);
    }
}
