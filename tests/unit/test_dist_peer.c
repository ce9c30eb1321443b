/*
 * test_dist_peer.c - a node under a misbehaving peer (src/dist): a raw
 * client does the distribution handshake itself, then sends random
 * packets, malformed and truncated terms, fragments without end and a
 * length beyond the limit; the node must refuse or ignore each, never
 * crash, hang or leak (this test runs under ASan too), and still answer a
 * well-formed request (net_kernel's is_auth, as net_adm:ping sends it)
 * afterwards. A wrong cookie and garbage instead of a handshake are
 * refused. The node runs in this process, without EPMD, on a free
 * loopback port; every read has a timeout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "check.h"
#include "lunatic.h"

static unsigned port;
static const char *cookie = "secret";

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads exactly n bytes within 5 s: 0, or -1 (closed, error, timeout). */
static int read_n(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void write_all(int fd, const void *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

/* Whether the node closed fd (within 5 s; data it sends meanwhile is
 * skipped). */
static int closed_by_node(int fd)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            return 0;
        if (read(fd, buf, sizeof buf) <= 0)
            return 1;
    }
}

static void put16(uint8_t *b, uint32_t v) { b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v; }
static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void digest(const char *ck, uint32_t challenge, uint8_t out[16])
{
    char s[128];
    int n = snprintf(s, sizeof s, "%s%u", ck, challenge);
    unsigned l = 16;
    EVP_Digest(s, (size_t)n, out, &l, EVP_md5(), NULL);
}

/* The handshake of an OTP 25 node named peer@127.0.0.1 (2-byte packets);
 * the connected socket, or -1 if the node refused or did not answer. */
