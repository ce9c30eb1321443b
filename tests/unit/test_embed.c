/*
 * test_embed.c - the embedding API (include/lunatic.h) with native
 * processes: ping-pong between natives, Wasm <-> native messages, links
 * (a failure kills the linked process), monitors (of live, dying and
 * missing processes), kill, exists, the statuses of lunatic_wait (normal,
 * failed, killed, proc_exit code, trap), waits from several threads, and
 * several runtimes in one process (with messages between them).
 *
 * Handlers run on workers: they never call CHECK (the counters are not
 * thread-safe); they count errors in their own state, which the main thread
 * reads after lunatic_wait (the runtime's done lock orders the accesses),
 * or in atomics. A watchdog (alarm) ends a hung test with a FAIL line.
 * Prints "N passed, M failed".
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "lunatic.h"

#define ENV 0

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to ms for *flag to become nonzero. */
static int wait_flag(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms && !atomic_load(flag); i++)
        sleep_ms(1);
    return atomic_load(flag);
}

/* Waits up to ms for pid to disappear. */
static int wait_gone(lunatic_runtime *rt, uint64_t env, uint64_t pid, int ms)
{
    for (int i = 0; i < ms && lunatic_exists(rt, env, pid); i++)
        sleep_ms(1);
    return !lunatic_exists(rt, env, pid);
}

/* ---- a Wasm guest ------------------------------------------------------------ */

static const char *guest_wat =
    "(module\n"
    "  (import \"lunatic::message\" \"create_data\" (func $create (param i64 i64)))\n"
    "  (import \"lunatic::message\" \"write_data\" (func $write (param i32 i32) (result i32)))\n"
    "  (import \"lunatic::message\" \"read_data\" (func $read (param i32 i32) (result i32)))\n"
    "  (import \"lunatic::message\" \"send\" (func $send (param i64) (result i32)))\n"
    "  (import \"lunatic::message\" \"receive\" (func $receive (param i32 i32 i64) (result i32)))\n"
    "  (import \"lunatic::message\" \"get_tag\" (func $get_tag (result i64)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $asz (param i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  ;; send_n(to, n): n messages; message i has tag i+1 and the u32 i\n"
    "  (func (export \"send_n\") (param $to i64) (param $n i32) (local $i i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (call $create (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))) (i64.const 4))\n"
    "      (i32.store (i32.const 0) (local.get $i))\n"
    "      (drop (call $write (i32.const 0) (i32.const 4)))\n"
    "      (drop (call $send (local.get $to)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l))))\n"
    "  ;; echo(to, n): n times, receive a data message and send its bytes\n"
    "  ;; back to `to` with the tag + 1000\n"
    "  (func (export \"echo\") (param $to i64) (param $n i32) (local $len i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.eqz (local.get $n)))\n"
    "      (if (i32.ne (call $receive (i32.const 0) (i32.const 0) (i64.const -1)) (i32.const 0))\n"
    "        (then unreachable))\n"
    "      (local.set $len (call $read (i32.const 64) (i32.const 64)))\n"
    "      (call $create (i64.add (call $get_tag) (i64.const 1000)) (i64.const 0))\n"
    "      (drop (call $write (i32.const 64) (local.get $len)))\n"
    "      (drop (call $send (local.get $to)))\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "      (br $l))))\n"
    "  ;; block(): waits for a message forever\n"
    "  (func (export \"block\")\n"
    "    (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))\n"
    "  (func (export \"exit_with\") (param $c i32) (call $exit (local.get $c)))\n"
    "  (func (export \"boom\") unreachable)\n"
    "  ;; argc(): exits with the number of command-line arguments\n"
    "  (func (export \"argc\")\n"
    "    (drop (call $asz (i32.const 0) (i32.const 4)))\n"
    "    (call $exit (i32.load (i32.const 0))))\n"
    "  (func (export \"spin\") (loop $l (br $l)))\n"
    "  (func (export \"ok\")))\n";

static lunatic_module *guest;

static uint64_t spawn_guest(lunatic_runtime *rt, uint64_t env, const char *func,
                            const uint64_t *params, uint32_t n)
{
    char err[256] = "";
    lunatic_config *c = lunatic_config_new();
    uint64_t pid = lunatic_spawn(rt, env, guest, c, func, params, n, err, sizeof err);
    lunatic_config_release(c);
    CHECK(pid != 0, "spawn %s: %s", func, err);
    return pid;
}

/* ---- ping-pong between two natives ------------------------------------------------ */

#define ROUNDS 10000
enum { TAG_PING = 1, TAG_STOP = 2 };

typedef struct pp {
    lunatic_runtime *rt;
    uint64_t env;
    uint64_t peer;          /* the ponger (for the pinger) */
    int rounds;
    /* owned by the handler, read after lunatic_wait */
    uint32_t next;          /* the number expected next */
    int count, errors, started;
} pp;

typedef struct ping_msg {
    uint64_t from;
    uint32_t i;
} ping_msg;

static int pinger(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    pp *s = ud;
    ping_msg m = {lunatic_process_id(self), 0};
    if (!msg) {
        s->started++;
        return lunatic_send(s->rt, s->env, s->peer, TAG_PING, &m, sizeof m) == 0 ? LUNATIC_CONTINUE
                                                                                  : LUNATIC_FAILED;
    }
    ping_msg got;
    if (msg->kind != LUNATIC_MSG_DATA || msg->tag != TAG_PING || msg->len != sizeof got) {
        s->errors++;
        return LUNATIC_FAILED;
    }
    memcpy(&got, msg->data, sizeof got);
    if (got.i != s->next || got.from != s->peer)
        s->errors++;
    s->next = got.i + 1;
    s->count++;
    if (s->count == s->rounds) {
        lunatic_send(s->rt, s->env, s->peer, TAG_STOP, NULL, 0);
        return LUNATIC_DONE;
    }
    m.i = s->next;
    lunatic_send(s->rt, s->env, s->peer, TAG_PING, &m, sizeof m);
    return LUNATIC_CONTINUE;
}

