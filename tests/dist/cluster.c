/* cluster.c - the guest of the cluster tests (tests/t-dist.sh). It runs as
 * the main process of node a (`lunatic run --name a@... cluster.wasm MODE`)
 * and spawns its helpers on the other nodes, which it finds by their tag
 * role=b / role=c. Only the main process prints; every wait is bounded.
 *
 * Modes:
 *   mesh      the three nodes see each other; lookups by tag
 *   spawn     remote spawn, send both ways, request/reply, error codes
 *   rustflow  the host-call sequence of lunatic-rs's Process::spawn_node /
 *             AbstractProcess::on_node: a config, module_id(), the
 *             _lunatic_spawn_by_index trampoline, the capture as the first
 *             message, an init reply, tagged requests
 *   links     links and monitors across nodes: a crash, unlink, kill, a
 *             pid that does not exist, a local death seen on b
 *   watch     prints "ready", then what arrives when node b goes away
 *             (the script kills or stops it): link, monitor, a pending
 *             request and a pending spawn
 *   stale     prints "ready", then (the script restarts b) a pid of b's
 *             previous life gets noproc and never reaches the new process
 *   bigmsg    a 64 MiB message to b does not hold up round trips with b
 *   limits    (under --max-memory 64M) sends and requests of 8 MiB to b,
 *             128 MiB of each: a message sent is no longer the sender's;
 *             a process on b with a 16 MiB limit dies of a 32 MiB message
 *             from here (the script finds "mailbox limit exceeded" in b's
 *             log), and b serves on
 *   deny      (under --deny net,compile --max-memory 64M) capabilities only
 *             narrow across nodes: a child spawned on b with the caller's
 *             config has no networking and at most its memory; a config
 *             that grants compiling is refused
 *   erl       a process registered as "echo" serves an Erlang node
 */
#include "lunatic_guest.h"

#include <stdlib.h>
#include <time.h>

#define say lg_printf

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The id of the node tagged role=ROLE (waiting up to 20 s for it), or 0. */
static uint64_t find_node(const char *role, uint64_t not_this)
{
    char q[64];
    snprintf(q, sizeof q, "role=%s", role);
    for (int i = 0; i < 2000; i++) {
        uint64_t ids[8];
        uint32_t n = lg_lookup_nodes(q, ids, 8);
        for (uint32_t k = 0; k < n; k++)
            if (ids[k] != not_this)
                return ids[k];
        lg_sleep_ms(10);
    }
    return 0;
}

static uint64_t spawn_on(uint64_t node, const char *func, const lg_param *params, size_t n)
{
    uint64_t pid;
    uint32_t r = lg_spawn_on(node, LG_MINE, func, params, n, &pid);
    if (r != 0) {
        char e[200];
        lg_error_string(pid, e, sizeof e);
        say("spawn of %s failed: %u %s\n", func, r, e);
        lg_error_drop(pid);
        return 0;
    }
    return pid;
}

static void send_u64(uint64_t pid, int64_t tag, uint64_t v)
{
    lg_msg_create(tag, 8);
    lg_msg_write_u64(v);
    lg_msg_send_to(pid);
}

/* ---- helpers that run on other nodes -------------------------------------------- */

/* Echoes every message back to parent with tag + 1000, until tag 99. */
LG_EXPORT("echo")
void echo(int64_t parent)
{
    char buf[256];
    for (;;) {
        if (lg_receive_any(LG_FOREVER) != LG_DATA)
            continue;
        int64_t tag = lg_msg_tag();
        if (tag == 99)
            return;
        size_t n = lg_msg_read_str(buf, sizeof buf);
        lg_send_to((uint64_t)parent, tag + 1000, buf, n);
    }
}

/* Reports "ready" (tag 5), then traps at the first message. */
LG_EXPORT("crasher")
void crasher(int64_t parent)
{
    send_u64((uint64_t)parent, 5, lg_self());
    lg_receive_any(LG_FOREVER);
    lg_trap();
}

/* Sleeps until killed. */
LG_EXPORT("sleeper")
void sleeper(void)
{
    lg_sleep_ms(LG_FOREVER);
}

/* Receives and never answers. */
LG_EXPORT("silent")
void silent(void)
{
    for (;;)
        lg_receive_any(LG_FOREVER);
}

/* On b: links (tag 55) to and monitors victim on a, reports ready (tag 6),
 * then reports what victim's death brings: tag 7 with the LinkDied tag,
 * tag 8 with the ProcessDied pid. */
