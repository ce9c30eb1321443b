/*
 * test_engine_limits.c - resource limits (lw_limits memory/table caps,
 * segments that do not fit, lw_exec_mem bounds), decode/validation/link
 * errors (offset and message), deferred data segments (defer_data), and
 * 10,000 live instances of one module.
 * Prints "N passed, M failed".
 */
#include <inttypes.h>

#include "check.h"
#include "wasm/internal.h" /* to see that deferred data is not copied yet */

#define PAGE 65536u

/* Calls export `name` of inst with args; returns the status, *out = result 0. */
static int call1(lw_exec *x, lw_instance *inst, const char *name, const lw_val *args,
                 lw_val *out)
{
    lw_func *f = check_export_func(inst, name);
    if (!f)
        return -1;
    int st = lw_exec_call(x, f, args);
    if (st == LW_OK && lw_func_type(f)->nresults && out)
        *out = lw_exec_results(x)[0];
    return st;
}

static lw_instance *try_instance(const char *wat, const lw_limits *lim, lw_error *err,
                                 lw_module **mp)
{
    lw_module *m = wat_module(wat);
    *mp = m;
    memset(err, 0, sizeof *err);
    return m ? lw_instance_new(m, NULL, 0, lim, err) : NULL;
}

/* ---- 5. memory and table limits ---------------------------------------- */

static const char GROW_WAT[] =
    "(module (memory (export \"mem\") %s)\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"size\") (result i32) (memory.size))\n"
    "  (func (export \"store\") (param i32) (result i32)\n"
    "    (i32.store8 (local.get 0) (i32.const 0xab)) (i32.load8_u (local.get 0))))\n";

static void test_memory_limits(void)
{
    char wat[1024];
    lw_limits lim = {.max_memory_bytes = 3 * PAGE};
    lw_error err;
    lw_module *m;
    lw_val r = 0, a;
    int st;

    snprintf(wat, sizeof wat, GROW_WAT, "1");
    lw_instance *inst = try_instance(wat, &lim, &err, &m);
    CHECK(inst != NULL, "memory 1 with a 3-page limit: %s", err.msg);
    if (inst) {
        lw_exec *x = lw_exec_new(0);
        static const struct { uint32_t delta; int32_t want; } steps[] = {
            {1, 1}, {0, 2}, {1, 2}, {1, -1}, {0, 3}, {2, -1}, {0x10000, -1}, {0xffffffff, -1},
        };
        for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
            a = steps[i].delta;
            st = call1(x, inst, "grow", &a, &r);
            CHECK(st == LW_OK && (int32_t)(uint32_t)r == steps[i].want,
                  "limit 3 pages, step %zu memory.grow %u: status %d got %d want %d", i,
                  steps[i].delta, st, (int32_t)(uint32_t)r, steps[i].want);
        }
        st = call1(x, inst, "size", NULL, &r);
        CHECK(st == LW_OK && (uint32_t)r == 3, "memory.size %u, want 3", (unsigned)r);
        a = 3 * PAGE - 1;
        st = call1(x, inst, "store", &a, &r);
        CHECK(st == LW_OK && (uint32_t)r == 0xab, "store at last byte: status %d", st);
        a = 3 * PAGE;
        st = call1(x, inst, "store", &a, &r);
        CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_MEM_OOB,
              "store past the 3 pages: status %d", st);
        /* the host-side grow obeys the same limit */
        lw_memory *mem = lw_instance_memory(inst);
        CHECK(mem && lw_memory_grow(mem, 1) == -1 && lw_memory_size(mem) == 3 * PAGE,
              "lw_memory_grow past the instance limit");
        lw_exec_free(x);
        lw_instance_free(inst);
    }
    if (m)
        lw_module_release(m);

    /* a limit that is not a whole number of pages rounds down */
    lim.max_memory_bytes = 3 * PAGE + 100;
    snprintf(wat, sizeof wat, GROW_WAT, "1");
    inst = try_instance(wat, &lim, &err, &m);
    if (inst) {
        lw_exec *x = lw_exec_new(0);
        a = 2;
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (uint32_t)r == 1, "grow 2 under 3 pages + 100 bytes: %d", (int)r);
        a = 1;
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (int32_t)r == -1, "grow past 3 pages + 100 bytes: %d", (int)r);
        lw_exec_free(x);
        lw_instance_free(inst);
    }
    if (m)
        lw_module_release(m);

    /* the declared maximum is below the limit: it wins */
    lim.max_memory_bytes = 3 * PAGE;
    snprintf(wat, sizeof wat, GROW_WAT, "1 2");
    inst = try_instance(wat, &lim, &err, &m);
    if (inst) {
        lw_exec *x = lw_exec_new(0);
        a = 1;
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (uint32_t)r == 1, "grow to the declared max 2: %d", (int)r);
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (int32_t)r == -1, "grow past the declared max 2: %d", (int)r);
        lw_exec_free(x);
        lw_instance_free(inst);
    }
    if (m)
        lw_module_release(m);

    /* initial memory above the limit: instantiation fails, clearly */
    snprintf(wat, sizeof wat, GROW_WAT, "4");
    inst = try_instance(wat, &lim, &err, &m);
    CHECK(!inst && err.failed && strstr(err.msg, "limit") && strstr(err.msg, "4"),
          "memory 4 with a 3-page limit: inst %p, error \"%s\"", (void *)inst, err.msg);
    if (inst)
        lw_instance_free(inst);
    /* the same module instantiates without the limit */
    inst = m ? lw_instance_new(m, NULL, 0, NULL, &err) : NULL;
    CHECK(inst != NULL, "memory 4 without a limit: %s", err.msg);
    if (inst)
        lw_instance_free(inst);
    if (m)
        lw_module_release(m);

    /* exactly at the limit is fine */
    snprintf(wat, sizeof wat, GROW_WAT, "3");
    inst = try_instance(wat, &lim, &err, &m);
    CHECK(inst != NULL, "memory 3 with a 3-page limit: %s", err.msg);
    if (inst)
        lw_instance_free(inst);
    if (m)
        lw_module_release(m);

    /* table limit */
    lw_limits tlim = {.max_table_elems = 10};
    static const char tab_wat[] =
        "(module (table $t %s funcref)\n"
        "  (func (export \"grow\") (param i32) (result i32)\n"
        "    (table.grow $t (ref.null func) (local.get 0))))\n";
    snprintf(wat, sizeof wat, tab_wat, "4");
    inst = try_instance(wat, &tlim, &err, &m);
    CHECK(inst != NULL, "table 4 with a 10-element limit: %s", err.msg);
    if (inst) {
        lw_exec *x = lw_exec_new(0);
        a = 6;
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (uint32_t)r == 4, "table.grow 6 to the limit: %d", (int)r);
        a = 1;
        st = call1(x, inst, "grow", &a, &r);
        CHECK(st == LW_OK && (int32_t)r == -1, "table.grow past the limit: %d", (int)r);
        lw_exec_free(x);
        lw_instance_free(inst);
    }
    if (m)
        lw_module_release(m);
    snprintf(wat, sizeof wat, tab_wat, "11");
    inst = try_instance(wat, &tlim, &err, &m);
    CHECK(!inst && err.failed && strstr(err.msg, "limit"), "table 11 with a 10-element limit: %s",
          err.msg);
    if (inst)
        lw_instance_free(inst);
    if (m)
        lw_module_release(m);
}

