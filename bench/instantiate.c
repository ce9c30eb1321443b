/*
 * instantiate.c - instantiation cost and idle-instance memory of the engine.
 *
 * Builds a small module in memory (binary encoded right here):
 *   memory 2 pages (128 KiB), 3 data segments totalling 4 KiB,
 *   a mutable i32 global (initial 42), a table-less function set:
 *     add(i32,i32)->i32, bump()->i32 (global += 1; returns it),
 *     sum(i32 off, i32 len)->i32 (adds bytes of memory), fib(i32)->i32.
 * then measures
 *   1. lw_instance_new + lw_instance_free                    (per instance)
 *   2. lw_instance_new + export lookup + call bump + free, one shared exec
 *   3. as 2 but also lw_exec_new/lw_exec_free per instance (a "process")
 *   4. RSS of N idle instances (after calling bump once on each), from
 *      /proc/self/statm, per instance; then the same with an exec each.
 * Targets: under 5 us per instantiation, under 16 KiB per idle instance.
 *
 * Build: cc -O2 -Isrc bench/instantiate.c build/liblunatic.a -lm -lpthread -ljansson
 * Usage: instantiate [ITERATIONS [IDLE_INSTANCES]]   (default 100000 10000)
 *        instantiate --dump FILE.wasm   writes the module (check it with
 *                                       wasm-validate / wasm2wat) and exits
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wasm/lw.h"

/* ---- a minimal binary encoder -------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void byte(buf *b, uint8_t v) { put(b, &v, 1); }
static void uleb(buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        byte(b, c);
    } while (v);
}
static void sleb(buf *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;   /* arithmetic shift on every compiler we use */
        int done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
        if (!done)
            c |= 0x80;
        byte(b, c);
        if (done)
            break;
    }
}
static void name(buf *b, const char *s)
{
    uleb(b, strlen(s));
    put(b, s, strlen(s));
}
static void section(buf *mod, uint8_t id, buf *body)
{
    byte(mod, id);
    uleb(mod, body->n);
    put(mod, body->p, body->n);
    body->n = 0;
}

enum { I32 = 0x7f };
enum {
    OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04, OP_ELSE = 0x05, OP_END = 0x0b, OP_BR = 0x0c,
    OP_BR_IF = 0x0d, OP_RETURN = 0x0f, OP_CALL = 0x10, OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21,
    OP_LOCAL_TEE = 0x22, OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24, OP_I32_LOAD8_U = 0x2d,
    OP_I32_CONST = 0x41, OP_I32_EQZ = 0x45, OP_I32_LT_S = 0x48, OP_I32_ADD = 0x6a, OP_I32_SUB = 0x6b,
    BT_EMPTY = 0x40
};

#define DATA_SEGS 3
static const uint32_t seg_off[DATA_SEGS] = {1024, 8192, 70000};   /* the last one in page 2 */
static const uint32_t seg_len[DATA_SEGS] = {1024, 2048, 1024};

static uint8_t seg_byte(int s, uint32_t i) { return (uint8_t)(i * 31 + (uint32_t)s * 7 + (i >> 5)); }

/* func indices */
enum { F_ADD, F_BUMP, F_SUM, F_FIB, NFUNCS };

