/*
 * test_engine.c - the engine's run contracts: suspension by reduction budget
 * (results identical at every budget, runs really stop, a yielded run can be
 * abandoned), host suspension (LW_SUSPEND re-calls the host function with
 * the same arguments, from a guest and at top level) and fuel (traps with
 * OUT_OF_FUEL, counted across resumes and calls).
 * Traps are in test_engine_traps.c; limits, errors and many instances in
 * test_engine_limits.c. Prints "N passed, M failed".
 */
#include <inttypes.h>

#include "check.h"

#define MAX_RESUMES 50000000ull

static const uint8_t T_I32 = LW_I32;

/* ---- a run to completion, counting stops ------------------------------- */

typedef struct run {
    int status;
    lw_trapkind trap;
    uint32_t nres;
    lw_val res[8];
    uint64_t yields, suspends;
    uint64_t fuel_left;
} run;

/* Calls f on x (budget already set), resuming on YIELD/SUSPEND. */
static run drive(lw_exec *x, lw_func *f, const lw_val *args)
{
    run r;
    memset(&r, 0, sizeof r);
    int st = lw_exec_call(x, f, args);
    uint64_t n = 0;
    while ((st == LW_YIELD || st == LW_SUSPEND) && n++ < MAX_RESUMES) {
        if (st == LW_YIELD)
            r.yields++;
        else
            r.suspends++;
        st = lw_exec_resume(x);
    }
    r.status = st;
    r.trap = lw_exec_trap_kind(x);
    r.fuel_left = lw_exec_fuel(x);
    if (st == LW_OK) {
        r.nres = lw_func_type(f)->nresults;
        for (uint32_t i = 0; i < r.nres && i < 8; i++)
            r.res[i] = lw_exec_results(x)[i];
    }
    return r;
}

/* Fresh instance and exec for one run of export `name` with a budget. */
static run run_fresh(lw_module *m, const lw_extern *imps, uint32_t nimps, const char *name,
                     const lw_val *args, uint64_t budget)
{
    run r;
    memset(&r, 0, sizeof r);
    r.status = -1;
    lw_instance *inst = check_instance(m, imps, nimps, NULL);
    lw_func *f = inst ? check_export_func(inst, name) : NULL;
    if (f) {
        lw_exec *x = lw_exec_new(0);
        lw_exec_set_budget(x, budget);
        r = drive(x, f, args);
        lw_exec_free(x);
    }
    if (inst)
        lw_instance_free(inst);
    return r;
}

static void fmt_res(const run *r, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "status %d trap %d [", r->status, (int)r->trap);
    for (uint32_t i = 0; i < r->nres && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s0x%" PRIx64, i ? " " : "", r->res[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* ---- 1. suspension by budget ------------------------------------------- */

typedef struct program {
    const char *what, *wat, *export;
    lw_val args[4];
    uint32_t nres;
    lw_val want[4];   /* i32 results compared on their low 32 bits */
    uint8_t want_i32[4];
} program;

static const char FIB[] =
    "(module\n"
    "  (func $fib (export \"fib\") (param $n i32) (result i32)\n"
    "    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))\n"
    "      (then (local.get $n))\n"
    "      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))\n"
    "                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))\n";

static const char ARRAY_SUM[] =
    "(module (memory 1)\n"
    "  (func (export \"sum\") (param $n i32) (result i64) (local $i i32) (local $acc i64)\n"
    "    (block $done (loop $fill\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (i64.store (i32.shl (local.get $i) (i32.const 3))\n"
    "                 (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 3)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $fill)))\n"
    "    (local.set $i (i32.const 0))\n"
    "    (block $done2 (loop $sum\n"
    "      (br_if $done2 (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "                               (i64.load (i32.shl (local.get $i) (i32.const 3)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $sum)))\n"
    "    (local.get $acc)))\n";

