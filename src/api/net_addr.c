/*
 * net_addr.c - socket addresses as the guest passes them, DNS iterators
 * (lists of addresses: resolve's answer, local and peer addresses), and
 * resolve itself.
 *
 * DNS runs getaddrinfo on the runtime's pool for blocking work
 * (rt/blocking.h), not on an asynchronous resolver such as c-ares: the
 * system resolver honours everything the host is configured with
 * (/etc/hosts, nsswitch, search domains), which a program expects from
 * "localhost" or a name in /etc/hosts, and a lookup costs a pool thread
 * only while it runs. A process waiting for it is parked; its timeout
 * ends the wait, and a lookup still running then finishes on the pool and
 * is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/net.h"
#include "rt/blocking.h"

/* ---- guest addresses ------------------------------------------------------ */

int net_guest_addr(lw_exec *x, const char *fn, uint32_t type, uint32_t ptr, uint32_t port,
                   uint32_t flow_info, uint32_t scope_id, net_addr *out)
{
    memset(out, 0, sizeof *out);
    if (type == 4) {
        const void *a = lapi_mem(x, ptr, 4);
        if (!a)
            return lapi_trapf(x, "%s: address out of bounds", fn);
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, a, 4);
        out->len = sizeof *sin;
        return LW_OK;
    }
    if (type == 6) {
        const void *a = lapi_mem(x, ptr, 16);
        if (!a)
            return lapi_trapf(x, "%s: address out of bounds", fn);
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        /* as Rust's SocketAddrV6: the flow info goes out in network order */
        sin6->sin6_flowinfo = htonl(flow_info);
        sin6->sin6_scope_id = scope_id;
        memcpy(&sin6->sin6_addr, a, 16);
        out->len = sizeof *sin6;
        return LW_OK;
    }
    return lapi_trapf(x, "%s: unsupported address type %u", fn, type);
}

/* ---- DNS iterators ---------------------------------------------------------- */

typedef struct dns_iter {
    size_t n, next;
    net_addr addrs[];
} dns_iter;

int net_dns_new(lt_process *p, const net_addr *addrs, size_t n, uint64_t *id)
{
    lt_idtab *t = lt_process_restab(p, LT_RK_DNS, free);
    dns_iter *it = malloc(sizeof *it + n * sizeof *addrs);
    if (!t || !it || lt_idtab_add(t, it, id) < 0) {
        free(it);
        return -1;
    }
    it->n = n;
    it->next = 0;
    memcpy(it->addrs, addrs, n * sizeof *addrs);
    return 0;
}

static dns_iter *dns_get(lw_exec *x, uint64_t id, const char *fn)
{
    lt_idtab *t = lt_process_restab(lt_self(x), LT_RK_DNS, free);
    dns_iter *it = t ? lt_idtab_get(t, id) : NULL;
    if (!it)
        lapi_trapf(x, "%s: unknown dns iterator id %llu", fn, (unsigned long long)id);
    return it;
}

/* drop_dns_iterator(i64 id) */
int networking_drop_dns_iterator(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("drop_dns_iterator");
    if (!dns_get(x, A64(0), fn))
        return LW_TRAP;
    free(lt_idtab_take(&lt_self(x)->res->tab[LT_RK_DNS], A64(0)));
    return LW_OK;
}

/* resolve_next(i64 id, addr_type_ptr, addr_ptr, port_ptr, flow_info_ptr,
 * scope_id_ptr) -> i32: 0 with the next address written (u32 type 4 or 6,
 * 4 or 16 address bytes, u16 port and, for v6, u32 flow info and scope
 * id), 1 when there is none left. */
