/*
 * tls.c - TLS under lunatic: `tls.wasm DIR`, where DIR (preopened) holds
 * ca.pem (a certificate authority made at test time), server.pem and
 * server.key (a certificate for "localhost" signed by it) and other.pem
 * (another CA), wrong.pem and wrong.key (a certificate for "lunatic.test"
 * only, signed by the CA). Checks an echo over TLS with the CA given, a connection
 * to the wrong host name and one that does not trust the CA, both
 * failing with readable errors, a client that never speaks not stalling
 * the acceptor, timeouts, and bad certificates given to tls_bind.
 */
#include "net_test.h"

static char ca[8192], cert[8192], key[8192], other[8192], wrong[8192], wrong_key[8192];

static size_t slurp(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        lg_printf("FAIL cannot open %s\n", path);
        exit(1);
    }
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

static uint32_t tls_connect(const char *host, uint16_t port, const char *const *cas, int nca, bool len_first,
                            uint64_t timeout, uint64_t *id)
{
    uint32_t recs[8];
    for (int i = 0; i < nca; i++) {
        uint32_t p = (uint32_t)(uintptr_t)cas[i], l = (uint32_t)strlen(cas[i]);
        recs[2 * i] = len_first ? l : p;
        recs[2 * i + 1] = len_first ? p : l;
    }
    return lgi_networking_tls_connect(host, (uint32_t)strlen(host), port, timeout, id, recs, (uint32_t)nca);
}

static uint32_t tls_write(uint64_t s, const void *buf, uint32_t len, uint64_t *n)
{
    uint32_t iov[2] = {(uint32_t)(uintptr_t)buf, len};
    return lgi_networking_tls_write_vectored(s, iov, 1, n);
}

/* Serves TLS connections: each is echoed by a process of its own; the end
 * of each (bytes, how) is reported to parent with tag 9. */
LG_EXPORT("tls_conn") void tls_conn(uint64_t parent)
{
    lg_receive_tag(1, LG_FOREVER);
    uint64_t s = lgi_message_take_tls_stream(lg_msg_read_u64());
    char buf[4096], how[400] = "eof";
    uint64_t total = 0, n;
    for (;;) {
        uint32_t r = lgi_networking_tls_read(s, buf, sizeof buf, &n);
        if (r != LG_OK) {
            snprintf(how, sizeof how, "read error: %s", r == LG_TIMEOUT ? "timeout" : err_text(n));
            break;
        }
        if (n == 0)
            break;
        total += n;
        uint64_t w;
        for (uint64_t off = 0; off < n; off += w)
            if (tls_write(s, buf + off, (uint32_t)(n - off), &w) != LG_OK) {
                snprintf(how, sizeof how, "write error: %s", err_text(w));
                goto out;
            }
    }
out:
    lgi_networking_drop_tls_stream(s);
    char line[500];
    snprintf(line, sizeof line, "%llu bytes, %s", (unsigned long long)total, how);
    lg_send_str(parent, 9, line);
}

/* A spawned process starts with fresh memory: the certificate and key
 * come in a message (lengths first). */
LG_EXPORT("tls_server") void tls_server(uint64_t parent)
{
    lg_receive_tag(7, LG_FOREVER);
    uint64_t cl = lg_msg_read_u64(), kl = lg_msg_read_u64();
    lg_msg_read(cert, cl);
    lg_msg_read(key, kl);
    cert[cl] = key[kl] = 0;
    uint64_t l;
    uint32_t r = lgi_networking_tls_bind(4, (const uint8_t[]){127, 0, 0, 1}, 0, 0, 0, &l, cert,
                                         (uint32_t)strlen(cert), key, (uint32_t)strlen(key));
    if (r != LG_OK) {
        lg_printf("FAIL tls_bind: %s\n", err_text(l));
        exit(1);
    }
    uint64_t it;
    lgi_networking_tls_local_addr(l, &it);
    lg_send_u64(parent, 3, lg_dns_first(it).port);
    for (;;) {
        uint64_t s, peer;
        if (lgi_networking_tls_accept(l, &s, &peer) != LG_OK) {
            lg_printf("accept error: %s\n", err_text(s));
            continue;
        }
        lgi_networking_drop_dns_iterator(peer);
        uint64_t h = lg_spawn("tls_conn", LG_ARGS(LG_I64(parent)));
        lg_msg_create(1, 8);
        lg_msg_write_u64(lgi_message_push_tls_stream(s));
        lg_msg_send(h);
    }
}