static const char BR_TABLE[] =
    "(module\n"
    "  (func (export \"nest\") (param $n i32) (result i32)\n"
    "    (local $i i32) (local $j i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)\n"
    "    (loop $outer\n"
    "      (local.set $j (i32.const 0))\n"
    "      (loop $inner\n"
    "        (block $end (block $k3 (block $k2 (block $k1 (block $k0\n"
    "          (br_table $k0 $k1 $k2 $k3\n"
    "            (i32.rem_u (i32.add (local.get $i) (local.get $j)) (i32.const 4))))\n"
    "          (local.set $a (i32.add (local.get $a) (local.get $j))) (br $end))\n"
    "          (local.set $b (i32.add (local.get $b) (local.get $i))) (br $end))\n"
    "          (local.set $c (i32.xor (local.get $c) (i32.mul (local.get $i) (local.get $j))))\n"
    "          (br $end))\n"
    "          (local.set $d (i32.add (local.get $d) (i32.const 1))))\n"
    "        (local.set $j (i32.add (local.get $j) (i32.const 1)))\n"
    "        (br_if $inner (i32.lt_u (local.get $j) (local.get $n))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (i32.add (i32.add (local.get $a) (i32.mul (local.get $b) (i32.const 3)))\n"
    "             (i32.add (i32.mul (local.get $c) (i32.const 5))\n"
    "                      (i32.mul (local.get $d) (i32.const 7))))))\n";

static const char MUTUAL[] =
    "(module\n"
    "  (func $even (export \"even\") (param i32) (result i32)\n"
    "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))\n"
    "      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))\n"
    "  (func $odd (param i32) (result i32)\n"
    "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))\n"
    "      (else (call $even (i32.sub (local.get 0) (i32.const 1)))))))\n";

static const char INDIRECT[] =
    "(module\n"
    "  (type $bin (func (param i32 i32) (result i32)))\n"
    "  (table 4 funcref)\n"
    "  (elem (i32.const 0) $add $sub $mul $xor)\n"
    "  (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))\n"
    "  (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))\n"
    "  (func $mul (type $bin) (i32.mul (local.get 0) (local.get 1)))\n"
    "  (func $xor (type $bin) (i32.xor (local.get 0) (local.get 1)))\n"
    "  (func (export \"dispatch\") (param $n i32) (result i32) (local $i i32) (local $acc i32)\n"
    "    (local.set $acc (i32.const 1))\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (local.set $acc (call_indirect (type $bin) (local.get $acc)\n"
    "        (i32.add (local.get $i) (i32.const 1)) (i32.rem_u (local.get $i) (i32.const 4))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (local.get $acc)))\n";

static const char MULTI[] =
    "(module\n"
    "  (func $divmod (param $a i64) (param $b i64) (result i64 i64 i32)\n"
    "    (i64.div_u (local.get $a) (local.get $b)) (i64.rem_u (local.get $a) (local.get $b))\n"
    "    (i32.const 7))\n"
    "  (func (export \"multi\") (param $n i64) (result i64 i64 f64)\n"
    "    (local $i i64) (local $q i64) (local $r i64) (local $c i32) (local $acc i64) (local $x i64)\n"
    "    (local.set $i (i64.const 1))\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i64.gt_u (local.get $i) (local.get $n)))\n"
    "      (block (result i64 i64 i32)\n"
    "        (call $divmod (i64.add (i64.mul (local.get $n) (i64.const 1000)) (local.get $i))\n"
    "                      (local.get $i)))\n"
    "      (local.set $c) (local.set $r) (local.set $q)\n"
    "      (local.set $acc (i64.add (local.get $acc)\n"
    "        (i64.add (local.get $q) (i64.extend_i32_u (local.get $c)))))\n"
    "      (local.set $x (i64.xor (local.get $x) (local.get $r)))\n"
    "      (local.set $i (i64.add (local.get $i) (i64.const 1)))\n"
    "      (br $l)))\n"
    "    (local.get $acc) (local.get $x) (f64.convert_i64_u (local.get $acc))))\n";