int networking_resolve_next(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("resolve_next");
    dns_iter *it = dns_get(x, A64(0), fn);
    if (!it)
        return LW_TRAP;
    if (it->next == it->n) {
        SET_RESULT32(1);
        return LW_OK;
    }
    const net_addr *a = &it->addrs[it->next];
    uint32_t type = a->ss.ss_family == AF_INET6 ? 6 : 4;
    uint8_t *ptype = lapi_mem(x, A32(1), 4), *paddr = lapi_mem(x, A32(2), type == 6 ? 16 : 4);
    uint8_t *pport = lapi_mem(x, A32(3), 2);
    uint8_t *pflow = type == 6 ? lapi_mem(x, A32(4), 4) : NULL;
    uint8_t *pscope = type == 6 ? lapi_mem(x, A32(5), 4) : NULL;
    if (!ptype || !paddr || !pport || (type == 6 && (!pflow || !pscope)))
        return lapi_trapf(x, "%s: pointer out of bounds", fn);
    memcpy(ptype, &type, 4);
    uint16_t port;
    if (type == 4) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
        memcpy(paddr, &sin->sin_addr, 4);
        port = ntohs(sin->sin_port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
        memcpy(paddr, &sin6->sin6_addr, 16);
        port = ntohs(sin6->sin6_port);
        uint32_t flow = ntohl(sin6->sin6_flowinfo), scope = sin6->sin6_scope_id;
        memcpy(pflow, &flow, 4);
        memcpy(pscope, &scope, 4);
    }
    memcpy(pport, &port, 2);
    it->next++;
    SET_RESULT32(0);
    return LW_OK;
}

/* ---- lookups on the pool ------------------------------------------------------ */

struct net_lookup {
    lt_job job;
    char *host;
    uint16_t port;
    int gai;                    /* getaddrinfo's result */
    int sys_errno;              /* for EAI_SYSTEM */
    net_addr *addrs;
    size_t n;
};

static void lookup_run(lt_job *j)
{
    net_lookup *l = (net_lookup *)j;
    /* one answer per address, as Rust's lookup_host (stream sockets) */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    l->gai = getaddrinfo(l->host, NULL, &hints, &res);
    l->sys_errno = errno;
    if (l->gai)
        return;
    size_t n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n += a->ai_family == AF_INET || a->ai_family == AF_INET6;
    l->addrs = calloc(n ? n : 1, sizeof *l->addrs);
    if (!l->addrs) {
        l->gai = EAI_MEMORY;
        freeaddrinfo(res);
        return;
    }
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
            continue;
        net_addr *o = &l->addrs[l->n++];
        memcpy(&o->ss, a->ai_addr, a->ai_addrlen);
        o->len = a->ai_addrlen;
        if (a->ai_family == AF_INET)
            ((struct sockaddr_in *)&o->ss)->sin_port = htons(l->port);
        else
            ((struct sockaddr_in6 *)&o->ss)->sin6_port = htons(l->port);
    }
    freeaddrinfo(res);
}

static void lookup_free(lt_job *j)
{
    net_lookup *l = (net_lookup *)j;
    free(l->host);
    free(l->addrs);
    free(l);
}

net_lookup *net_lookup_start(lt_process *p, const char *host, uint16_t port)
{
    net_lookup *l = calloc(1, sizeof *l);
    if (!l || !(l->host = strdup(host))) {
        free(l);
        return NULL;
    }
    l->port = port;
    l->job.run = lookup_run;
    l->job.free = lookup_free;
    atomic_init(&l->job.refs, 1);
    if (lt_job_submit(p->rt, p, &l->job) < 0) {
        lt_job_release(&l->job);
        return NULL;
    }
    return l;
}

bool net_lookup_done(const net_lookup *l) { return lt_job_done(&l->job); }

size_t net_lookup_result(const net_lookup *l, const net_addr **addrs, char *msg, size_t size)
{
    if (l->gai) {
        snprintf(msg, size, "failed to lookup address information: %s",
                 l->gai == EAI_SYSTEM ? strerror(l->sys_errno) : gai_strerror(l->gai));
        *addrs = NULL;
        return 0;
    }
    *addrs = l->addrs;
    return l->n;
}

void net_lookup_release(net_lookup *l)
{
    if (l)
        lt_job_release(&l->job);
}

/* ---- resolve ------------------------------------------------------------------ */

/* Splits "host:port" (Rust's ToSocketAddrs for a string): a literal
 * socket address, "[v6]:port" or "name:port". Fills *literal and returns 1
 * for a literal address, 0 with host/port for a name to look up, or -1
 * with a message. */
