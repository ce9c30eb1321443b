/*
 * tcp.c - TCP under lunatic: `tcp.wasm TEST [ARGS]`, one test per run
 * (tests/t-net.sh runs them, each with a time limit):
 *   echo N      an echo server, one process per connection (the accepted
 *               stream moves to it in a message), and N client processes
 *   busy        the same with 10 clients while 16 processes spin: sockets
 *               are still served when no worker is idle
 *   peek        tcp_peek never consumes
 *   move        a stream cloned, a clone moved to another process and used
 *               there, the other dropped
 *   timeouts    read, peek and write timeouts; the getters and setters
 *   connect-timeout PORT   connect to a listener that never accepts
 *   errors      refused connections, addresses in use, IPv6, peer addresses
 *   cycles N    N connect/accept/close cycles (the script counts our fds)
 *   emfile N    N connections under a small `ulimit -n`: errors, no crash
 *   server      an echo server for the misbehaving native peers of
 *               tests/net/peer.c: prints its port, then one line per
 *               connection as it ends
 */
#include "net_test.h"

/* ---- an echo server -------------------------------------------------------- */

/* Echoes one connection, whose stream arrives in a message, until EOF;
 * reports "N bytes, <how it ended>" to parent. */
LG_EXPORT("echo_conn") void echo_conn(uint64_t parent)
{
    lg_receive_tag(1, LG_FOREVER);
    uint64_t s = lg_msg_take_tcp_stream(lg_msg_read_u64());
    char buf[4096], how[300] = "eof";
    size_t total = 0;
    for (;;) {
        size_t n;
        uint64_t err;
        uint32_t r = lg_tcp_read(s, buf, sizeof buf, &n, &err);
        if (r != LG_OK) {
            snprintf(how, sizeof how, "read error: %s", r == LG_TIMEOUT ? "timeout" : err_text(err));
            break;
        }
        if (n == 0)
            break;
        total += n;
        if (lg_tcp_write_all(s, buf, n, &err) != LG_OK) {
            snprintf(how, sizeof how, "write error: %s", err_text(err));
            break;
        }
    }
    lg_tcp_close(s);
    char line[400];
    snprintf(line, sizeof line, "%zu bytes, %s", total, how);
    lg_send_str(parent, 9, line);
}

/* ---- clients ---------------------------------------------------------------- */

LG_EXPORT("client") void client(uint64_t parent, int32_t port, int32_t id)
{
    uint64_t s, err;
    char msg[64], back[64];
    int len = snprintf(msg, sizeof msg, "hello from client %d", id);
    const char *res = "ok";
    if (lg_tcp_connect(lg_localhost((uint16_t)port), 10000, &s, &err) != LG_OK) {
        res = "connect failed";
    } else {
        for (int round = 0; round < 3 && !strcmp(res, "ok"); round++) {
            if (lg_tcp_write_all(s, msg, (size_t)len, NULL) != LG_OK)
                res = "write failed";
            else if (read_n(s, back, (size_t)len) != (size_t)len || memcmp(back, msg, (size_t)len))
                res = "echo differs";
        }
        lg_tcp_close(s);
    }
    lg_send_str(parent, 5, res);
}

static void test_echo(int n)
{
    /* listeners cannot move between processes: the server binds its own */
    uint64_t me = lg_self();
    uint64_t acc = lg_spawn("echo_server", LG_ARGS(LG_I64(me)));
    if (lg_receive_tag(3, 10000) != LG_DATA) {
        CHECK(0, "echo server started");
        return;
    }
    int port = (int)lg_msg_read_u64();
    uint64_t t0 = now_ms();
    for (int i = 0; i < n; i++)
        lg_spawn("client", LG_ARGS(LG_I64(me), LG_I32(port), LG_I32(i)));
    int ok = 0, done = 0, reports = 0;
    char buf[400];
    while (done < n) {
        if (lg_receive_tag(5, 30000) != LG_DATA)
            break;
        lg_msg_read_str(buf, sizeof buf);
        done++;
        ok += !strcmp(buf, "ok");
    }
    CHECK(ok == n, "echo: %d of %d clients got their bytes back, 3 rounds each (%llu ms)", ok, n,
          (unsigned long long)(now_ms() - t0));
    /* every connection process reports how its connection ended */
    int clean = 0;
    while (reports < n && lg_receive_tag(9, 10000) == LG_DATA) {
        lg_msg_read_str(buf, sizeof buf);
        reports++;
        clean += strstr(buf, ", eof") != NULL;
    }
    CHECK(clean == n, "echo: %d of %d connection processes saw a clean end of stream", clean, n);
    lg_kill(acc);
}

