/*
 * driver.c - the host-call fuzzer's guest (run.sh builds it for
 * wasm32-wasi and runs it under `lunatic run`):
 *
 *   lunatic run driver.wasm SEED COUNT
 *
 * performs COUNT host calls chosen at random (from SEED) among every raw
 * import of sdk/lunatic_guest.h, with random and boundary arguments:
 * lengths 0, 1, huge; pointers into a scratch buffer, exactly at the end of
 * memory, straddling it, past it, at 2^31 and 2^32-1; ids it obtained
 * earlier (pids, configs, modules, errors, timers), 0, u64::MAX and random
 * ones; strings that are valid names, invalid UTF-8 or long. Timeouts are
 * at most 20 ms (u64::MAX, "for ever", would only hang the run). It also
 * spawns children that do the same (the export "child", at most 3 per
 * process, 2 levels deep), processes that return, trap or idle, and the
 * exports of modules it compiles (the .wat files in mods/, embedded by build.sh as
 * mods.h).
 *
 * Most calls run inside lunatic::trap::catch, so a call that traps (a bad
 * pointer, an unknown id: correct behaviour) does not end the process; a
 * child in "bare" mode calls directly and dies at its first trap, with
 * whatever resources it holds. The main process never sets
 * die_when_link_dies, so a crashing linked child does not end the run.
 *
 * Every call is printed before it is made ("P<pid> <step> name(args)") and
 * its result after ("  -> ..."), one write each, so the output of a run
 * that crashed the runtime ends with the call that did it. Whatever
 * happens, the runtime must not crash, hang, leak or report a sanitizer
 * error; the guest may only trap or get error codes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lunatic_guest.h"
#include "mods.h"

/* ---- randomness ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static int chance(uint32_t pct) { return below(100) < pct; }

/* ---- process state ------------------------------------------------------------ */

static uint64_t self_pid, main_pid;
static uint32_t depth, children, other_spawns, step;
static int bare;             /* call without trap::catch */
static uint32_t child_count; /* COUNT given to children */

/* ids obtained from earlier calls, by kind */
#define POOL 16
typedef struct pool {
    uint64_t v[POOL];
    uint32_t n;
} pool;
static pool pids, configs, modules, errors, timers;
static pool dns_iters, tcp_listeners, tcp_streams, tls_listeners, tls_streams, udp_sockets;
static pool dbconns, dbstmts;
static pool *const net_pools[] = {&dns_iters, &tcp_listeners, &tcp_streams, &tls_listeners,
                                  &tls_streams, &udp_sockets};

static void remember(pool *p, uint64_t id)
{
    if (p->n < POOL)
        p->v[p->n++] = id;
    else
        p->v[below(POOL)] = id;
}

/* An id: one from the pool, or a boundary or random value. */
static uint64_t pick(const pool *p)
{
    if (p->n && chance(60))
        return p->v[below(p->n)];
    switch (below(8)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return UINT64_MAX;
    case 3: return UINT64_MAX - 1;
    case 4: return 1ull << 32;
    case 5: return below(100);
    case 6: return 1ull << 63;
    default: return rnd();
    }
}

/* A resource id of the kind in p; sometimes one of another kind. */
static uint64_t pick2(const pool *p)
{
    if (chance(15))
        p = net_pools[below(sizeof net_pools / sizeof net_pools[0])];
    return pick(p);
}

/* A pid: mostly ones we know (never the main process by accident). */
static uint64_t pick_pid(void)
{
    if (chance(15))
        return self_pid;
    uint64_t p = pick(&pids);
    return p == main_pid && !chance(2) ? self_pid : p;
}

/* ---- memory the host may write to ----------------------------------------------
 * Valid pointers point into `scratch` or into the last page of memory (grown
 * at start, above everything malloc owns: the driver allocates nothing after
 * that), so that host writes never corrupt the driver itself. */
static uint8_t scratch[65536];
static uint32_t edge_end;   /* the end of memory */

static uint32_t scratch_ptr(uint32_t size)
{
    if (size >= sizeof scratch)
        return (uint32_t)(uintptr_t)scratch;
    return (uint32_t)(uintptr_t)scratch + below((uint32_t)sizeof scratch - size + 1);
}

/* A pointer for `size` bytes: valid (scratch, or flush with the end of
 * memory), or straddling the end, past it, or absurd. */
static uint32_t ptr_for(uint32_t size)
{
    uint32_t r = below(100);
    if (r < 55)
        return scratch_ptr(size);
    if (r < 70)
        return size <= 65536 ? edge_end - size : scratch_ptr(size);
    if (r < 78)
        return edge_end - (size < 65536 ? size : 65536) + 1 + below(8);   /* straddles */
    if (r < 84)
        return edge_end + below(64);
    switch (below(4)) {
    case 0:   /* 0: valid memory, unused below the data at 1024 */
        return size <= 1024 ? 0 : UINT32_MAX - below(16);
    case 1: return UINT32_MAX - below(16);
    case 2: return 0x80000000u;
    default:  /* anywhere past the end (not into the driver's own data) */
        return edge_end + (uint32_t)(rnd() % (0x100000000ull - edge_end));
    }
}

/* A length: small, page-sized, or huge. */
static uint32_t rnd_len(void)
{
    switch (below(10)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return below(17);
    case 3: return below(300);
    case 4: return 4096;
    case 5: return 65536;
    case 6: return UINT32_MAX;
    case 7: return 0x80000000u;
    case 8: return (uint32_t)rnd();
    default: return below(64);
    }
}

static uint64_t rnd_timeout(void) { return chance(40) ? 0 : below(21); }

static uint64_t rnd_u64(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return UINT64_MAX;
    case 2: return below(1000);
    case 3: return 1ull << 40;
    default: return rnd();
    }
}

static double rnd_double(void)
{
    switch (below(6)) {
    case 0: return 0.0;
    case 1: return __builtin_nan("");
    case 2: return __builtin_inf();
    case 3: return -1e308;
    default: return (double)(int64_t)rnd() / 1e6;
    }
}

/* A string in scratch: a known name, an odd one, invalid UTF-8, or long.
 * Sets *len (sometimes to something else than the string's length). */
static const char *names[] = {"child", "idle", "crash", "run", "trap", "sleep", "args", "spin",
                              "nope", "", "_start", "memory", "lunatic_alloc",
                              "_lunatic_catch_trap", "fuzz.name", "/tmp", ".", "/", "..",
                              "KEY", "ümlaut", "a=b"};
static uint32_t rnd_str(uint32_t *len)
{
    uint32_t p = (uint32_t)(uintptr_t)scratch + 32768 + below(1024);
    char *s = (char *)(uintptr_t)p;
    uint32_t n;
    switch (below(8)) {
    case 0:   /* invalid UTF-8 */
        n = 1 + below(8);
        for (uint32_t i = 0; i < n; i++)
            s[i] = (char)(0x80 | rnd());
        break;
    case 1:   /* long */
        n = below(8000);
        memset(s, 'a' + (int)below(26), n);
        break;
    case 2:   /* with a NUL inside */
        memcpy(s, "ch\0ild", 6);
        n = 6;
        break;
    default: {
        const char *nm = names[below(sizeof names / sizeof names[0])];
        n = (uint32_t)strlen(nm);
        memcpy(s, nm, n);
    }
    }
    *len = n;
    if (chance(10)) {   /* a bad pointer or length instead */
        if (chance(50))
            *len = rnd_len();
        else
            p = ptr_for(n);
    }
    return p;
}

static int in_scratch(uint32_t ptr, uint64_t size)
{
    uint32_t s = (uint32_t)(uintptr_t)scratch;
    return ptr >= s && (uint64_t)(ptr - s) + size <= sizeof scratch;
}
/* Whether [ptr, ptr+size) is memory a host call may write: scratch or the
 * edge page. */
static int writable(uint32_t ptr, uint32_t size)
{
    return in_scratch(ptr, size) || (ptr >= edge_end - 65536 && (uint64_t)ptr + size <= edge_end);
}
static uint64_t get_u64(uint32_t ptr)
{
    uint64_t v = 0;
    if (writable(ptr, 8))
        memcpy(&v, (void *)(uintptr_t)ptr, 8);
    return v;
}

/* A pointer for an id the host writes: mostly valid, since what the call
 * makes (a process, a config) is what the later calls work on. */
static uint32_t out_ptr(void) { return chance(85) ? scratch_ptr(8) : ptr_for(8); }

/* ---- output ------------------------------------------------------------------ */

#define SAY(...) lg_printf("P%llu %u " __VA_ARGS__)
#define PID (unsigned long long)self_pid, step
#define ULL(v) (unsigned long long)(v)
#define SLL(v) (long long)(v)
#define RES(fmt, ...) lg_printf("  P%llu -> " fmt "\n", ULL(self_pid), __VA_ARGS__)

/* Result of a call that writes an id at ptr on 0 (kept in ok_pool) or an
 * error id on 1. */
static void outcome(uint32_t r, uint32_t ptr, pool *ok_pool)
{
    uint64_t id = get_u64(ptr);
    if (r == 1 && writable(ptr, 8)) {
        /* the error's text (calls of their own, all valid) */
        char msg[200];
        uint32_t n = lgi_error_string_size(id);
        if (n < sizeof msg) {
            lgi_error_to_string(id, msg);
            RES("%u error %llu \"%.*s\"", r, ULL(id), (int)n, msg);
        } else {
            RES("%u error %llu (%u bytes)", r, ULL(id), n);
        }
    } else {
        RES("%u id %llu", r, ULL(id));
    }
    if (!writable(ptr, 8))
        return;
    if (r == 0 && ok_pool)
        remember(ok_pool, id);
    else if (r == 1)
        remember(&errors, id);
}

