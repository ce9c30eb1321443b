/*
 * test_engine_traps.c - every trap kind from a tiny module: the kind, the
 * message, and the backtrace of lw_exec_trap_format (names from the name
 * section, innermost frame first); in-bounds neighbours of each trapping
 * case must not trap. Also host-raised traps and call stack exhaustion with
 * default and small value stacks. Prints "N passed, M failed".
 */
#include <inttypes.h>

#include "check.h"

/* $outer (exported "run") -> $middle -> $inner, whose body varies.
 * Function indices: other 0, outer 1, middle 2, inner 3, rec 4, fat 5. */
static const char SKELETON[] =
    "(module\n"
    "  (type $v (func))\n"
    "  (type $ii (func (param i32) (result i32)))\n"
    "  (memory 1)\n"
    "  (table $t 2 funcref)\n"
    "  (elem (i32.const 0) $other)\n"
    "  (func $other (type $ii) (i32.add (local.get 0) (i32.const 100)))\n"
    "  (func $outer (export \"run\") (param $a i32) (param $b i32) (result i32)\n"
    "    (call $middle (local.get $a) (local.get $b)))\n"
    "  (func $middle (param i32 i32) (result i32)\n"
    "    (i32.add (i32.const 0) (call $inner (local.get 0) (local.get 1))))\n"
    "  (func $inner (export \"inner\") (param $a i32) (param $b i32) (result i32)\n"
    "    %s)\n"
    "  (func $rec (param i32) (result i32)\n"
    "    (i32.add (call $rec (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))\n"
    "  (func $fat (param i32) (result i32)\n"
    "    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
    "    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
    "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))\n"
    "      (else (i32.add (call $fat (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))\n";

typedef struct tcase {
    const char *what, *body;
    uint32_t a, b;
    lw_trapkind trap;     /* NONE: must return want */
    uint32_t want;
} tcase;

#define OK_(w, body, a, b, res) {w, body, a, b, LW_TRAP_NONE, res}
#define TR_(w, body, a, b, kind) {w, body, a, b, LW_TRAP_##kind, 0}