LG_EXPORT("spinner") void spinner(void)
{
    for (volatile uint64_t x = 0;; x++)
        ;
}

/* Idle workers take ready fds in the poller thread's place
 * (lt_poller_idle); with every worker running a process that never
 * waits, the poller thread must serve them again. */
static void test_busy(void)
{
    uint64_t spin[16];
    for (int i = 0; i < 16; i++)
        spin[i] = lg_spawn("spinner", NULL, 0);
    lg_sleep_ms(100);
    test_echo(10);
    for (int i = 0; i < 16; i++)
        lg_kill(spin[i]);
}

/* The server of test_echo: binds, tells parent the port, then accepts. */
LG_EXPORT("echo_server") void echo_server(uint64_t parent)
{
    uint64_t l, err;
    if (lg_tcp_bind(lg_localhost(0), &l, &err) != LG_OK) {
        lg_printf("FAIL bind: %s\n", err_text(err));
        exit(1);
    }
    lg_send_u64(parent, 3, lg_tcp_local_port(l));
    for (;;) {
        uint64_t s, err;
        if (lg_tcp_accept(l, &s, NULL, &err) != LG_OK) {
            lg_printf("accept error: %s\n", err_text(err));
            continue;
        }
        uint64_t h = lg_spawn("echo_conn", LG_ARGS(LG_I64(parent)));
        lg_msg_create(1, 8);
        lg_msg_write_u64(lg_msg_push_tcp_stream(s));
        lg_msg_send(h);
    }
}

/* A connected pair of streams on our own listener: *a (client side),
 * *b (server side). */
static void pair(uint64_t *a, uint64_t *b)
{
    uint64_t l, err;
    if (lg_tcp_bind(lg_localhost(0), &l, &err) != LG_OK) {
        lg_printf("FAIL bind: %s\n", err_text(err));
        exit(1);
    }
    uint16_t port = lg_tcp_local_port(l);
    if (lg_tcp_connect(lg_localhost(port), 5000, a, &err) != LG_OK) {
        lg_printf("FAIL connect: %s\n", err_text(err));
        exit(1);
    }
    lg_addr peer;
    if (lg_tcp_accept(l, b, &peer, &err) != LG_OK) {
        lg_printf("FAIL accept: %s\n", err_text(err));
        exit(1);
    }
    lg_tcp_close_listener(l);
}

static void test_peek(void)
{
    uint64_t a, b;
    pair(&a, &b);
    lg_tcp_write_all(a, "hello", 5, NULL);
    char buf[16] = {0};
    uint64_t n;
    uint32_t r = lgi_networking_tcp_peek(b, buf, 5, &n);
    CHECK(r == LG_OK && n == 5 && !memcmp(buf, "hello", 5), "peek sees the bytes");
    memset(buf, 0, sizeof buf);
    r = lgi_networking_tcp_peek(b, buf, 5, &n);
    CHECK(r == LG_OK && n == 5 && !memcmp(buf, "hello", 5), "a second peek sees them again");
    lgi_networking_set_peek_timeout(b, 100);
    r = lgi_networking_tcp_peek(b, buf, 5, &n);
    CHECK(r == LG_OK && n == 5, "a peek with a timeout does not consume either (decision 3)");
    size_t got;
    memset(buf, 0, sizeof buf);
    r = lg_tcp_read(b, buf, sizeof buf, &got, NULL);
    CHECK(r == LG_OK && got == 5 && !memcmp(buf, "hello", 5), "the read gets them");
    lgi_networking_set_read_timeout(b, 50);
    r = lg_tcp_read(b, buf, sizeof buf, &got, NULL);
    CHECK(r == LG_TIMEOUT, "and then nothing is left (read timed out: %u)", r);
    lg_tcp_close(a);
    lg_tcp_close(b);
}