static int ponger(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    pp *s = ud;
    if (!msg) {
        s->started++;
        return LUNATIC_CONTINUE;
    }
    if (msg->kind != LUNATIC_MSG_DATA) {
        s->errors++;
        return LUNATIC_FAILED;
    }
    if (msg->tag == TAG_STOP)
        return LUNATIC_DONE;
    ping_msg got;
    if (msg->tag != TAG_PING || msg->len != sizeof got) {
        s->errors++;
        return LUNATIC_FAILED;
    }
    memcpy(&got, msg->data, sizeof got);
    if (got.i != s->next)
        s->errors++;
    s->next = got.i + 1;
    s->count++;
    ping_msg back = {lunatic_process_id(self), got.i};
    lunatic_send(s->rt, s->env, got.from, TAG_PING, &back, sizeof back);
    return LUNATIC_CONTINUE;
}

static void ping_pong(lunatic_runtime *rt, uint64_t env, int rounds, const char *what)
{
    pp a = {.rt = rt, .env = env, .rounds = rounds}, b = {.rt = rt, .env = env, .rounds = rounds};
    uint64_t pb = lunatic_spawn_native(rt, env, ponger, &b);
    CHECK(pb != 0, "%s: spawn ponger", what);
    a.peer = pb;
    uint64_t pa = lunatic_spawn_native(rt, env, pinger, &a);
    CHECK(pa != 0 && pa != pb, "%s: spawn pinger (%llu, %llu)", what, (unsigned long long)pa,
          (unsigned long long)pb);
    int sa = lunatic_wait(rt, env, pa);
    int sb = lunatic_wait(rt, env, pb);
    CHECK(sa == 0 && sb == 0, "%s: statuses %d %d", what, sa, sb);
    CHECK(a.count == rounds && b.count == rounds, "%s: counts %d %d, want %d", what, a.count, b.count,
          rounds);
    CHECK(a.errors == 0 && b.errors == 0, "%s: %d + %d out-of-order or bad messages", what, a.errors,
          b.errors);
    CHECK(a.started == 1 && b.started == 1, "%s: start calls %d %d", what, a.started, b.started);
    CHECK(!lunatic_exists(rt, env, pa) && !lunatic_exists(rt, env, pb), "%s: still exist", what);
}

/* ---- a native that collects messages --------------------------------------------- */

typedef struct sink {
    int want;                /* DONE after this many messages */
    int64_t tag_base;        /* message i must have tag tag_base + i + 1 */
    int count, errors;
    int kinds[3];
    uint64_t died_pid;       /* the last PROCESS_DIED pid */
    int64_t died_tag;
    atomic_int started;
} sink;

static int sink_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    sink *s = ud;
    if (!msg) {
        atomic_store(&s->started, 1);
        return s->want == 0 ? LUNATIC_DONE : LUNATIC_CONTINUE;
    }
    if (msg->kind >= 0 && msg->kind < 3)
        s->kinds[msg->kind]++;
    if (msg->kind == LUNATIC_MSG_DATA) {
        uint32_t v;
        if (msg->len != 4 || msg->tag != s->tag_base + s->count + 1)
            s->errors++;
        else if (memcpy(&v, msg->data, 4), v != (uint32_t)s->count)
            s->errors++;
    } else if (msg->kind == LUNATIC_MSG_PROCESS_DIED) {
        s->died_pid = msg->pid;
        s->died_tag = msg->tag;
    }
    return ++s->count >= s->want ? LUNATIC_DONE : LUNATIC_CONTINUE;
}

static void test_wasm_to_native(lunatic_runtime *rt)
{
    check_begin("wasm_to_native", 20);
    enum { N = 2000 };
    sink s = {.want = N};
    uint64_t np = lunatic_spawn_native(rt, ENV, sink_fn, &s);
    uint64_t params[2] = {np, N};
    uint64_t wp = spawn_guest(rt, ENV, "send_n", params, 2);
    CHECK(lunatic_wait(rt, ENV, wp) == 0, "wasm sender status");
    CHECK(lunatic_wait(rt, ENV, np) == 0, "native sink status");
    CHECK(s.count == N && s.errors == 0 && s.kinds[0] == N, "sink got %d (%d errors, %d data)",
          s.count, s.errors, s.kinds[0]);
}

/* native -> (from outside) Wasm echo -> native */
static void test_native_wasm_echo(lunatic_runtime *rt)
{
    check_begin("native_wasm_echo", 20);
    enum { N = 500 };
    sink s = {.want = N, .tag_base = 1000};
    uint64_t np = lunatic_spawn_native(rt, ENV, sink_fn, &s);
    uint64_t params[2] = {np, N};
    uint64_t wp = spawn_guest(rt, ENV, "echo", params, 2);
    for (uint32_t i = 0; i < N; i++)
        CHECK(lunatic_send(rt, ENV, wp, (int64_t)i + 1, &i, 4) == 0, "send %u to the echo", i);
    CHECK(lunatic_wait(rt, ENV, wp) == 0, "echo status");
    CHECK(lunatic_wait(rt, ENV, np) == 0, "sink status");
    CHECK(s.count == N && s.errors == 0, "echoes: %d (%d errors)", s.count, s.errors);
}

/* ---- links, monitors, kill -------------------------------------------------------- */