static const tcase cases[] = {
    TR_("unreachable", "(unreachable)", 0, 0, UNREACHABLE),

    OK_("i32.div_s 7/2", "(i32.div_s (local.get $a) (local.get $b))", 7, 2, 3),
    TR_("i32.div_s by zero", "(i32.div_s (local.get $a) (local.get $b))", 1, 0, DIV_ZERO),
    TR_("i32.div_u by zero", "(i32.div_u (local.get $a) (local.get $b))", 1, 0, DIV_ZERO),
    TR_("i32.rem_s by zero", "(i32.rem_s (local.get $a) (local.get $b))", 1, 0, DIV_ZERO),
    TR_("i64.rem_u by zero",
        "(i32.wrap_i64 (i64.rem_u (i64.extend_i32_u (local.get $a)) (i64.extend_i32_u (local.get $b))))",
        5, 0, DIV_ZERO),
    TR_("i32.div_s INT_MIN/-1", "(i32.div_s (local.get $a) (local.get $b))", 0x80000000u,
        0xffffffffu, INT_OVERFLOW),
    OK_("i32.rem_s INT_MIN%-1", "(i32.rem_s (local.get $a) (local.get $b))", 0x80000000u,
        0xffffffffu, 0),
    TR_("i64.div_s INT64_MIN/-1",
        "(i32.wrap_i64 (i64.div_s (i64.const -9223372036854775808) (i64.extend_i32_s (local.get $b))))",
        0, 0xffffffffu, INT_OVERFLOW),
    TR_("i32.trunc_f32_s 3.2e9", "(i32.trunc_f32_s (f32.convert_i32_u (local.get $a)))",
        0xC0000000u, 0, INT_OVERFLOW),
    TR_("i64.trunc_f64_u -1", "(i32.wrap_i64 (i64.trunc_f64_u (f64.convert_i32_s (local.get $a))))",
        0xffffffffu, 0, INT_OVERFLOW),
    OK_("i32.trunc_f32_s 1000", "(i32.trunc_f32_s (f32.convert_i32_u (local.get $a)))", 1000, 0,
        1000),
    TR_("i32.trunc_f64_u NaN",
        "(i32.trunc_f64_u (f64.div (f64.const 0) (f64.convert_i32_s (local.get $b))))", 0, 0,
        BAD_CONVERSION),
    TR_("i64.trunc_f32_s NaN",
        "(i32.wrap_i64 (i64.trunc_f32_s (f32.div (f32.const 0) (f32.convert_i32_s (local.get $b)))))",
        0, 0, BAD_CONVERSION),
    OK_("i32.trunc_sat_f64_u NaN",
        "(i32.trunc_sat_f64_u (f64.div (f64.const 0) (f64.convert_i32_s (local.get $b))))", 0, 0, 0),

    /* memory: 1 page = 65536 bytes */
    OK_("i32.load at 65532", "(i32.load (local.get $a))", 65532, 0, 0),
    TR_("i32.load at 65533", "(i32.load (local.get $a))", 65533, 0, MEM_OOB),
    TR_("i32.load at 65536", "(i32.load (local.get $a))", 65536, 0, MEM_OOB),
    TR_("i32.load at 0xffffffff", "(i32.load (local.get $a))", 0xffffffffu, 0, MEM_OOB),
    OK_("i32.store at 65532", "(i32.store (local.get $a) (local.get $b)) (i32.load (local.get $a))",
        65532, 77, 77),
    TR_("i32.store at 65533", "(i32.store (local.get $a) (local.get $b)) (i32.const 0)", 65533, 77,
        MEM_OOB),
    OK_("i64.load8_u at 65535", "(i32.wrap_i64 (i64.load8_u (local.get $a)))", 65535, 0, 0),
    TR_("i64.load8_u at 65536", "(i32.wrap_i64 (i64.load8_u (local.get $a)))", 65536, 0, MEM_OOB),
    OK_("i64.store at 65528", "(i64.store (local.get $a) (i64.const 5)) (i32.load (local.get $a))",
        65528, 0, 5),
    TR_("i64.store at 65529", "(i64.store (local.get $a) (i64.const 5)) (i32.const 0)", 65529, 0,
        MEM_OOB),
    TR_("f64.load at 65529", "(i32.trunc_f64_s (f64.load (local.get $a)))", 65529, 0, MEM_OOB),
    OK_("load8 offset=1 at 65534", "(i32.load8_u offset=1 (local.get $a))", 65534, 0, 0),
    TR_("load8 offset=1 at 65535", "(i32.load8_u offset=1 (local.get $a))", 65535, 0, MEM_OOB),
    TR_("load8 offset=1 at 0xffffffff (ea 4 GiB)", "(i32.load8_u offset=1 (local.get $a))",
        0xffffffffu, 0, MEM_OOB),
    TR_("store8 offset=1 at 0xffffffff (ea 4 GiB)",
        "(i32.store8 offset=1 (local.get $a) (i32.const 1)) (i32.const 0)", 0xffffffffu, 0, MEM_OOB),
    TR_("load offset=0xffffffff at 1", "(i32.load offset=0xffffffff (local.get $a))", 1, 0, MEM_OOB),
    TR_("load offset=0xffffffff at 0", "(i32.load offset=0xffffffff (local.get $a))", 0, 0, MEM_OOB),
    TR_("i64.load offset=0xfffffff8 at 0xffffffff",
        "(i32.wrap_i64 (i64.load offset=0xfffffff8 (local.get $a)))", 0xffffffffu, 0, MEM_OOB),
    OK_("i64.load offset=65528 at 0", "(i32.wrap_i64 (i64.load offset=65528 (local.get $a)))", 0, 0, 0),
    TR_("i64.load offset=65528 at 1", "(i32.wrap_i64 (i64.load offset=65528 (local.get $a)))", 1, 0,
        MEM_OOB),
    OK_("memory.fill 1 at 65535",
        "(memory.fill (local.get $a) (i32.const 9) (local.get $b)) (i32.load8_u (local.get $a))",
        65535, 1, 9),
    TR_("memory.fill 2 at 65535",
        "(memory.fill (local.get $a) (i32.const 9) (local.get $b)) (i32.const 0)", 65535, 2, MEM_OOB),
    OK_("memory.fill 0 at 65536",
        "(memory.fill (local.get $a) (i32.const 9) (local.get $b)) (i32.const 3)", 65536, 0, 3),
    TR_("memory.fill 0 at 65537",
        "(memory.fill (local.get $a) (i32.const 9) (local.get $b)) (i32.const 0)", 65537, 0, MEM_OOB),
    TR_("memory.copy src OOB",
        "(memory.copy (i32.const 0) (local.get $a) (local.get $b)) (i32.const 0)", 65000, 537,
        MEM_OOB),
    TR_("memory.copy len 0xffffffff",
        "(memory.copy (i32.const 0) (local.get $a) (local.get $b)) (i32.const 0)", 1, 0xffffffffu,
        MEM_OOB),
    OK_("i32.load at 131068 after grow",
        "(drop (memory.grow (i32.const 1))) (i32.load (local.get $a))", 131068, 0, 0),
    TR_("i32.load at 131069 after grow",
        "(drop (memory.grow (i32.const 1))) (i32.load (local.get $a))", 131069, 0, MEM_OOB),

    /* tables: slot 0 = $other, slot 1 = null, size 2 */
    OK_("call_indirect slot 0", "(call_indirect (type $ii) (local.get $b) (local.get $a))", 0, 5,
        105),
    TR_("call_indirect null slot", "(call_indirect (type $ii) (local.get $b) (local.get $a))", 1, 5,
        UNINIT_ELEM),
    TR_("call_indirect index 2 (size 2)",
        "(call_indirect (type $ii) (local.get $b) (local.get $a))", 2, 5, UNDEF_ELEM),
    TR_("call_indirect index 0xffffffff",
        "(call_indirect (type $ii) (local.get $b) (local.get $a))", 0xffffffffu, 5, UNDEF_ELEM),
    TR_("call_indirect type mismatch", "(call_indirect (type $v) (local.get $a)) (i32.const 0)", 0,
        0, SIG_MISMATCH),
    OK_("table.get 1", "(ref.is_null (table.get $t (local.get $a)))", 1, 0, 1),
    TR_("table.get 2", "(ref.is_null (table.get $t (local.get $a)))", 2, 0, TABLE_OOB),
    TR_("table.set 2", "(table.set $t (local.get $a) (ref.null func)) (i32.const 0)", 2, 0,
        TABLE_OOB),
    TR_("table.fill past end",
        "(table.fill $t (local.get $a) (ref.null func) (local.get $b)) (i32.const 0)", 1, 2,
        TABLE_OOB),
    TR_("table.copy past end", "(table.copy (local.get $a) (i32.const 0) (local.get $b)) (i32.const 0)",
        1, 2, TABLE_OOB),

    /* call stack: infinite recursion */
    TR_("infinite recursion", "(call $rec (local.get $a))", 0, 0, STACK_EXHAUSTED),
};