/* Connects with plain TCP and says nothing. */
LG_EXPORT("mute") void mute(int32_t port)
{
    uint64_t s;
    lg_tcp_connect(lg_localhost((uint16_t)port), 5000, &s, NULL);
    lg_receive_tag(99, LG_FOREVER);
}

/* Starts a tls_server with that certificate: returns its port. */
static uint16_t start_server(const char *c, const char *k, uint64_t *pid)
{
    *pid = lg_spawn("tls_server", LG_ARGS(LG_I64(lg_self())));
    lg_msg_create(7, 16 + strlen(c) + strlen(k));
    lg_msg_write_u64(strlen(c));
    lg_msg_write_u64(strlen(k));
    lg_msg_write_str(c);
    lg_msg_write_str(k);
    lg_msg_send(*pid);
    if (lg_receive_tag(3, 10000) != LG_DATA) {
        lg_printf("FAIL the server did not start\n");
        exit(1);
    }
    return (uint16_t)lg_msg_read_u64();
}

static const char *conn_report(void)
{
    static char buf[500];
    if (lg_receive_tag(9, 10000) != LG_DATA)
        return "<no report>";
    lg_msg_read_str(buf, sizeof buf);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        lg_printf("usage: tls.wasm DIR\n");
        return 2;
    }
    slurp(argv[1], "ca.pem", ca, sizeof ca);
    slurp(argv[1], "server.pem", cert, sizeof cert);
    slurp(argv[1], "server.key", key, sizeof key);
    slurp(argv[1], "other.pem", other, sizeof other);
    slurp(argv[1], "wrong.pem", wrong, sizeof wrong);
    slurp(argv[1], "wrong.key", wrong_key, sizeof wrong_key);
    uint64_t srv, wrong_srv;
    uint16_t port = start_server(cert, key, &srv), wrong_port = start_server(wrong, wrong_key, &wrong_srv);

    /* a client that never sends its hello does not stall the acceptor */
    uint64_t m = lg_spawn("mute", LG_ARGS(LG_I32(port)));
    lg_sleep_ms(50);

    const char *cas[2] = {other, ca};
    uint64_t s, n;
    uint32_t r = tls_connect("localhost", port, cas, 2, false, 5000, &s);
    CHECK(r == LG_OK, "tls_connect to localhost with our CA (the second of two): %s",
          r == LG_OK ? "connected" : err_text(s));
    if (r == LG_OK) {
        const char *parts[3] = {"hello ", "over ", "tls"};
        uint32_t iov[6];
        for (int i = 0; i < 3; i++) {
            iov[2 * i] = (uint32_t)(uintptr_t)parts[i];
            iov[2 * i + 1] = (uint32_t)strlen(parts[i]);
        }
        r = lgi_networking_tls_write_vectored(s, iov, 3, &n);
        CHECK(r == LG_OK && n == 14, "a vectored write of 3 buffers: %llu bytes", (unsigned long long)n);
        char buf[64] = {0};
        uint64_t got = 0;
        while (got < 14 && lgi_networking_tls_read(s, buf + got, sizeof buf - 1 - (uint32_t)got, &n) == LG_OK && n)
            got += n;
        CHECK(got == 14 && !strcmp(buf, "hello over tls"), "the echo comes back: '%s'", buf);
        CHECK(lgi_networking_tls_flush(s, &n) == LG_OK && n == 0, "flush: 0");
        lgi_networking_set_tls_read_timeout(s, 80);
        CHECK(lgi_networking_get_tls_read_timeout(s) == 80, "the read timeout reads back");
        uint64_t t0 = now_ms();
        r = lgi_networking_tls_read(s, buf, sizeof buf, &n);
        CHECK(r == LG_TIMEOUT && now_ms() - t0 >= 75, "a read with nothing to read times out");
        uint64_t c = lgi_networking_clone_tls_stream(s);
        lgi_networking_drop_tls_stream(s);
        r = tls_write(c, "bye", 3, &n);
        got = 0;
        memset(buf, 0, sizeof buf);
        while (got < 3 && lgi_networking_tls_read(c, buf + got, 3 - (uint32_t)got, &n) == LG_OK && n)
            got += n;
        CHECK(got == 3 && !memcmp(buf, "bye", 3), "a clone goes on after the original is dropped");
        lgi_networking_drop_tls_stream(c);
        const char *rep = conn_report();
        CHECK(!strcmp(rep, "17 bytes, eof"), "the server saw the whole stream and its end: %s", rep);
    }

    /* lunatic-rs writes the certificate records as (len, ptr) */
    r = tls_connect("localhost", port, cas + 1, 1, true, 5000, &s);
    CHECK(r == LG_OK, "certificate records written (len, ptr) work too");
    if (r == LG_OK) {
        lgi_networking_drop_tls_stream(s);
        conn_report();
    }

    r = tls_connect("localhost", wrong_port, cas + 1, 1, false, 5000, &s);
    const char *t = r == LG_ERROR ? err_text(s) : "";
    CHECK(r == LG_ERROR && strstr(t, "certificate verify failed: hostname mismatch"),
          "a server whose certificate is for another name: %s", t);
    const char *rep = conn_report();
    CHECK(strstr(rep, "read error: TLS handshake failed"), "the server's side of it: %s", rep);
    r = tls_connect("127.0.0.1", port, cas + 1, 1, false, 5000, &s);
    t = r == LG_ERROR ? err_text(s) : "";
    CHECK(r == LG_ERROR && strstr(t, "certificate verify failed: IP address mismatch"),
          "an address the certificate is not for: %s", t);
    conn_report();

    r = tls_connect("localhost", port, NULL, 0, false, 5000, &s);
    t = r == LG_ERROR ? err_text(s) : "";
    CHECK(r == LG_ERROR && strstr(t, "certificate verify failed"), "a CA the client does not trust: %s", t);
    conn_report();

    r = tls_connect("localhost", port, (const char *const[]){"-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n"},
                    1, false, 5000, &s);
    t = r == LG_ERROR ? err_text(s) : "";
    CHECK(r == LG_ERROR && strstr(t, "not a PEM certificate"), "a CA that does not parse: %s", t);

    uint64_t l;
    r = lgi_networking_tls_bind(4, (const uint8_t[]){127, 0, 0, 1}, 0, 0, 0, &l, "garbage", 7, key,
                                (uint32_t)strlen(key));
    t = r == LG_ERROR ? err_text(l) : "";
    CHECK(r == LG_ERROR && strstr(t, "not a PEM certificate"), "tls_bind with a bad certificate: %s", t);
    r = lgi_networking_tls_bind(4, (const uint8_t[]){127, 0, 0, 1}, 0, 0, 0, &l, other,
                                (uint32_t)strlen(other), key, (uint32_t)strlen(key));
    t = r == LG_ERROR ? err_text(l) : "";
    CHECK(r == LG_ERROR && strstr(t, "does not match"), "tls_bind with a key of another certificate: %s", t);

    r = tls_connect("localhost", 1, cas + 1, 1, false, 5000, &s);
    t = r == LG_ERROR ? err_text(s) : "";
    CHECK(r == LG_ERROR && strstr(t, "Connection refused"), "nobody listening: %s", t);
    lg_kill(m);
    lg_kill(srv);
    lg_kill(wrong_srv);
    return finish();
}