static const char GROW[] =
    "(module (memory 1)\n"
    "  (func (export \"grow\") (param $n i32) (result i32 i32)\n"
    "    (local $i i32) (local $old i32) (local $acc i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (local.set $old (memory.grow (i32.const 1)))\n"
    "      (i32.store (i32.mul (local.get $old) (i32.const 65536))\n"
    "                 (i32.add (local.get $i) (i32.const 100)))\n"
    "      (i32.store (i32.sub (i32.mul (local.get $old) (i32.const 65536)) (i32.const 4))\n"
    "                 (i32.const 1))\n"
    "      (local.set $acc (i32.add (local.get $acc)\n"
    "        (i32.load (i32.mul (local.get $old) (i32.const 65536)))))\n"
    "      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $old) (i32.const 1000))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (memory.size) (local.get $acc)))\n";

static const char DEEP[] =
    "(module\n"
    "  (func $sum (export \"deep\") (param $n i64) (result i64) (local $pad i64)\n"
    "    (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 0))\n"
    "      (else (i64.add (local.get $n)\n"
    "                     (call $sum (i64.sub (local.get $n) (i64.const 1))))))))\n";

static uint32_t expect_nest(uint32_t n)
{
    uint32_t a = 0, b = 0, c = 0, d = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            switch ((i + j) % 4) {
            case 0: a += j; break;
            case 1: b += i; break;
            case 2: c ^= i * j; break;
            default: d += 1; break;
            }
    return a + b * 3 + c * 5 + d * 7;
}

static uint32_t expect_dispatch(uint32_t n)
{
    uint32_t acc = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = i + 1;
        switch (i % 4) {
        case 0: acc += v; break;
        case 1: acc -= v; break;
        case 2: acc *= v; break;
        default: acc ^= v; break;
        }
    }
    return acc;
}

static void expect_multi(uint64_t n, lw_val out[3])
{
    uint64_t acc = 0, x = 0;
    for (uint64_t i = 1; i <= n; i++) {
        uint64_t a = n * 1000 + i;
        acc += a / i + 7;
        x ^= a % i;
    }
    double d = (double)acc;
    out[0] = acc;
    out[1] = x;
    memcpy(&out[2], &d, 8);
}

static int same_results(const run *a, const program *p)
{
    if (a->status != LW_OK || a->nres != p->nres)
        return 0;
    for (uint32_t i = 0; i < p->nres; i++) {
        lw_val g = a->res[i], w = p->want[i];
        if (p->want_i32[i] ? (uint32_t)g != (uint32_t)w : g != w)
            return 0;
    }
    return 1;
}

static void test_budget_programs(void)
{
    program ps[16];
    int np = 0;
    ps[np++] = (program){"recursive fib(20)", FIB, "fib", {20}, 1, {6765}, {1}};
    ps[np++] = (program){"array sum", ARRAY_SUM, "sum", {1000}, 1, {1498500}, {0}};
    ps[np++] = (program){"br_table nest", BR_TABLE, "nest", {60}, 1, {expect_nest(60)}, {1}};
    ps[np++] = (program){"mutual recursion even(1001)", MUTUAL, "even", {1001}, 1, {0}, {1}};
    ps[np++] = (program){"mutual recursion even(2000)", MUTUAL, "even", {2000}, 1, {1}, {1}};
    ps[np++] = (program){"call_indirect", INDIRECT, "dispatch", {200}, 1, {expect_dispatch(200)}, {1}};
    ps[np] = (program){"multi-value", MULTI, "multi", {300}, 3, {0}, {0, 0, 0}};
    expect_multi(300, ps[np++].want);
    /* 20 pages grown: size 21, acc = sum(i+100) + 1000 * sum(i+1) */
    ps[np++] = (program){"memory.grow loop", GROW, "grow", {20}, 2, {21, 2190 + 210000}, {1, 1}};
    ps[np++] = (program){"deep recursion 30000", DEEP, "deep", {30000}, 1,
                         {30000ull * 30001 / 2}, {0}};

    static const uint64_t budgets[] = {1, 2, 3, 7, 100};
    for (int i = 0; i < np; i++) {
        const program *p = &ps[i];
        lw_module *m = wat_module(p->wat);
        if (!m)
            continue;
        char b1[200], b2[200];
        run base = run_fresh(m, NULL, 0, p->export, p->args, 0);
        fmt_res(&base, b1, sizeof b1);
        CHECK(same_results(&base, p), "%s unlimited: got %s", p->what, b1);
        CHECK(base.yields == 0, "%s unlimited: %" PRIu64 " yields", p->what, base.yields);
        for (size_t k = 0; k < sizeof budgets / sizeof *budgets; k++) {
            run r = run_fresh(m, NULL, 0, p->export, p->args, budgets[k]);
            fmt_res(&r, b2, sizeof b2);
            CHECK(same_results(&r, p), "%s budget %" PRIu64 ": got %s (unlimited %s)", p->what,
                  budgets[k], b2, b1);
            if (budgets[k] <= 3)
                CHECK(r.yields > 0, "%s budget %" PRIu64 ": never yielded", p->what, budgets[k]);
        }
        lw_module_release(m);
    }
}