static void test_segments(void)
{
    static const struct { const char *seg; int ok; const char *err; } cases[] = {
        {"(data (i32.const 65534) \"ab\")", 1, NULL},
        {"(data (i32.const 65536) \"\")", 1, NULL},
        {"(data (i32.const 65535) \"ab\")", 0, "out of bounds memory access"},
        {"(data (i32.const 65537) \"\")", 0, "out of bounds memory access"},
        {"(data (i32.const -1) \"a\")", 0, "out of bounds memory access"},
        {"(data (i32.const 0) \"x\") (data (i32.const 70000) \"y\")", 0,
         "out of bounds memory access"},
        {"(elem (i32.const 1) $f)", 1, NULL},
        {"(elem (i32.const 2) $f)", 0, "out of bounds table access"},
        {"(elem (i32.const 1) $f $f)", 0, "out of bounds table access"},
        {"(elem (i32.const -1) $f)", 0, "out of bounds table access"},
    };
    /* the same outcomes when data segments are deferred: checked at once */
    for (size_t k = 0; k < 2 * sizeof cases / sizeof *cases; k++) {
        size_t i = k % (sizeof cases / sizeof *cases);
        lw_limits defer = {.defer_data = 1};
        char wat[1024];
        snprintf(wat, sizeof wat,
                 "(module (memory (export \"mem\") 1) (table 2 funcref) (func $f) %s)",
                 cases[i].seg);
        lw_error err;
        lw_module *m;
        lw_instance *inst = try_instance(wat, k == i ? NULL : &defer, &err, &m);
        if (cases[i].ok) {
            CHECK(inst != NULL, "%s: %s", cases[i].seg, err.msg);
        } else {
            CHECK(!inst && err.failed && strstr(err.msg, cases[i].err),
                  "%s: inst %p error \"%s\", want \"%s\"", cases[i].seg, (void *)inst, err.msg,
                  cases[i].err);
        }
        if (inst && i == 0) {
            const uint8_t *d = lw_memory_data(lw_instance_memory(inst));
            CHECK(d[65534] == 'a' && d[65535] == 'b', "data segment at the end not written");
        }
        if (inst)
            lw_instance_free(inst);
        if (m)
            lw_module_release(m);
    }
}