/* Takes a stream from a message, reads a line, answers, reports. */
LG_EXPORT("mover") void mover(uint64_t parent)
{
    lg_receive_tag(1, LG_FOREVER);
    uint64_t s = lg_msg_take_tcp_stream(lg_msg_read_u64());
    char buf[32] = {0};
    size_t n = read_n(s, buf, 4);
    lg_tcp_write_all(s, "pong", 4, NULL);
    lg_tcp_close(s);
    lg_send_str(parent, 2, n == 4 && !memcmp(buf, "ping", 4) ? "got ping" : "got nothing");
}

static void test_move(void)
{
    uint64_t a, b;
    pair(&a, &b);
    uint64_t c = lgi_networking_clone_tcp_stream(b);
    CHECK(c != b, "a clone is another handle (%llu, %llu)", (unsigned long long)b, (unsigned long long)c);
    uint64_t m = lg_spawn("mover", LG_ARGS(LG_I64(lg_self())));
    lg_msg_create(1, 8);
    lg_msg_write_u64(lg_msg_push_tcp_stream(c));
    lg_msg_send(m);
    /* the clone left with the message: its id is gone from our table, and
     * dropping our other handle does not close the connection */
    lg_tcp_close(b);
    lg_tcp_write_all(a, "ping", 4, NULL);
    char buf[8] = {0};
    CHECK(read_n(a, buf, 4) == 4 && !memcmp(buf, "pong", 4), "the moved clone answers");
    char rep[32];
    lg_receive_tag(2, 5000);
    lg_msg_read_str(rep, sizeof rep);
    CHECK(!strcmp(rep, "got ping"), "the other process read it: %s", rep);
    size_t n;
    CHECK(lg_tcp_read(a, buf, sizeof buf, &n, NULL) == LG_OK && n == 0,
          "the last handle's drop closed the connection (EOF)");
    lg_tcp_close(a);
}

/* Accepts one connection and keeps it open without reading or writing. */
LG_EXPORT("silent") void silent(uint64_t parent)
{
    uint64_t l, s, err;
    lg_tcp_bind(lg_localhost(0), &l, &err);
    lg_send_u64(parent, 3, lg_tcp_local_port(l));
    lg_tcp_accept(l, &s, NULL, &err);
    lg_receive_tag(99, LG_FOREVER);
}

static void test_timeouts(void)
{
    uint64_t me = lg_self();
    uint64_t srv = lg_spawn("silent", LG_ARGS(LG_I64(me)));
    lg_receive_tag(3, 5000);
    uint16_t port = (uint16_t)lg_msg_read_u64();
    uint64_t s, err;
    CHECK(lg_tcp_connect(lg_localhost(port), 5000, &s, &err) == LG_OK, "connected to a silent peer");
    CHECK(lgi_networking_get_read_timeout(s) == UINT64_MAX, "no read timeout at first");
    lgi_networking_set_read_timeout(s, 100);
    lgi_networking_set_write_timeout(s, 150);
    lgi_networking_set_peek_timeout(s, 70);
    CHECK(lgi_networking_get_read_timeout(s) == 100 && lgi_networking_get_write_timeout(s) == 150 &&
              lgi_networking_get_peek_timeout(s) == 70,
          "timeouts read back");
    uint64_t c = lgi_networking_clone_tcp_stream(s);
    CHECK(lgi_networking_get_read_timeout(c) == 100, "a clone shares them");
    char buf[64];
    uint64_t t0 = now_ms();
    size_t n;
    uint32_t r = lg_tcp_read(s, buf, sizeof buf, &n, NULL);
    uint64_t dt = now_ms() - t0;
    CHECK(r == LG_TIMEOUT && dt >= 95 && dt < 2000, "read times out (%u after %llu ms)", r,
          (unsigned long long)dt);
    t0 = now_ms();
    uint64_t pn;
    r = lgi_networking_tcp_peek(s, buf, sizeof buf, &pn);
    dt = now_ms() - t0;
    CHECK(r == LG_TIMEOUT && dt >= 65 && dt < 2000, "peek times out (%u after %llu ms)", r,
          (unsigned long long)dt);
    /* the peer never reads: writes fill the buffers, then time out */
    static char big[65536];
    uint64_t sent = 0, v;
    t0 = now_ms();
    for (;;) {
        uint32_t iov[2] = {(uint32_t)(uintptr_t)big, sizeof big};
        r = lgi_networking_tcp_write_vectored(s, iov, 1, &v);
        if (r != LG_OK)
            break;
        sent += v;
        if (now_ms() - t0 > 20000)
            break;
    }
    CHECK(r == LG_TIMEOUT && sent > 0, "write times out once the peer's buffers are full (%u after %llu bytes)",
          r, (unsigned long long)sent);
    lgi_networking_set_read_timeout(s, UINT64_MAX);
    CHECK(lgi_networking_get_read_timeout(c) == UINT64_MAX, "u64::MAX clears it");
    lg_tcp_close(c);
    lg_tcp_close(s);
    lg_kill(srv);
}