/* A yielded run can be abandoned: a new lw_exec_call starts fresh. */
static void test_abandon(void)
{
    static const char wat[] =
        "(module\n"
        "  (func $spin (export \"spin\") (loop $l (br $l)))\n"
        "  (func $spin_deep (export \"spin_deep\") (param i32)\n"
        "    (if (local.get 0) (then (call $spin_deep (i32.sub (local.get 0) (i32.const 1))))\n"
        "      (else (call $spin))))\n"
        "  (func $add (export \"add\") (param i32 i32) (result i32)\n"
        "    (i32.add (local.get 0) (local.get 1)))\n"
        "  (func $fib (export \"fib\") (param $n i32) (result i32)\n"
        "    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))\n"
        "      (then (local.get $n))\n"
        "      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))\n"
        "                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))\n";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    lw_instance *inst = check_instance(m, NULL, 0, NULL);
    lw_func *spin = check_export_func(inst, "spin");
    lw_func *spin_deep = check_export_func(inst, "spin_deep");
    lw_func *add = check_export_func(inst, "add");
    lw_func *fib = check_export_func(inst, "fib");
    if (!spin || !spin_deep || !add || !fib)
        return;
    lw_exec *x = lw_exec_new(0);
    lw_exec_set_budget(x, 5);

    int st = lw_exec_call(x, spin, NULL);
    CHECK(st == LW_YIELD, "infinite loop with budget 5: status %d, want YIELD", st);
    for (int i = 0; i < 100 && st == LW_YIELD; i++)
        st = lw_exec_resume(x);
    CHECK(st == LW_YIELD, "infinite loop after 100 resumes: status %d", st);

    lw_val a[2] = {40, 2};
    st = lw_exec_call(x, add, a);
    CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 42,
          "call after abandoned loop: status %d result %u", st,
          (unsigned)lw_exec_results(x)[0]);

    /* abandon 200 frames deep */
    lw_val depth = 200;
    st = lw_exec_call(x, spin_deep, &depth);
    for (int i = 0; i < 500 && st == LW_YIELD; i++)
        st = lw_exec_resume(x);
    CHECK(st == LW_YIELD, "deep infinite loop: status %d, want YIELD", st);
    lw_val n = 15;
    run r = drive(x, fib, &n);
    CHECK(r.status == LW_OK && (uint32_t)r.res[0] == 610 && r.yields > 0,
          "fib(15) after abandoning a 200-deep run: status %d result %u yields %" PRIu64,
          r.status, (unsigned)r.res[0], r.yields);

    /* abandon a recursive run mid-way, then run it again from scratch */
    lw_exec_set_budget(x, 1);
    st = lw_exec_call(x, fib, &n);
    for (int i = 0; i < 300 && st == LW_YIELD; i++)
        st = lw_exec_resume(x);
    CHECK(st == LW_YIELD, "fib(15) budget 1 after 300 resumes: status %d", st);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_OK && (uint32_t)r.res[0] == 610,
          "fib(15) restarted after abandon: status %d result %u", r.status, (unsigned)r.res[0]);
    /* a finished run is not resumable into anything new */
    st = lw_exec_resume(x);
    CHECK(st == LW_OK, "resume after OK: status %d", st);

    /* the spin loop yields again when called anew */
    st = lw_exec_call(x, spin, NULL);
    CHECK(st == LW_YIELD, "spin again: status %d, want YIELD", st);

    lw_exec_free(x);
    lw_instance_free(inst);
    lw_module_release(m);
}