/* ---- spawn parameters --------------------------------------------------------------- */

static void put_param(uint8_t *r, uint8_t type, int64_t v)
{
    uint64_t lo = (uint64_t)v, hi = v < 0 ? UINT64_MAX : 0;
    r[0] = type;
    memcpy(r + 1, &lo, 8);
    memcpy(r + 9, &hi, 8);
}

/* Writes a function name and parameters for a spawn into scratch; returns
 * through the pointers. Mostly well-formed: "child" with a new seed (only
 * while this process may have more children), the helper exports, the
 * compiled modules' exports; sometimes missing exports, wrong parameters,
 * bad records. */
static void spawn_args(int own_module, uint32_t *fn, uint32_t *fn_len, uint32_t *pp, uint32_t *plen)
{
    uint8_t *params = scratch + 16384;
    const char *name;
    uint32_t np = 0;
    int is_child = 0;
    if (own_module && depth < 2 && children < 3 && chance(50)) {
        name = "child";
        is_child = 1;
        put_param(params, 0x7e, (int64_t)rnd());
        put_param(params + 17, 0x7f, (int32_t)child_count);
        put_param(params + 34, 0x7f, (int32_t)(depth + 1));
        put_param(params + 51, 0x7e, (int64_t)main_pid);
        np = 4;
    } else if (own_module) {
        static const char *const own[] = {"idle", "crash", "nope", "_start", "child"};
        name = own[below(5)];
        if (!strcmp(name, "idle")) {
            put_param(params, 0x7f, (int32_t)below(10));
            np = 1;
        } else if (!strcmp(name, "child")) {
            np = below(4);   /* wrong parameters (it takes 4) */
            for (uint32_t i = 0; i < np; i++)
                put_param(params + 17 * i, chance(50) ? 0x7f : 0x7e, (int64_t)rnd());
        }
    } else {
        static const char *const theirs[] = {"run", "trap", "sleep", "args", "spin", "nope"};
        name = theirs[below(6)];
        if (!strcmp(name, "args")) {
            put_param(params, 0x7f, 7);
            put_param(params + 17, 0x7e, -7);
            np = 2;
        }
    }
    uint32_t nl = (uint32_t)strlen(name);
    char *dst = (char *)scratch + 20000;
    memcpy(dst, name, nl);
    *fn = (uint32_t)(uintptr_t)dst;
    *fn_len = nl;
    *pp = (uint32_t)(uintptr_t)params;
    *plen = 17 * np;
    if (chance(15)) {   /* malformed */
        switch (below(5)) {
        case 0: *plen += 1 + below(16); break;                /* not whole records */
        case 1: params[0] = chance(50) ? 0x7b : 0x42; *plen = *plen ? *plen : 17; break;
        case 2: *pp = ptr_for(*plen); break;
        case 3: *fn = rnd_str(fn_len); break;
        default: *plen = 17 * (1 + below(40)); break;         /* many */
        }
        is_child = 0;
    }
    if (is_child)
        children++;
}

/* ---- the operations: one per raw import -------------------------------------------- */

typedef void (*op_fn)(void);

/* lunatic::error */
static void op_error_string_size(void)
{
    uint64_t id = pick(&errors);
    SAY("error_string_size(%llu)\n", PID, ULL(id));
    RES("%u", lgi_error_string_size(id));
}
static void op_error_to_string(void)
{
    uint64_t id = pick(&errors);
    uint32_t n = chance(70) ? lgi_error_string_size(id) : rnd_len();
    uint32_t p = ptr_for(n);
    SAY("error_to_string(%llu, %#x) [size %u]\n", PID, ULL(id), p, n);
    lgi_error_to_string(id, (char *)(uintptr_t)p);
    RES("%s", "done");
}
static void op_error_drop(void)
{
    uint64_t id = pick(&errors);
    SAY("error_drop(%llu)\n", PID, ULL(id));
    lgi_error_drop(id);
    RES("%s", "done");
}

/* lunatic::message */
static void op_message_create_data(void)
{
    int64_t tag = chance(50) ? (int64_t)below(4) : (int64_t)rnd();
    uint64_t cap = chance(70) ? below(200) : rnd_u64();
    SAY("message_create_data(%lld, %llu)\n", PID, SLL(tag), ULL(cap));
    lgi_message_create_data(tag, cap);
    RES("%s", "done");
}
static void op_message_write_data(void)
{
    uint32_t n = rnd_len(), p = ptr_for(n);
    SAY("message_write_data(%#x, %u)\n", PID, p, n);
    RES("%u", lgi_message_write_data((const void *)(uintptr_t)p, n));
}
static void op_message_read_data(void)
{
    /* the host writes up to n bytes (the message may be longer than
     * scratch): into our own buffers, never more than they hold */
    uint32_t n = rnd_len(), p = ptr_for(n);
    if (writable(p, 1) && n > 65536)
        n = 65536;
    SAY("message_read_data(%#x, %u)\n", PID, p, n);
    RES("%u", lgi_message_read_data((void *)(uintptr_t)p, n));
}
static void op_message_seek_data(void)
{
    uint64_t i = chance(60) ? below(64) : rnd_u64();
    SAY("message_seek_data(%llu)\n", PID, ULL(i));
    lgi_message_seek_data(i);
    RES("%s", "done");
}
static void op_message_get_tag(void)
{
    SAY("message_get_tag()\n", PID);
    RES("%lld", SLL(lgi_message_get_tag()));
}
static void op_message_get_process_id(void)
{
    SAY("message_get_process_id()\n", PID);
    RES("%llu", ULL(lgi_message_get_process_id()));
}
static void op_message_data_size(void)
{
    SAY("message_data_size()\n", PID);
    RES("%llu", ULL(lgi_message_data_size()));
}
static void op_message_push_module(void)
{
    uint64_t id = pick(&modules);
    SAY("message_push_module(%llu)\n", PID, ULL(id));
    RES("%llu", ULL(lgi_message_push_module(id)));
}
static void op_message_take_module(void)
{
    uint64_t i = chance(70) ? below(4) : rnd_u64();
    SAY("message_take_module(%llu)\n", PID, ULL(i));
    uint64_t id = lgi_message_take_module(i);
    RES("%llu", ULL(id));
    remember(&modules, id);
}
/* Resources travel in messages: a pushed one leaves this process (sent
 * with the message), a taken one joins its pool. */