typedef struct waiter {
    atomic_int started;
    atomic_int calls;        /* handler calls with a message */
    int fail_on_msg;         /* return FAILED at the first message */
    int done_on_msg;         /* return DONE at the first message */
} waiter;

static int waiter_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    waiter *w = ud;
    if (!msg) {
        atomic_store(&w->started, 1);
        return LUNATIC_CONTINUE;
    }
    atomic_fetch_add(&w->calls, 1);
    if (w->fail_on_msg)
        return LUNATIC_FAILED;
    if (w->done_on_msg)
        return LUNATIC_DONE;
    return LUNATIC_CONTINUE;
}

static void test_link_failure(lunatic_runtime *rt)
{
    check_begin("link_failure", 10);
    waiter a = {0}, b = {.fail_on_msg = 1};
    sink m = {.want = 1};
    uint64_t pa = lunatic_spawn_native(rt, ENV, waiter_fn, &a);
    uint64_t pb = lunatic_spawn_native(rt, ENV, waiter_fn, &b);
    uint64_t pm = lunatic_spawn_native(rt, ENV, sink_fn, &m);
    lunatic_link(rt, ENV, pa, pb, 7);
    lunatic_monitor(rt, ENV, pm, pa);
    CHECK(lunatic_exists(rt, ENV, pa) && lunatic_exists(rt, ENV, pb), "linked pair exists");
    lunatic_send(rt, ENV, pb, 0, "x", 1);
    int sb = lunatic_wait(rt, ENV, pb);
    int sa = lunatic_wait(rt, ENV, pa);
    int sm = lunatic_wait(rt, ENV, pm);
    CHECK(sb == LUNATIC_STATUS_FAILED, "failing native: status %d", sb);
    CHECK(sa == LUNATIC_STATUS_KILLED, "linked native: status %d, want killed", sa);
    CHECK(atomic_load(&a.calls) == 0, "linked native saw %d messages", atomic_load(&a.calls));
    CHECK(sm == 0 && m.kinds[LUNATIC_MSG_PROCESS_DIED] == 1 && m.died_pid == pa && m.died_tag == 0,
          "monitor: status %d, %d died messages, pid %llu (want %llu), tag %lld", sm,
          m.kinds[LUNATIC_MSG_PROCESS_DIED], (unsigned long long)m.died_pid,
          (unsigned long long)pa, (long long)m.died_tag);
    CHECK(!lunatic_exists(rt, ENV, pa) && !lunatic_exists(rt, ENV, pb), "linked pair gone");
}

/* a normal end does not kill the linked process */
static void test_link_normal(lunatic_runtime *rt)
{
    check_begin("link_normal", 10);
    waiter a = {0}, b = {.done_on_msg = 1};
    uint64_t pa = lunatic_spawn_native(rt, ENV, waiter_fn, &a);
    uint64_t pb = lunatic_spawn_native(rt, ENV, waiter_fn, &b);
    lunatic_link(rt, ENV, pa, pb, 0);
    lunatic_send(rt, ENV, pb, 0, "x", 1);
    CHECK(lunatic_wait(rt, ENV, pb) == 0, "normal end");
    sleep_ms(20);
    CHECK(lunatic_exists(rt, ENV, pa), "the linked process died of a normal end");
    CHECK(atomic_load(&a.calls) == 0, "a LinkDied for a normal end reached the handler");
    lunatic_kill(rt, ENV, pa);
    CHECK(lunatic_wait(rt, ENV, pa) == LUNATIC_STATUS_KILLED, "kill after");
}

/* a Wasm process that traps kills a linked native; one killed kills it too */
static void test_link_wasm(lunatic_runtime *rt)
{
    check_begin("link_wasm", 10);
    waiter a = {0}, c = {0};
    uint64_t pa = lunatic_spawn_native(rt, ENV, waiter_fn, &a);
    uint64_t wp = spawn_guest(rt, ENV, "block", NULL, 0);
    lunatic_link(rt, ENV, pa, wp, 0);
    uint64_t pc = lunatic_spawn_native(rt, ENV, waiter_fn, &c);
    lunatic_link(rt, ENV, pc, pa, 0);
    CHECK(wait_flag(&a.started, 5000) && wait_flag(&c.started, 5000), "natives started");
    lunatic_kill(rt, ENV, wp);
    CHECK(lunatic_wait(rt, ENV, wp) == LUNATIC_STATUS_KILLED, "killed wasm status");
    CHECK(lunatic_wait(rt, ENV, pa) == LUNATIC_STATUS_KILLED, "native linked to killed wasm");
    CHECK(lunatic_wait(rt, ENV, pc) == LUNATIC_STATUS_KILLED, "second link in the chain");
}

static void test_kill_waiting(lunatic_runtime *rt)
{
    check_begin("kill_waiting", 10);
    waiter w = {0};
    uint64_t pid = lunatic_spawn_native(rt, ENV, waiter_fn, &w);
    CHECK(pid != 0, "spawn");
    CHECK(wait_flag(&w.started, 5000), "the native never started");
    sleep_ms(5); /* let it park */
    CHECK(lunatic_exists(rt, ENV, pid) == 1, "exists while waiting");
    lunatic_kill(rt, ENV, pid);
    int st = lunatic_wait(rt, ENV, pid);
    CHECK(st == LUNATIC_STATUS_KILLED, "status %d", st);
    CHECK(lunatic_exists(rt, ENV, pid) == 0, "exists after the kill");
    CHECK(atomic_load(&w.calls) == 0, "the kill reached the handler");
    CHECK(lunatic_send(rt, ENV, pid, 0, "x", 1) == -1, "send to a dead pid succeeded");
    lunatic_kill(rt, ENV, pid); /* no effect */

    /* killed before it ever ran */
    for (int i = 0; i < 20; i++) {
        waiter v = {0};
        uint64_t p = lunatic_spawn_native(rt, ENV, waiter_fn, &v);
        lunatic_kill(rt, ENV, p);
        int s = lunatic_wait(rt, ENV, p);
        if (s != LUNATIC_STATUS_KILLED) {
            CHECK(0, "early kill %d: status %d", i, s);
            break;
        }
    }
    CHECK(1, "early kills");
}