static int parse_name(const char *s, size_t len, net_addr *literal, char *host, size_t hsize,
                      uint16_t *port, const char **why)
{
    const char *colon = NULL;
    for (size_t i = len; i-- > 0;)
        if (s[i] == ':') {
            colon = s + i;
            break;
        }
    if (!colon) {
        *why = "invalid socket address";
        return -1;
    }
    char *end;
    char pbuf[8];
    size_t plen = (size_t)(s + len - colon - 1);
    if (plen == 0 || plen >= sizeof pbuf) {
        *why = "invalid port value";
        return -1;
    }
    memcpy(pbuf, colon + 1, plen);
    pbuf[plen] = 0;
    unsigned long p = strtoul(pbuf, &end, 10);
    if (*end || p > 65535 || pbuf[0] < '0' || pbuf[0] > '9') {
        *why = "invalid port value";
        return -1;
    }
    *port = (uint16_t)p;
    size_t hlen = (size_t)(colon - s);
    if (hlen >= hsize) {
        *why = "invalid socket address";
        return -1;
    }
    memcpy(host, s, hlen);
    host[hlen] = 0;
    memset(literal, 0, sizeof *literal);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = 0;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&literal->ss;
        if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1) {
            *why = "invalid socket address";
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(*port);
        literal->len = sizeof *sin6;
        return 1;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)&literal->ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(*port);
        literal->len = sizeof *sin;
        return 1;
    }
    if (memchr(host, 0, hlen) || strchr(host, ':')) {
        *why = "invalid socket address";
        return -1;
    }
    return 0;
}

/* resolve's state across its waits (in p->job): the lookup. */
typedef struct resolving {
    lt_job job;                 /* never submitted: owned by the process */
    net_lookup *l;
} resolving;

static void resolving_free(lt_job *j)
{
    net_lookup_release(((resolving *)j)->l);
    free(j);
}

/* resolve(name_ptr, name_len, i64 timeout_ms, id_ptr) -> i32: 0 with a
 * DNS iterator id, 1 with an error id, 9027 on timeout (0 written). The
 * name is "host:port". A timeout of 0 or u64::MAX means none (lunatic-rs
 * passes 0 for no timeout and rounds a real one up to 1 ms). */
int networking_resolve(lw_exec *x, void *env, lw_val *args)
{
    const char *fn = NET_FN("resolve");
    int denied;
    if (net_denied(x, args, A32(3), fn, &denied))
        return denied;
    lt_process *p = lt_self(x);
    const char *name = lapi_str(x, A32(0), A32(1));
    if (!name)
        return LW_TRAP;
    uint32_t ptr = A32(3);
    if (!lapi_mem(x, ptr, 8))
        return lapi_trapf(x, "%s: id pointer out of bounds", fn);
    uint64_t timeout = A64(2) == 0 ? UINT64_MAX : A64(2);

    resolving *r = (resolving *)p->job;
    if (!p->wait_started || !r || r->job.free != resolving_free) {
        /* first entry */
        char host[1024];
        uint16_t port;
        net_addr lit;
        const char *why = NULL;
        int k = parse_name(name, A32(1), &lit, host, sizeof host, &port, &why);
        if (k < 0)
            return net_fail_msg(x, args, ptr, why, fn);
        if (k == 1) {
            uint64_t id;
            if (net_dns_new(p, &lit, 1, &id) < 0)
                return lapi_oom(x, fn);
            return net_ok(x, args, ptr, id, fn);
        }
        r = calloc(1, sizeof *r);
        if (!r)
            return lapi_oom(x, fn);
        r->job.free = resolving_free;
        atomic_init(&r->job.refs, 1);
        lt_job_release(p->job);
        p->job = &r->job;
        lapi_wait_begin(p, timeout);
        if (!(r->l = net_lookup_start(p, host, port))) {
            net_done(p);
            return net_fail(x, args, ptr, EAGAIN, fn);
        }
        return LW_SUSPEND;
    }
    if (!net_lookup_done(r->l)) {
        if (!lapi_wait_expired(p))
            return LW_SUSPEND;
        /* the lookup goes on on the pool; its result is dropped */
        net_done(p);
        lt_job_release(p->job);
        p->job = NULL;
        lapi_put_u64(x, ptr, 0);
        SET_RESULT32(LAPI_TIMEOUT);
        return LW_OK;
    }
    net_done(p);
    const net_addr *addrs;
    char msg[256];
    size_t n = net_lookup_result(r->l, &addrs, msg, sizeof msg);
    int ret;
    uint64_t id;
    if (!addrs)
        ret = net_fail_msg(x, args, ptr, msg, fn);
    else if (net_dns_new(p, addrs, n, &id) < 0)
        ret = lapi_oom(x, fn);
    else
        ret = net_ok(x, args, ptr, id, fn);
    lt_job_release(p->job);
    p->job = NULL;
    return ret;
}