LG_EXPORT("watcher")
void watcher(int64_t parent, int64_t victim)
{
    lg_die_when_link_dies(0);
    lg_link(55, (uint64_t)victim);
    lg_monitor((uint64_t)victim);
    send_u64((uint64_t)parent, 6, 1);
    for (int got = 0; got < 2;) {
        uint32_t k = lg_receive_any(10000);
        if (k == LG_TIMEOUT)
            break;
        if (k == LG_LINK_DIED) {
            send_u64((uint64_t)parent, 7, (uint64_t)lg_msg_tag());
            got++;
        } else if (k == LG_PROCESS_DIED) {
            send_u64((uint64_t)parent, 8, lg_msg_pid());
            got++;
        }
    }
}

/* Reports every message it gets (tag 20, its tag as data). */
LG_EXPORT("reporter")
void reporter(int64_t parent)
{
    for (;;) {
        lg_receive_any(LG_FOREVER);
        send_u64((uint64_t)parent, 20, (uint64_t)lg_msg_tag());
    }
}

/* Receives the 64 MiB message, checks it, reports (tag 70). */
LG_EXPORT("sink")
void sink(int64_t parent)
{
    if (lg_receive_tag(3, 60000) != LG_DATA)
        return;
    uint64_t size = lg_msg_size();
    uint8_t *buf = malloc(size);
    uint64_t ok = buf && lg_msg_read(buf, size) == size;
    for (uint64_t i = 0; ok && i < size; i += 4093)
        ok = buf[i] == (uint8_t)(i * 7);
    send_u64((uint64_t)parent, 70, ok ? size : 0);
}

/* ---- the lunatic-rs flow ---------------------------------------------------------- */

/* lunatic-rs spawns "_lunatic_spawn_by_index"(function table index, arg). */
typedef void (*entry_fn)(int32_t);
LG_EXPORT("_lunatic_spawn_by_index")
void lunatic_spawn_by_index(int32_t function, int32_t arg)
{
    ((entry_fn)(uintptr_t)function)(arg);
}

/* host::send of lunatic-rs: message::send on this node, else
 * distributed::send. */
static void host_send(uint64_t node, uint64_t pid)
{
    if (node == lg_node_id())
        lgi_message_send(pid);
    else
        lgi_distributed_send(node, pid);
}

/* The child: its capture (parent node, parent id, init tag) comes as the
 * first message; it answers the init tag, then doubles every request. */
static void rust_child(int32_t arg)
{
    struct { uint64_t node, id; int64_t init_tag; } cap;
    if (lg_receive_any(10000) != LG_DATA || lg_msg_read(&cap, sizeof cap) != sizeof cap)
        return;
    /* the config came along: memory beyond its 16 MiB limit is refused */
    int grew = __builtin_wasm_memory_grow(0, 512) != (size_t)-1; /* 32 MiB more */
    char msg[64];
    snprintf(msg, sizeof msg, "init ok arg=%d grow_refused=%d", arg, !grew);
    lg_msg_create(cap.init_tag, 0);
    lg_msg_write_str(msg);
    host_send(cap.node, cap.id);
    for (;;) {
        if (lg_receive_any(LG_FOREVER) != LG_DATA)
            continue;
        int64_t tag = lg_msg_tag();
        uint64_t v = lg_msg_read_u64();
        lg_msg_create(tag, 8);
        lg_msg_write_u64(v * 2);
        host_send(cap.node, cap.id);
    }
}

/* ---- modes --------------------------------------------------------------------------- */