static void test_kill_spinning_wasm(lunatic_runtime *rt)
{
    check_begin("kill_spinning_wasm", 10);
    uint64_t wp = spawn_guest(rt, ENV, "spin", NULL, 0);
    sleep_ms(20);
    CHECK(lunatic_exists(rt, ENV, wp), "spinner exists");
    lunatic_kill(rt, ENV, wp);
    CHECK(lunatic_wait(rt, ENV, wp) == LUNATIC_STATUS_KILLED, "spinner killed");
}

static void test_exists(lunatic_runtime *rt)
{
    check_begin("exists", 10);
    CHECK(!lunatic_exists(rt, ENV, 0), "pid 0 exists");
    CHECK(!lunatic_exists(rt, ENV, UINT64_MAX), "pid max exists");
    CHECK(!lunatic_exists(rt, ENV, 1u << 30), "a far pid exists");
    CHECK(lunatic_send(rt, ENV, 1u << 30, 0, "x", 1) == -1, "send to a missing pid succeeded");
    waiter w = {0};
    uint64_t pid = lunatic_spawn_native(rt, 77, waiter_fn, &w);
    CHECK(lunatic_exists(rt, 77, pid), "exists right after spawn");
    CHECK(pid != 1 || !lunatic_exists(rt, 78, pid), "pid of env 77 exists in env 78");
    lunatic_kill(rt, 78, pid); /* another environment: no effect */
    sleep_ms(10);
    CHECK(lunatic_exists(rt, 77, pid), "a kill in another environment reached it");
    lunatic_kill(rt, 77, pid);
    CHECK(lunatic_wait(rt, 77, pid) == LUNATIC_STATUS_KILLED, "env 77 kill");
}

static void test_wait_statuses(lunatic_runtime *rt)
{
    check_begin("wait_statuses", 10);
    waiter d = {.done_on_msg = 1}, f = {.fail_on_msg = 1};
    uint64_t pd = lunatic_spawn_native(rt, ENV, waiter_fn, &d);
    uint64_t pf = lunatic_spawn_native(rt, ENV, waiter_fn, &f);
    lunatic_send(rt, ENV, pd, 0, NULL, 0);
    lunatic_send(rt, ENV, pf, 0, NULL, 0);
    CHECK(lunatic_wait(rt, ENV, pf) == LUNATIC_STATUS_FAILED, "native failure");
    CHECK(lunatic_wait(rt, ENV, pd) == 0, "native done");

    uint64_t p = spawn_guest(rt, ENV, "ok", NULL, 0);
    CHECK(lunatic_wait(rt, ENV, p) == 0, "wasm ok");
    uint64_t c42 = 42, c0 = 0;
    p = spawn_guest(rt, ENV, "exit_with", &c42, 1);
    int st = lunatic_wait(rt, ENV, p);
    CHECK(st == 42, "proc_exit(42): status %d", st);
    p = spawn_guest(rt, ENV, "exit_with", &c0, 1);
    CHECK(lunatic_wait(rt, ENV, p) == 0, "proc_exit(0)");
    p = spawn_guest(rt, ENV, "boom", NULL, 0);
    st = lunatic_wait(rt, ENV, p);
    CHECK(st == LUNATIC_STATUS_FAILED, "trap: status %d", st);

    /* spawn errors */
    char err[200] = "";
    lunatic_config *c = lunatic_config_new();
    p = lunatic_spawn(rt, ENV, guest, c, "nope", NULL, 0, err, sizeof err);
    if (p) /* reported at the first slice instead */
        CHECK(lunatic_wait(rt, ENV, p) == LUNATIC_STATUS_FAILED, "missing function");
    else
        CHECK(err[0], "spawn error without a reason");
    lunatic_config_release(c);

    /* waited for after it is long gone */
    p = spawn_guest(rt, ENV, "exit_with", &c42, 1);
    CHECK(wait_gone(rt, ENV, p, 5000), "exit_with still exists");
    sleep_ms(5);
    CHECK(lunatic_wait(rt, ENV, p) == 42, "late wait");
}

/* a config changed after a spawn: the next spawn sees the change */
static void test_config_reuse(lunatic_runtime *rt)
{
    check_begin("config_reuse", 10);
    char err[200] = "";
    lunatic_config *c = lunatic_config_new();
    lunatic_config_add_arg(c, "a");
    uint64_t p = lunatic_spawn(rt, ENV, guest, c, "argc", NULL, 0, err, sizeof err);
    int n1 = p ? lunatic_wait(rt, ENV, p) : -1;
    CHECK(n1 == 1, "argc with one argument: %d (%s)", n1, err);
    lunatic_config_add_arg(c, "b");
    p = lunatic_spawn(rt, ENV, guest, c, "argc", NULL, 0, err, sizeof err);
    int n2 = p ? lunatic_wait(rt, ENV, p) : -1;
    CHECK(n2 == n1 + 1, "an argument added after a spawn is not seen by the next spawn: argc %d, then %d",
          n1, n2);

    /* changed while a process spawned with it has not yet made its first
     * WASI call: that process still sees the config as it was at its spawn */
    int wrong = 0, k = n2 > 0 ? n2 : 2;
    for (int i = 0; i < 200; i++, k++) {
        p = lunatic_spawn(rt, ENV, guest, c, "argc", NULL, 0, err, sizeof err);
        lunatic_config_add_arg(c, "more");
        int n = p ? lunatic_wait(rt, ENV, p) : -1;
        wrong += n != k;
    }
    CHECK(wrong == 0, "%d of 200 processes saw arguments added after their spawn", wrong);
    lunatic_config_release(c);
}