static lw_module *case_module(const tcase *c)
{
    char wat[8192];
    snprintf(wat, sizeof wat, SKELETON, c->body);
    return wat_module(wat);
}

/* The frame "#i name (func idx)" appears, after position *pos. */
static int frame_after(const char *buf, unsigned i, const char *name, unsigned idx, const char **pos)
{
    char want[96];
    snprintf(want, sizeof want, "#%u %s (func %u)", i, name, idx);
    const char *p = strstr(*pos, want);
    if (!p)
        return 0;
    *pos = p + strlen(want);
    return 1;
}

static void test_trap_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const tcase *c = &cases[i];
        lw_module *m = case_module(c);
        if (!m)
            continue;
        for (uint64_t budget = 0; budget < 2; budget++) {
            lw_instance *inst = check_instance(m, NULL, 0, NULL);
            lw_func *f = check_export_func(inst, "run");
            if (!f) {
                if (inst)
                    lw_instance_free(inst);
                continue;
            }
            lw_exec *x = lw_exec_new(c->trap == LW_TRAP_STACK_EXHAUSTED && budget ? 65536 : 0);
            lw_exec_set_budget(x, budget);
            lw_val args[2] = {c->a, c->b};
            int st = lw_exec_call(x, f, args);
            while (st == LW_YIELD)
                st = lw_exec_resume(x);
            lw_trapkind k = lw_exec_trap_kind(x);
            if (c->trap == LW_TRAP_NONE) {
                CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == c->want,
                      "%s (budget %" PRIu64 "): status %d trap %s result %u, want %u", c->what,
                      budget, st, lw_trapkind_message(k),
                      st == LW_OK ? (unsigned)lw_exec_results(x)[0] : 0, c->want);
            } else {
                CHECK(st == LW_TRAP && k == c->trap,
                      "%s (budget %" PRIu64 "): status %d trap \"%s\", want \"%s\"", c->what,
                      budget, st, lw_trapkind_message(k), lw_trapkind_message(c->trap));
                CHECK(!strcmp(lw_exec_trap_message(x), lw_trapkind_message(c->trap)),
                      "%s: message \"%s\"", c->what, lw_exec_trap_message(x));
                char buf[4096];
                size_t n = lw_exec_trap_format(x, buf, sizeof buf);
                CHECK(n == strlen(buf), "%s: format length %zu vs %zu", c->what, n, strlen(buf));
                const char *msg = lw_trapkind_message(c->trap);
                CHECK(!strncmp(buf, msg, strlen(msg)), "%s: format starts \"%.40s\"", c->what, buf);
                const char *pos = buf;
                if (c->trap == LW_TRAP_STACK_EXHAUSTED) {
                    CHECK(frame_after(buf, 0, "rec", 4, &pos) && frame_after(buf, 1, "rec", 4, &pos),
                          "%s: backtrace\n%s", c->what, buf);
                } else {
                    int ok = frame_after(buf, 0, "inner", 3, &pos) &&
                             frame_after(buf, 1, "middle", 2, &pos) &&
                             frame_after(buf, 2, "outer", 1, &pos) && !strstr(pos, "#3");
                    CHECK(ok, "%s: backtrace not inner, middle, outer:\n%s", c->what, buf);
                }
            }
            lw_exec_free(x);
            lw_instance_free(inst);
        }
        lw_module_release(m);
    }
}

