/* deny.c - `lunatic run --deny net`: no socket and no DNS for the main
 * process, nor for a child it spawns with its own config or with a config
 * it creates (capabilities only narrow). Run as "deny.wasm denied" under
 * --deny net, and as "deny.wasm allowed" without it (the same calls then
 * work, so the first run's failures are the denial's). */
#include "net_test.h"

#define T_REPORT 1

static const char *denied_text = "networking is not permitted for this process";

/* Each call: "1" when it failed with the denial's text, "0" when it
 * worked (the socket closed again), else "?" and what happened. */
static void try_all(char *out, size_t cap)
{
    uint64_t id, err;
    size_t n = 0;
    uint32_t r = lg_tcp_bind(lg_localhost(0), &id, &err);
    n += (size_t)snprintf(out + n, cap - n, "tcp_bind %s ",
                          r == 0 ? "0" : strstr(err_text(err), denied_text) ? "1" : "?");
    if (r == 0)
        lg_tcp_close_listener(id);
    r = lg_tcp_connect(lg_localhost(1), 1000, &id, &err);
    n += (size_t)snprintf(out + n, cap - n, "tcp_connect %s ",
                          r == 0 ? "0" : r == 1 && strstr(err_text(err), denied_text) ? "1" : "x");
    r = lg_udp_bind(lg_localhost(0), &id, &err);
    n += (size_t)snprintf(out + n, cap - n, "udp_bind %s ",
                          r == 0 ? "0" : strstr(err_text(err), denied_text) ? "1" : "?");
    r = lg_resolve("localhost:80", 5000, &id, &err);
    n += (size_t)snprintf(out + n, cap - n, "resolve %s ",
                          r == 0 ? "0" : strstr(err_text(err), denied_text) ? "1" : "?");
    r = lgi_networking_tls_connect("localhost", 9, 1, 1000, &id, NULL, 0);
    snprintf(out + n, cap - n, "tls_connect %s",
             r == 0 ? "0" : r == 1 && strstr(err_text(id), denied_text) ? "1" : "x");
}

LG_EXPORT("child") void child(int64_t parent)
{
    char buf[300];
    try_all(buf, sizeof buf);
    lg_send_str((uint64_t)parent, T_REPORT, buf);
}

static void child_report(int64_t config, char *buf, size_t cap)
{
    uint64_t pid;
    if (lg_spawn_ex(0, config, LG_MINE, "child", LG_ARGS(LG_I64(lg_self())), &pid) != 0 ||
        lg_receive_tag(T_REPORT, 10000) != LG_DATA) {
        snprintf(buf, cap, "(no report)");
        return;
    }
    size_t n = lg_msg_read(buf, cap - 1);
    buf[n] = 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    bool denied = !strcmp(mode, "denied");
    /* tcp_connect to port 1 and tls_connect to port 1 fail either way;
     * "x" marks an ordinary failure there */
    const char *want = denied ? "tcp_bind 1 tcp_connect 1 udp_bind 1 resolve 1 tls_connect 1"
                              : "tcp_bind 0 tcp_connect x udp_bind 0 resolve 0 tls_connect x";
    char buf[300];
    try_all(buf, sizeof buf);
    CHECK(!strcmp(buf, want), "main process: %s", buf);
    child_report(LG_MINE, buf, sizeof buf);
    CHECK(!strcmp(buf, want), "child with the parent's config: %s", buf);
    int64_t c = lg_config_create();
    lg_config_set_can_spawn(c, 0);
    child_report(c, buf, sizeof buf);
    CHECK(!strcmp(buf, want), "child with a config the parent created: %s", buf);
    return finish();
}