#define PUSH_TAKE(kind, pl)                                                        \
    static void op_message_push_##kind(void)                                       \
    {                                                                              \
        uint64_t id = pick2(&pl);                                                  \
        SAY("message_push_" #kind "(%llu)\n", PID, ULL(id));                       \
        RES("%llu", ULL(lgi_message_push_##kind(id)));                             \
    }                                                                              \
    static void op_message_take_##kind(void)                                       \
    {                                                                              \
        uint64_t i = chance(70) ? below(4) : rnd_u64();                            \
        SAY("message_take_" #kind "(%llu)\n", PID, ULL(i));                        \
        uint64_t id = lgi_message_take_##kind(i);                                  \
        RES("%llu", ULL(id));                                                      \
        remember(&pl, id);                                                         \
    }
PUSH_TAKE(tcp_stream, tcp_streams)
PUSH_TAKE(tls_stream, tls_streams)
PUSH_TAKE(udp_socket, udp_sockets)
static void op_message_send(void)
{
    uint64_t pid = pick_pid();
    SAY("message_send(%llu)\n", PID, ULL(pid));
    RES("%u", lgi_message_send(pid));
}
static void op_message_send_receive_skip_search(void)
{
    uint64_t pid = pick_pid(), t = rnd_timeout();
    int64_t tag = (int64_t)below(4);
    SAY("message_send_receive_skip_search(%llu, %lld, %llu)\n", PID, ULL(pid), SLL(tag), ULL(t));
    RES("%u", lgi_message_send_receive_skip_search(pid, tag, t));
}
static void op_message_receive(void)
{
    uint32_t n = chance(80) ? below(4) : rnd_len();
    uint32_t bytes = n > 8192 ? 65536 : 8 * n;
    uint32_t p = ptr_for(bytes);
    if (in_scratch(p, bytes))
        for (uint32_t i = 0; i < n && i < 8; i++) {
            int64_t tag = chance(70) ? (int64_t)below(4) : (int64_t)rnd();
            memcpy((void *)(uintptr_t)(p + 8 * i), &tag, 8);
        }
    uint64_t t = rnd_timeout();
    SAY("message_receive(%#x, %u, %llu)\n", PID, p, n, ULL(t));
    RES("%u", lgi_message_receive((const int64_t *)(uintptr_t)p, n, t));
}

/* lunatic::process */
static void op_process_compile_module(void)
{
    static const struct { const uint8_t *b; uint32_t n; } mods[] = {
        {mod_plain, sizeof mod_plain},           {mod_start_spawn, sizeof mod_start_spawn},
        {mod_bad_import, sizeof mod_bad_import}, {mod_big_memory, sizeof mod_big_memory},
    };
    uint32_t which = below(6), n, p = scratch_ptr(4096), out = out_ptr();
    uint8_t *dst = (uint8_t *)(uintptr_t)p;
    if (which < 4) {
        n = mods[which].n;
        memcpy(dst, mods[which].b, n);
        if (chance(10))
            n = below(n);              /* truncated */
        else if (chance(10))
            dst[8 + below(n - 8)] ^= (uint8_t)(1 + below(255));   /* corrupted */
    } else if (which == 4) {
        n = below(200);                 /* random bytes */
        for (uint32_t i = 0; i < n; i++)
            dst[i] = (uint8_t)rnd();
    } else {
        n = rnd_len();                  /* anything */
        p = ptr_for(n);
    }
    SAY("process_compile_module(%#x, %u, %#x) [module %u]\n", PID, p, n, out, which);
    int32_t r = lgi_process_compile_module((const void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out);
    if (r == -1)
        RES("%d", r);
    else
        outcome((uint32_t)r, out, &modules);
}
static void op_process_drop_module(void)
{
    uint64_t id = pick(&modules);
    SAY("process_drop_module(%llu)\n", PID, ULL(id));
    lgi_process_drop_module(id);
    RES("%s", "done");
}
static void op_process_create_config(void)
{
    SAY("process_create_config()\n", PID);
    int64_t id = lgi_process_create_config();
    RES("%lld", SLL(id));
    if (id >= 0)
        remember(&configs, (uint64_t)id);
}
static void op_process_drop_config(void)
{
    uint64_t id = pick(&configs);
    SAY("process_drop_config(%llu)\n", PID, ULL(id));
    lgi_process_drop_config(id);
    RES("%s", "done");
}
static void op_process_config_set_max_memory(void)
{
    uint64_t id = pick(&configs), v = chance(50) ? (1ull << 16) * below(300) : rnd_u64();
    SAY("process_config_set_max_memory(%llu, %llu)\n", PID, ULL(id), ULL(v));
    lgi_process_config_set_max_memory(id, v);
    RES("%s", "done");
}
static void op_process_config_get_max_memory(void)
{
    uint64_t id = pick(&configs);
    SAY("process_config_get_max_memory(%llu)\n", PID, ULL(id));
    RES("%llu", ULL(lgi_process_config_get_max_memory(id)));
}
static void op_process_config_set_max_fuel(void)
{
    uint64_t id = pick(&configs), v = chance(50) ? below(5) : rnd_u64();
    SAY("process_config_set_max_fuel(%llu, %llu)\n", PID, ULL(id), ULL(v));
    lgi_process_config_set_max_fuel(id, v);
    RES("%s", "done");
}
static void op_process_config_get_max_fuel(void)
{
    uint64_t id = pick(&configs);
    SAY("process_config_get_max_fuel(%llu)\n", PID, ULL(id));
    RES("%llu", ULL(lgi_process_config_get_max_fuel(id)));
}
#define PERMISSION(name)                                                                \
    static void op_process_config_##name(void)                                          \
    {                                                                                   \
        uint64_t id = pick(&configs);                                                   \
        SAY("process_config_" #name "(%llu)\n", PID, ULL(id));                          \
        RES("%u", lgi_process_config_##name(id));                                       \
    }                                                                                   \
    static void op_process_config_set_##name(void)                                      \
    {                                                                                   \
        uint64_t id = pick(&configs);                                                   \
        uint32_t v = chance(80) ? below(2) : (uint32_t)rnd();                           \
        SAY("process_config_set_" #name "(%llu, %u)\n", PID, ULL(id), v);              \
        lgi_process_config_set_##name(id, v);                                           \
        RES("%s", "done");                                                              \
    }
PERMISSION(can_compile_modules)
PERMISSION(can_create_configs)
PERMISSION(can_spawn_processes)

static int64_t spawn_link(void)
{
    return chance(60) ? 0 : chance(80) ? (int64_t)(1 + below(5)) : (int64_t)rnd();
}
static void op_process_spawn(void)
{
    int64_t link = spawn_link();
    int64_t cfg = chance(60) ? -1 : (int64_t)pick(&configs);
    int64_t mod = chance(60) ? -1 : (int64_t)pick(&modules);
    uint32_t fn, fl, pp, pl, out = out_ptr();
    if (mod == -1 ? other_spawns >= 24 && !(depth < 2 && children < 3) : other_spawns >= 24)
        mod = -1;
    spawn_args(mod == -1, &fn, &fl, &pp, &pl);
    other_spawns++;
    SAY("process_spawn(%lld, %lld, %lld, %#x \"%.*s\", %u, %#x, %u, %#x)\n", PID, SLL(link), SLL(cfg),
        SLL(mod), fn, in_scratch(fn, fl) && fl < 40 ? (int)fl : 0, (const char *)(uintptr_t)fn, fl, pp,
        pl, out);
    outcome(lgi_process_spawn(link, cfg, mod, (const char *)(uintptr_t)fn, fl, (const void *)(uintptr_t)pp,
                              pl, (uint64_t *)(uintptr_t)out),
            out, &pids);
}
static void op_process_get_or_spawn(void)
{
    uint32_t nl, name = rnd_str(&nl);
    int64_t link = spawn_link();
    int64_t cfg = chance(70) ? -1 : (int64_t)pick(&configs);
    int64_t mod = chance(70) ? -1 : (int64_t)pick(&modules);
    uint32_t fn, fl, pp, pl, node = out_ptr(), out = out_ptr();
    spawn_args(mod == -1, &fn, &fl, &pp, &pl);
    other_spawns++;
    SAY("process_get_or_spawn(%#x, %u, %lld, %lld, %lld, %#x, %u, %#x, %u, %#x, %#x)\n", PID, name, nl,
        SLL(link), SLL(cfg), SLL(mod), fn, fl, pp, pl, node, out);
    uint32_t r = lgi_process_get_or_spawn((const char *)(uintptr_t)name, nl, link, cfg, mod,
                                          (const char *)(uintptr_t)fn, fl, (const void *)(uintptr_t)pp, pl,
                                          (uint64_t *)(uintptr_t)node, (uint64_t *)(uintptr_t)out);
    outcome(r == 2 ? 0 : r, out, &pids);
}
static void op_process_sleep_ms(void)
{
    uint64_t ms = below(6);
    SAY("process_sleep_ms(%llu)\n", PID, ULL(ms));
    lgi_process_sleep_ms(ms);
    RES("%s", "done");
}
static void op_process_die_when_link_dies(void)
{
    /* the main process stays alive when linked children fail */
    uint32_t v = self_pid == main_pid ? 0 : chance(80) ? below(2) : (uint32_t)rnd();
    SAY("process_die_when_link_dies(%u)\n", PID, v);
    lgi_process_die_when_link_dies(v);
    RES("%s", "done");
}
static void op_process_process_id(void)
{
    SAY("process_process_id()\n", PID);
    RES("%llu", ULL(lgi_process_process_id()));
}
static void op_process_environment_id(void)
{
    SAY("process_environment_id()\n", PID);
    RES("%llu", ULL(lgi_process_environment_id()));
}
static void op_process_link(void)
{
    int64_t tag = spawn_link();
    uint64_t pid = pick_pid();
    SAY("process_link(%lld, %llu)\n", PID, SLL(tag), ULL(pid));
    lgi_process_link(tag, pid);
    RES("%s", "done");
}
static void op_process_unlink(void)
{
    uint64_t pid = pick_pid();
    SAY("process_unlink(%llu)\n", PID, ULL(pid));
    lgi_process_unlink(pid);
    RES("%s", "done");
}
static void op_process_monitor(void)
{
    uint64_t pid = pick_pid();
    SAY("process_monitor(%llu)\n", PID, ULL(pid));
    lgi_process_monitor(pid);
    RES("%s", "done");
}
static void op_process_stop_monitoring(void)
{
    uint64_t pid = pick_pid();
    SAY("process_stop_monitoring(%llu)\n", PID, ULL(pid));
    lgi_process_stop_monitoring(pid);
    RES("%s", "done");
}
static void op_process_kill(void)
{
    /* itself only rarely: the run would be over for this process */
    uint64_t pid = pick_pid();
    if (pid == self_pid && !chance(5))
        pid = pick(&pids);
    if (pid == main_pid)
        pid = self_pid == main_pid ? 0 : self_pid;
    SAY("process_kill(%llu)\n", PID, ULL(pid));
    lgi_process_kill(pid);
    RES("%s", "done");
}
static void op_process_exists(void)
{
    uint64_t pid = pick_pid();
    SAY("process_exists(%llu)\n", PID, ULL(pid));
    RES("%u", lgi_process_exists(pid));
}

/* lunatic::registry */
static void op_registry_put(void)
{
    uint32_t nl, name = rnd_str(&nl);
    uint64_t node = chance(80) ? 0 : rnd_u64(), pid = pick_pid();
    SAY("registry_put(%#x, %u, %llu, %llu)\n", PID, name, nl, ULL(node), ULL(pid));
    lgi_registry_put((const char *)(uintptr_t)name, nl, node, pid);
    RES("%s", "done");
}
static void op_registry_get(void)
{
    uint32_t nl, name = rnd_str(&nl), node = out_ptr(), pid = out_ptr();
    SAY("registry_get(%#x, %u, %#x, %#x)\n", PID, name, nl, node, pid);
    uint32_t r = lgi_registry_get((const char *)(uintptr_t)name, nl, (uint64_t *)(uintptr_t)node,
                                  (uint64_t *)(uintptr_t)pid);
    RES("%u pid %llu", r, ULL(get_u64(pid)));
    if (r == 0 && writable(pid, 8))
        remember(&pids, get_u64(pid));
}
static void op_registry_remove(void)
{
    uint32_t nl, name = rnd_str(&nl);
    SAY("registry_remove(%#x, %u)\n", PID, name, nl);
    lgi_registry_remove((const char *)(uintptr_t)name, nl);
    RES("%s", "done");
}

/* lunatic::timer */
static void op_timer_send_after(void)
{
    uint64_t pid = pick_pid(), ms = chance(70) ? below(20) : rnd_u64();
    SAY("timer_send_after(%llu, %llu)\n", PID, ULL(pid), ULL(ms));
    uint64_t id = lgi_timer_send_after(pid, ms);
    RES("%llu", ULL(id));
    remember(&timers, id);
}
static void op_timer_cancel_timer(void)
{
    uint64_t id = pick(&timers);
    SAY("timer_cancel_timer(%llu)\n", PID, ULL(id));
    RES("%u", lgi_timer_cancel_timer(id));
}

/* lunatic::networking
 *
 * Everything stays on the loopback interface: addresses written for the
 * host are 127.0.0.1 or ::1 wherever the pointer is our memory, and the
 * ports connected or sent to are our own listeners' and sockets' (or 9,
 * where nothing listens), so that the fuzzer never talks to another
 * program on the machine. Binds use port 0 (or a port we already hold).
 *
 * Calls that can block for ever (accept, udp_receive, udp_receive_from:
 * no timeout) are made by children only: a child may stay blocked until
 * the run ends (or a kill), but the main process must finish. Before a
 * read, peek or write the main process sets that timeout on the id. */

static uint32_t ports[8], nports;   /* ports of our listeners and sockets */

static void remember_port(uint32_t p)
{
    if (!p)
        return;
    if (nports < 8)
        ports[nports++] = p;
    else
        ports[below(8)] = p;
}

/* A port to connect or send to: one of ours, 9 or 0. */
static uint32_t peer_port(void)
{
    if (nports && chance(80))
        return ports[below(nports)];
    return chance(50) ? 9 : 0;
}

/* A port to bind: 0 (any), one we hold (in use), or 65536 (truncated to
 * 16 bits: 0). */
static uint32_t bind_port(void)
{
    uint32_t r = below(10);
    if (r < 7)
        return 0;
    if (r < 9 && nports)
        return ports[below(nports)];
    return 65536;
}

/* An address for the host: type 4 or 6 (sometimes neither), the loopback
 * address wherever the pointer lets us write it. */
static void rnd_addr(uint32_t *type, uint32_t *ptr)
{
    static const uint8_t lo4[4] = {127, 0, 0, 1};
    static const uint8_t lo6[16] = {[15] = 1};
    uint32_t t = chance(90) ? (chance(70) ? 4 : 6) : (uint32_t)rnd();
    uint32_t n = t == 6 ? 16 : 4, p = ptr_for(n);
    if (writable(p, 16))
        memcpy((void *)(uintptr_t)p, t == 6 ? lo6 : lo4, t == 6 ? 16 : 4);
    else if (writable(p, n))
        memcpy((void *)(uintptr_t)p, lo4, 4);
    else if (chance(90))   /* mostly a valid pointer after all */
        memcpy((void *)(uintptr_t)(p = scratch_ptr(16)), t == 6 ? lo6 : lo4, t == 6 ? 16 : 4);
    *type = t;
    *ptr = p;
}

/* Reads the port of a DNS iterator's next address (0 if none). */
static uint32_t iter_port(uint64_t iter)
{
    uint32_t type = 0;
    uint8_t addr[16];
    uint16_t port = 0;
    uint32_t flow = 0, scope = 0;
    if (lgi_networking_resolve_next(iter, &type, addr, &port, &flow, &scope) != 0)
        return 0;
    return port;
}

/* main: a short timeout on id before a call that could wait (the setter
 * traps on an unknown id, as the call itself would) */
static int careful(void) { return self_pid == main_pid; }
static uint64_t short_ms(void) { return 1 + below(20); }

static void op_networking_resolve(void)
{
    static const char *const hosts[] = {"localhost:4242", "127.0.0.1:0", "[::1]:9", "127.0.0.1",
                                        "1.2.3.4:99999", ":80", "localhost:", "[::1:9"};
    uint32_t nl, name, out = out_ptr();
    if (chance(60)) {
        const char *h = hosts[below(sizeof hosts / sizeof hosts[0])];
        nl = (uint32_t)strlen(h);
        name = scratch_ptr(nl);
        memcpy((void *)(uintptr_t)name, h, nl);
    } else {
        name = rnd_str(&nl);   /* no port: refused without a lookup */
    }
    uint64_t t = short_ms();
    SAY("networking_resolve(%#x, %u, %llu, %#x)\n", PID, name, nl, ULL(t), out);
    outcome(lgi_networking_resolve((const char *)(uintptr_t)name, nl, t, (uint64_t *)(uintptr_t)out), out,
            &dns_iters);
}
static void op_networking_resolve_next(void)
{
    uint64_t id = pick2(&dns_iters);
    uint32_t t = ptr_for(4), a = ptr_for(16), port = ptr_for(2), fl = ptr_for(4), sc = ptr_for(4);
    SAY("networking_resolve_next(%llu, %#x, %#x, %#x, %#x, %#x)\n", PID, ULL(id), t, a, port, fl, sc);
    RES("%u", lgi_networking_resolve_next(id, (uint32_t *)(uintptr_t)t, (uint8_t *)(uintptr_t)a,
                                          (uint16_t *)(uintptr_t)port, (uint32_t *)(uintptr_t)fl,
                                          (uint32_t *)(uintptr_t)sc));
}

#define NET_ID_VOID(fn, pl)                                                  \
    static void op_networking_##fn(void)                                     \
    {                                                                        \
        uint64_t id = pick2(&pl);                                            \
        SAY("networking_" #fn "(%llu)\n", PID, ULL(id));                     \
        lgi_networking_##fn(id);                                             \
        RES("%s", "done");                                                   \
    }
#define NET_ID_U64(fn, pl, keep)                                             \
    static void op_networking_##fn(void)                                     \
    {                                                                        \
        uint64_t id = pick2(&pl);                                            \
        SAY("networking_" #fn "(%llu)\n", PID, ULL(id));                     \
        uint64_t r = lgi_networking_##fn(id);                                \
        RES("%llu", ULL(r));                                                 \
        if (keep)                                                            \
            remember(&pl, r);                                                \
    }
#define NET_ID_SET(fn, pl)                                                   \
    static void op_networking_##fn(void)                                     \
    {                                                                        \
        uint64_t id = pick2(&pl), v = chance(50) ? short_ms() : rnd_u64();  \
        if (careful() && (v == 0 || v > 20))                                 \
            v = short_ms(); /* none (0, u64::MAX) or long: not in main */    \
        SAY("networking_" #fn "(%llu, %llu)\n", PID, ULL(id), ULL(v));      \
        lgi_networking_##fn(id, v);                                          \
        RES("%s", "done");                                                   \
    }
#define NET_ID_OUT(fn, pl, opl)                                              \
    static void op_networking_##fn(void)                                     \
    {                                                                        \
        uint64_t id = pick2(&pl);                                            \
        uint32_t out = out_ptr();                                            \
        SAY("networking_" #fn "(%llu, %#x)\n", PID, ULL(id), out);          \
        outcome(lgi_networking_##fn(id, (uint64_t *)(uintptr_t)out), out,   \
                &opl);                                                       \
    }

/* accept: children only (no timeout), see above */
#define NET_ACCEPT(fn, pl, opl)                                                              \
    static void op_networking_##fn(void)                                                     \
    {                                                                                        \
        uint64_t id = pick2(&pl);                                                            \
        uint32_t out = out_ptr(), out2 = out_ptr();                                          \
        if (careful()) {                                                                     \
            SAY("networking_" #fn "(%llu) skipped in main: no timeout\n", PID, ULL(id));     \
            return;                                                                          \
        }                                                                                    \
        SAY("networking_" #fn "(%llu, %#x, %#x)\n", PID, ULL(id), out, out2);               \
        uint32_t r = lgi_networking_##fn(id, (uint64_t *)(uintptr_t)out, (uint64_t *)(uintptr_t)out2); \
        outcome(r, out, &opl);                                                               \
        if (r == 0 && writable(out2, 8))                                                     \
            remember(&dns_iters, get_u64(out2));                                             \
    }

/* read, peek: in main after a short timeout set by `setter` */
#define NET_READ(fn, pl, setter)                                                             \
    static void op_networking_##fn(void)                                                     \
    {                                                                                        \
        uint64_t id = pick2(&pl);                                                            \
        uint32_t n = rnd_len(), p = ptr_for(n), out = out_ptr();                             \
        if (writable(p, 1) && n > 65536)                                                     \
            n = 65536;                                                                       \
        if (careful())                                                                       \
            lgi_networking_##setter(id, short_ms());                                         \
        SAY("networking_" #fn "(%llu, %#x, %u, %#x)\n", PID, ULL(id), p, n, out);           \
        outcome(lgi_networking_##fn(id, (void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out), \
                out, NULL);                                                                  \
    }

/* vectored write: a few small buffers (some bad) */
#define NET_WRITE(fn, pl, setter)                                                            \
    static void op_networking_##fn(void)                                                     \
    {                                                                                        \
        uint64_t id = pick2(&pl);                                                            \
        uint32_t n = chance(85) ? below(5) : rnd_len();                                      \
        uint32_t p = ptr_for(n > 8192 ? 65536 : 8 * n), out = out_ptr();                     \
        if (in_scratch(p, 8ull * n))                                                         \
            for (uint32_t i = 0; i < n; i++) {                                               \
                uint32_t len = chance(90) ? below(300) : rnd_len();                          \
                uint32_t rec[2] = {ptr_for(len), len};                                       \
                memcpy((void *)(uintptr_t)(p + 8 * i), rec, 8);                              \
            }                                                                                \
        if (careful())                                                                       \
            lgi_networking_##setter(id, short_ms());                                         \
        SAY("networking_" #fn "(%llu, %#x, %u, %#x)\n", PID, ULL(id), p, n, out);           \
        outcome(lgi_networking_##fn(id, (const void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out), \
                out, NULL);                                                                  \
    }

#define NET_BIND(fn, opl)                                                                     \
    static void op_networking_##fn(void)                                                      \
    {                                                                                         \
        uint32_t t, a, port = bind_port(), out = out_ptr();                                   \
        rnd_addr(&t, &a);                                                                     \
        uint32_t fl = chance(80) ? 0 : (uint32_t)rnd_u64(), sc = chance(80) ? 0 : (uint32_t)rnd_u64(); \
        SAY("networking_" #fn "(%u, %#x, %u, %u, %u, %#x)\n", PID, t, a, port, fl, sc, out); \
        outcome(lgi_networking_##fn(t, (const uint8_t *)(uintptr_t)a, port, fl, sc,           \
                                    (uint64_t *)(uintptr_t)out),                              \
                out, &opl);                                                                   \
    }

NET_ID_VOID(drop_dns_iterator, dns_iters)
NET_BIND(tcp_bind, tcp_listeners)
NET_ID_VOID(drop_tcp_listener, tcp_listeners)
NET_ID_OUT(tcp_local_addr, tcp_listeners, dns_iters)
NET_ACCEPT(tcp_accept, tcp_listeners, tcp_streams)
static void op_networking_tcp_connect(void)
{
    uint32_t t, a, port = peer_port(), out = out_ptr();
    rnd_addr(&t, &a);
    uint64_t to = careful() || chance(50) ? short_ms() : chance(50) ? 0 : UINT64_MAX;
    SAY("networking_tcp_connect(%u, %#x, %u, 0, 0, %llu, %#x)\n", PID, t, a, port, ULL(to), out);
    outcome(lgi_networking_tcp_connect(t, (const uint8_t *)(uintptr_t)a, port, 0, 0, to,
                                       (uint64_t *)(uintptr_t)out),
            out, &tcp_streams);
}
NET_ID_OUT(tcp_peer_addr, tcp_streams, dns_iters)
NET_ID_VOID(drop_tcp_stream, tcp_streams)
NET_ID_U64(clone_tcp_stream, tcp_streams, 1)
NET_WRITE(tcp_write_vectored, tcp_streams, set_write_timeout)
NET_READ(tcp_read, tcp_streams, set_read_timeout)
NET_READ(tcp_peek, tcp_streams, set_peek_timeout)
NET_ID_OUT(tcp_flush, tcp_streams, errors)
NET_ID_SET(set_read_timeout, tcp_streams)
NET_ID_SET(set_write_timeout, tcp_streams)
NET_ID_SET(set_peek_timeout, tcp_streams)
NET_ID_U64(get_read_timeout, tcp_streams, 0)
NET_ID_U64(get_write_timeout, tcp_streams, 0)
NET_ID_U64(get_peek_timeout, tcp_streams, 0)

/* A connected TCP pair on the loopback: bind, local_addr, connect, accept
 * (the connection is queued, so accept does not wait). Every id is kept. */
static void op_net_tcp_pair(void)
{
    static uint64_t o[5];   /* ids the host writes */
    uint32_t port = 0;
    int v6 = chance(30);
    static const uint8_t lo4[4] = {127, 0, 0, 1};
    static const uint8_t lo6[16] = {[15] = 1};
    const uint8_t *lo = v6 ? lo6 : lo4;
    SAY("net_tcp_pair(v%d)\n", PID, v6 ? 6 : 4);
    if (lgi_networking_tcp_bind(v6 ? 6 : 4, lo, 0, 0, 0, &o[0]) != 0) {
        remember(&errors, o[0]);
        RES("%s", "bind failed");
        return;
    }
    uint64_t listener = o[0];
    remember(&tcp_listeners, listener);
    if (lgi_networking_tcp_local_addr(listener, &o[1]) == 0) {
        remember(&dns_iters, o[1]);
        port = iter_port(o[1]);
    }
    remember_port(port);
    if (lgi_networking_tcp_connect(v6 ? 6 : 4, lo, port, 0, 0, 20, &o[2]) != 0) {
        RES("connect to %u failed", port);
        return;
    }
    remember(&tcp_streams, o[2]);
    uint32_t r = lgi_networking_tcp_accept(listener, &o[3], &o[4]);
    if (r == 0) {
        remember(&tcp_streams, o[3]);
        remember(&dns_iters, o[4]);
    }
    RES("listener %llu port %u streams %llu %llu (accept %u)", ULL(listener), port, ULL(o[2]),
        ULL(o[3]), r);
}

/* A UDP pair: two sockets, the first connected to the second. */
static void op_net_udp_pair(void)
{
    static uint64_t o[4];   /* ids the host writes */
    static const uint8_t lo4[4] = {127, 0, 0, 1};
    SAY("net_udp_pair()\n", PID);
    if (lgi_networking_udp_bind(4, lo4, 0, 0, 0, &o[0]) != 0 ||
        lgi_networking_udp_bind(4, lo4, 0, 0, 0, &o[1]) != 0) {
        RES("%s", "bind failed");
        return;
    }
    remember(&udp_sockets, o[0]);
    remember(&udp_sockets, o[1]);
    uint32_t port = 0;
    if (lgi_networking_udp_local_addr(o[1], &o[2]) == 0) {
        remember(&dns_iters, o[2]);
        port = iter_port(o[2]);
    }
    remember_port(port);
    uint32_t r = lgi_networking_udp_connect(o[0], 4, lo4, port, 0, 0, 5, &o[3]);
    RES("sockets %llu %llu port %u connect %u", ULL(o[0]), ULL(o[1]), port, r);
}

/* TLS: the certificate and key of a self-signed "localhost" CA made by
 * build.sh (tls_cert, tls_key in mods.h), or PEM-looking garbage. */
static uint32_t rnd_pem(uint32_t *len, int key)
{
    uint32_t p = scratch_ptr(4096);
    char *s = (char *)(uintptr_t)p;
    const char *real = key ? tls_key : tls_cert;
    const char *label = key ? "PRIVATE KEY" : "CERTIFICATE";
    int n;
    uint32_t r = below(10);
    if (r < 6)
        n = snprintf(s, 4096, "%s", real);
    else if (r < 7)
        n = snprintf(s, 4096, "-----BEGIN %s-----\nTUlJQg==\n-----END %s-----\n", label, label);
    else if (r < 8)
        n = snprintf(s, 4096, "-----BEGIN %s-----\n", label);
    else if (r < 9)
        n = snprintf(s, 4096, "%.*s", (int)below((uint32_t)strlen(real)), real);   /* cut */
    else
        n = (int)below(100);
    *len = (uint32_t)n;
    if (chance(10)) {
        *len = rnd_len();
        p = ptr_for(*len);
    }
    return p;
}
static void op_networking_tls_bind(void)
{
    uint32_t t, a, port = bind_port(), out = out_ptr(), cl, kl;
    rnd_addr(&t, &a);
    uint32_t cert = rnd_pem(&cl, 0);
    uint32_t key = rnd_pem(&kl, 1);
    SAY("networking_tls_bind(%u, %#x, %u, 0, 0, %#x, %#x, %u, %#x, %u)\n", PID, t, a, port, out, cert, cl, key,
        kl);
    uint32_t r = lgi_networking_tls_bind(t, (const uint8_t *)(uintptr_t)a, port, 0, 0, (uint64_t *)(uintptr_t)out,
                                         (const char *)(uintptr_t)cert, cl, (const char *)(uintptr_t)key, kl);
    outcome(r, out, &tls_listeners);
    /* learn its port: a tls_connect (from any process) may reach it */
    uint64_t it;
    if (r == 0 && writable(out, 8) && lgi_networking_tls_local_addr(get_u64(out), &it) == 0) {
        remember_port(iter_port(it));
        remember(&dns_iters, it);
    }
}
NET_ID_VOID(drop_tls_listener, tls_listeners)
NET_ID_OUT(tls_local_addr, tls_listeners, dns_iters)
NET_ACCEPT(tls_accept, tls_listeners, tls_streams)
static void op_networking_tls_connect(void)
{
    static const char *const hosts[] = {"localhost", "127.0.0.1", "::1", "not-localhost"};
    uint32_t hl, host, out = out_ptr();
    if (chance(80)) {
        const char *h = hosts[below(4)];
        hl = (uint32_t)strlen(h);
        host = scratch_ptr(hl);
        memcpy((void *)(uintptr_t)host, h, hl);
    } else {
        host = rnd_str(&hl);
    }
    uint32_t port = peer_port(), n = chance(80) ? below(3) : rnd_len();
    uint32_t certs = ptr_for(n > 8192 ? 65536 : 8 * n);
    if (in_scratch(certs, 8ull * n))
        for (uint32_t i = 0; i < n; i++) {
            uint32_t rec[2];
            rec[0] = rnd_pem(&rec[1], 0);
            if (chance(20)) {   /* {len, ptr}, as lunatic-rs writes them */
                uint32_t x = rec[0];
                rec[0] = rec[1];
                rec[1] = x;
            }
            memcpy((void *)(uintptr_t)(certs + 8 * i), rec, 8);
        }
    uint64_t to = careful() || chance(70) ? short_ms() : 0;
    SAY("networking_tls_connect(%#x, %u, %u, %llu, %#x, %#x, %u)\n", PID, host, hl, port, ULL(to), out, certs,
        n);
    outcome(lgi_networking_tls_connect((const char *)(uintptr_t)host, hl, port, to, (uint64_t *)(uintptr_t)out,
                                       (const void *)(uintptr_t)certs, n),
            out, &tls_streams);
}
NET_ID_VOID(drop_tls_stream, tls_streams)
NET_ID_U64(clone_tls_stream, tls_streams, 1)
NET_WRITE(tls_write_vectored, tls_streams, set_tls_write_timeout)
NET_READ(tls_read, tls_streams, set_tls_read_timeout)
NET_ID_OUT(tls_flush, tls_streams, errors)
NET_ID_SET(set_tls_read_timeout, tls_streams)
NET_ID_SET(set_tls_write_timeout, tls_streams)
NET_ID_U64(get_tls_read_timeout, tls_streams, 0)
NET_ID_U64(get_tls_write_timeout, tls_streams, 0)
NET_BIND(udp_bind, udp_sockets)
NET_ID_OUT(udp_local_addr, udp_sockets, dns_iters)
NET_ID_OUT(udp_peer_addr, udp_sockets, dns_iters)
NET_ID_VOID(drop_udp_socket, udp_sockets)
/* udp_receive(_from): children only (no timeout) */
static void op_networking_udp_receive(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t n = rnd_len(), p = ptr_for(n), out = out_ptr();
    if (writable(p, 1) && n > 65536)
        n = 65536;
    if (careful()) {
        SAY("networking_udp_receive(%llu) skipped in main: no timeout\n", PID, ULL(id));
        return;
    }
    SAY("networking_udp_receive(%llu, %#x, %u, %#x)\n", PID, ULL(id), p, n, out);
    outcome(lgi_networking_udp_receive(id, (void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out), out, NULL);
}
static void op_networking_udp_receive_from(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t n = rnd_len(), p = ptr_for(n), out = out_ptr(), it = out_ptr();
    if (writable(p, 1) && n > 65536)
        n = 65536;
    if (careful()) {
        SAY("networking_udp_receive_from(%llu) skipped in main: no timeout\n", PID, ULL(id));
        return;
    }
    SAY("networking_udp_receive_from(%llu, %#x, %u, %#x, %#x)\n", PID, ULL(id), p, n, out, it);
    uint32_t r = lgi_networking_udp_receive_from(id, (void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out,
                                                 (uint64_t *)(uintptr_t)it);
    outcome(r, out, NULL);
    if (r == 0 && writable(it, 8))
        remember(&dns_iters, get_u64(it));
}
static void op_networking_udp_connect(void)
{
    uint64_t id = pick2(&udp_sockets), to = rnd_timeout();
    uint32_t t, a, port = peer_port(), out = out_ptr();
    rnd_addr(&t, &a);
    SAY("networking_udp_connect(%llu, %u, %#x, %u, 0, 0, %llu, %#x)\n", PID, ULL(id), t, a, port, ULL(to), out);
    outcome(lgi_networking_udp_connect(id, t, (const uint8_t *)(uintptr_t)a, port, 0, 0, to,
                                       (uint64_t *)(uintptr_t)out),
            out, NULL);
}
NET_ID_U64(clone_udp_socket, udp_sockets, 1)
static void op_networking_set_udp_socket_broadcast(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t v = chance(80) ? below(2) : (uint32_t)rnd();
    SAY("networking_set_udp_socket_broadcast(%llu, %u)\n", PID, ULL(id), v);
    lgi_networking_set_udp_socket_broadcast(id, v);
    RES("%s", "done");
}
NET_ID_U64(get_udp_socket_broadcast, udp_sockets, 0)
static void op_networking_set_udp_socket_ttl(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t v = chance(60) ? below(256) : (uint32_t)rnd_u64();
    SAY("networking_set_udp_socket_ttl(%llu, %u)\n", PID, ULL(id), v);
    lgi_networking_set_udp_socket_ttl(id, v);
    RES("%s", "done");
}
NET_ID_U64(get_udp_socket_ttl, udp_sockets, 0)
static void op_networking_udp_send_to(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t n = chance(80) ? below(2000) : rnd_len(), p = ptr_for(n), t, a, port = peer_port(), out = out_ptr();
    rnd_addr(&t, &a);
    SAY("networking_udp_send_to(%llu, %#x, %u, %u, %#x, %u, 0, 0, %#x)\n", PID, ULL(id), p, n, t, a, port, out);
    outcome(lgi_networking_udp_send_to(id, (const void *)(uintptr_t)p, n, t, (const uint8_t *)(uintptr_t)a, port,
                                       0, 0, (uint64_t *)(uintptr_t)out),
            out, NULL);
}
static void op_networking_udp_send(void)
{
    uint64_t id = pick2(&udp_sockets);
    uint32_t n = chance(80) ? below(2000) : rnd_len(), p = ptr_for(n), out = out_ptr();
    SAY("networking_udp_send(%llu, %#x, %u, %#x)\n", PID, ULL(id), p, n, out);
    outcome(lgi_networking_udp_send(id, (const void *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)out), out, NULL);
}

/* lunatic::wasi */
static void op_wasi_config_add_environment_variable(void)
{
    uint64_t id = pick(&configs);
    uint32_t kl, k = rnd_str(&kl), vl, v;
    /* both strings live in the same scratch window: copy the key away */
    uint32_t k2 = (uint32_t)(uintptr_t)scratch + 50000;
    if (in_scratch(k, kl) && kl < 9000) {
        memmove((void *)(uintptr_t)k2, (void *)(uintptr_t)k, kl);
        k = k2;
    }
    v = rnd_str(&vl);
    SAY("wasi_config_add_environment_variable(%llu, %#x, %u, %#x, %u)\n", PID, ULL(id), k, kl, v, vl);
    lgi_wasi_config_add_environment_variable(id, (const char *)(uintptr_t)k, kl, (const char *)(uintptr_t)v, vl);
    RES("%s", "done");
}
static void op_wasi_config_add_command_line_argument(void)
{
    uint64_t id = pick(&configs);
    uint32_t l, s = rnd_str(&l);
    SAY("wasi_config_add_command_line_argument(%llu, %#x, %u)\n", PID, ULL(id), s, l);
    lgi_wasi_config_add_command_line_argument(id, (const char *)(uintptr_t)s, l);
    RES("%s", "done");
}
static void op_wasi_config_preopen_dir(void)
{
    uint64_t id = pick(&configs);
    uint32_t l, s = rnd_str(&l);
    SAY("wasi_config_preopen_dir(%llu, %#x, %u)\n", PID, ULL(id), s, l);
    lgi_wasi_config_preopen_dir(id, (const char *)(uintptr_t)s, l);
    RES("%s", "done");
}

/* lunatic::version */
static void op_version_major(void) { SAY("version_major()\n", PID); RES("%u", lgi_version_major()); }
static void op_version_minor(void) { SAY("version_minor()\n", PID); RES("%u", lgi_version_minor()); }
static void op_version_patch(void) { SAY("version_patch()\n", PID); RES("%u", lgi_version_patch()); }

/* lunatic::trap: a raw catch with a random table index and argument (the
 * trampoline's call_indirect then traps inside the catch, or calls an op) */
static void op_trap_catch(void)
{
    int32_t f = chance(50) ? (int32_t)below(300) : (int32_t)rnd();
    int32_t a = (int32_t)rnd();
    SAY("trap_catch(%d, %d)\n", PID, f, a);
    RES("%d", lgi_trap_catch(f, a));
}

/* lunatic::distributed */
static void op_distributed_nodes_count(void) { SAY("distributed_nodes_count()\n", PID); RES("%u", lgi_distributed_nodes_count()); }
static void op_distributed_node_id(void) { SAY("distributed_node_id()\n", PID); RES("%llu", ULL(lgi_distributed_node_id())); }
static void op_distributed_module_id(void) { SAY("distributed_module_id()\n", PID); RES("%llu", ULL(lgi_distributed_module_id())); }
static void op_distributed_get_nodes(void)
{
    uint32_t n = rnd_len(), p = ptr_for(n > 8192 ? 65536 : 8 * n);
    SAY("distributed_get_nodes(%#x, %u)\n", PID, p, n);
    RES("%u", lgi_distributed_get_nodes((uint64_t *)(uintptr_t)p, n));
}
static void op_distributed_exec_lookup_nodes(void)
{
    uint32_t l, q = rnd_str(&l), a = ptr_for(8), b = ptr_for(8), c = ptr_for(8);
    SAY("distributed_exec_lookup_nodes(%#x, %u, %#x, %#x, %#x)\n", PID, q, l, a, b, c);
    RES("%u", lgi_distributed_exec_lookup_nodes((const char *)(uintptr_t)q, l, (uint64_t *)(uintptr_t)a,
                                                (uint64_t *)(uintptr_t)b, (uint64_t *)(uintptr_t)c));
}
static void op_distributed_copy_lookup_nodes_results(void)
{
    uint64_t id = rnd_u64();
    uint32_t n = rnd_len(), p = ptr_for(n > 8192 ? 65536 : 8 * n), e = ptr_for(8);
    SAY("distributed_copy_lookup_nodes_results(%llu, %#x, %u, %#x)\n", PID, ULL(id), p, n, e);
    int32_t r = lgi_distributed_copy_lookup_nodes_results(id, (uint64_t *)(uintptr_t)p, n, (uint64_t *)(uintptr_t)e);
    RES("%d", r);
    if (r == -1 && writable(e, 8))
        remember(&errors, get_u64(e));
}
static void op_distributed_spawn(void)
{
    uint32_t fn, fl, pp, pl, out = out_ptr();
    spawn_args(0, &fn, &fl, &pp, &pl);
    SAY("distributed_spawn(...)\n", PID);
    outcome(lgi_distributed_spawn(rnd_u64(), -1, pick(&modules), (const char *)(uintptr_t)fn, fl,
                                  (const void *)(uintptr_t)pp, pl, (uint64_t *)(uintptr_t)out),
            out, NULL);
}
static void op_distributed_send(void)
{
    SAY("distributed_send()\n", PID);
    RES("%u", lgi_distributed_send(rnd_u64(), pick_pid()));
}
static void op_distributed_send_receive_skip_search(void)
{
    SAY("distributed_send_receive_skip_search()\n", PID);
    RES("%u", lgi_distributed_send_receive_skip_search(rnd_u64(), pick_pid(), 1, rnd_timeout()));
}
static void op_distributed_test_root_cert(void)
{
    uint32_t p = ptr_for(4);
    SAY("distributed_test_root_cert(%#x)\n", PID, p);
    RES("%u", lgi_distributed_test_root_cert((uint32_t *)(uintptr_t)p));
}
static void op_distributed_default_server_certificates(void)
{
    uint32_t cl, kl, c = rnd_pem(&cl, 0), k = rnd_pem(&kl, 1), p = ptr_for(4);
    SAY("distributed_default_server_certificates(%#x, %u, %#x, %u, %#x)\n", PID, c, cl, k, kl, p);
    RES("%u", lgi_distributed_default_server_certificates((const char *)(uintptr_t)c, cl,
                                                          (const char *)(uintptr_t)k, kl,
                                                          (uint32_t *)(uintptr_t)p));
}
static void op_distributed_sign_node(void)
{
    uint32_t cl, kl, sl, c = rnd_pem(&cl, 0), k = rnd_pem(&kl, 1);
    uint32_t s = rnd_pem(&sl, 0), p = ptr_for(4);
    SAY("distributed_sign_node(%#x, %u, %#x, %u, %#x, %u, %#x)\n", PID, c, cl, k, kl, s, sl, p);
    RES("%u", lgi_distributed_sign_node((const char *)(uintptr_t)c, cl, (const char *)(uintptr_t)k, kl,
                                        (const char *)(uintptr_t)s, sl, (uint32_t *)(uintptr_t)p));
}

/* lunatic::metrics */
#define METRIC_V(fn, T, v)                                                         \
    static void op_metrics_##fn(void)                                              \
    {                                                                              \
        uint32_t l, s = rnd_str(&l);                                               \
        T val = v;                                                                 \
        SAY("metrics_" #fn "(%#x, %u, %g)\n", PID, s, l, (double)val);             \
        lgi_metrics_##fn((const char *)(uintptr_t)s, l, val);                      \
        RES("%s", "done");                                                         \
    }
METRIC_V(counter, uint64_t, rnd_u64())
METRIC_V(gauge, double, rnd_double())
METRIC_V(increment_gauge, double, rnd_double())
METRIC_V(decrement_gauge, double, rnd_double())
METRIC_V(histogram, double, rnd_double())
static void op_metrics_increment_counter(void)
{
    uint32_t l, s = rnd_str(&l);
    SAY("metrics_increment_counter(%#x, %u)\n", PID, s, l);
    lgi_metrics_increment_counter((const char *)(uintptr_t)s, l);
    RES("%s", "done");
}

/* lunatic::sqlite: mostly in-memory or temporary databases (a file name
 * opens in the run's working directory, a scratch directory of check.sh);
 * SQL that works on a table t, garbage, or names of other strings. The
 * allocating calls get their buffers from the SDK's lunatic_alloc (malloc):
 * freed. */
static void op_sqlite_open(void)
{
    static const char *const paths[] = {":memory:", "", "fuzz.db", "sub/fuzz.db", "/tmp/x.db",
                                        "../x.db"};
    uint32_t l, s, out = out_ptr();
    if (chance(80)) {
        const char *pth = paths[chance(70) ? below(2) : below(6)];
        l = (uint32_t)strlen(pth);
        s = scratch_ptr(l);
        memcpy((void *)(uintptr_t)s, pth, l);
    } else {
        s = rnd_str(&l);
    }
    SAY("sqlite_open(%#x \"%.*s\", %u, %#x)\n", PID, s, in_scratch(s, l) && l < 40 ? (int)l : 0,
        (const char *)(uintptr_t)s, l, out);
    outcome((uint32_t)lgi_sqlite_open((const char *)(uintptr_t)s, l, (uint64_t *)(uintptr_t)out), out,
            &dbconns);
}

/* Some SQL in scratch: statements on t, a pragma, garbage, or any string. */
static uint32_t rnd_sql(uint32_t *len)
{
    static const char *const sql[] = {
        "CREATE TABLE IF NOT EXISTS t(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB)",
        "INSERT INTO t(b, c, d) VALUES ('x', 1.5, x'00ff')",
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        "INSERT INTO t(a, b) VALUES (:a, @b)",
        "SELECT * FROM t",
        "SELECT a, b, c, d, a + c, NULL FROM t WHERE a > ?1",
        "UPDATE t SET b = b || b",
        "DELETE FROM t WHERE a % 2 = 0",
        "DROP TABLE t",
        "BEGIN; INSERT INTO t(b) VALUES ('y'); COMMIT",
        "PRAGMA journal_mode = WAL",
        ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 500) "
         "INSERT INTO t(b) SELECT hex(randomblob(20)) FROM r"),
        "SELECT * FROM nope",
        "SELEC garbage (",
        "",
    };
    if (chance(85)) {
        const char *q = sql[below(sizeof sql / sizeof sql[0])];
        uint32_t n = (uint32_t)strlen(q), p = scratch_ptr(n);
        memcpy((void *)(uintptr_t)p, q, n);
        *len = n;
        return p;
    }
    return rnd_str(len);
}

/* A bincode BindList, or bytes that try to be one (see ABI.md 2.12): a
 * u64 count, then per value a key (None, Numeric(u64), String) and a
 * value tag with its payload. */
static uint32_t rnd_bindlist(uint32_t *len)
{
    uint8_t *b = scratch + 24576, *p = b;
    if (chance(20)) {   /* random bytes */
        uint32_t n = below(64);
        for (uint32_t i = 0; i < n; i++)
            b[i] = (uint8_t)rnd();
        *len = n;
        return (uint32_t)(uintptr_t)b;
    }
    uint64_t n = below(4);
    memcpy(p, &n, 8), p += 8;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t key = below(3);
        memcpy(p, &key, 4), p += 4;
        if (key == 1) {
            uint64_t idx = chance(90) ? 1 + below(4) : rnd_u64();
            memcpy(p, &idx, 8), p += 8;
        } else if (key == 2) {
            uint64_t l = 1;
            memcpy(p, &l, 8), p += 8;
            *p++ = chance(50) ? 'a' : 'b';
        }
        uint32_t tag = chance(90) ? below(6) : (uint32_t)rnd();
        memcpy(p, &tag, 4), p += 4;
        uint64_t v = rnd_u64();
        switch (tag) {
        case 0: break;                                  /* Null */
        case 1: case 2: {                               /* Blob, Text */
            uint64_t l = chance(90) ? below(16) : v;
            memcpy(p, &l, 8), p += 8;
            for (uint64_t k = 0; k < l && k < 16; k++)
                *p++ = (uint8_t)('a' + k);
            break;
        }
        default: memcpy(p, &v, 8), p += 8; break;      /* Double, Integer, I64 */
        }
    }
    *len = (uint32_t)(p - b);
    if (chance(15))
        *len = below(*len + 1);   /* cut short */
    return (uint32_t)(uintptr_t)b;
}

static void free_guest(uint32_t p)
{
    if (p)
        free((void *)(uintptr_t)p);
}

static void op_sqlite_query_prepare(void)
{
    uint64_t id = pick(&dbconns);
    uint32_t l, s = rnd_sql(&l);
    SAY("sqlite_query_prepare(%llu, %#x, %u)\n", PID, ULL(id), s, l);
    uint64_t r = lgi_sqlite_query_prepare(id, (const char *)(uintptr_t)s, l);
    RES("%llu", ULL(r));
    remember(&dbstmts, r);
}
static void op_sqlite_execute(void)
{
    uint64_t id = pick(&dbconns);
    uint32_t l, s = rnd_sql(&l);
    SAY("sqlite_execute(%llu, %#x, %u)\n", PID, ULL(id), s, l);
    RES("%u", lgi_sqlite_execute(id, (const char *)(uintptr_t)s, l));
}
static void op_sqlite_bind_value(void)
{
    uint64_t id = pick(&dbstmts);
    uint32_t n, p = rnd_bindlist(&n);
    if (chance(10)) {
        n = rnd_len();
        p = ptr_for(n);
    }
    SAY("sqlite_bind_value(%llu, %#x, %u)\n", PID, ULL(id), p, n);
    lgi_sqlite_bind_value(id, (const void *)(uintptr_t)p, n);
    RES("%s", "done");
}
#define SQL_ID_RET(fn, pl)                                                         \
    static void op_sqlite_##fn(void)                                               \
    {                                                                              \
        uint64_t id = pick(&pl);                                                   \
        SAY("sqlite_" #fn "(%llu)\n", PID, ULL(id));                               \
        RES("%u", lgi_sqlite_##fn(id));                                            \
    }
#define SQL_ID_VOID(fn, pl)                                                        \
    static void op_sqlite_##fn(void)                                               \
    {                                                                              \
        uint64_t id = pick(&pl);                                                   \
        SAY("sqlite_" #fn "(%llu)\n", PID, ULL(id));                               \
        lgi_sqlite_##fn(id);                                                       \
        RES("%s", "done");                                                         \
    }
#define SQL_ID_LEN(fn, pl)                                                         \
    static void op_sqlite_##fn(void)                                               \
    {                                                                              \
        uint64_t id = pick(&pl);                                                   \
        uint32_t p = chance(85) ? scratch_ptr(4) : ptr_for(4);                     \
        SAY("sqlite_" #fn "(%llu, %#x)\n", PID, ULL(id), p);                       \
        uint32_t r = lgi_sqlite_##fn(id, (uint32_t *)(uintptr_t)p);                \
        RES("%#x", r);                                                             \
        free_guest(r);                                                             \
    }
#define SQL_ID_COL_LEN(fn, pl)                                                     \
    static void op_sqlite_##fn(void)                                               \
    {                                                                              \
        uint64_t id = pick(&pl);                                                   \
        uint32_t c = chance(80) ? below(8) : (uint32_t)rnd_u64();                  \
        uint32_t p = chance(85) ? scratch_ptr(4) : ptr_for(4);                     \
        SAY("sqlite_" #fn "(%llu, %u, %#x)\n", PID, ULL(id), c, p);                \
        uint32_t r = lgi_sqlite_##fn(id, c, (uint32_t *)(uintptr_t)p);             \
        RES("%#x", r);                                                             \
        free_guest(r);                                                             \
    }
SQL_ID_RET(sqlite3_changes, dbconns)
SQL_ID_VOID(statement_reset, dbstmts)
SQL_ID_RET(sqlite3_step, dbstmts)
SQL_ID_VOID(sqlite3_finalize, dbstmts)
SQL_ID_RET(column_count, dbstmts)
SQL_ID_LEN(last_error, dbconns)
SQL_ID_COL_LEN(read_column, dbstmts)
SQL_ID_LEN(read_row, dbstmts)
SQL_ID_COL_LEN(column_name, dbstmts)
SQL_ID_LEN(column_names, dbstmts)

/* ---- the table ------------------------------------------------------------------- */

static const op_fn ops[] = {
    op_error_string_size, op_error_to_string, op_error_drop,
    op_message_create_data, op_message_write_data, op_message_read_data, op_message_seek_data,
    op_message_get_tag, op_message_get_process_id, op_message_data_size, op_message_push_module,
    op_message_take_module, op_message_push_tcp_stream, op_message_take_tcp_stream,
    op_message_push_tls_stream, op_message_take_tls_stream, op_message_push_udp_socket,
    op_message_take_udp_socket, op_message_send, op_message_send_receive_skip_search,
    op_message_receive,
    op_process_compile_module, op_process_drop_module, op_process_create_config,
    op_process_drop_config, op_process_config_set_max_memory, op_process_config_get_max_memory,
    op_process_config_set_max_fuel, op_process_config_get_max_fuel,
    op_process_config_can_compile_modules, op_process_config_set_can_compile_modules,
    op_process_config_can_create_configs, op_process_config_set_can_create_configs,
    op_process_config_can_spawn_processes, op_process_config_set_can_spawn_processes,
    op_process_spawn, op_process_get_or_spawn, op_process_sleep_ms, op_process_die_when_link_dies,
    op_process_process_id, op_process_environment_id, op_process_link, op_process_unlink,
    op_process_monitor, op_process_stop_monitoring, op_process_kill, op_process_exists,
    op_registry_put, op_registry_get, op_registry_remove,
    op_timer_send_after, op_timer_cancel_timer,
    op_net_tcp_pair, op_net_udp_pair,
    op_networking_resolve, op_networking_drop_dns_iterator, op_networking_resolve_next,
    op_networking_tcp_bind, op_networking_drop_tcp_listener, op_networking_tcp_local_addr,
    op_networking_tcp_accept, op_networking_tcp_connect, op_networking_tcp_peer_addr,
    op_networking_drop_tcp_stream, op_networking_clone_tcp_stream, op_networking_tcp_write_vectored,
    op_networking_tcp_read, op_networking_tcp_peek, op_networking_tcp_flush,
    op_networking_set_read_timeout, op_networking_set_write_timeout, op_networking_set_peek_timeout,
    op_networking_get_read_timeout, op_networking_get_write_timeout, op_networking_get_peek_timeout,
    op_networking_tls_bind, op_networking_drop_tls_listener, op_networking_tls_local_addr,
    op_networking_tls_accept, op_networking_tls_connect, op_networking_drop_tls_stream,
    op_networking_clone_tls_stream, op_networking_tls_write_vectored, op_networking_tls_read,
    op_networking_tls_flush, op_networking_set_tls_read_timeout, op_networking_set_tls_write_timeout,
    op_networking_get_tls_read_timeout, op_networking_get_tls_write_timeout,
    op_networking_udp_bind, op_networking_udp_local_addr, op_networking_udp_peer_addr,
    op_networking_drop_udp_socket, op_networking_udp_receive, op_networking_udp_receive_from,
    op_networking_udp_connect, op_networking_clone_udp_socket,
    op_networking_set_udp_socket_broadcast, op_networking_get_udp_socket_broadcast,
    op_networking_set_udp_socket_ttl, op_networking_get_udp_socket_ttl, op_networking_udp_send_to,
    op_networking_udp_send,
    op_wasi_config_add_environment_variable, op_wasi_config_add_command_line_argument,
    op_wasi_config_preopen_dir,
    op_version_major, op_version_minor, op_version_patch,
    op_trap_catch,
    op_distributed_nodes_count, op_distributed_get_nodes, op_distributed_node_id,
    op_distributed_module_id, op_distributed_exec_lookup_nodes,
    op_distributed_copy_lookup_nodes_results, op_distributed_spawn, op_distributed_send,
    op_distributed_send_receive_skip_search, op_distributed_test_root_cert,
    op_distributed_default_server_certificates, op_distributed_sign_node,
    op_metrics_counter, op_metrics_increment_counter, op_metrics_gauge, op_metrics_increment_gauge,
    op_metrics_decrement_gauge, op_metrics_histogram,
    op_sqlite_open, op_sqlite_query_prepare, op_sqlite_execute, op_sqlite_bind_value,
    op_sqlite_sqlite3_changes, op_sqlite_statement_reset, op_sqlite_sqlite3_step,
    op_sqlite_sqlite3_finalize, op_sqlite_column_count, op_sqlite_last_error, op_sqlite_read_column,
    op_sqlite_read_row, op_sqlite_column_name, op_sqlite_column_names,
};
#define NOPS (sizeof ops / sizeof ops[0])

/* The process-centred calls come up more often than their share: they
 * change the state the others work on. */
static const op_fn hot[] = {
    op_message_create_data, op_message_write_data, op_message_send, op_message_receive,
    op_process_spawn, op_process_create_config, op_process_compile_module, op_process_link,
    op_process_monitor, op_process_kill, op_timer_send_after, op_registry_put, op_error_to_string,
    op_message_read_data, op_process_config_set_max_memory, op_process_config_set_can_spawn_processes,
    op_net_tcp_pair, op_net_udp_pair, op_message_push_tcp_stream, op_networking_tcp_read,
    op_networking_tcp_write_vectored, op_networking_udp_send,
    op_sqlite_open, op_sqlite_query_prepare, op_sqlite_sqlite3_step, op_sqlite_read_row,
};
#define NHOT (sizeof hot / sizeof hot[0])

static int32_t run_op(int32_t i)
{
    if ((uint32_t)i >= NOPS)   /* a raw trap_catch may pass anything */
        lg_trap();
    ops[i]();
    return 1;
}

static void fuzz(uint32_t count)
{
    for (step = 0; step < count; step++) {
        uint32_t i;
        if (chance(30)) {
            op_fn f = hot[below(NHOT)];
            for (i = 0; ops[i] != f; i++)
                ;
        } else {
            i = below(NOPS);
        }
        if (bare)
            run_op((int32_t)i);
        else if (!lg_catch(run_op, (int32_t)i))
            lg_printf("  P%llu -> trapped\n", ULL(self_pid));
    }
}

/* Sets up the process: its seed, ids, the edge page. */
static void init(uint64_t seed, uint32_t count, uint32_t d)
{
    rng_state = seed;
    self_pid = lgi_process_process_id();
    depth = d;
    child_count = count / 2;
    remember(&pids, self_pid);
    remember(&pids, main_pid);
    /* the end of memory: a page of our own above everything else */
    uint32_t pages = (uint32_t)__builtin_wasm_memory_grow(0, 1);
    edge_end = (pages + 1) * 65536u;
}

/* Children: the same, with their own seed. */
LG_EXPORT("child") void child(int64_t seed, int32_t count, int32_t d, int64_t main)
{
    main_pid = (uint64_t)main;
    init((uint64_t)seed, (uint32_t)count, (uint32_t)d);
    bare = chance(20);
    lg_printf("P%llu start child depth %d count %d%s\n", ULL(self_pid), d, count, bare ? " bare" : "");
    fuzz((uint32_t)count);
    lg_printf("P%llu end\n", ULL(self_pid));
}

LG_EXPORT("idle") void idle(int32_t ms)
{
    lg_receive_any((uint64_t)(ms & 15));
}

LG_EXPORT("crash") void crash(void)
{
    lg_trap();
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        /* also what a spawned "_start" sees (no arguments) */
        lg_printf("usage: driver.wasm SEED COUNT\n");
        return 0;
    }
    /* a spawned "_start" with the caller's config sees the same
     * arguments: only the first one fuzzes */
    uint64_t node, pid;
    if (lg_lookup("fuzz.main", &node, &pid) == LG_OK) {
        lg_printf("P%llu is a spawned _start: done\n", ULL(lgi_process_process_id()));
        return 0;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    uint32_t count = (uint32_t)strtoul(argv[2], NULL, 0);
    main_pid = lgi_process_process_id();
    lg_register("fuzz.main", main_pid);
    lgi_process_die_when_link_dies(0);
    init(seed, count, 0);
    lg_printf("P%llu start main seed %llu count %u\n", ULL(self_pid), ULL(seed), count);
    fuzz(count);
    lg_printf("P%llu end\n", ULL(self_pid));
    /* let the children get somewhere before the run ends */
    lgi_process_sleep_ms(20);
    return 0;
}