static int mesh(void)
{
    for (int i = 0; i < 2000 && lg_nodes_count() < 3; i++)
        lg_sleep_ms(10);
    uint64_t ids[8];
    uint32_t n = lg_get_nodes(ids, 8);
    say("nodes %u\n", n);
    int self = 0;
    for (uint32_t i = 0; i < n; i++)
        self |= ids[i] == lg_node_id();
    say("self listed %s\n", self ? "yes" : "no");
    say("get_nodes(.., 1) copies %u\n", lg_get_nodes(ids, 1));
    uint64_t b = find_node("b", 0), c = find_node("c", 0), got[8];
    say("lookup role=b: %u node, role=c: %u node, role=a is self: %s\n",
        lg_lookup_nodes("role=b", got, 8), lg_lookup_nodes("role=c", got, 8),
        lg_lookup_nodes("role=a", got, 8) == 1 && got[0] == lg_node_id() ? "yes" : "no");
    say("lookup all: %u, role=b&zone=x: %u, nothing: %u\n", lg_lookup_nodes("", got, 8),
        lg_lookup_nodes("role=b&zone=x", got, 8), lg_lookup_nodes("role=nobody", got, 8));
    say("distinct ids: %s\n", b && c && b != c && b != lg_node_id() && c != lg_node_id() ? "yes" : "no");
    say("module id set: %s\n", lg_module_id() ? "yes" : "no");
    uint64_t qid, cnt, err = 0;
    lgi_distributed_exec_lookup_nodes("", 0, &qid, &cnt, &err);
    int32_t r1 = lgi_distributed_copy_lookup_nodes_results(qid, got, 8, &err);
    int32_t r2 = lgi_distributed_copy_lookup_nodes_results(qid, got, 8, &err);
    say("lookup consumed: %d then %d\n", r1, r2);
    return 0;
}

static int spawn_mode(void)
{
    uint64_t b = find_node("b", 0);
    uint64_t pid = spawn_on(b, "echo", LG_ARGS(LG_I64(lg_self())));
    if (!pid)
        return 1;
    say("spawned on b, pid carries b's id: %s\n", lg_pid_node(pid) == b ? "yes" : "no");
    char buf[64];
    lg_msg_create(1, 0);
    lg_msg_write_str("hello");
    say("distributed::send: %u\n", lgi_distributed_send(b, pid));
    if (lg_receive_tag(1001, 5000) == LG_DATA) {
        lg_msg_read_str(buf, sizeof buf);
        say("echo: %s\n", buf);
    }
    lg_msg_create(2, 0);
    lg_msg_write_str("ping");
    uint32_t r = lgi_distributed_send_receive_skip_search(b, pid, 1002, 5000);
    lg_msg_read_str(buf, sizeof buf);
    say("request/reply: %u %s\n", r, r == 0 ? buf : "-");
    lg_msg_create(3, 0);
    lg_msg_write_str("via message::send");
    lg_msg_send(pid); /* a global pid: message::send reaches it too */
    if (lg_receive_tag(1003, 5000) == LG_DATA) {
        lg_msg_read_str(buf, sizeof buf);
        say("echo: %s\n", buf);
    }
    /* errors: a node that does not exist, a module nobody has */
    uint64_t out;
    r = lgi_distributed_spawn(0xfffe == b ? 0xfffd : 0xfffe, -1, lg_module_id(), "echo", 4, NULL, 0, &out);
    lg_error_string(out, buf, sizeof buf);
    say("spawn on an unknown node: %u (%s)\n", r, buf);
    r = lgi_distributed_send(0xfffe == b ? 0xfffd : 0xfffe, pid);
    say("send to an unknown node: %u\n", r);
    r = lgi_distributed_spawn(b, -1, lg_module_id() ^ 1, "echo", 4, NULL, 0, &out);
    say("spawn of an unknown module: %u\n", r);
    lg_msg_create(0, 0);
    r = lgi_distributed_send_receive_skip_search(0xfffe == b ? 0xfffd : 0xfffe, pid, 5, 60000);
    say("request to an unknown node: %u\n", r);
    lg_msg_create(99, 0);
    lg_msg_send_to(pid);
    return 0;
}

LG_EXPORT("spinner")
void spinner(void)
{
    for (volatile uint64_t x = 0;; x++)
        ;
}

/* Messages from another node still arrive when every worker of the node
 * runs a process that never waits: idle workers read the connections in
 * the node thread's place (ld_idle_poll), and busy ones do not, so the
 * node thread must take the sockets back. */
static int busy(void)
{
    uint64_t b = find_node("b", 0);
    uint64_t spin[4], e = spawn_on(b, "echo", LG_ARGS(LG_I64(lg_self())));
    int spinning = 0;
    for (int i = 0; i < 4; i++)
        spinning += (spin[i] = spawn_on(b, "spinner", NULL, 0)) != 0;
    lg_sleep_ms(200); /* they hold b's workers by now */
    int done = 0;
    uint64_t worst = 0;
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = now_ms();
        lg_msg_create(1, 0);
        lg_msg_write_str("x");
        lg_msg_send_to(e);
        done += lg_receive_tag(1001, 5000) == LG_DATA;
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
    }
    say("round trips while 4 processes spin on b: %d of 20, worst under 1 s: %s\n", done,
        spinning == 4 && worst < 1000 ? "yes" : "no");
    for (int i = 0; i < 4; i++)
        lg_kill(spin[i]);
    lg_msg_create(99, 0);
    lg_msg_send_to(e);
    return 0;
}