/* A trap in a directly called function has a one-frame backtrace; the exec
 * is reusable after a trap; small budget and trap combine. */
static void test_trap_toplevel(void)
{
    lw_module *m = case_module(&cases[0]);   /* unreachable */
    if (!m)
        return;
    lw_instance *inst = check_instance(m, NULL, 0, NULL);
    lw_func *inner = check_export_func(inst, "inner");
    lw_func *run = check_export_func(inst, "run");
    if (inner && run) {
        lw_exec *x = lw_exec_new(0);
        lw_val args[2] = {0, 0};
        int st = lw_exec_call(x, inner, args);
        char buf[1024];
        lw_exec_trap_format(x, buf, sizeof buf);
        const char *pos = buf;
        CHECK(st == LW_TRAP && frame_after(buf, 0, "inner", 3, &pos) && !strstr(buf, "#1"),
              "top-level trap backtrace:\n%s", buf);
        /* truncated format buffer stays NUL-terminated */
        char small[8];
        size_t n = lw_exec_trap_format(x, small, sizeof small);
        CHECK(n == 7 && !strcmp(small, "unreach"), "truncated format: %zu \"%s\"", n, small);
        lw_exec_free(x);
    }
    lw_instance_free(inst);
    lw_module_release(m);

    /* exec reuse after a trap: the same exec traps then computes */
    static const char wat[] =
        "(module\n"
        "  (func $boom (export \"boom\") (param i32) (result i32)\n"
        "    (i32.div_u (i32.const 1) (local.get 0)))\n"
        "  (func $loop_boom (export \"loop_boom\") (param $n i32) (result i32) (local $i i32)\n"
        "    (loop $l\n"
        "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
        "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))\n"
        "    (call $boom (i32.const 0))))\n";
    m = wat_module(wat);
    if (!m)
        return;
    inst = check_instance(m, NULL, 0, NULL);
    lw_func *boom = check_export_func(inst, "boom");
    lw_func *loop_boom = check_export_func(inst, "loop_boom");
    if (boom && loop_boom) {
        lw_exec *x = lw_exec_new(0);
        lw_val z = 0, two = 2, n = 1000;
        int st = lw_exec_call(x, boom, &z);
        CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_DIV_ZERO, "boom(0): %d", st);
        st = lw_exec_call(x, boom, &two);
        CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 0 &&
                  lw_exec_trap_kind(x) == LW_TRAP_NONE,
              "boom(2) after trap: status %d trap %d", st, (int)lw_exec_trap_kind(x));
        /* a trap after many yields */
        lw_exec_set_budget(x, 3);
        st = lw_exec_call(x, loop_boom, &n);
        int yields = 0;
        while (st == LW_YIELD && yields < 100000) {
            yields++;
            st = lw_exec_resume(x);
        }
        char buf[1024];
        lw_exec_trap_format(x, buf, sizeof buf);
        const char *pos = buf;
        CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_DIV_ZERO && yields > 100 &&
                  frame_after(buf, 0, "boom", 0, &pos) && frame_after(buf, 1, "loop_boom", 1, &pos),
              "trap after %d yields: status %d\n%s", yields, st, buf);
        /* resume after a trap reports the trap again, runs nothing */
        st = lw_exec_resume(x);
        CHECK(st == LW_TRAP, "resume after trap: %d", st);
        lw_exec_free(x);
    }
    lw_instance_free(inst);
    lw_module_release(m);
}

