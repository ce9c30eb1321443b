/*
 * udp_dns.c - UDP sockets and DNS under lunatic: `udp_dns.wasm TEST`:
 *   udp   send_to/receive_from between two sockets (in two processes),
 *         connected send/receive, peer addresses, broadcast and TTL
 *         options, a socket moved in a message
 *   dns   resolving localhost, literal addresses, a name that does not
 *         exist, malformed names
 */
#include "net_test.h"

/* Receives one datagram on a socket that arrives in a message and sends it
 * back to its sender, upper-cased. */
LG_EXPORT("udp_echo") void udp_echo(uint64_t parent)
{
    lg_receive_tag(1, LG_FOREVER);
    uint64_t s = lgi_message_take_udp_socket(lg_msg_read_u64());
    char buf[64];
    size_t n;
    lg_addr from;
    if (lg_udp_receive_from(s, buf, sizeof buf, &n, &from, NULL) == LG_OK) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
        lg_udp_send_to(s, buf, n, from, NULL);
    }
    lg_udp_close(s);
    lg_send_u64(parent, 2, n);
}

static void test_udp(void)
{
    uint64_t a = 0, b = 0, err;
    CHECK(lg_udp_bind(lg_localhost(0), &a, &err) == LG_OK && lg_udp_bind(lg_localhost(0), &b, &err) == LG_OK,
          "two UDP sockets bound");
    uint16_t pa = lg_udp_local_port(a), pb = lg_udp_local_port(b);
    CHECK(pa && pb && pa != pb, "their ports: %u, %u", pa, pb);

    /* b moves to another process, which echoes one datagram */
    uint64_t e = lg_spawn("udp_echo", LG_ARGS(LG_I64(lg_self())));
    lg_msg_create(1, 8);
    lg_msg_write_u64(lgi_message_push_udp_socket(b));
    lg_msg_send(e);
    CHECK(lg_udp_send_to(a, "ping", 4, lg_localhost(pb), &err) == LG_OK, "send_to");
    char buf[64] = {0};
    size_t n;
    lg_addr from;
    CHECK(lg_udp_receive_from(a, buf, sizeof buf, &n, &from, &err) == LG_OK && n == 4 &&
              !memcmp(buf, "PING", 4) && from.port == pb && from.type == 4 && from.ip[0] == 127,
          "receive_from gets the answer and who sent it");
    lg_receive_tag(2, 5000);
    CHECK(lg_msg_read_u64() == 4, "the other process got the datagram on the moved socket");

    /* connected sockets: peer address, send, receive */
    uint64_t c, d, id;
    lg_udp_bind(lg_localhost(0), &c, NULL);
    lg_udp_bind(lg_localhost(0), &d, NULL);
    uint16_t pc = lg_udp_local_port(c), pd = lg_udp_local_port(d);
    uint32_t r = lgi_networking_udp_peer_addr(c, &id);
    const char *t = r != LG_OK ? err_text(id) : "";
    CHECK(r == 1 && strstr(t, "not connected"), "peer address before connect: 1, %s", t);
    lg_addr to = lg_localhost(pd);
    r = lgi_networking_udp_connect(c, to.type, to.ip, to.port, 0, 0, 1000, &id);
    CHECK(r == LG_OK && id == 0, "udp_connect: 0, 0 written");
    r = lgi_networking_udp_peer_addr(c, &id);
    CHECK(r == LG_OK && lg_dns_first(id).port == pd, "peer address after connect: port %u", pd);
    uint64_t v;
    r = lgi_networking_udp_send(c, "hi", 2, &v);
    CHECK(r == LG_OK && v == 2, "connected send: 2 bytes");
    r = lgi_networking_udp_receive(d, buf, sizeof buf, &v);
    CHECK(r == LG_OK && v == 2 && !memcmp(buf, "hi", 2), "receive on the other");
    to = lg_localhost(pc);
    lgi_networking_udp_connect(d, to.type, to.ip, to.port, 0, 0, 1000, &id);
    r = lgi_networking_udp_send(d, "yo", 2, &v);
    r = lgi_networking_udp_receive(c, buf, sizeof buf, &v);
    CHECK(r == LG_OK && v == 2 && !memcmp(buf, "yo", 2), "connected receive");
    /* a cloned socket shares the port */
    uint64_t cl = lgi_networking_clone_udp_socket(c);
    CHECK(lg_udp_local_port(cl) == pc, "a clone has the same port");
    lg_udp_close(cl);

    /* options */
    CHECK(lgi_networking_get_udp_socket_broadcast(a) == 0, "broadcast off at first");
    lgi_networking_set_udp_socket_broadcast(a, 1);
    CHECK(lgi_networking_get_udp_socket_broadcast(a) == 1, "broadcast on");
    lgi_networking_set_udp_socket_broadcast(a, 0);
    CHECK(lgi_networking_get_udp_socket_broadcast(a) == 0, "broadcast off again");
    lgi_networking_set_udp_socket_ttl(a, 42);
    CHECK(lgi_networking_get_udp_socket_ttl(a) == 42, "ttl 42 reads back");
    lg_udp_close(a);
    lg_udp_close(c);
    lg_udp_close(d);

    /* IPv6, when the host has it */
    lg_addr v6 = {.type = 6, .ip = {[15] = 1}};
    uint64_t s6;
    if (lg_udp_bind(v6, &s6, &err) == LG_OK) {
        v6.port = lg_udp_local_port(s6);
        lg_udp_send_to(s6, "six", 3, v6, NULL);
        r = lg_udp_receive_from(s6, buf, sizeof buf, &n, &from, NULL);
        CHECK(r == LG_OK && n == 3 && from.type == 6 && from.port == v6.port, "IPv6 to itself");
        lgi_networking_set_udp_socket_ttl(s6, 7);
        CHECK(lgi_networking_get_udp_socket_ttl(s6) == 7, "IPv6 hop limit reads back");
        lg_udp_close(s6);
    } else {
        lg_printf("ok   IPv6 not available here: %s\n", err_text(err));
    }
}