static int rustflow(void)
{
    uint64_t b = find_node("b", 0);
    int64_t config = lgi_process_create_config();
    lgi_process_config_set_max_memory((uint64_t)config, 16 << 20);
    lgi_process_config_set_can_spawn_processes((uint64_t)config, 1);
    uint8_t params[34];
    lg_param p[2] = {LG_I32((int32_t)(uintptr_t)rust_child), LG_I32(42)};
    uint32_t plen = lg_encode_params(params, p, 2);
    uint64_t id;
    const char *func = "_lunatic_spawn_by_index";
    uint32_t r = lgi_distributed_spawn(b, config, lgi_distributed_module_id(), func,
                                       (uint32_t)strlen(func), params, plen, &id);
    say("spawn_node_config: %u\n", r);
    if (r)
        return 1;
    /* the capture: Process::this() (node, id) and the init tag */
    struct { uint64_t node, id; int64_t init_tag; } cap = {lgi_distributed_node_id(),
                                                           lgi_process_process_id(), 7001};
    lg_msg_create(0, 0);
    lg_msg_write(&cap, sizeof cap);
    host_send(b, id);
    char buf[64];
    if (lg_receive_tag(7001, 5000) == LG_DATA) {
        lg_msg_read_str(buf, sizeof buf);
        say("%s\n", buf);
    }
    for (int i = 1; i <= 3; i++) {
        lg_msg_create(8000 + i, 8);
        lg_msg_write_u64((uint64_t)(i * 10 + 1));
        r = lgi_distributed_send_receive_skip_search(b, id, 8000 + i, 5000);
        say("request %d: %u -> %llu\n", i, r, (unsigned long long)(r ? 0 : lg_msg_read_u64()));
    }
    lg_kill(id);
    return 0;
}

/* Waits for a message with tag (5 s); its u64, or UINT64_MAX. */
static uint64_t wait_u64(int64_t tag)
{
    return lg_receive_tag(tag, 5000) == LG_DATA ? lg_msg_read_u64() : UINT64_MAX;
}

/* Collects up to n LinkDied/ProcessDied messages for 5 s. */
static void collect(int n, int64_t *link_tag, uint64_t *died)
{
    *link_tag = -1;
    *died = 0;
    for (int got = 0; got < n;) {
        uint32_t k = lg_receive_any(5000);
        if (k == LG_TIMEOUT)
            return;
        if (k == LG_LINK_DIED) {
            *link_tag = lg_msg_tag();
            got++;
        } else if (k == LG_PROCESS_DIED) {
            *died = lg_msg_pid();
            got++;
        }
    }
}

static int links(void)
{
    uint64_t b = find_node("b", 0);
    lg_die_when_link_dies(0);
    int64_t tag;
    uint64_t died;

    uint64_t c1 = spawn_on(b, "crasher", LG_ARGS(LG_I64(lg_self())));
    wait_u64(5);
    lg_link(77, c1);
    lg_monitor(c1);
    lg_send_to(c1, 0, "die", 3);
    collect(2, &tag, &died);
    say("crash on b: LinkDied tag %lld, ProcessDied of it: %s\n", (long long)tag,
        died == c1 ? "yes" : "no");

    uint64_t c2 = spawn_on(b, "crasher", LG_ARGS(LG_I64(lg_self())));
    wait_u64(5);
    lg_link(78, c2);
    lg_unlink(c2);
    lg_monitor(c2);
    lg_send_to(c2, 0, "die", 3);
    collect(2, &tag, &died);
    say("after unlink: LinkDied %s, ProcessDied %s\n", tag == -1 ? "none" : "came",
        died == c2 ? "yes" : "no");

    uint64_t c3 = spawn_on(b, "crasher", LG_ARGS(LG_I64(lg_self())));
    wait_u64(5);
    lg_monitor(c3);
    lg_stop_monitoring(c3);
    lg_send_to(c3, 0, "die", 3);
    say("after stop_monitoring: %s\n",
        lg_receive_any(1000) == LG_TIMEOUT ? "no ProcessDied" : "a message came");

    uint64_t s = spawn_on(b, "sleeper", NULL, 0);
    lg_monitor(s);
    lg_kill(s);
    collect(1, &tag, &died);
    say("remote kill: ProcessDied %s\n", died == s ? "yes" : "no");

    uint64_t ghost = (b << 48) | 999999;
    lg_link(79, ghost);
    collect(1, &tag, &died);
    say("link to a pid that does not exist: LinkDied tag %lld\n", (long long)tag);
    lg_monitor(ghost);
    collect(1, &tag, &died);
    say("monitor of a pid that does not exist: ProcessDied %s\n", died == ghost ? "yes" : "no");

    uint64_t victim = lg_spawn("sleeper", NULL, 0);
    spawn_on(b, "watcher", LG_ARGS(LG_I64(lg_self()), LG_I64(victim)));
    wait_u64(6);
    lg_kill(victim);
    uint64_t t7 = wait_u64(7), t8 = wait_u64(8);
    say("local death seen on b: LinkDied tag %lld, ProcessDied of it: %s\n", (long long)t7,
        t8 == victim ? "yes" : "no");
    return 0;
}