/* Call stack exhaustion must trap (never crash) for any stack size. */
static void test_stack_exhaustion(void)
{
    lw_module *m = case_module(&cases[0]);
    if (!m)
        return;
    static const char wat_direct[] =
        "(module\n"
        "  (func $rec (export \"rec\") (param i32) (result i32)\n"
        "    (i32.add (call $rec (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))\n"
        "  (func $fat (export \"fat\") (param i32) (result i32)\n"
        "    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
        "    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)\n"
        "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))\n"
        "      (else (i32.add (call $fat (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))\n"
        "  (func $indirect (export \"indirect\") (param i32) (result i32)\n"
        "    (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)))\n"
        "  (table 1 funcref) (elem (i32.const 0) $indirect)\n"
        "  (func $nop (export \"nop\") (param i32) (result i32) (local.get 0)))\n";
    lw_module_release(m);
    m = wat_module(wat_direct);
    if (!m)
        return;
    lw_instance *inst = check_instance(m, NULL, 0, NULL);
    lw_func *rec = check_export_func(inst, "rec");
    lw_func *fat = check_export_func(inst, "fat");
    lw_func *ind = check_export_func(inst, "indirect");
    lw_func *nop = check_export_func(inst, "nop");
    if (!rec || !fat || !ind || !nop)
        return;
    static const size_t sizes[] = {0, 4096, 65536, 1000, 300};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        lw_exec *x = lw_exec_new(sizes[s]);
        lw_val a = 0;
        lw_func *fs[3] = {rec, ind, fat};
        const char *names[3] = {"rec", "indirect", "fat"};
        for (int k = 0; k < 3; k++) {
            a = k == 2 ? 10000000 : 0;
            int st = lw_exec_call(x, fs[k], &a);
            CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_STACK_EXHAUSTED,
                  "%s with max stack %zu: status %d trap %s", names[k], sizes[s], st,
                  lw_trapkind_message(lw_exec_trap_kind(x)));
            char buf[4096];
            lw_exec_trap_format(x, buf, sizeof buf);
            char want[64];
            snprintf(want, sizeof want, "#0 %s", names[k]);
            /* (at 300 bytes fat's first frame does not fit: no frame to show) */
            if (k < 2 || sizes[s] != 300)
                CHECK(strstr(buf, want) != NULL, "%s backtrace (max stack %zu):\n%s", names[k],
                      sizes[s], buf);
        }
        /* still usable: a shallow call works, and a short fat recursion when room */
        a = 7;
        int st = lw_exec_call(x, nop, &a);
        CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 7,
              "nop after exhaustion (stack %zu): status %d", sizes[s], st);
        if (sizes[s] == 0 || sizes[s] >= 65536) {
            a = 20;
            st = lw_exec_call(x, fat, &a);
            CHECK(st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 20,
                  "fat(20) after exhaustion (stack %zu): status %d", sizes[s], st);
        }
        lw_exec_free(x);
    }
    /* a stack too small for anything: trap or run, never crash */
    for (size_t bytes = 1; bytes <= 64; bytes *= 2) {
        lw_exec *x = lw_exec_new(bytes);
        lw_val a = 5;
        int st = lw_exec_call(x, nop, &a);
        CHECK((st == LW_OK && (uint32_t)lw_exec_results(x)[0] == 5) ||
                  (st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_STACK_EXHAUSTED),
              "nop with max stack %zu bytes: status %d", bytes, st);
        st = lw_exec_call(x, fat, &a);
        CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_STACK_EXHAUSTED,
              "fat(5) with max stack %zu bytes: status %d", bytes, st);
        lw_exec_free(x);
    }
    lw_instance_free(inst);
    lw_module_release(m);
}