/* defer_data: data segments are checked at instantiation and copied at the
 * first access to the bytes they cover, or when the memory is looked up;
 * at once with a start function. */
/* (i32 p) -> (i32): the byte at p, read through lw_exec_mem. */
static int host_byte(lw_exec *x, void *env, lw_val *args)
{
    (void)env;
    const uint8_t *b = lw_exec_mem(x, (uint32_t)args[0], 1);
    args[0] = b ? *b : 0xffff;
    return LW_OK;
}

static void test_defer_data(void)
{
    static const char plain[] =
        "(module (memory 1) (data (i32.const 16) \"hi\")\n"
        "  (func (export \"peek\") (param i32) (result i32) (i32.load8_u (local.get 0))))";
    static const char exported[] =
        "(module (memory (export \"mem\") 1) (data (i32.const 16) \"hi\"))";
    static const char started[] =
        "(module (memory 1) (data (i32.const 16) \"hi\") (global $g (mut i32) (i32.const 0))\n"
        "  (func $s (global.set $g (i32.load8_u (i32.const 16)))) (start $s)\n"
        "  (func (export \"g\") (result i32) (global.get $g)))";
    lw_limits lim = {.defer_data = 1};
    lw_error err;
    lw_module *m;
    lw_exec *x = lw_exec_new(0);

    lw_instance *inst = try_instance(plain, &lim, &err, &m);
    CHECK(inst != NULL, "deferred instance: %s", err.msg);
    if (inst) {
        CHECK(inst->mem->lazy_hi && inst->mem->data[16] == 0, "data copied at instantiation");
        lw_val a = 40000, r = 1;
        int st = call1(x, inst, "peek", &a, &r);
        CHECK(st == LW_OK && r == 0 && inst->mem->lazy_hi && inst->mem->data[16] == 0,
              "a load elsewhere leaves the data pending: status %d", st);
        a = 17;
        st = call1(x, inst, "peek", &a, &r);
        CHECK(st == LW_OK && r == 'i' && !inst->mem->lazy_hi,
              "the first load there sees the data: status %d value %" PRIu64, st, r);
        lw_instance_free(inst);
    }
    lw_module_release(m);

    /* stores, bulk operations and host access to the data copy it first;
     * the neighbouring bytes are the data's, not overwritten by it */
    static const struct { const char *code; uint32_t at; char want; } touch[] = {
        {"(i32.store8 (i32.const 17) (i32.const 33))", 16, 'h'},
        {"(memory.fill (i32.const 10) (i32.const 0) (i32.const 7))", 17, 'i'},
        {"(memory.copy (i32.const 17) (i32.const 1000) (i32.const 1))", 16, 'h'},
        {"(memory.copy (i32.const 1000) (i32.const 16) (i32.const 1))", 1000, 'h'},
    };
    for (size_t i = 0; i < sizeof touch / sizeof *touch; i++) {
        char wat[512];
        snprintf(wat, sizeof wat,
                 "(module (memory 1) (data (i32.const 16) \"hi\")\n"
                 "  (func (export \"touch\") %s)\n"
                 "  (func (export \"peek\") (param i32) (result i32) (i32.load8_u (local.get 0))))",
                 touch[i].code);
        inst = try_instance(wat, &lim, &err, &m);
        if (inst) {
            lw_val a = touch[i].at, r = 0;
            int st = call1(x, inst, "touch", NULL, &r);
            CHECK(st == LW_OK && !inst->mem->lazy_hi && call1(x, inst, "peek", &a, &r) == LW_OK &&
                      r == (lw_val)touch[i].want,
                  "%s: copies the data first (status %d, byte %u = %" PRIu64 ")", touch[i].code, st,
                  touch[i].at, r);
            lw_instance_free(inst);
        }
        lw_module_release(m);
    }

    /* a host function reading the data through lw_exec_mem */
    {
        const uint8_t i32 = LW_I32;
        lw_func *hf = lw_func_new_host(lw_functype_get(1, &i32, 1, &i32), host_byte, NULL);
        lw_extern imp = {.kind = LW_EXTERN_FUNC, .u.func = hf};
        m = wat_module("(module (import \"env\" \"byte\" (func $b (param i32) (result i32)))\n"
                       "  (memory 1) (data (i32.const 16) \"hi\")\n"
                       "  (func (export \"via_host\") (param i32) (result i32)\n"
                       "    (call $b (local.get 0))))");
        memset(&err, 0, sizeof err);
        inst = m ? lw_instance_new(m, &imp, 1, &lim, &err) : NULL;
        if (inst) {
            lw_val a = 16, r = 0;
            int st = call1(x, inst, "via_host", &a, &r);
            CHECK(st == LW_OK && r == 'h' && !inst->mem->lazy_hi,
                  "lw_exec_mem copies the data first (status %d, value %" PRIu64 ")", st, r);
            lw_instance_free(inst);
        }
        if (m)
            lw_module_release(m);
        lw_func_free(hf);
    }

    inst = try_instance(exported, &lim, &err, &m);
    if (inst) {
        lw_extern ex;
        CHECK(lw_instance_export(inst, "mem", &ex) == 0 && ex.kind == LW_EXTERN_MEMORY &&
                  lw_memory_data(ex.u.memory)[17] == 'i',
              "looking the memory up copies the data");
        lw_instance_free(inst);
    }
    lw_module_release(m);

    inst = try_instance(started, &lim, &err, &m);
    if (inst) {
        CHECK(!inst->mem->lazy_hi, "with a start function the data is copied at once");
        lw_func *start = lw_instance_start_func(inst);
        lw_val r = 0;
        CHECK(start && lw_exec_call(x, start, NULL) == LW_OK &&
                  call1(x, inst, "g", NULL, &r) == LW_OK && r == 'h',
              "the start function saw the data (%" PRIu64 ")", r);
        lw_instance_free(inst);
    }
    lw_module_release(m);
    lw_exec_free(x);
}