/* Tries a request to pid on node; reports tag 40: code, 41: elapsed ms. */
LG_EXPORT("requester")
void requester(int64_t parent, int64_t node, int64_t pid)
{
    uint64_t t0 = now_ms();
    lg_msg_create(0, 0);
    uint32_t r = lgi_distributed_send_receive_skip_search((uint64_t)node, (uint64_t)pid, 1, 30000);
    send_u64((uint64_t)parent, 40, r);
    send_u64((uint64_t)parent, 41, now_ms() - t0);
}

/* Spawns on node every 100 ms until one fails; reports tag 42: code, 43:
 * how long that spawn took. */
LG_EXPORT("spawner")
void spawner(int64_t parent, int64_t node)
{
    for (int i = 0; i < 600; i++) {
        uint64_t t0 = now_ms(), pid;
        uint32_t r = lg_spawn_on((uint64_t)node, LG_MINE, "sleeper", NULL, 0, &pid);
        if (r != 0) {
            send_u64((uint64_t)parent, 42, r);
            send_u64((uint64_t)parent, 43, now_ms() - t0);
            return;
        }
        lg_kill(pid);
        lg_sleep_ms(100);
    }
}

static int watch(void)
{
    uint64_t b = find_node("b", 0);
    lg_die_when_link_dies(0);
    uint64_t s = spawn_on(b, "sleeper", NULL, 0), q = spawn_on(b, "silent", NULL, 0);
    lg_link(31, s);
    lg_monitor(s);
    lg_spawn("requester", LG_ARGS(LG_I64(lg_self()), LG_I64(b), LG_I64(q)));
    lg_spawn("spawner", LG_ARGS(LG_I64(lg_self()), LG_I64(b)));
    lg_sleep_ms(300);
    say("ready\n");
    uint64_t t0 = now_ms();
    int64_t tag = -1;
    uint64_t died = 0, req = 0, req_ms = 0, sp = 0, sp_ms = 0;
    for (int got = 0; got < 6 && now_ms() - t0 < 30000;) {
        uint32_t k = lg_receive_any(30000);
        if (k == LG_TIMEOUT)
            break;
        got++;
        if (k == LG_LINK_DIED)
            tag = lg_msg_tag();
        else if (k == LG_PROCESS_DIED)
            died = lg_msg_pid();
        else if (lg_msg_tag() == 40)
            req = lg_msg_read_u64();
        else if (lg_msg_tag() == 41)
            req_ms = lg_msg_read_u64();
        else if (lg_msg_tag() == 42)
            sp = lg_msg_read_u64();
        else if (lg_msg_tag() == 43)
            sp_ms = lg_msg_read_u64();
        else
            got--;
    }
    say("LinkDied tag %lld, ProcessDied of it: %s\n", (long long)tag, died == s ? "yes" : "no");
    say("pending request: %llu, %s\n", (unsigned long long)req,
        req_ms < 20000 ? "ended before its timeout" : "waited for its timeout");
    say("pending spawn: %llu, %s\n", (unsigned long long)sp,
        sp && sp_ms < 4900 ? "ended before its timeout" : "waited for its timeout");
    return 0;
}