/* monitor of a missing pid: PROCESS_DIED at once */
static void test_monitor_missing(lunatic_runtime *rt)
{
    check_begin("monitor_missing", 10);
    sink m = {.want = 1};
    uint64_t pm = lunatic_spawn_native(rt, ENV, sink_fn, &m);
    lunatic_monitor(rt, ENV, pm, 123456789);
    CHECK(lunatic_wait(rt, ENV, pm) == 0, "monitor status");
    CHECK(m.kinds[LUNATIC_MSG_PROCESS_DIED] == 1 && m.died_pid == 123456789,
          "monitor of a missing pid: %d died messages, pid %llu", m.kinds[LUNATIC_MSG_PROCESS_DIED],
          (unsigned long long)m.died_pid);
}

/* monitors of processes dying while the monitor is set up: exactly one
 * PROCESS_DIED each (the late-watcher path in finish) */
static void test_monitor_race(lunatic_runtime *rt)
{
    check_begin("monitor_race", 20);
    enum { N = 2000 };
    static uint64_t pids[N];
    sink m = {.want = N};
    uint64_t pm = lunatic_spawn_native(rt, ENV, sink_fn, &m);
    static waiter quick = {.done_on_msg = 1};
    static sink zero = {.want = 0}; /* DONE at start */
    for (int i = 0; i < N; i++) {
        uint64_t p = (i & 1) ? lunatic_spawn_native(rt, ENV, sink_fn, &zero)
                             : lunatic_spawn_native(rt, ENV, waiter_fn, &quick);
        if (!(i & 1))
            lunatic_send(rt, ENV, p, 0, NULL, 0);
        lunatic_monitor(rt, ENV, pm, p);
        pids[i] = p;
    }
    int st = lunatic_wait(rt, ENV, pm);
    CHECK(st == 0 && m.kinds[LUNATIC_MSG_PROCESS_DIED] == N, "monitor got %d died of %d (status %d)",
          m.kinds[LUNATIC_MSG_PROCESS_DIED], N, st);
    for (int i = 0; i < N; i++)
        lunatic_wait(rt, ENV, pids[i]);
}

/* lunatic_link with a process that is already gone: as the guest's link,
 * the live side gets LinkDied(noproc) and, dying when links die, dies. */
static void test_link_missing(lunatic_runtime *rt)
{
    check_begin("link_missing", 10);
    waiter a = {0};
    uint64_t pa = lunatic_spawn_native(rt, ENV, waiter_fn, &a);
    lunatic_link(rt, ENV, pa, 987654321, 0);
    CHECK(wait_gone(rt, ENV, pa, 500),
          "lunatic_link(a, missing pid): a still lives (the guest link would kill it)");
    if (lunatic_exists(rt, ENV, pa))
        lunatic_kill(rt, ENV, pa);
    lunatic_wait(rt, ENV, pa);
}

/* ---- waits from several threads ---------------------------------------------------- */

typedef struct wt_arg {
    lunatic_runtime *rt;
    int errors;
} wt_arg;

static int quick_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    return (lunatic_process_id(self) % 32) ? LUNATIC_DONE : LUNATIC_FAILED;
}

static void *wait_thread(void *arg)
{
    wt_arg *a = arg;
    for (int i = 0; i < 300; i++) {
        uint64_t p = lunatic_spawn_native(a->rt, ENV, quick_fn, NULL);
        int st = lunatic_wait(a->rt, ENV, p);
        if (st != ((p % 32) ? 0 : LUNATIC_STATUS_FAILED))
            a->errors++;
    }
    return NULL;
}

static void test_wait_threads(lunatic_runtime *rt)
{
    check_begin("wait_threads", 20);
    pthread_t th[4];
    wt_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (wt_arg){rt, 0};
        pthread_create(&th[i], NULL, wait_thread, &args[i]);
    }
    int errors = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        errors += args[i].errors;
    }
    CHECK(errors == 0, "%d wrong statuses from concurrent waits", errors);
}

/* ---- several senders, spawns from a handler ------------------------------------------- */

enum { PRODUCERS = 4, PER_PRODUCER = 3000 };

typedef struct mp_sink {
    uint32_t next[PRODUCERS];
    int count, errors;
} mp_sink;

static int mp_sink_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    mp_sink *s = ud;
    if (!msg)
        return LUNATIC_CONTINUE;
    uint32_t v[2];
    if (msg->kind != LUNATIC_MSG_DATA || msg->len != sizeof v) {
        s->errors++;
        return LUNATIC_FAILED;
    }
    memcpy(v, msg->data, sizeof v);
    if (v[0] >= PRODUCERS || v[1] != s->next[v[0]] || msg->tag != (int64_t)v[0] + 1)
        s->errors++;
    else
        s->next[v[0]]++;
    return ++s->count == PRODUCERS * PER_PRODUCER ? LUNATIC_DONE : LUNATIC_CONTINUE;
}

typedef struct mp_arg {
    lunatic_runtime *rt;
    uint64_t to;
    uint32_t id;
    int errors;
} mp_arg;

static void *producer(void *arg)
{
    mp_arg *a = arg;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        uint32_t v[2] = {a->id, i};
        if (lunatic_send(a->rt, ENV, a->to, a->id + 1, v, sizeof v) != 0)
            a->errors++;
    }
    return NULL;
}