static int handshake(const char *ck)
{
    int fd = dial();
    if (fd < 0)
        return -1;
    const char *name = "peer@127.0.0.1";
    uint8_t m[64];
    size_t nl = strlen(name);
    uint64_t flags = 0x4 | 0x8 | 0x10 | 0x20 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x4000 |
                     0x10000 | 0x20000 | 0x40000 | 0x1000000 | 0x2000000 | (1ull << 36);
    put16(m, (uint32_t)(15 + nl));
    m[2] = 'N';
    put32(m + 3, (uint32_t)(flags >> 32));
    put32(m + 7, (uint32_t)flags);
    put32(m + 11, 12345);
    put16(m + 15, (uint32_t)nl);
    memcpy(m + 17, name, nl);
    write_all(fd, m, 17 + nl);
    uint8_t h[2], b[600];
    if (read_n(fd, h, 2) < 0 || read_n(fd, b, (size_t)(h[0] << 8 | h[1])) < 0 || b[0] != 's' ||
        memcmp(b + 1, "ok", 2))
        goto fail;
    if (read_n(fd, h, 2) < 0 || read_n(fd, b, (size_t)(h[0] << 8 | h[1])) < 0 || b[0] != 'N')
        goto fail;
    uint32_t challenge = get32(b + 9);
    uint8_t r[23];
    put16(r, 21);
    r[2] = 'r';
    put32(r + 3, 777);
    digest(ck, challenge, r + 7);
    write_all(fd, r, 23);
    if (read_n(fd, h, 2) < 0 || read_n(fd, b, 17) < 0 || b[0] != 'a')
        goto fail;
    uint8_t want[16];
    digest(ck, 777, want);
    if (memcmp(want, b + 1, 16))
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* A packet: 4-byte length, then body. */
static void packet(int fd, const uint8_t *body, uint32_t len)
{
    uint8_t h[4];
    put32(h, len);
    write_all(fd, h, 4);
    write_all(fd, body, len);
}

/* Says hello as a lunatic node would (the node then takes our
 * fragments). */
static void hello(int fd)
{
    static const uint8_t b[] = {
        'p', 131, 104, 4, 97, 6, 88, 119, 14, 'p', 'e', 'e', 'r', '@', '1', '2', '7', '.', '0',
        '.', '0', '.', '1', 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 48, 57, 119, 0, 119, 11, 'l', 'u', 'n',
        'a', 't', 'i', 'c', '_', 'n', 'e', 't', 131, 104, 4, 119, 5, 'h', 'e', 'l', 'l', 'o', 97,
        1, 106, 106};
    packet(fd, b, sizeof b);
}

/* Sends net_kernel's {'$gen_call', {Pid, Ref}, {is_auth, peer}} and
 * waits (skipping ticks) for a SEND packet that answers with yes. */
static int is_auth(int fd)
{
    static const uint8_t node[] = {119, 14, 'p', 'e', 'e', 'r', '@', '1', '2', '7', '.', '0', '.', '0', '.', '1'};
    uint8_t b[256];
    size_t k = 0;
#define PUT(...) do { const uint8_t t_[] = {__VA_ARGS__}; memcpy(b + k, t_, sizeof t_); k += sizeof t_; } while (0)
    PUT('p', 131, 104, 4, 97, 6);                 /* 'p', {6 (REG_SEND), */
    PUT(88); memcpy(b + k, node, sizeof node); k += sizeof node;
    PUT(0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 48, 57);    /* From pid <peer.9.0> creation 12345 */
    PUT(119, 0);                                  /* '' */
    PUT(119, 10, 'n', 'e', 't', '_', 'k', 'e', 'r', 'n', 'e', 'l'); /* net_kernel} */
    PUT(131, 104, 3, 119, 9, '$', 'g', 'e', 'n', '_', 'c', 'a', 'l', 'l');
    PUT(104, 2, 88); memcpy(b + k, node, sizeof node); k += sizeof node;
    PUT(0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 48, 57);
    PUT(90, 0, 1); memcpy(b + k, node, sizeof node); k += sizeof node; /* ref */
    PUT(0, 0, 48, 57, 0, 0, 0, 42);
    PUT(104, 2, 119, 7, 'i', 's', '_', 'a', 'u', 't', 'h', 119, 4, 'p', 'e', 'e', 'r');
#undef PUT
    packet(fd, b, (uint32_t)k);
    for (int i = 0; i < 20; i++) {
        uint8_t h[4];
        if (read_n(fd, h, 4) < 0)
            return 0;
        uint32_t l = get32(h);
        if (l == 0)
            continue; /* a tick */
        uint8_t *body = malloc(l);
        int ok = body && read_n(fd, body, l) == 0 && l > 4 && memmem(body, l, "\x77\x03yes", 5);
        free(body);
        if (ok)
            return 1;
    }
    return 0;
}

int main(void)
{
    port = free_port();
    lunatic_runtime *rt = lunatic_runtime_new(&(lunatic_options){.threads = 2});
    lunatic_node_options o = {.name = "t@127.0.0.1", .cookie = cookie, .no_epmd = 1,
                              .port = port, .tick_time = 30};
    char err[256];
    CHECK(rt && lunatic_node_start(rt, &o, err, sizeof err) == 0, "node start: %s", err);

    int fd = handshake(cookie);
    CHECK(fd >= 0, "our own handshake is accepted");
    CHECK(fd >= 0 && is_auth(fd), "is_auth answers yes");

    /* random packets, most of them pass-through ones with junk terms */
    srand(7);
    for (int i = 0; fd >= 0 && i < 3000; i++) {
        uint8_t b[300];
        uint32_t len = 1 + (uint32_t)(rand() % 299);
        for (uint32_t k = 0; k < len; k++)
            b[k] = (uint8_t)rand();
        b[0] = i % 3 ? 'p' : b[0];
        if (i % 5 == 0 && len > 2)
            b[1] = 131; /* past the version check */
        packet(fd, b, len);
    }
    CHECK(fd >= 0 && is_auth(fd), "3,000 random packets later the node still answers");

    /* valid beginnings cut short: a pid without its fields, a tuple
     * claiming more elements than there are, a binary longer than the
     * packet, a deep nesting */
    static const uint8_t cut[][16] = {
        {'p', 131, 104, 3, 97, 2, 119, 0, 88, 119, 9, 't'},
        {'p', 131, 105, 0xff, 0xff, 0xff, 0xff, 97, 1},
        {'p', 131, 104, 3, 97, 2, 119, 0, 109, 0x7f, 0xff, 0xff, 0xff},
        {'p', 131, 108, 0xff, 0xff, 0xff, 0xff, 106},
    };
    for (int i = 0; fd >= 0 && i < 4; i++)
        packet(fd, cut[i], 12);
    uint8_t deep[2000];
    deep[0] = 'p', deep[1] = 131;
    for (int i = 2; i < 2000; i += 2)
        deep[i] = 104, deep[i + 1] = 1;
    if (fd >= 0)
        packet(fd, deep, sizeof deep);
    CHECK(fd >= 0 && is_auth(fd), "truncated and over-deep terms are ignored");
    if (fd >= 0)
        close(fd);

    /* fragments that never end, each under its own id */
    fd = handshake(cookie);
    CHECK(fd >= 0, "a second connection");
    if (fd >= 0) {
        hello(fd);
        CHECK(is_auth(fd), "a peer that said hello is served");
    }
    for (uint32_t i = 0; fd >= 0 && i < 5000; i++) {
        uint8_t b[20] = {'L'};
        put32(b + 5, i);
        b[9] = 0; /* not the last */
        packet(fd, b, 20);
    }
    CHECK(fd >= 0 && closed_by_node(fd), "a flood of unfinished fragments: the node hangs up");
    if (fd >= 0)
        close(fd);

    /* a length beyond the limit */
    fd = handshake(cookie);
    if (fd >= 0) {
        uint8_t h[4];
        put32(h, 0x7fffffff);
        write_all(fd, h, 4);
    }
    CHECK(fd >= 0 && closed_by_node(fd), "a 2 GiB packet length: the node hangs up");
    if (fd >= 0)
        close(fd);

    /* refused handshakes */
    fd = handshake("wrong");
    CHECK(fd < 0, "a wrong cookie is refused");
    fd = dial();
    if (fd >= 0) {
        uint8_t junk[64];
        for (int i = 0; i < 64; i++)
            junk[i] = (uint8_t)rand();
        junk[0] = 0, junk[1] = 62;
        write_all(fd, junk, sizeof junk);
    }
    CHECK(fd >= 0 && closed_by_node(fd), "garbage instead of a handshake: the node hangs up");
    if (fd >= 0)
        close(fd);

    fd = handshake(cookie);
    CHECK(fd >= 0 && is_auth(fd), "after all that a new peer is served");
    if (fd >= 0)
        close(fd);
    lunatic_runtime_free(rt);
    return check_report();
}