static int stale(void)
{
    uint64_t b = find_node("b", 0);
    lg_die_when_link_dies(0);
    uint64_t old = spawn_on(b, "reporter", LG_ARGS(LG_I64(lg_self())));
    lg_send_to(old, 1, "", 0);
    say("old process reached: %s\n", wait_u64(20) == 1 ? "yes" : "no");
    say("ready\n");
    uint64_t b2 = find_node("b", b);
    for (int i = 0; i < 2000 && lg_lookup_nodes("role=b", (uint64_t[8]){0}, 8) != 1; i++)
        lg_sleep_ms(10);
    say("b is back with a new id: %s\n", b2 && b2 != b ? "yes" : "no");
    uint64_t fresh = spawn_on(b2, "reporter", LG_ARGS(LG_I64(lg_self())));
    say("the new process has the old one's number: %s\n",
        (fresh & 0xffffffffffffull) == (old & 0xffffffffffffull) ? "yes" : "no");
    lg_msg_create(2, 0);
    say("distributed::send to the old pid: %u\n", lgi_distributed_send(b, old));
    lg_msg_create(3, 0);
    lg_msg_send(old);
    lg_monitor(old);
    int64_t tag;
    uint64_t died;
    collect(1, &tag, &died);
    say("monitor of the old pid: ProcessDied %s\n", died == old ? "yes" : "no");
    lg_link(9, old);
    collect(1, &tag, &died);
    say("link to the old pid: LinkDied tag %lld\n", (long long)tag);
    lg_send_to(fresh, 4, "", 0);
    uint64_t first = wait_u64(20);
    say("the new process got only what was sent to it: %s\n", first == 4 ? "yes" : "no");
    return 0;
}

/* Round trips with an echo on b (its pid comes tagged 8, then "go"
 * tagged 9); reports tag 71 when 20 are done. */
LG_EXPORT("pinger")
void pinger(int64_t parent)
{
    uint64_t echo_pid = lg_receive_tag(8, 10000) == LG_DATA ? lg_msg_read_u64() : 0;
    lg_receive_tag(9, 10000);
    for (int i = 0; i < 20; i++) {
        lg_send_to(echo_pid, 50, "x", 1);
        lg_receive_tag(1050, 10000);
    }
    send_u64((uint64_t)parent, 71, 20);
}

static int bigmsg(void)
{
    uint64_t b = find_node("b", 0);
    uint64_t s = spawn_on(b, "sink", LG_ARGS(LG_I64(lg_self())));
    uint64_t pg = lg_spawn("pinger", LG_ARGS(LG_I64(lg_self())));
    uint64_t e = spawn_on(b, "echo", LG_ARGS(LG_I64(pg)));
    send_u64(pg, 8, e);
    size_t size = 64u << 20;
    uint8_t *buf = malloc(size);
    if (!buf)
        return 1;
    for (size_t i = 0; i < size; i += 4093)
        buf[i] = (uint8_t)(i * 7);
    lg_msg_create(3, size);
    lg_msg_write(buf, size);
    free(buf);
    uint64_t t0 = now_ms();
    lgi_distributed_send(b, s);
    lg_send_to(pg, 9, "", 0);
    int64_t tags[2] = {70, 71};
    uint64_t order[2] = {0, 0}, big = 0;
    for (int i = 0; i < 2; i++) {
        if (lg_receive(tags, 2, 60000) != LG_DATA)
            break;
        order[i] = (uint64_t)lg_msg_tag();
        if (order[i] == 70)
            big = lg_msg_read_u64();
    }
    say("64 MiB message arrived intact: %s\n", big == size ? "yes" : "no");
    say("20 round trips finished before it: %s\n", order[0] == 71 ? "yes" : "no");
    lg_printf("(transfer took %llu ms)\n", (unsigned long long)(now_ms() - t0));
    return 0;
}

/* Starts a scratch message of size bytes with tag: "big", then zeros. */
static void big(int64_t tag, size_t size)
{
    static uint8_t chunk[65536];
    memcpy(chunk, "big", 4);
    lg_msg_create(tag, size);
    for (size_t n = 0; n < size; n += sizeof chunk) {
        lg_msg_write(chunk, sizeof chunk);
        chunk[0] = 0;
    }
}