static void test_connect_timeout(uint16_t port)
{
    /* The native peer listens with a backlog of 1 and never accepts: the
     * first connections fill its queue, the next ones hang in SYN-SENT. */
    int timeouts = 0, other = 0;
    uint64_t streams[16];
    int ns = 0;
    for (int i = 0; i < 8 && timeouts == 0; i++) {
        uint64_t s, err;
        uint64_t t0 = now_ms();
        uint32_t r = lg_tcp_connect(lg_localhost(port), 200, &s, &err);
        uint64_t dt = now_ms() - t0;
        if (r == LG_OK)
            streams[ns++] = s;
        else if (r == LG_TIMEOUT && dt >= 190)
            timeouts++;
        else
            other++;
    }
    CHECK(timeouts == 1 && other == 0, "connect times out at a peer that never answers (%d queued first)",
          ns);
    for (int i = 0; i < ns; i++)
        lg_tcp_close(streams[i]);
}

static void test_errors(void)
{
    uint64_t l, s, err;
    /* a port nobody listens on: bind one, close it, connect */
    lg_tcp_bind(lg_localhost(0), &l, NULL);
    uint16_t port = lg_tcp_local_port(l);
    uint64_t l2;
    uint32_t r = lg_tcp_bind(lg_localhost(port), &l2, &err);
    const char *t = r == LG_ERROR ? err_text(err) : "";
    CHECK(r == LG_ERROR && strstr(t, "Address already in use (os error 98)"), "bind to a port in use: %s", t);
    lg_tcp_close_listener(l);
    r = lg_tcp_connect(lg_localhost(port), 5000, &s, &err);
    t = r == LG_ERROR ? err_text(err) : "";
    CHECK(r == LG_ERROR && strstr(t, "Connection refused (os error 111)"), "connect refused: %s", t);
    /* IPv6 loopback, when the host has it */
    lg_addr v6 = {.type = 6, .ip = {[15] = 1}};
    r = lg_tcp_bind(v6, &l, &err);
    if (r == LG_OK) {
        uint16_t p6 = lg_tcp_local_port(l);
        v6.port = p6;
        uint64_t c = 0, a = 0;
        lg_addr peer;
        CHECK(lg_tcp_connect(v6, 5000, &c, NULL) == LG_OK && lg_tcp_accept(l, &a, &peer, NULL) == LG_OK &&
                  peer.type == 6 && peer.ip[15] == 1,
              "IPv6: connect to [::1]:%u, the peer address is v6", p6);
        uint64_t it;
        CHECK(lgi_networking_tcp_peer_addr(c, &it) == LG_OK && lg_dns_first(it).port == p6,
              "tcp_peer_addr gives the server's port");
        lg_tcp_close(c);
        lg_tcp_close(a);
        lg_tcp_close_listener(l);
    } else {
        lg_printf("ok   IPv6 not available here: %s\n", err_text(err));
    }
    /* an address type that is neither 4 nor 6 is a trap (checked by the
     * script with a separate run) */
}

static void test_cycles(int n)
{
    uint64_t l, err;
    lg_tcp_bind(lg_localhost(0), &l, NULL);
    uint16_t port = lg_tcp_local_port(l);
    lg_printf("phase1\n");
    lg_sleep_ms(500);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        uint64_t c = 0, a = 0;
        if (lg_tcp_connect(lg_localhost(port), 5000, &c, &err) != LG_OK) {
            bad++;
            lg_error_drop(err);
            continue;
        }
        if (lg_tcp_accept(l, &a, NULL, NULL) != LG_OK)
            bad++;
        else
            lg_tcp_close(a);
        lg_tcp_close(c);
    }
    CHECK(bad == 0, "%d connect/accept/close cycles (%d failed)", n, bad);
    lg_printf("phase2\n");
    lg_sleep_ms(500);
    lg_tcp_close_listener(l);
}