/* Recycled memory is zero and a growing memory keeps its bytes, whether
 * freed slots are zeroed by mincore or released (as with swap). */
static void test_recycled_memory(void)
{
    static const char wat[] =
        "(module (memory 1 64)\n"
        "  (func (export \"fill\") (param $v i32) (local $a i32)\n"
        "    (loop $l (i32.store8 (local.get $a) (local.get $v))\n"
        "      (local.set $a (i32.add (local.get $a) (i32.const 4099)))\n"
        "      (br_if $l (i32.lt_u (local.get $a) (i32.const 65536)))))\n"
        "  (func (export \"sum\") (result i32) (local $a i32) (local $s i32)\n"
        "    (loop $l (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $a))))\n"
        "      (local.set $a (i32.add (local.get $a) (i32.const 1)))\n"
        "      (br_if $l (i32.lt_u (local.get $a) (i32.const 65536))))\n"
        "    (local.get $s))\n"
        "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0))))";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    lw_exec *x = lw_exec_new(0);
    for (int mode = 1; mode >= 0; mode--) {
        lw_pages_use_mincore(mode);
        int bad = 0;
        for (int round = 0; round < 200; round++) {
            lw_instance *inst = check_instance(m, NULL, 0, NULL);
            if (!inst)
                break;
            lw_val v = 7, r = 0, g = (uint32_t)(round % 3) * 2;
            call1(x, inst, "sum", NULL, &r);
            if (r != 0)
                bad++; /* a recycled slot was not zero */
            call1(x, inst, "fill", &v, NULL);
            call1(x, inst, "grow", &g, NULL); /* may move to a larger slot */
            call1(x, inst, "sum", NULL, &r);
            if (r != 7 * 16)
                bad++; /* 16 bytes of 7 (every 4099th) must survive the move */
            lw_instance_free(inst);
        }
        CHECK(bad == 0, "recycled memory (%s): %d bad rounds", mode ? "mincore" : "released", bad);
    }
    lw_pages_use_mincore(1);
    lw_exec_free(x);
    lw_module_release(m);
}

/* lw_exec_mem from a host function: only ranges inside memory. */
typedef struct memenv {
    int ncases;
    int bad;
    char log[2048];
} memenv;

static void mem_expect(lw_exec *x, memenv *e, uint64_t off, uint64_t len, int inside)
{
    uint8_t *p = lw_exec_mem(x, off, len);
    lw_memory *mem = lw_instance_memory(lw_exec_instance(x));
    int good = inside ? (p && mem && p == lw_memory_data(mem) + off) : p == NULL;
    e->ncases++;
    if (!good) {
        e->bad++;
        size_t k = strlen(e->log);
        snprintf(e->log + k, sizeof e->log - k, "  lw_exec_mem(0x%" PRIx64 ", 0x%" PRIx64
                 ") = %p, want %s\n", off, len, (void *)p, inside ? "pointer" : "NULL");
    }
}