static buf build_module(void)
{
    buf mod = {0}, sec = {0}, fn = {0};
    put(&mod, "\0asm\1\0\0\0", 8);

    /* types: 0 (i32 i32)->i32, 1 ()->i32, 2 (i32)->i32 */
    uleb(&sec, 3);
    byte(&sec, 0x60); uleb(&sec, 2); byte(&sec, I32); byte(&sec, I32); uleb(&sec, 1); byte(&sec, I32);
    byte(&sec, 0x60); uleb(&sec, 0); uleb(&sec, 1); byte(&sec, I32);
    byte(&sec, 0x60); uleb(&sec, 1); byte(&sec, I32); uleb(&sec, 1); byte(&sec, I32);
    section(&mod, 1, &sec);

    /* functions */
    uleb(&sec, NFUNCS);
    uleb(&sec, 0); uleb(&sec, 1); uleb(&sec, 0); uleb(&sec, 2);
    section(&mod, 3, &sec);

    /* memory: min 2 pages, max 2 */
    uleb(&sec, 1); byte(&sec, 0x01); uleb(&sec, 2); uleb(&sec, 2);
    section(&mod, 5, &sec);

    /* global 0: mut i32 = 42 */
    uleb(&sec, 1); byte(&sec, I32); byte(&sec, 1);
    byte(&sec, OP_I32_CONST); sleb(&sec, 42); byte(&sec, OP_END);
    section(&mod, 6, &sec);

    /* exports */
    uleb(&sec, 5);
    name(&sec, "memory"); byte(&sec, 2); uleb(&sec, 0);
    name(&sec, "add"); byte(&sec, 0); uleb(&sec, F_ADD);
    name(&sec, "bump"); byte(&sec, 0); uleb(&sec, F_BUMP);
    name(&sec, "sum"); byte(&sec, 0); uleb(&sec, F_SUM);
    name(&sec, "fib"); byte(&sec, 0); uleb(&sec, F_FIB);
    section(&mod, 7, &sec);

    /* code */
    uleb(&sec, NFUNCS);
    /* add */
    uleb(&fn, 0);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_LOCAL_GET); uleb(&fn, 1);
    byte(&fn, OP_I32_ADD); byte(&fn, OP_END);
    uleb(&sec, fn.n); put(&sec, fn.p, fn.n); fn.n = 0;
    /* bump: g = g + 1; return g */
    uleb(&fn, 0);
    byte(&fn, OP_GLOBAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_CONST); sleb(&fn, 1);
    byte(&fn, OP_I32_ADD); byte(&fn, OP_GLOBAL_SET); uleb(&fn, 0);
    byte(&fn, OP_GLOBAL_GET); uleb(&fn, 0); byte(&fn, OP_END);
    uleb(&sec, fn.n); put(&sec, fn.p, fn.n); fn.n = 0;
    /* sum(off, len): local 2 = acc
     *   block loop  local.get 1 i32.eqz br_if 1
     *     acc += load8_u(off); off += 1; len -= 1; br 0  end end  acc */
    uleb(&fn, 1); uleb(&fn, 1); byte(&fn, I32);
    byte(&fn, OP_BLOCK); byte(&fn, BT_EMPTY);
    byte(&fn, OP_LOOP); byte(&fn, BT_EMPTY);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 1); byte(&fn, OP_I32_EQZ); byte(&fn, OP_BR_IF); uleb(&fn, 1);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 2);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_LOAD8_U); uleb(&fn, 0); uleb(&fn, 0);
    byte(&fn, OP_I32_ADD); byte(&fn, OP_LOCAL_SET); uleb(&fn, 2);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_CONST); sleb(&fn, 1);
    byte(&fn, OP_I32_ADD); byte(&fn, OP_LOCAL_SET); uleb(&fn, 0);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 1); byte(&fn, OP_I32_CONST); sleb(&fn, 1);
    byte(&fn, OP_I32_SUB); byte(&fn, OP_LOCAL_SET); uleb(&fn, 1);
    byte(&fn, OP_BR); uleb(&fn, 0);
    byte(&fn, OP_END); byte(&fn, OP_END);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 2); byte(&fn, OP_END);
    uleb(&sec, fn.n); put(&sec, fn.p, fn.n); fn.n = 0;
    /* fib(n) = n < 2 ? n : fib(n-1) + fib(n-2) */
    uleb(&fn, 0);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_CONST); sleb(&fn, 2);
    byte(&fn, OP_I32_LT_S);
    byte(&fn, OP_IF); byte(&fn, I32);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0);
    byte(&fn, OP_ELSE);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_CONST); sleb(&fn, 1); byte(&fn, OP_I32_SUB);
    byte(&fn, OP_CALL); uleb(&fn, F_FIB);
    byte(&fn, OP_LOCAL_GET); uleb(&fn, 0); byte(&fn, OP_I32_CONST); sleb(&fn, 2); byte(&fn, OP_I32_SUB);
    byte(&fn, OP_CALL); uleb(&fn, F_FIB);
    byte(&fn, OP_I32_ADD);
    byte(&fn, OP_END);
    byte(&fn, OP_END);
    uleb(&sec, fn.n); put(&sec, fn.p, fn.n); fn.n = 0;
    section(&mod, 10, &sec);

    /* data: active segments in memory 0 */
    uleb(&sec, DATA_SEGS);
    for (int s = 0; s < DATA_SEGS; s++) {
        uleb(&sec, 0);
        byte(&sec, OP_I32_CONST); sleb(&sec, seg_off[s]); byte(&sec, OP_END);
        uleb(&sec, seg_len[s]);
        for (uint32_t i = 0; i < seg_len[s]; i++)
            byte(&sec, seg_byte(s, i));
    }
    section(&mod, 11, &sec);

    free(sec.p);
    free(fn.p);
    return mod;
}