/* ---- 2. host suspension ------------------------------------------------- */

typedef struct hostenv {
    int n_susp;            /* suspensions per logical call */
    int count;             /* suspensions so far in this call */
    int calls, suspends, completed;
    uint32_t first_arg;
    int arg_mismatch;
    int check_inst;
    lw_instance *want_inst;
    int inst_mismatch;
    int mem_bad;
    int yield;             /* complete with LW_YIELD instead of LW_OK */
} hostenv;

/* (i32) -> (i32 i64): suspends n_susp times, then returns a*2, a*1000+7. */
static int host_double(lw_exec *x, void *env, lw_val *args)
{
    hostenv *e = env;
    e->calls++;
    uint32_t a = (uint32_t)args[0];
    if (e->check_inst) {
        if (lw_exec_instance(x) != e->want_inst)
            e->inst_mismatch++;
        /* the caller's memory is reachable from here */
        uint8_t *p = lw_exec_mem(x, 0, 4);
        if (!p || p != lw_memory_data(lw_instance_memory(e->want_inst)))
            e->mem_bad++;
    }
    if (e->count == 0)
        e->first_arg = a;
    else if (a != e->first_arg)
        e->arg_mismatch++;
    if (e->count < e->n_susp) {
        e->count++;
        e->suspends++;
        return LW_SUSPEND;
    }
    e->count = 0;
    e->completed++;
    args[0] = (uint32_t)(a * 2);
    args[1] = (uint64_t)a * 1000 + 7;
    return e->yield ? LW_YIELD : LW_OK;
}

static const char HOST_LOOP[] =
    "(module\n"
    "  (import \"env\" \"double\" (func $d (param i32) (result i32 i64)))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (export \"d\" (func $d))\n"
    "  (func $loop (export \"loop\") (param $n i32) (result i64)\n"
    "    (local $i i32) (local $acc i64) (local $r64 i64) (local $r32 i32)\n"
    "    (block $done (loop $l\n"
    "      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "      (local.get $acc)\n"
    "      (call $d (i32.add (local.get $i) (i32.const 5)))\n"
    "      (local.set $r64) (local.set $r32)\n"
    "      (i64.add (local.get $r64) (i64.extend_i32_u (local.get $r32)))\n"
    "      (i64.add)\n"
    "      (local.set $acc)\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (local.get $acc))\n"
    "  (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))\n";

static const lw_functype *double_type(void)
{
    const uint8_t res[2] = {LW_I32, LW_I64};
    return lw_functype_get(1, &T_I32, 2, res);
}

/* An instance of m (HOST_LOOP) importing host_double over e; *hf gets the
 * host function, to free after the instance. */
static lw_instance *double_instance(lw_module *m, hostenv *e, lw_func **hf)
{
    *hf = lw_func_new_host(double_type(), host_double, e);
    lw_extern imp = {.kind = LW_EXTERN_FUNC, .u.func = *hf};
    return check_instance(m, &imp, 1, NULL);
}