/* per-sender order holds with several threads sending at once */
static void test_multi_producer(lunatic_runtime *rt)
{
    check_begin("multi_producer", 20);
    static mp_sink s;
    memset(&s, 0, sizeof s);
    uint64_t pid = lunatic_spawn_native(rt, ENV, mp_sink_fn, &s);
    pthread_t th[PRODUCERS];
    mp_arg args[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        args[i] = (mp_arg){rt, pid, i, 0};
        pthread_create(&th[i], NULL, producer, &args[i]);
    }
    int errors = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        errors += args[i].errors;
    }
    CHECK(errors == 0, "%d sends failed", errors);
    CHECK(lunatic_wait(rt, ENV, pid) == 0, "multi-producer sink status");
    CHECK(s.count == PRODUCERS * PER_PRODUCER && s.errors == 0,
          "multi-producer: %d messages, %d out of order", s.count, s.errors);
}

enum { CHILDREN = 200 };

typedef struct parent {
    lunatic_runtime *rt;
    uint64_t children[CHILDREN];
    int replies, errors;
} parent;

static int child_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    parent *pa = ud; /* only pa->rt and the parent pid (in the message) are read */
    if (!msg)
        return LUNATIC_CONTINUE;
    uint64_t parent_pid, me = lunatic_process_id(self);
    memcpy(&parent_pid, msg->data, 8);
    lunatic_send(pa->rt, ENV, parent_pid, 1, &me, 8);
    return LUNATIC_DONE;
}

static int parent_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    parent *pa = ud;
    if (!msg) {
        uint64_t me = lunatic_process_id(self);
        for (int i = 0; i < CHILDREN; i++) {
            pa->children[i] = lunatic_spawn_native(pa->rt, ENV, child_fn, pa);
            if (!pa->children[i] || lunatic_send(pa->rt, ENV, pa->children[i], 0, &me, 8) != 0)
                pa->errors++;
        }
        return LUNATIC_CONTINUE;
    }
    uint64_t from;
    memcpy(&from, msg->data, 8);
    int known = 0;
    for (int i = 0; i < CHILDREN; i++)
        known |= pa->children[i] == from;
    if (!known)
        pa->errors++;
    return ++pa->replies == CHILDREN ? LUNATIC_DONE : LUNATIC_CONTINUE;
}

static void test_spawn_from_handler(lunatic_runtime *rt)
{
    check_begin("spawn_from_handler", 20);
    static parent pa;
    memset(&pa, 0, sizeof pa);
    pa.rt = rt;
    uint64_t pid = lunatic_spawn_native(rt, ENV, parent_fn, &pa);
    CHECK(lunatic_wait(rt, ENV, pid) == 0, "parent status");
    int bad = 0;
    for (int i = 0; i < CHILDREN; i++)
        bad += lunatic_wait(rt, ENV, pa.children[i]) != 0;
    CHECK(pa.replies == CHILDREN && pa.errors == 0 && bad == 0,
          "spawn from a handler: %d replies, %d errors, %d bad statuses", pa.replies, pa.errors, bad);
}

/* ---- several runtimes ---------------------------------------------------------------- */

/* forwards each message to a pid in another runtime */
typedef struct fwd {
    lunatic_runtime *to_rt;
    uint64_t to_pid;
    int want, count;
} fwd;

static int fwd_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    fwd *f = ud;
    if (!msg)
        return LUNATIC_CONTINUE;
    lunatic_send(f->to_rt, ENV, f->to_pid, msg->tag, msg->data, msg->len);
    return ++f->count >= f->want ? LUNATIC_DONE : LUNATIC_CONTINUE;
}

static void test_runtimes(lunatic_runtime *rt)
{
    check_begin("runtimes", 30);
    lunatic_options o2 = {.threads = 2, .reductions = 1};
    lunatic_runtime *rt2 = lunatic_runtime_new(&o2);
    lunatic_options o3 = {.threads = 1};
    lunatic_runtime *rt3 = lunatic_runtime_new(&o3);
    CHECK(rt2 && rt3, "second and third runtimes");
    if (!rt2 || !rt3)
        return;
    ping_pong(rt2, ENV, 1000, "ping-pong in runtime 2");
    ping_pong(rt3, 5, 1000, "ping-pong in runtime 3");

    /* pids are per runtime: a pid of rt2 is not in rt3 */
    waiter w = {0};
    uint64_t p2 = lunatic_spawn_native(rt2, 9, waiter_fn, &w);
    CHECK(!lunatic_exists(rt3, 9, p2), "a pid of runtime 2 exists in runtime 3");
    lunatic_kill(rt3, 9, p2);
    sleep_ms(5);
    CHECK(lunatic_exists(rt2, 9, p2), "a kill in runtime 3 reached runtime 2");
    lunatic_kill(rt2, 9, p2);
    CHECK(lunatic_wait(rt2, 9, p2) == LUNATIC_STATUS_KILLED, "kill in runtime 2");

    /* Wasm in rt2 -> native forwarder in rt -> native sink in rt3 */
    enum { N = 300 };
    sink s = {.want = N};
    uint64_t ps = lunatic_spawn_native(rt3, ENV, sink_fn, &s);
    fwd f = {rt3, ps, N, 0};
    uint64_t pf = lunatic_spawn_native(rt, ENV, fwd_fn, &f);
    uint64_t params[2] = {pf, N};
    uint64_t wp = spawn_guest(rt2, 3, "send_n", params, 2);
    /* the guest sends within its own runtime/env: env 3 of rt2 has no pf */
    CHECK(lunatic_wait(rt2, 3, wp) == 0, "wasm in runtime 2");
    wp = spawn_guest(rt, ENV, "send_n", params, 2);
    CHECK(lunatic_wait(rt, ENV, wp) == 0, "wasm in runtime 1");
    CHECK(lunatic_wait(rt, ENV, pf) == 0 && f.count == N, "forwarder: %d", f.count);
    CHECK(lunatic_wait(rt3, ENV, ps) == 0 && s.count == N && s.errors == 0,
          "sink in runtime 3: %d (%d errors)", s.count, s.errors);
}