static void test_dns(void)
{
    uint64_t it, err;
    uint32_t r = lg_resolve("localhost:8080", 5000, &it, &err);
    CHECK(r == LG_OK, "resolve localhost: %u", r);
    if (r == LG_OK) {
        lg_addr a;
        int n = 0, loop = 1;
        while (lg_dns_next(it, &a)) {
            n++;
            loop &= a.port == 8080 && ((a.type == 4 && a.ip[0] == 127) || (a.type == 6 && a.ip[15] == 1));
        }
        CHECK(n >= 1 && loop, "%d loopback address(es) with port 8080", n);
        CHECK(!lg_dns_next(it, &a), "then the iterator is empty");
        lgi_networking_drop_dns_iterator(it);
    }
    CHECK(lg_resolve("10.1.2.3:99", 0, &it, NULL) == LG_OK, "a literal IPv4 address (timeout 0: none)");
    lg_addr a = lg_dns_first(it);
    CHECK(a.type == 4 && a.ip[0] == 10 && a.ip[3] == 3 && a.port == 99, "resolves to itself");
    CHECK(lg_resolve("[2001:db8::7]:443", LG_FOREVER, &it, NULL) == LG_OK, "a literal IPv6 address");
    a = lg_dns_first(it);
    CHECK(a.type == 6 && a.ip[0] == 0x20 && a.ip[15] == 7 && a.port == 443, "resolves to itself");
    /* a label longer than 63 bytes: the resolver refuses it without asking
     * a server, so the answer does not depend on the network */
    r = lg_resolve("a-label-that-is-longer-than-sixty-three-bytes-is-not-a-valid-dns-label.invalid:80",
                   5000, &it, &err);
    const char *t = r == LG_ERROR ? err_text(err) : "";
    CHECK(r == LG_ERROR && strstr(t, "failed to lookup address information"), "a name that cannot exist: %s", t);
    r = lg_resolve("localhost", 5000, &it, &err);
    t = r == LG_ERROR ? err_text(err) : "";
    CHECK(r == LG_ERROR && !strcmp(t, "invalid socket address"), "no port: %s", t);
    r = lg_resolve("localhost:http", 5000, &it, &err);
    t = r == LG_ERROR ? err_text(err) : "";
    CHECK(r == LG_ERROR && !strcmp(t, "invalid port value"), "a port that is not a number: %s", t);
    /* many lookups at once from many processes: the pool takes them all */
    uint64_t me = lg_self();
    for (int i = 0; i < 50; i++)
        lg_spawn("resolver", LG_ARGS(LG_I64(me)));
    int ok = 0;
    for (int i = 0; i < 50; i++)
        if (lg_receive_tag(4, 10000) == LG_DATA)
            ok += lg_msg_read_u64() == 1;
    CHECK(ok == 50, "50 processes resolving at once: %d answered", ok);
}

LG_EXPORT("resolver") void resolver(uint64_t parent)
{
    uint64_t it;
    uint32_t r = lg_resolve("localhost:1", 10000, &it, NULL);
    if (r == LG_OK)
        lgi_networking_drop_dns_iterator(it);
    lg_send_u64(parent, 4, r == LG_OK);
}

int main(int argc, char **argv)
{
    const char *t = argc > 1 ? argv[1] : "";
    if (!strcmp(t, "udp"))
        test_udp();
    else if (!strcmp(t, "dns"))
        test_dns();
    else {
        lg_printf("unknown test %s\n", t);
        return 2;
    }
    return finish();
}