/* ---- traps raised by host functions ------------------------------------- */

static int host_trap_mode;
static int host_fail(lw_exec *x, void *env, lw_val *args)
{
    switch (host_trap_mode) {
    case 0: lw_exec_trap(x, LW_TRAP_HOST, "boom"); return LW_TRAP;
    case 1: return LW_TRAP;   /* no lw_exec_trap: still a host error */
    case 2: lw_exec_trap(x, LW_TRAP_MEM_OOB, "bad pointer"); return LW_TRAP;
    case 3: lw_exec_exit(x, 3); return LW_TRAP;
    default: return 42;         /* not a status */
    }
}

static void test_host_traps(void)
{
    static const char wat[] =
        "(module\n"
        "  (import \"env\" \"fail\" (func $fail (param i32)))\n"
        "  (func $guest (export \"guest\") (call $fail (i32.const 1)))\n"
        "  (func $top (export \"top\") (call $guest)))\n";
    lw_module *m = wat_module(wat);
    if (!m)
        return;
    const uint8_t p = LW_I32;
    lw_func *hf = lw_func_new_host(lw_functype_get(1, &p, 0, &p), host_fail, NULL);
    lw_extern imp = {.kind = LW_EXTERN_FUNC, .u.func = hf};
    lw_instance *inst = check_instance(m, &imp, 1, NULL);
    lw_func *top = check_export_func(inst, "top");
    if (top) {
        static const lw_trapkind kinds[] = {LW_TRAP_HOST, LW_TRAP_HOST, LW_TRAP_MEM_OOB,
                                              LW_TRAP_EXIT, LW_TRAP_HOST};
        static const char *texts[] = {"boom", "host error", "out of bounds memory access: bad pointer",
                                      "exit", "host error"};
        for (host_trap_mode = 0; host_trap_mode < 5; host_trap_mode++) {
            lw_exec *x = lw_exec_new(0);
            int st = lw_exec_call(x, top, NULL);
            char buf[1024];
            lw_exec_trap_format(x, buf, sizeof buf);
            const char *pos = buf;
            CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == kinds[host_trap_mode],
                  "host trap mode %d: status %d kind %d", host_trap_mode, st,
                  (int)lw_exec_trap_kind(x));
            CHECK(!strncmp(buf, texts[host_trap_mode], strlen(texts[host_trap_mode])) &&
                      frame_after(buf, 0, "guest", 1, &pos) && frame_after(buf, 1, "top", 2, &pos),
                  "host trap mode %d format:\n%s", host_trap_mode, buf);
            if (host_trap_mode == 3)
                CHECK(lw_exec_exit_code(x) == 3, "exit code %d", lw_exec_exit_code(x));
            /* a host function called at top level traps the same way */
            lw_val a = 0;
            st = lw_exec_call(x, hf, &a);
            CHECK(st == LW_TRAP && lw_exec_trap_kind(x) == kinds[host_trap_mode],
                  "top-level host trap mode %d: status %d kind %d", host_trap_mode, st,
                  (int)lw_exec_trap_kind(x));
            lw_exec_free(x);
        }
    }
    if (inst)
        lw_instance_free(inst);
    lw_func_free(hf);
    lw_module_release(m);
}

int main(void)
{
    test_trap_cases();
    test_trap_toplevel();
    test_stack_exhaustion();
    test_host_traps();
    return check_report();
}