static int host_mem(lw_exec *x, void *env, lw_val *args)
{
    memenv *e = env;
    uint64_t size = (uint32_t)args[0] * (uint64_t)PAGE;
    if (size) {
        mem_expect(x, e, 0, 0, 1);
        mem_expect(x, e, 0, size, 1);
        mem_expect(x, e, size - 1, 1, 1);
        mem_expect(x, e, size - 4, 4, 1);
    }
    mem_expect(x, e, size - 1, 2, 0);
    mem_expect(x, e, size, 1, 0);
    mem_expect(x, e, 0, size + 1, 0);
    mem_expect(x, e, 1, UINT64_MAX, 0);           /* offset+len wraps to 0 */
    mem_expect(x, e, UINT64_MAX, 2, 0);           /* wraps to 1 */
    mem_expect(x, e, UINT64_MAX, 1, 0);
    mem_expect(x, e, UINT64_MAX, 0, 0);
    mem_expect(x, e, 0x100000000ull, 0, 0);
    mem_expect(x, e, 0x100000000ull - 1, 2, 0);
    mem_expect(x, e, UINT64_MAX - size + 2, size, 0);
    return LW_OK;
}

static void test_exec_mem(void)
{
    static const char wat[] =
        "(module\n"
        "  (import \"env\" \"check\" (func $check (param i32)))\n"
        "  (memory 1)\n"
        "  (func (export \"run\")\n"
        "    (call $check (memory.size))\n"
        "    (drop (memory.grow (i32.const 2)))\n"
        "    (call $check (memory.size))))\n";
    static const char nomem_wat[] =
        "(module\n"
        "  (import \"env\" \"check\" (func $check (param i32)))\n"
        "  (func (export \"run\") (call $check (i32.const 0))))\n";
    const uint8_t p = LW_I32;
    for (int k = 0; k < 2; k++) {
        lw_module *m = wat_module(k ? nomem_wat : wat);
        if (!m)
            continue;
        memenv e;
        memset(&e, 0, sizeof e);
        lw_func *hf = lw_func_new_host(lw_functype_get(1, &p, 0, &p), host_mem, &e);
        lw_extern imp = {.kind = LW_EXTERN_FUNC, .u.func = hf};
        lw_instance *inst = check_instance(m, &imp, 1, NULL);
        if (inst) {
            lw_exec *x = lw_exec_new(0);
            int st = call1(x, inst, "run", NULL, NULL);
            CHECK(st == LW_OK, "exec_mem run: status %d", st);
            CHECK(e.ncases > 0 && e.bad == 0, "lw_exec_mem (%s), %d of %d wrong:\n%s",
                  k ? "no memory" : "1 then 3 pages", e.bad, e.ncases, e.log);
            lw_exec_free(x);
            lw_instance_free(inst);
        }
        lw_func_free(hf);
        lw_module_release(m);
    }
}

/* ---- 6. decode, validation and link errors ----------------------------- */

static void expect_load_error(const char *what, const uint8_t *bin, size_t len, size_t off_lo,
                              size_t off_hi, const char *msg_part)
{
    lw_error err;
    memset(&err, 0, sizeof err);
    lw_module *m = lw_module_new(bin, len, &err);
    CHECK(!m && err.failed && err.msg[0], "%s: module %p failed %d msg \"%s\"", what, (void *)m,
          err.failed, err.msg);
    CHECK(err.offset >= off_lo && err.offset <= off_hi,
          "%s: offset %zu not in [%zu, %zu] (msg \"%s\")", what, err.offset, off_lo, off_hi,
          err.msg);
    if (msg_part)
        CHECK(strstr(err.msg, msg_part) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err.msg,
              msg_part);
    CHECK(strlen(err.msg) < sizeof err.msg && !strchr(err.msg, '\n'),
          "%s: message not one line", what);
    if (m)
        lw_module_release(m);
}