static int limits(void)
{
    uint64_t b = find_node("b", 0);
    uint64_t e = spawn_on(b, "echo", LG_ARGS(LG_I64(lg_self())));
    uint64_t s = spawn_on(b, "silent", NULL, 0);
    if (!e || !s)
        return 1;
    int sent = 0, answered = 0;
    for (int i = 0; i < 16; i++) {
        big(20, 8u << 20);
        sent += lgi_distributed_send(b, s) == 0;
    }
    say("16 sends of 8 MiB under a 64 MiB limit: %d sent\n", sent);
    char buf[64];
    for (int i = 0; i < 16; i++) {
        big(21, 8u << 20);
        if (lgi_distributed_send_receive_skip_search(b, e, 1021, 10000) == 0) {
            lg_msg_read_str(buf, sizeof buf);
            answered += !strcmp(buf, "big");
        }
    }
    say("16 requests of 8 MiB under a 64 MiB limit: %d answered\n", answered);

    int64_t config = lgi_process_create_config();
    lgi_process_config_set_max_memory((uint64_t)config, 16 << 20);
    uint64_t v;
    uint32_t r = lgi_distributed_spawn(b, config, lg_module_id(), "sleeper", 7, NULL, 0, &v);
    if (r) {
        say("spawn of sleeper failed: %u\n", r);
        return 1;
    }
    lg_monitor(v);
    big(22, 32u << 20);
    lgi_distributed_send(b, v);
    int died = 0;
    for (uint64_t t0 = now_ms(); !died && now_ms() - t0 < 20000;)
        if (lg_receive_any(1000) == LG_PROCESS_DIED)
            died = lg_msg_pid() == v;
    say("32 MiB to a process on b with a 16 MiB limit: it died: %s\n", died ? "yes" : "no");
    lg_msg_create(2, 0);
    lg_msg_write_str("after");
    r = lgi_distributed_send_receive_skip_search(b, e, 1002, 5000);
    if (r == 0)
        lg_msg_read_str(buf, sizeof buf);
    say("b serves on: %u %s\n", r, r == 0 ? buf : "-");
    lg_msg_create(99, 0);
    lg_msg_send_to(e);
    lg_kill(s);
    return 0;
}

/* On b: reports (tag 30) "udp_bind <r> grow <g>": r 1 when binding a UDP
 * socket failed (networking denied), g 1 when growing memory by 128 MiB
 * was refused. */
LG_EXPORT("prober")
void prober(int64_t parent)
{
    uint64_t sock, err;
    char out[64];
    uint32_t r = lg_udp_bind(lg_localhost(0), &sock, &err);
    int grew = __builtin_wasm_memory_grow(0, 2048) != (size_t)-1;
    snprintf(out, sizeof out, "udp_bind %d grow %d", r != 0, !grew);
    lg_send_to((uint64_t)parent, 30, out, strlen(out));
}

static int deny(void)
{
    uint64_t b = find_node("b", 0);
    uint64_t pid = spawn_on(b, "prober", LG_ARGS(LG_I64(lg_self())));
    char buf[64] = "(no report)";
    if (pid && lg_receive_tag(30, 10000) == LG_DATA)
        lg_msg_read_str(buf, sizeof buf);
    say("child on b with the caller's config: %s\n", buf);
    int64_t config = lgi_process_create_config();
    lgi_process_config_set_can_compile_modules((uint64_t)config, 1);
    uint8_t params[32];
    lg_param p[1] = {LG_I64(lg_self())};
    uint32_t plen = lg_encode_params(params, p, 1);
    uint64_t id;
    uint32_t r = lgi_distributed_spawn(b, config, lg_module_id(), "prober", 6, params, plen, &id);
    char e[200] = "";
    if (r)
        lg_error_string(id, e, sizeof e);
    say("a config granting compile_module: %u %s\n", r,
        strstr(e, "spawn refused: the config grants can_compile_modules") ? "refused" : e);
    return 0;
}

/* ---- serving an Erlang node ------------------------------------------------------------ */

/* Registered as "echo". Raw terms: {echo, From, Bin} -> From gets
 * {lunatic, 7, Bin}; {term_back, From} -> From gets {back, 42, <<"x">>};
 * {wrap, From} -> From gets the term {lunatic, 5, <<"wrapped">>} built
 * with the SDK's writer; {relay, From, {lunatic, T, Bin}} -> From gets
 * {lunatic, T + 100, Bin} (read with the SDK's reader);
 * {link_me, Pid} -> links to Pid (a LinkDied later is reported to the
 * last sender as {lunatic, 11, <<"link died">>}); {crash} traps; {quit}
 * ends normally. A plain message with tag T is answered to the last
 * sender as {lunatic, T + 1, <<"got T:data">>}. */