/* ---- helpers --------------------------------------------------------------- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

static void fail(const char *what, const lw_error *err)
{
    fprintf(stderr, "instantiate: %s failed", what);
    if (err && err->failed)
        fprintf(stderr, " at offset %zu: %s", err->offset, err->msg);
    fprintf(stderr, "\n");
    exit(1);
}

static lw_instance *new_instance(lw_module *m)
{
    lw_error err;
    memset(&err, 0, sizeof err);
    lw_instance *inst = lw_instance_new(m, NULL, 0, NULL, &err);
    if (!inst)
        fail("lw_instance_new", &err);
    return inst;
}

static lw_func *export_func(lw_instance *inst, const char *nm)
{
    lw_extern e;
    if (lw_instance_export(inst, nm, &e) != 0 || e.kind != LW_EXTERN_FUNC) {
        fprintf(stderr, "instantiate: export %s not found\n", nm);
        exit(1);
    }
    return e.u.func;
}

/* calls f(args) to completion; returns the first result */
static lw_val call(lw_exec *x, lw_func *f, const lw_val *args)
{
    int st = lw_exec_call(x, f, args);
    while (st == LW_YIELD)
        st = lw_exec_resume(x);
    if (st != LW_OK) {
        char msg[512];
        lw_exec_trap_format(x, msg, sizeof msg);
        fprintf(stderr, "instantiate: call failed (status %d): %s\n", st, msg);
        exit(1);
    }
    return lw_exec_results(x)[0];
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "instantiate: check failed: %s\n", what);
        exit(1);
    }
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--dump")) {
        buf b = build_module();
        FILE *f = fopen(argv[2], "wb");
        if (!f || fwrite(b.p, 1, b.n, f) != b.n || fclose(f) != 0) {
            perror(argv[2]);
            return 1;
        }
        free(b.p);
        return 0;
    }
    long iters = argc > 1 ? atol(argv[1]) : 100000;
    long idle = argc > 2 ? atol(argv[2]) : 10000;
    if (iters < 1 || idle < 1) {
        fprintf(stderr, "usage: instantiate [ITERATIONS [IDLE_INSTANCES]]\n");
        return 2;
    }

    buf bytes = build_module();
    lw_error err;
    memset(&err, 0, sizeof err);
    double t0 = now_us();
    lw_module *m = lw_module_new(bytes.p, bytes.n, &err);
    double t_load = now_us() - t0;
    if (!m)
        fail("lw_module_new", &err);
    size_t mod_size = bytes.n;
    free(bytes.p);

    lw_exec *x = lw_exec_new(0);
    check(x != NULL, "lw_exec_new");

    /* correctness of one instance */
    uint32_t expect_sum = 0;
    for (uint32_t i = 0; i < 64; i++)
        expect_sum += seg_byte(1, i);
    {
        lw_instance *inst = new_instance(m);
        lw_val a[2] = {40, 2};
        check((uint32_t)call(x, export_func(inst, "add"), a) == 42, "add(40,2) == 42");
        check((uint32_t)call(x, export_func(inst, "bump"), NULL) == 43, "bump() == 43");
        check((uint32_t)call(x, export_func(inst, "bump"), NULL) == 44, "bump() == 44");
        lw_val s[2] = {seg_off[1], 64};
        check((uint32_t)call(x, export_func(inst, "sum"), s) == expect_sum, "sum over data segment");
        lw_val f[1] = {20};
        check((uint32_t)call(x, export_func(inst, "fib"), f) == 6765, "fib(20) == 6765");
        lw_memory *mem = lw_instance_memory(inst);
        check(mem && lw_memory_size(mem) == 2 * 65536, "memory is 2 pages");
        check(lw_memory_data(mem)[seg_off[2] + 5] == seg_byte(2, 5), "data segment 3 applied");
        lw_instance_free(inst);
    }

    printf("module: %zu bytes (2 pages of memory, %u+%u+%u bytes of data, 1 mutable global, "
           "%d functions); lw_module_new %.1f us\n",
           mod_size, seg_len[0], seg_len[1], seg_len[2], NFUNCS, t_load);

    /* warm up the allocator */
    for (int i = 0; i < 1000; i++)
        lw_instance_free(new_instance(m));

    /* 1. new + free */
    t0 = now_us();
    for (long i = 0; i < iters; i++)
        lw_instance_free(new_instance(m));
    double t_newfree = (now_us() - t0) / iters;

    /* 2. new + lookup + call + free, shared exec */
    t0 = now_us();
    for (long i = 0; i < iters; i++) {
        lw_instance *inst = new_instance(m);
        lw_val r = call(x, export_func(inst, "bump"), NULL);
        if ((uint32_t)r != 43)
            check(0, "fresh instance: bump() == 43 (global not reset?)");
        lw_instance_free(inst);
    }
    double t_call = (now_us() - t0) / iters;

    /* 3. as 2 with an exec per instance */
    t0 = now_us();
    for (long i = 0; i < iters; i++) {
        lw_instance *inst = new_instance(m);
        lw_exec *px = lw_exec_new(0);
        lw_val r = call(px, export_func(inst, "bump"), NULL);
        if ((uint32_t)r != 43)
            check(0, "fresh instance: bump() == 43 (global not reset?)");
        lw_exec_free(px);
        lw_instance_free(inst);
    }
    double t_proc = (now_us() - t0) / iters;

    printf("instantiation, mean of %ld:\n", iters);
    printf("  new + free                              %8.2f us/instance\n", t_newfree);
    printf("  new + call bump + free (shared exec)    %8.2f us/instance   target < 5 us: %s\n",
           t_call, t_call < 5.0 ? "met" : "NOT met");
    printf("  new + exec_new + call + exec_free + free %7.2f us/instance\n", t_proc);

    /* 4. idle instances */
    lw_instance **insts = calloc((size_t)idle, sizeof *insts);
    lw_exec **execs = calloc((size_t)idle, sizeof *execs);
    check(insts && execs, "calloc");
    long r0 = rss_bytes();
    for (long i = 0; i < idle; i++) {
        insts[i] = new_instance(m);
        call(x, export_func(insts[i], "bump"), NULL);
    }
    long r1 = rss_bytes();
    for (long i = 0; i < idle; i++) {
        execs[i] = lw_exec_new(0);
        check(execs[i] != NULL, "lw_exec_new");
        call(execs[i], export_func(insts[i], "bump"), NULL);
    }
    long r2 = rss_bytes();
    /* all instances must still be independent */
    for (long i = 0; i < idle; i += idle / 10 + 1)
        check((uint32_t)call(x, export_func(insts[i], "bump"), NULL) == 45, "idle instance state");
    for (long i = 0; i < idle; i++) {
        lw_exec_free(execs[i]);
        lw_instance_free(insts[i]);
    }
    long r3 = rss_bytes();
    double per_inst = (double)(r1 - r0) / idle, per_exec = (double)(r2 - r1) / idle;
    printf("idle memory, %ld instances kept alive (RSS from /proc/self/statm):\n", idle);
    printf("  per idle instance (called once)         %8.0f bytes (%.1f KiB)   target < 16 KiB: %s\n",
           per_inst, per_inst / 1024, per_inst < 16384 ? "met" : "NOT met");
    printf("  plus an exec each (called once)         %8.0f bytes (%.1f KiB)\n", per_exec,
           per_exec / 1024);
    printf("  RSS: before %.1f MiB, with instances %.1f MiB, with execs %.1f MiB, after free %.1f MiB\n",
           r0 / 1048576.0, r1 / 1048576.0, r2 / 1048576.0, r3 / 1048576.0);

    free(insts);
    free(execs);
    lw_exec_free(x);
    lw_module_release(m);
    return 0;
}