/* A start section runs inside the spawn of its process. One that spawns
 * must trap (ABI.md 2.3), not recurse until the runtime's C stack runs
 * out; one that never ends must fail the spawn, not hold a worker. */
static void test_start_sections(lunatic_runtime *rt)
{
    check_begin("start_sections", 30);
    static const char *spawning =
        "(module\n"
        "  (import \"lunatic::process\" \"spawn\"\n"
        "    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))\n"
        "  (memory (export \"memory\") 1)\n"
        "  (data (i32.const 0) \"child\")\n"
        "  (func $start\n"
        "    (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1)\n"
        "      (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 16))))\n"
        "  (func (export \"child\"))\n"
        "  (start $start))\n";
    static const char *endless =
        "(module\n"
        "  (func $start (loop (br 0)))\n"
        "  (func (export \"main\"))\n"
        "  (start $start))\n";
    const char *mods[2] = {spawning, endless};
    const char *want[2] = {"start section", "did not finish"};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        uint8_t *bin = wat_to_wasm(mods[i], &len);
        char err[512] = "";
        lunatic_module *m = bin ? lunatic_module_new(bin, len, err, sizeof err) : NULL;
        free(bin);
        CHECK(m != NULL, "start module %d: %s", i, err);
        if (!m)
            continue;
        lunatic_config *c = lunatic_config_new();
        lunatic_config_set_permissions(c, 1, 1, 1);
        err[0] = 0;
        uint64_t pid = lunatic_spawn(rt, ENV, m, c, i ? "main" : "child", NULL, 0, err, sizeof err);
        CHECK(pid == 0 && strstr(err, want[i]), "start module %d: pid %llu, error '%s'", i,
              (unsigned long long)pid, err);
        lunatic_config_release(c);
        lunatic_module_release(m);
    }
    /* a start function that calls sleep_ms(0): no slices to give up there */
    size_t len = 0;
    uint8_t *bin = wat_to_wasm("(module\n"
                               "  (import \"lunatic::process\" \"sleep_ms\" (func $s (param i64)))\n"
                               "  (func $start (call $s (i64.const 0)))\n"
                               "  (func (export \"main\"))\n"
                               "  (start $start))\n",
                               &len);
    char err[512] = "";
    lunatic_module *m = bin ? lunatic_module_new(bin, len, err, sizeof err) : NULL;
    free(bin);
    if (m) {
        lunatic_config *c = lunatic_config_new();
        uint64_t pid = lunatic_spawn(rt, ENV, m, c, "main", NULL, 0, err, sizeof err);
        CHECK(pid != 0 && lunatic_wait(rt, ENV, pid) == 0, "sleep_ms(0) in a start function: %s",
              err);
        lunatic_config_release(c);
        lunatic_module_release(m);
    }
}

/* ---- host calls that yield ------------------------------------------------------- */

/* Host calls give up the slice: sleep_ms(0) always, spawn after a slice's
 * worth of spawns. On one worker with a budget so large that the
 * interpreter never preempts, only those yields let others run. */
static const char *yield_wat =
    "(module\n"
    "  (import \"lunatic::process\" \"spawn\"\n"
    "    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))\n"
    "  (import \"lunatic::process\" \"sleep_ms\" (func $sleep (param i64)))\n"
    "  (import \"lunatic::process\" \"process_id\" (func $self (result i64)))\n"
    "  (import \"lunatic::message\" \"create_data\" (func $create (param i64 i64)))\n"
    "  (import \"lunatic::message\" \"send\" (func $send (param i64) (result i32)))\n"
    "  (import \"lunatic::message\" \"receive\" (func $receive (param i32 i32 i64) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 0) \"note\")\n"
    "  (data (i32.const 32) \"\\7e\")\n"
    "  ;; note(to): one message to `to`\n"
    "  (func (export \"note\") (param $to i64)\n"
    "    (call $create (i64.const 5) (i64.const 0))\n"
    "    (drop (call $send (local.get $to))))\n"
    "  ;; spawner(n): spawns n notes, never blocking, then exits with the\n"
    "  ;; number of their messages already in its mailbox\n"
    "  (func (export \"spawner\") (param $n i32) (local $i i32) (local $got i32)\n"
    "    (i64.store (i32.const 33) (call $self))\n"
    "    (block $d (loop $l\n"
    "      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1) (i32.const 0)\n"
    "        (i32.const 4) (i32.const 32) (i32.const 17) (i32.const 64)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (block $d2 (loop $l2\n"
    "      (br_if $d2 (call $receive (i32.const 0) (i32.const 0) (i64.const 0)))\n"
    "      (local.set $got (i32.add (local.get $got) (i32.const 1)))\n"
    "      (br $l2)))\n"
    "    (call $exit (local.get $got)))\n"
    "  ;; waiter(): polls its mailbox with sleep_ms(0) between polls, at most\n"
    "  ;; 100000 times; exits 0 once a message came, 1 if none did\n"
    "  (func (export \"waiter\") (local $i i32)\n"
    "    (loop $l\n"
    "      (if (i32.eqz (call $receive (i32.const 0) (i32.const 0) (i64.const 0)))\n"
    "        (then (call $exit (i32.const 0))))\n"
    "      (call $sleep (i64.const 0))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))\n"
    "    (call $exit (i32.const 1))))\n";