static void test_emfile(int n)
{
    uint64_t l, err;
    lg_tcp_bind(lg_localhost(0), &l, NULL);
    uint16_t port = lg_tcp_local_port(l);
    uint64_t *c = calloc((size_t)n, sizeof *c), *a = calloc((size_t)n, sizeof *a);
    int nc = 0, na = 0, cerr = 0, aerr = 0;
    char first[300] = "";
    for (int i = 0; i < n; i++) {
        uint64_t s;
        if (lg_tcp_connect(lg_localhost(port), 2000, &s, &err) == LG_OK) {
            c[nc++] = s;
        } else {
            cerr++;
            if (!first[0])
                snprintf(first, sizeof first, "%s", err_text(err));
            else
                lg_error_drop(err);
            break;
        }
        if (lg_tcp_accept(l, &s, NULL, &err) == LG_OK) {
            a[na++] = s;
        } else {
            aerr++;
            if (!first[0])
                snprintf(first, sizeof first, "%s", err_text(err));
            else
                lg_error_drop(err);
            break;
        }
    }
    CHECK(cerr + aerr > 0 && strstr(first, "(os error 24)"),
          "out of descriptors: an error for the call (%s) after %d connections", first, nc);
    for (int i = 0; i < nc; i++)
        lg_tcp_close(c[i]);
    for (int i = 0; i < na; i++)
        lg_tcp_close(a[i]);
    /* a connection left in the backlog by a failed accept is taken now */
    uint64_t s, t;
    CHECK(lg_tcp_connect(lg_localhost(port), 2000, &s, &err) == LG_OK &&
              lg_tcp_accept(l, &t, NULL, &err) == LG_OK,
          "with descriptors free again, connect and accept work");
    lg_tcp_close_listener(l);
}

/* The echo server for native peers: prints its port, then one report per
 * connection ("conn: N bytes, eof" or the error). */
static void run_server(int conns)
{
    uint64_t me = lg_self();
    uint64_t srv = lg_spawn("echo_server", LG_ARGS(LG_I64(me)));
    lg_receive_tag(3, 10000);
    lg_printf("port %llu\n", (unsigned long long)lg_msg_read_u64());
    for (int i = 0; i < conns; i++) {
        char buf[400];
        if (lg_receive_tag(9, 60000) != LG_DATA)
            break;
        lg_msg_read_str(buf, sizeof buf);
        lg_printf("conn: %s\n", buf);
    }
    lg_kill(srv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        lg_printf("usage: tcp.wasm TEST [ARGS]\n");
        return 2;
    }
    const char *t = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(t, "echo"))
        test_echo(n ? n : 10);
    else if (!strcmp(t, "busy"))
        test_busy();
    else if (!strcmp(t, "peek"))
        test_peek();
    else if (!strcmp(t, "move"))
        test_move();
    else if (!strcmp(t, "timeouts"))
        test_timeouts();
    else if (!strcmp(t, "connect-timeout"))
        test_connect_timeout((uint16_t)n);
    else if (!strcmp(t, "errors"))
        test_errors();
    else if (!strcmp(t, "cycles"))
        test_cycles(n ? n : 1000);
    else if (!strcmp(t, "emfile"))
        test_emfile(n ? n : 1000);
    else if (!strcmp(t, "server"))
        run_server(n ? n : 1);
    else if (!strcmp(t, "bad-addr")) {
        uint64_t l;
        lgi_networking_tcp_bind(5, (const uint8_t *)"", 0, 0, 0, &l); /* traps */
        lg_printf("not reached\n");
    } else if (!strcmp(t, "bad-id")) {
        char buf[4];
        uint64_t v;
        lgi_networking_tcp_read(12345, buf, 4, &v); /* traps */
        lg_printf("not reached\n");
    } else {
        lg_printf("unknown test %s\n", t);
        return 2;
    }
    return finish();
}