LG_EXPORT("erl_echo")
void erl_echo(int64_t parent)
{
    static uint8_t buf[4096];
    uint64_t last = 0;
    lg_die_when_link_dies(0);
    for (;;) {
        uint32_t k = lg_receive_any(LG_FOREVER);
        if (k == LG_LINK_DIED) {
            if (last)
                lg_send_to(last, 11, "link died", 9);
            continue;
        }
        if (k != LG_DATA)
            continue;
        int64_t tag = lg_msg_tag();
        size_t n = lg_msg_read(buf, sizeof buf);
        lg_etf r;
        if (lg_etf_open(&r, buf, n) < 0) {
            char out[200];
            int m = snprintf(out, sizeof out, "got %lld:%.*s", (long long)tag, (int)n, buf);
            if (last)
                lg_send_to(last, tag + 1, out, (size_t)m);
            continue;
        }
        char atom[32];
        int arity = lg_etf_tuple(&r);
        if (arity < 1 || lg_etf_atom(&r, atom, sizeof atom) < 0)
            continue;
        if (!strcmp(atom, "echo") && arity == 3) {
            const uint8_t *d;
            size_t len;
            if (lg_etf_pid(&r, &last) == 0 && lg_etf_binary(&r, &d, &len) == 0)
                lg_send_to(last, 7, d, len);
        } else if (!strcmp(atom, "term_back") && arity == 2 && lg_etf_pid(&r, &last) == 0) {
            uint8_t t[64];
            lg_etfw w;
            lg_etfw_begin(&w, t, sizeof t);
            lg_etfw_tuple(&w, 3);
            lg_etfw_atom(&w, "back");
            lg_etfw_int(&w, 42);
            lg_etfw_binary(&w, "x", 1);
            lg_send_to(last, 0, t, w.len);
        } else if (!strcmp(atom, "wrap") && arity == 2 && lg_etf_pid(&r, &last) == 0) {
            uint8_t t[64];
            lg_etfw w;
            lg_etfw_begin(&w, t, sizeof t);
            lg_etfw_lunatic(&w, 5, "wrapped", 7);
            lg_send_to(last, 0, t, w.len);
        } else if (!strcmp(atom, "relay") && arity == 3 && lg_etf_pid(&r, &last) == 0) {
            int64_t t;
            const uint8_t *d;
            size_t len;
            if (lg_etf_lunatic(&r, &t, &d, &len) == 0)
                lg_send_to(last, t + 100, d, len);
        } else if (!strcmp(atom, "link_me") && arity == 2) {
            uint64_t pid;
            if (lg_etf_pid(&r, &pid) == 0)
                lg_link(0, pid);
        } else if (!strcmp(atom, "crash")) {
            lg_trap();
        } else if (!strcmp(atom, "quit")) {
            send_u64((uint64_t)parent, 90, 0);
            return;
        }
    }
}

static int erl(void)
{
    /* serve until an echo quits; an echo that crashes is replaced */
    for (;;) {
        uint64_t e = lg_spawn("erl_echo", LG_ARGS(LG_I64(lg_self())));
        lg_register("echo", e);
        lg_monitor(e);
        say("echo up\n");
        int64_t tags[1] = {90};
        for (;;) {
            uint32_t k = lg_receive_any(120000);
            if (k == LG_TIMEOUT)
                return 1;
            if (k == LG_PROCESS_DIED)
                break;
            if (k == LG_DATA && lg_msg_tag() == tags[0]) {
                lg_sleep_ms(300); /* let its exit reach the Erlang node */
                say("echo quit\n");
                return 0;
            }
        }
        say("echo died\n");
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!lg_node_id()) {
        say("not in a cluster\n");
        return 2;
    }
    if (!strcmp(mode, "mesh"))
        return mesh();
    if (!strcmp(mode, "spawn"))
        return spawn_mode();
    if (!strcmp(mode, "rustflow"))
        return rustflow();
    if (!strcmp(mode, "busy"))
        return busy();
    if (!strcmp(mode, "links"))
        return links();
    if (!strcmp(mode, "watch"))
        return watch();
    if (!strcmp(mode, "stale"))
        return stale();
    if (!strcmp(mode, "bigmsg"))
        return bigmsg();
    if (!strcmp(mode, "limits"))
        return limits();
    if (!strcmp(mode, "deny"))
        return deny();
    if (!strcmp(mode, "erl"))
        return erl();
    say("unknown mode '%s'\n", mode);
    return 2;
}