typedef struct poke {
    lunatic_runtime *rt;
    uint64_t to;
} poke;

static int poke_fn(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    (void)self, (void)msg;
    poke *k = ud;
    lunatic_send(k->rt, 1, k->to, 1, "x", 1);
    return LUNATIC_DONE;
}

static void test_host_yields(void)
{
    check_begin("host_yields", 30);
    size_t len = 0;
    uint8_t *bin = wat_to_wasm(yield_wat, &len);
    char err[256] = "";
    lunatic_module *m = bin ? lunatic_module_new(bin, len, err, sizeof err) : NULL;
    free(bin);
    CHECK(m != NULL, "yield module: %s", err);
    if (!m)
        return;
    lunatic_config *c = lunatic_config_new();
    lunatic_config_set_permissions(c, 1, 1, 1);

    /* sleep_ms(0) lets a process queued behind the waiter send to it */
    lunatic_options big = {.threads = 1, .reductions = 1ull << 40};
    lunatic_runtime *r = lunatic_runtime_new(&big);
    CHECK(r != NULL, "runtime with a huge budget");
    if (r) {
        uint64_t w = lunatic_spawn(r, 1, m, c, "waiter", NULL, 0, err, sizeof err);
        poke k = {r, w};
        uint64_t n = w ? lunatic_spawn_native(r, 1, poke_fn, &k) : 0;
        CHECK(w && n, "spawned waiter and poker: %s", err);
        int st = w ? lunatic_wait(r, 1, w) : -1;
        CHECK(st == 0, "sleep_ms(0) yields: waiter status %d (1: never got the message)", st);
        lunatic_runtime_free(r);
    }

    /* a spawn loop yields every slice's worth of spawns: its children run
     * (and send) before the loop ends, on a single worker */
    lunatic_options one = {.threads = 1};
    r = lunatic_runtime_new(&one);
    CHECK(r != NULL, "runtime with one worker");
    if (r) {
        uint64_t arg = 1000;
        uint64_t s = lunatic_spawn(r, 1, m, c, "spawner", &arg, 1, err, sizeof err);
        CHECK(s != 0, "spawned spawner: %s", err);
        int got = s ? lunatic_wait(r, 1, s) : -1;
        CHECK(got >= 800 && got <= 1000, "children ran during a spawn loop: %d of 1000 messages",
              got);
        lunatic_runtime_free(r);
    }
    lunatic_config_release(c);
    lunatic_module_release(m);
}

/* A runtime shut down with processes alive: waiting natives, a Wasm
 * process blocked in receive with a timer, one spinning, messages queued.
 * Under ASan this checks that shutdown frees everything. */
static int idle_native(lunatic_process *self, const lunatic_msg *msg, void *ud)
{
    (void)self, (void)msg, (void)ud;
    return LUNATIC_CONTINUE;
}

static void test_runtime_free(void)
{
    check_begin("runtime_free", 30);
    for (int round = 0; round < 3; round++) {
        lunatic_options opt = {.threads = 2};
        lunatic_runtime *r = lunatic_runtime_new(&opt);
        CHECK(r != NULL, "runtime %d", round);
        if (!r)
            return;
        for (int i = 0; i < 50; i++) {
            uint64_t pid = lunatic_spawn_native(r, 1, idle_native, NULL);
            lunatic_send(r, 1, pid, 7, "queued", 6);
        }
        lunatic_config *c = lunatic_config_new();
        char err[256];
        uint64_t w = lunatic_spawn(r, 1, guest, c, "block", NULL, 0, err, sizeof err);
        uint64_t s = lunatic_spawn(r, 1, guest, c, "spin", NULL, 0, err, sizeof err);
        CHECK(w && s, "spawned the guests: %s", err);
        lunatic_config_release(c);
        struct timespec d = {0, 20 * 1000000};
        nanosleep(&d, NULL);
        lunatic_runtime_free(r);
        CHECK(1, "runtime %d freed", round);
    }
}

int main(void)
{
    check_begin("setup", 10);
    size_t len = 0;
    uint8_t *bin = wat_to_wasm(guest_wat, &len);
    if (bin) {
        char err[256] = "";
        guest = lunatic_module_new(bin, len, err, sizeof err);
        CHECK(guest != NULL, "lunatic_module_new: %s", err);
        free(bin);
    }
    lunatic_options opt = {.threads = 4};
    lunatic_runtime *rt = lunatic_runtime_new(&opt);
    CHECK(rt != NULL, "lunatic_runtime_new");
    if (!rt || !guest)
        return check_report();

    check_begin("ping_pong", 20);
    ping_pong(rt, ENV, ROUNDS, "ping-pong");
    test_wasm_to_native(rt);
    test_native_wasm_echo(rt);
    test_link_failure(rt);
    test_link_normal(rt);
    test_link_wasm(rt);
    test_kill_waiting(rt);
    test_kill_spinning_wasm(rt);
    test_exists(rt);
    test_wait_statuses(rt);
    test_config_reuse(rt);
    test_monitor_missing(rt);
    test_monitor_race(rt);
    test_link_missing(rt);
    test_wait_threads(rt);
    test_multi_producer(rt);
    test_spawn_from_handler(rt);
    test_runtimes(rt);
    test_start_sections(rt);
    test_host_yields();
    test_runtime_free();
    check_begin("free the main runtime", 30);
    lunatic_runtime_free(rt);
    check_begin(NULL, 0);
    lunatic_module_release(guest);
    return check_report();
}