/* Section boundaries of a binary: offsets where a section starts or ends. */
static size_t section_bounds(const uint8_t *b, size_t len, size_t *out, size_t max)
{
    size_t n = 0, p = 8;
    out[n++] = 8;
    while (p < len && n < max) {
        p++;   /* id */
        uint64_t size = 0;
        int shift = 0;
        while (p < len) {
            uint8_t c = b[p++];
            size |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        p += size;
        out[n++] = p;
    }
    return n;
}

static void test_decode_errors(void)
{
    static const uint8_t empty[1] = {0};
    expect_load_error("empty input", empty, 0, 0, 0, NULL);
    static const uint8_t bad_magic[] = {0, 'a', 's', 'x', 1, 0, 0, 0};
    expect_load_error("bad magic", bad_magic, sizeof bad_magic, 0, 4, "magic");
    static const uint8_t bad_version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    expect_load_error("bad version", bad_version, sizeof bad_version, 4, 8, "version");
    static const uint8_t short_header[] = {0, 'a', 's', 'm', 1, 0};
    expect_load_error("short header", short_header, sizeof short_header, 0, 6, NULL);
    /* type section whose size is a 6-byte LEB */
    static const uint8_t long_leb[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1,
                                       0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    expect_load_error("section size LEB too long", long_leb, sizeof long_leb, 9, 15,
                      "integer representation too long");
    /* 5-byte LEB u32 with bits set beyond 32 */
    static const uint8_t big_leb[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1,
                                      0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_load_error("section size LEB too large", big_leb, sizeof big_leb, 9, 14,
                      "integer too large");
    /* type section: count LEB unterminated at the end of the section */
    static const uint8_t cut_leb[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 1, 0x80};
    expect_load_error("LEB cut by the end", cut_leb, sizeof cut_leb, 9, 11, NULL);
    /* section size larger than the rest */
    static const uint8_t over[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 10, 1, 0x60, 0, 0};
    expect_load_error("section past the end", over, sizeof over, 8, 14, NULL);

    /* every truncation of a real module fails, except at a section boundary */
    static const char wat[] =
        "(module\n"
        "  (type $t (func (param i32) (result i32)))\n"
        "  (import \"env\" \"f\" (func $imp (type $t)))\n"
        "  (memory 1) (table 2 funcref) (global $g (mut i32) (i32.const 42))\n"
        "  (export \"run\" (func $run))\n"
        "  (elem (i32.const 0) $run)\n"
        "  (func $run (param i32) (result i32) (local i64)\n"
        "    (i32.add (call $imp (local.get 0)) (global.get $g)))\n"
        "  (data (i32.const 16) \"hello world\"))\n";
    size_t len;
    uint8_t *bin = wat_to_wasm(wat, &len);
    if (bin) {
        size_t bounds[64];
        size_t nb = section_bounds(bin, len, bounds, 64);
        CHECK(nb > 5 && bounds[nb - 1] == len, "section walk of the test module");
        int bad = 0;
        for (size_t cut = 0; cut < len; cut++) {
            int boundary = 0;
            for (size_t j = 0; j < nb; j++)
                boundary |= bounds[j] == cut;
            uint8_t *copy = malloc(cut ? cut : 1);   /* exact size: ASan sees overreads */
            memcpy(copy, bin, cut);
            lw_error err;
            memset(&err, 0, sizeof err);
            lw_module *m = lw_module_new(copy, cut, &err);
            free(copy);
            if (m) {
                /* a module cut between sections may be whole (or not) */
                if (!boundary) {
                    bad++;
                    CHECK(0, "module truncated to %zu of %zu bytes loaded", cut, len);
                }
                lw_module_release(m);
            } else if (!err.failed || !err.msg[0] || err.offset > cut) {
                bad++;
                CHECK(0, "truncated to %zu: failed %d offset %zu msg \"%s\"", cut, err.failed,
                      err.offset, err.msg);
            }
        }
        CHECK(bad == 0, "%d of %zu truncations misbehaved", bad, len);
        /* the whole module loads */
        lw_error err;
        lw_module *m = lw_module_new(bin, len, &err);
        CHECK(m != NULL, "whole test module: %s", err.msg);
        if (m)
            lw_module_release(m);
        free(bin);
    }

    /* an unknown opcode, at a known offset */
    static const char nop_wat[] =
        "(module (func (export \"f\") (result i32) nop nop nop (i32.const 0x12345)))\n";
    bin = wat_to_wasm(nop_wat, &len);
    if (bin) {
        size_t pos = 0;
        for (size_t i = 8; i + 3 < len; i++)
            if (bin[i] == 0x01 && bin[i + 1] == 0x01 && bin[i + 2] == 0x01) {
                pos = i + 1;
                break;
            }
        CHECK(pos != 0, "nop nop nop not found in the binary");
        if (pos) {
            bin[pos] = 0xff;
            expect_load_error("unknown opcode 0xff", bin, len, pos - 1, pos + 1, NULL);
            bin[pos] = 0x06;   /* `try` (exceptions proposal): not Wasm 2.0 */
            expect_load_error("unknown opcode 0x06", bin, len, pos - 1, pos + 1, NULL);
        }
        free(bin);
    }

    /* invalid: type mismatches in a body, located in the code section */
    static const struct { const char *what, *wat; } invalid[] = {
        {"i64 result for i32", "(module (func (result i32) (i64.const 0)))"},
        {"add on a short stack", "(module (func (param i32) (result i32) (i32.add (local.get 0))))"},
        {"f32 into i32.add",
         "(module (func (param i32) (result i32) (i32.add (local.get 0) (f32.const 1))))"},
        {"leftover value", "(module (func (i32.const 1)))"},
        {"if without else yielding", "(module (func (param i32) (result i32)"
                                     " (if (result i32) (local.get 0) (then (i32.const 1)))))"},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        bin = wat_to_wasm_flags(invalid[i].wat, &len, "--no-check");
        if (!bin)
            continue;
        size_t bounds[16];
        size_t nb = section_bounds(bin, len, bounds, 16);
        /* the code section (id 10) */
        size_t code_lo = 0, code_hi = 0;
        for (size_t j = 0; j + 1 < nb; j++)
            if (bin[bounds[j]] == 10)
                code_lo = bounds[j], code_hi = bounds[j + 1];
        CHECK(code_hi > code_lo, "%s: no code section", invalid[i].what);
        char what[128];
        snprintf(what, sizeof what, "invalid (%s)", invalid[i].what);
        expect_load_error(what, bin, len, code_lo, code_hi, "type mismatch");
        free(bin);
    }
}

static int host_nop(lw_exec *x, void *env, lw_val *args) { return LW_OK; }

static void test_link_errors(void)
{
    static const char wat[] =
        "(module\n"
        "  (import \"env\" \"foo\" (func $foo (param i32)))\n"
        "  (import \"env\" \"mem\" (memory 1))\n"
        "  (import \"env\" \"gval\" (global i32))\n"
        "  (func (export \"run\") (call $foo (global.get 0))))\n";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    const uint8_t i32 = LW_I32, i64 = LW_I64;
    lw_func *good_f = lw_func_new_host(lw_functype_get(1, &i32, 0, &i32), host_nop, NULL);
    lw_func *bad_f = lw_func_new_host(lw_functype_get(1, &i64, 0, &i64), host_nop, NULL);
    lw_func *bad_f2 = lw_func_new_host(lw_functype_get(1, &i32, 1, &i32), host_nop, NULL);
    lw_memory *mem = lw_memory_new(1, 0, 0);
    lw_memory *mem0 = lw_memory_new(0, 0, 0);
    lw_global *g = lw_global_new(LW_I32, 0, 5);
    lw_global *g64 = lw_global_new(LW_I64, 0, 5);
    lw_global *gmut = lw_global_new(LW_I32, 1, 5);

    lw_extern good[3] = {{.kind = LW_EXTERN_FUNC, .u.func = good_f},
                           {.kind = LW_EXTERN_MEMORY, .u.memory = mem},
                           {.kind = LW_EXTERN_GLOBAL, .u.global = g}};
    lw_error err;
    lw_instance *inst = lw_instance_new(m, good, 3, NULL, &err);
    CHECK(inst != NULL, "correct imports: %s", err.msg);
    if (inst) {
        lw_exec *x = lw_exec_new(0);
        CHECK(call1(x, inst, "run", NULL, NULL) == LW_OK, "run with imports");
        lw_exec_free(x);
        lw_instance_free(inst);
    }

    static const struct { int slot; lw_extern with; const char *name; } bad[] = {
        {0, {.kind = LW_EXTERN_FUNC, .u.func = NULL}, "foo"},
        {0, {.kind = LW_EXTERN_FUNC}, "foo"},
        {0, {.kind = LW_EXTERN_MEMORY}, "foo"},
        {1, {.kind = LW_EXTERN_GLOBAL}, "mem"},
        {1, {.kind = LW_EXTERN_MEMORY, .u.memory = NULL}, "mem"},
        {2, {.kind = LW_EXTERN_GLOBAL, .u.global = NULL}, "gval"},
    };
    lw_extern imps[3];
    for (size_t i = 0; i < sizeof bad / sizeof *bad + 6; i++) {
        memcpy(imps, good, sizeof imps);
        const char *name;
        char what[64];
        if (i < sizeof bad / sizeof *bad) {
            imps[bad[i].slot] = bad[i].with;
            name = bad[i].name;
        } else {
            switch (i - sizeof bad / sizeof *bad) {
            case 0: imps[0].u.func = bad_f; name = "foo"; break;
            case 1: imps[0].u.func = bad_f2; name = "foo"; break;
            case 2: imps[1].u.memory = mem0; name = "mem"; break;
            case 3: imps[2].u.global = g64; name = "gval"; break;
            case 4: imps[2].u.global = gmut; name = "gval"; break;
            default: imps[1] = imps[2]; name = "mem"; break;
            }
        }
        snprintf(what, sizeof what, "bad import case %zu", i);
        memset(&err, 0, sizeof err);
        inst = lw_instance_new(m, imps, 3, NULL, &err);
        CHECK(!inst && err.failed && strstr(err.msg, name) && strstr(err.msg, "env"),
              "%s: inst %p error \"%s\" should name \"env\" \"%s\"", what, (void *)inst, err.msg,
              name);
        if (inst)
            lw_instance_free(inst);
    }
    /* too few imports: the first missing one is named */
    memset(&err, 0, sizeof err);
    inst = lw_instance_new(m, good, 1, NULL, &err);
    CHECK(!inst && err.failed, "1 of 3 imports: instantiated");
    CHECK(strstr(err.msg, "mem") != NULL, "1 of 3 imports: error \"%s\" does not name \"env\" \"mem\"",
          err.msg);
    if (inst)
        lw_instance_free(inst);
    memset(&err, 0, sizeof err);
    inst = lw_instance_new(m, NULL, 0, NULL, &err);
    CHECK(!inst && err.failed, "no imports: instantiated");
    CHECK(strstr(err.msg, "foo") != NULL, "0 of 3 imports: error \"%s\" does not name \"env\" \"foo\"",
          err.msg);
    if (inst)
        lw_instance_free(inst);

    lw_func_free(good_f);
    lw_func_free(bad_f);
    lw_func_free(bad_f2);
    lw_memory_free(mem);
    lw_memory_free(mem0);
    lw_global_free(g);
    lw_global_free(g64);
    lw_global_free(gmut);
    lw_module_release(m);
}

/* ---- 7. many instances -------------------------------------------------- */

static void test_many_instances(void)
{
    static const char wat[] =
        "(module\n"
        "  (memory 1)\n"
        "  (global $n (mut i32) (i32.const 0))\n"
        "  (table 1 funcref) (elem (i32.const 0) $bump)\n"
        "  (data (i32.const 0) \"\\2a\")\n"
        "  (func $bump (param i32) (result i32)\n"
        "    (global.set $n (i32.add (global.get $n) (local.get 0)))\n"
        "    (i32.store (i32.const 4) (global.get $n))\n"
        "    (global.get $n))\n"
        "  (func (export \"inc\") (param i32) (result i32)\n"
        "    (i32.add (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0))\n"
        "             (i32.load8_u (i32.const 0)))))\n";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    enum { N = 10000 };
    lw_instance **insts = calloc(N, sizeof *insts);
    int made = 0;
    for (int i = 0; i < N; i++) {
        lw_error err;
        insts[i] = lw_instance_new(m, NULL, 0, NULL, &err);
        if (!insts[i]) {
            CHECK(0, "instance %d: %s", i, err.msg);
            break;
        }
        made++;
    }
    CHECK(made == N, "made %d of %d instances", made, N);
    /* instances keep the module alive */
    lw_module_release(m);
    lw_exec *x = lw_exec_new(0);
    int wrong = 0;
    for (int round = 1; round <= 2; round++)
        for (int i = 0; i < made; i++) {
            lw_val a = (lw_val)i, r = 0;
            int st = call1(x, insts[i], "inc", &a, &r);
            if (st != LW_OK || (uint32_t)r != (uint32_t)(i * round + 42)) {
                if (wrong++ < 5)
                    CHECK(0, "instance %d round %d: status %d result %u", i, round, st,
                          (unsigned)r);
            }
        }
    CHECK(wrong == 0, "%d wrong calls over %d instances", wrong, made);
    int memwrong = 0;
    for (int i = 0; i < made; i++) {
        const uint8_t *d = lw_memory_data(lw_instance_memory(insts[i]));
        uint32_t v;
        memcpy(&v, d + 4, 4);
        memwrong += v != (uint32_t)(2 * i);
    }
    CHECK(memwrong == 0, "%d instances have the wrong memory contents", memwrong);
    lw_exec_free(x);
    for (int i = 0; i < made; i++)
        lw_instance_free(insts[i]);
    free(insts);
}

int main(void)
{
    test_memory_limits();
    test_segments();
    test_defer_data();
    test_recycled_memory();
    test_exec_mem();
    test_decode_errors();
    test_link_errors();
    test_many_instances();
    return check_report();
}