static void test_host_suspend(void)
{
    lw_module *m = wat_module(HOST_LOOP);
    if (!m)
        return;
    const uint32_t n = 10;
    uint64_t want = 0;
    for (uint32_t i = 0; i < n; i++)
        want += 1002ull * (i + 5) + 7;

    static const int nsusp[] = {0, 1, 3};
    static const uint64_t budgets[] = {0, 1, 3};
    for (size_t s = 0; s < 3; s++)
        for (size_t b = 0; b < 3; b++) {
            hostenv e = {.n_susp = nsusp[s], .check_inst = 1};
            lw_func *hf;
            lw_instance *inst = double_instance(m, &e, &hf);
            lw_func *f = check_export_func(inst, "loop");
            if (f) {
                e.want_inst = inst;
                lw_exec *x = lw_exec_new(0);
                lw_exec_set_budget(x, budgets[b]);
                lw_val arg = n;
                run r = drive(x, f, &arg);
                CHECK(r.status == LW_OK && r.res[0] == want,
                      "host loop susp %d budget %" PRIu64 ": status %d result %" PRIu64
                      " want %" PRIu64,
                      nsusp[s], budgets[b], r.status, r.res[0], want);
                CHECK(r.suspends == (uint64_t)n * nsusp[s] && e.suspends == (int)(n * nsusp[s]),
                      "host loop susp %d budget %" PRIu64 ": %" PRIu64
                      " SUSPEND statuses, host suspended %d times, want %u",
                      nsusp[s], budgets[b], r.suspends, e.suspends, n * nsusp[s]);
                CHECK(e.calls == (int)(n * (nsusp[s] + 1)) && e.completed == (int)n,
                      "host loop susp %d budget %" PRIu64 ": host called %d times (%d completed)",
                      nsusp[s], budgets[b], e.calls, e.completed);
                CHECK(e.arg_mismatch == 0, "host re-called with different args %d times",
                      e.arg_mismatch);
                CHECK(e.inst_mismatch == 0, "lw_exec_instance wrong in host %d times",
                      e.inst_mismatch);
                CHECK(e.mem_bad == 0, "lw_exec_mem in host wrong %d times", e.mem_bad);
                if (budgets[b] == 1)
                    CHECK(r.yields > 0, "host loop budget 1 never yielded");
                lw_exec_free(x);
            }
            if (inst)
                lw_instance_free(inst);
            lw_func_free(hf);
        }

    /* A host call completing with LW_YIELD: the run stops after it with
     * its results in place, and resumes with the next instruction. */
    {
        hostenv e = {.yield = 1};
        lw_func *hf;
        lw_instance *inst = double_instance(m, &e, &hf);
        lw_func *f = check_export_func(inst, "loop");
        lw_func *d = check_export_func(inst, "d");
        if (f && d) {
            lw_exec *x = lw_exec_new(0);
            lw_val arg = n;
            run r = drive(x, f, &arg);
            CHECK(r.status == LW_OK && r.res[0] == want && r.yields == n && e.calls == (int)n,
                  "yielding host: status %d result %" PRIu64 " (want %" PRIu64 "), %" PRIu64
                  " yields, %d calls (want %u each)",
                  r.status, r.res[0], want, r.yields, e.calls, n);
            /* called directly, there is nothing left to yield to */
            arg = 21;
            int st = lw_exec_call(x, d, &arg);
            CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 42,
                  "yielding host called directly: status %d", st);
            lw_exec_free(x);
        }
        if (inst)
            lw_instance_free(inst);
        lw_func_free(hf);
    }

    /* A suspended run abandoned by a new call; the host is not re-called. */
    {
        hostenv e = {.n_susp = 2};
        lw_func *hf;
        lw_instance *inst = double_instance(m, &e, &hf);
        lw_func *f = check_export_func(inst, "loop");
        lw_func *add = check_export_func(inst, "add");
        if (f && add) {
            lw_exec *x = lw_exec_new(0);
            lw_val arg = 3;
            int st = lw_exec_call(x, f, &arg);
            CHECK(st == LW_SUSPEND, "guest calling suspending host: status %d", st);
            lw_val a2[2] = {1, 2};
            int calls = e.calls;
            st = lw_exec_call(x, add, a2);
            CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 3,
                  "call after abandoned suspension: status %d", st);
            st = lw_exec_resume(x);
            CHECK(st == LW_OK && e.calls == calls,
                  "resume after finished call re-ran the host (status %d, calls %d -> %d)", st,
                  calls, e.calls);
            e.count = 0;
            run r = drive(x, f, &arg);
            uint64_t w = 0;
            for (uint32_t i = 0; i < 3; i++)
                w += 1002ull * (i + 5) + 7;
            CHECK(r.status == LW_OK && r.res[0] == w && r.suspends == 6,
                  "rerun after abandon: status %d result %" PRIu64 " suspends %" PRIu64, r.status,
                  r.res[0], r.suspends);
            lw_exec_free(x);
        }
        if (inst)
            lw_instance_free(inst);
        lw_func_free(hf);
    }

    /* Top-level call of a host function, directly and via a re-export. */
    for (int via_export = 0; via_export < 2; via_export++) {
        hostenv e = {.n_susp = 4};
        lw_func *hf = lw_func_new_host(double_type(), host_double, &e);
        lw_extern imp = {.kind = LW_EXTERN_FUNC, .u.func = hf};
        lw_instance *inst = via_export ? check_instance(m, &imp, 1, NULL) : NULL;
        lw_func *f = via_export ? check_export_func(inst, "d") : hf;
        if (f) {
            lw_exec *x = lw_exec_new(0);
            lw_val arg = 21;
            int st = lw_exec_call(x, f, &arg);
            int nst = 0;
            while (st == LW_SUSPEND && nst < 100) {
                nst++;
                st = lw_exec_resume(x);
            }
            CHECK(st == LW_OK && nst == 4, "top-level host call%s: status %d after %d suspends",
                  via_export ? " (re-export)" : "", st, nst);
            CHECK(e.calls == 5 && e.arg_mismatch == 0,
                  "top-level host call: %d calls, %d arg mismatches", e.calls, e.arg_mismatch);
            if (st == LW_OK) {
                const lw_val *res = lw_exec_results(x);
                CHECK((uint32_t)res[0] == 42 && res[1] == 21007,
                      "top-level host results %u %" PRIu64, (unsigned)res[0], res[1]);
            }
            /* with a budget: a host call is not a yield point of its own */
            lw_exec_set_budget(x, 1);
            e.count = 0;
            e.calls = 0;
            run r = drive(x, f, &arg);
            CHECK(r.status == LW_OK && (uint32_t)r.res[0] == 42 && r.suspends == 4,
                  "top-level host call budget 1: status %d suspends %" PRIu64, r.status,
                  r.suspends);
            lw_exec_free(x);
        }
        if (inst)
            lw_instance_free(inst);
        lw_func_free(hf);
    }
    lw_module_release(m);
}

/* ---- 4. fuel ------------------------------------------------------------ */

static void test_fuel(void)
{
    static const char wat[] =
        "(module\n"
        "  (func $spin (export \"spin\") (loop $l (br $l)))\n"
        "  (func $fib (export \"fib\") (param $n i32) (result i32)\n"
        "    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))\n"
        "      (then (local.get $n))\n"
        "      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))\n"
        "                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))\n";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    lw_instance *inst = check_instance(m, NULL, 0, NULL);
    lw_func *spin = check_export_func(inst, "spin");
    lw_func *fib = check_export_func(inst, "fib");
    if (!spin || !fib)
        return;
    lw_exec *x = lw_exec_new(0);
    CHECK(lw_exec_fuel(x) == UINT64_MAX, "default fuel %" PRIu64, lw_exec_fuel(x));

    /* infinite loop, no budget */
    lw_exec_set_fuel(x, 1000);
    int st = lw_exec_call(x, spin, NULL);
    CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_OUT_OF_FUEL,
          "spin with fuel 1000: status %d trap %d", st, (int)lw_exec_trap_kind(x));
    CHECK(lw_exec_fuel(x) == 0, "fuel after running out: %" PRIu64, lw_exec_fuel(x));
    char buf[512];
    lw_exec_trap_format(x, buf, sizeof buf);
    CHECK(strstr(buf, "out of fuel") && strstr(buf, "spin"), "out-of-fuel format: %s", buf);

    /* infinite loop with budget 100: fuel is not reset by resumes */
    lw_exec_set_fuel(x, 1000);
    lw_exec_set_budget(x, 100);
    run r = drive(x, spin, NULL);
    CHECK(r.status == LW_TRAP && r.trap == LW_TRAP_OUT_OF_FUEL,
          "spin fuel 1000 budget 100: status %d trap %d after %" PRIu64 " yields", r.status,
          (int)r.trap, r.yields);
    CHECK(r.yields >= 5 && r.yields <= 10, "spin fuel 1000 budget 100: %" PRIu64 " yields",
          r.yields);
    lw_exec_set_budget(x, 0);

    /* the same run consumes the same fuel straight through and with resumes */
    lw_val n = 15;
    lw_exec_set_fuel(x, 1000000);
    r = drive(x, fib, &n);
    uint64_t used = 1000000 - r.fuel_left;
    CHECK(r.status == LW_OK && (uint32_t)r.res[0] == 610, "fib(15) with fuel: status %d",
          r.status);
    CHECK(used > 0 && used < 1000000, "fib(15) used %" PRIu64 " fuel", used);
    static const uint64_t budgets[] = {1, 2, 7, 100};
    for (size_t k = 0; k < 4; k++) {
        lw_exec_set_fuel(x, 1000000);
        lw_exec_set_budget(x, budgets[k]);
        r = drive(x, fib, &n);
        CHECK(r.status == LW_OK && 1000000 - r.fuel_left == used && r.yields > 0,
              "fib(15) budget %" PRIu64 ": status %d used %" PRIu64 " fuel (straight: %" PRIu64
              "), %" PRIu64 " yields",
              budgets[k], r.status, 1000000 - r.fuel_left, used, r.yields);
    }
    lw_exec_set_budget(x, 0);

    /* half the fuel is not enough, also with resumes */
    for (uint64_t b = 0; b < 8; b += 7) {
        lw_exec_set_budget(x, b);
        lw_exec_set_fuel(x, used / 2);
        r = drive(x, fib, &n);
        CHECK(r.status == LW_TRAP && r.trap == LW_TRAP_OUT_OF_FUEL && r.fuel_left == 0,
              "fib(15) with half the fuel, budget %" PRIu64 ": status %d trap %d", b, r.status,
              (int)r.trap);
    }
    lw_exec_set_budget(x, 0);

    /* exactly the fuel a run consumed is enough to run it again */
    lw_exec_set_fuel(x, used);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_OK && r.fuel_left == 0,
          "fib(15) with exactly the %" PRIu64 " fuel it consumes: status %d trap %d left %" PRIu64,
          used, r.status, (int)r.trap, r.fuel_left);

    /* fuel is counted across calls: 2.5 runs' worth allows two */
    lw_exec_set_fuel(x, used * 2 + used / 2);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_OK, "first of three runs: status %d", r.status);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_OK, "second of three runs: status %d", r.status);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_TRAP && r.trap == LW_TRAP_OUT_OF_FUEL,
          "third of three runs: status %d trap %d", r.status, (int)r.trap);

    /* refuelled, the exec works again; unlimited fuel stays unlimited */
    lw_exec_set_fuel(x, UINT64_MAX);
    r = drive(x, fib, &n);
    CHECK(r.status == LW_OK && (uint32_t)r.res[0] == 610 && lw_exec_fuel(x) == UINT64_MAX,
          "unlimited fuel: status %d fuel %" PRIu64, r.status, lw_exec_fuel(x));
    lw_exec_free(x);
    lw_instance_free(inst);

    /* fuel and host suspension: fuel keeps counting down across suspends */
    lw_module_release(m);
    m = wat_module(HOST_LOOP);
    if (!m)
        return;
    hostenv e = {.n_susp = 2};
    lw_func *hf;
    inst = double_instance(m, &e, &hf);
    lw_func *f = check_export_func(inst, "loop");
    if (f) {
        x = lw_exec_new(0);
        lw_val big = 1000000;
        lw_exec_set_fuel(x, 500);
        r = drive(x, f, &big);
        CHECK(r.status == LW_TRAP && r.trap == LW_TRAP_OUT_OF_FUEL && r.suspends > 0,
              "host loop with fuel 500: status %d trap %d suspends %" PRIu64, r.status,
              (int)r.trap, r.suspends);
        CHECK(e.completed < 1000, "host loop fuel 500 completed %d host calls", e.completed);
        lw_exec_free(x);
    }
    if (inst)
        lw_instance_free(inst);
    lw_func_free(hf);
    lw_module_release(m);
}

int main(void)
{
    test_budget_programs();
    test_abandon();
    test_host_suspend();
    test_fuel();
    return check_report();
}
