/*
 * run_ours.c - the engine's side of the differential fuzzer (run.sh): runs
 * one module the way run_node.mjs runs it under V8 and prints the same
 * normalized transcript, so that the two outputs can be compared line by
 * line.
 *
 *   fuzz-diff-ours [-a SET] [-b BUDGET] [-d] [-f FUEL] FILE.wasm
 *
 * -a picks the arguments every export is called with (below); -b runs
 * every call with that reduction budget, resuming after each LW_YIELD (the
 * transcript must not change: a run may stop anywhere); -d defers the data
 * segments (lw_limits.defer_data, as for processes); -f sets the fuel of
 * each call (default 200,000,000 reductions).
 *
 * Transcript (one item a line; text after " #" is a comment that the
 * comparison ignores):
 *
 *   invalid # reason             the module does not decode or validate
 *   link-error # reason          an import is not one of ours
 *   instantiate-trap CLASS # ..  a segment did not fit, or start trapped
 *   call NAME                    before each exported function is called
 *   log TYPE VALUE               each call of a fuzzing-support logger
 *   result VALUE...              the call returned ("result" alone: none)
 *   trap CLASS # message         the call trapped
 *   timeout                      out of fuel: the transcript ends here
 *
 * The imports are those of binaryen's translate-to-fuzz modules: module
 * "fuzzing-support", functions log-i32, log-i64, log-f32, log-f64. Every
 * exported function except "hangLimitInitializer" is called in export
 * order with zero arguments; "hangLimitInitializer" (the reset of the
 * module's loop and recursion limit), when exported, is called before each
 * of them.
 *
 * Values: integers in signed decimal; floats as "f32:0x%08x" /
 * "f64:0x%016x" bit patterns, every NaN as "nan" (NaN payloads and signs
 * are nondeterministic in Wasm); references as "null" or "ref".
 *
 * Trap classes group the spec's trap kinds so that V8's messages map onto
 * them one to one: unreachable, div0 (integer divide/remainder by zero),
 * overflow (integer overflow, invalid conversion to integer: V8 reports
 * both truncation cases as one), mem, table (every table and
 * call_indirect trap: V8 merges null entries with signature mismatches),
 * stack (call stack exhausted; V8's RangeError).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/host.h"
#include "wasm/lw.h"

#define DIFF_MAX_STACK (8u << 20)

static uint64_t budget;                     /* 0: unlimited */
static uint64_t fuel = 200000000u;          /* per call, in reductions */
static unsigned argset;

/* The argument of each type in each set (see the top), as bit patterns. */
static const uint64_t args_i32[5] = {0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu};
static const uint64_t args_i64[5] = {0, 1, UINT64_MAX, 1ull << 63, (1ull << 63) - 1};
static const uint64_t args_f32[5] = {0, 0x3f800000u, 0x80000000u, 0x7f7fffffu, 0x3fc00000u};
static const uint64_t args_f64[5] = {0, 0x3ff0000000000000ull, 1ull << 63, 0xfff0000000000000ull,
                                     0x3fb999999999999aull};

static lw_val arg_for(uint8_t type)
{
    switch (type) {
    case LW_I32: return args_i32[argset];
    case LW_I64: return args_i64[argset];
    case LW_F32: return args_f32[argset];
    case LW_F64: return args_f64[argset];
    default: return 0;   /* references: null */
    }
}

static void print_val(uint8_t type, lw_val v)
{
    switch (type) {
    case LW_I32: printf("%" PRId32, (int32_t)(uint32_t)v); break;
    case LW_I64: printf("%" PRId64, (int64_t)v); break;
    case LW_F32: {
        uint32_t b = (uint32_t)v;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu))
            printf("nan");
        else
            printf("f32:0x%08" PRIx32, b);
        break;
    }
    case LW_F64:
        if ((v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0x000fffffffffffffull))
            printf("nan");
        else
            printf("f64:0x%016" PRIx64, v);
        break;
    case LW_FUNCREF:
    case LW_EXTERNREF: printf(v ? "ref" : "null"); break;
    default: printf("?%02x", type); break;
    }
}

/* The loggers: print the value and return. */
static int log_value(uint8_t type, lw_val v)
{
    static const char *const names[] = {[LW_I32] = "i32", [LW_I64] = "i64",
                                        [LW_F32] = "f32", [LW_F64] = "f64"};
    printf("log %s ", names[type]);
    print_val(type, v);
    putchar('\n');
    return LW_OK;
}
static int log_i32(lw_exec *x, void *env, lw_val *args) { return log_value(LW_I32, args[0]); }
static int log_i64(lw_exec *x, void *env, lw_val *args) { return log_value(LW_I64, args[0]); }
static int log_f32(lw_exec *x, void *env, lw_val *args) { return log_value(LW_F32, args[0]); }
static int log_f64(lw_exec *x, void *env, lw_val *args) { return log_value(LW_F64, args[0]); }

static const lw_host_func_def loggers[] = {
    {"fuzzing-support", "log-i32", "i:", log_i32},
    {"fuzzing-support", "log-i64", "I:", log_i64},
    {"fuzzing-support", "log-f32", "f:", log_f32},
    {"fuzzing-support", "log-f64", "F:", log_f64},
};

static const char *trap_class(lw_trapkind k)
{
    switch (k) {
    case LW_TRAP_UNREACHABLE: return "unreachable";
    case LW_TRAP_DIV_ZERO: return "div0";
    case LW_TRAP_INT_OVERFLOW:
    case LW_TRAP_BAD_CONVERSION: return "overflow";
    case LW_TRAP_MEM_OOB: return "mem";
    case LW_TRAP_TABLE_OOB:
    case LW_TRAP_UNDEF_ELEM:
    case LW_TRAP_UNINIT_ELEM:
    case LW_TRAP_SIG_MISMATCH: return "table";
    case LW_TRAP_STACK_EXHAUSTED: return "stack";
    default: return "other";
    }
}

/* Runs f with the arguments of the chosen set; returns the lw_exec status
 * and leaves the exec in *xp for the caller to inspect and free. */
static int run(lw_func *f, lw_exec **xp)
{
    const lw_functype *t = lw_func_type(f);
    lw_val *args = calloc(t->nparams ? t->nparams : 1, sizeof *args);
    lw_exec *x = lw_exec_new(DIFF_MAX_STACK);
    if (!args || !x) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (uint32_t i = 0; i < t->nparams; i++)
        args[i] = arg_for(t->params[i]);
    lw_exec_set_fuel(x, fuel);
    if (budget)
        lw_exec_set_budget(x, budget);
    int st = lw_exec_call(x, f, args);
    while (st == LW_YIELD)
        st = lw_exec_resume(x);
    free(args);
    *xp = x;
    return st;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, fp)) > 0;) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(fp);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int defer = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-a") && i + 1 < argc && atoi(argv[i + 1]) >= 0 && atoi(argv[i + 1]) < 5)
            argset = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "-b") && i + 1 < argc)
            budget = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-f") && i + 1 < argc)
            fuel = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-d"))
            defer = 1;
        else
            break;
    }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: %s [-a SET] [-b BUDGET] [-d] [-f FUEL] FILE.wasm\n", argv[0]);
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_file(argv[i], &len);
    if (!bytes) {
        perror(argv[i]);
        return 2;
    }
    /* stdout is a file or pipe: line buffering keeps the transcript whole
     * up to the point where a timeout kills us */
    setvbuf(stdout, NULL, _IOLBF, 0);

    lw_error err = {0};
    lw_module *m = lw_module_new(bytes, len, &err);
    free(bytes);
    if (!m) {
        printf("invalid # %s at %zu\n", err.msg, err.offset);
        return 0;
    }
    lw_host_table tab;
    if (lw_host_table_init(&tab, loggers, sizeof loggers / sizeof loggers[0])) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    const lw_host_table *tabs[] = {&tab};
    uint32_t ni = lw_module_num_imports(m);
    lw_extern *imports = calloc(ni ? ni : 1, sizeof *imports);
    char why[256];
    lw_instance *inst = NULL;
    lw_exec *x = NULL;
    if (!imports || lw_host_resolve(tabs, 1, m, imports, why, sizeof why)) {
        printf("link-error # %s\n", imports ? why : "out of memory");
        goto done;
    }
    lw_limits lim = {.defer_data = defer};
    inst = lw_instance_new(m, imports, ni, &lim, &err);
    if (!inst) {
        /* a link error cannot happen here (resolved above): a segment
         * does not fit */
        printf("instantiate-trap %s # %s\n",
               strstr(err.msg, "table") ? "table" : strstr(err.msg, "memory") ? "mem" : "other",
               err.msg);
        goto done;
    }
    lw_func *start = lw_instance_start_func(inst);
    if (start) {
        int st = run(start, &x);
        if (st == LW_TRAP) {
            lw_trapkind k = lw_exec_trap_kind(x);
            if (k == LW_TRAP_OUT_OF_FUEL)
                printf("timeout\n");
            else
                printf("instantiate-trap %s # %s\n", trap_class(k), lw_exec_trap_message(x));
            goto done;
        }
        lw_exec_free(x);
        x = NULL;
    }

    lw_extern reset = {0};
    int has_reset = lw_instance_export(inst, "hangLimitInitializer", &reset) == 0 &&
                    reset.kind == LW_EXTERN_FUNC;
    uint32_t ne = lw_module_num_exports(m);
    for (uint32_t e = 0; e < ne; e++) {
        lw_export ex;
        lw_module_export(m, e, &ex);
        if (ex.type.kind != LW_EXTERN_FUNC || !strcmp(ex.name, "hangLimitInitializer"))
            continue;
        lw_extern fx;
        if (lw_instance_export_n(inst, ex.name, ex.name_len, &fx) != 0) {
            printf("export-missing # %s\n", ex.name);
            goto done;
        }
        printf("call %s\n", ex.name);
        if (has_reset) {
            if (run(reset.u.func, &x) != LW_OK) {
                printf("trap %s # in hangLimitInitializer\n", trap_class(lw_exec_trap_kind(x)));
                goto done;
            }
            lw_exec_free(x);
            x = NULL;
        }
        int st = run(fx.u.func, &x);
        if (st == LW_OK) {
            const lw_functype *t = ex.type.func;
            const lw_val *r = lw_exec_results(x);
            printf("result");
            for (uint32_t k = 0; k < t->nresults; k++) {
                putchar(' ');
                print_val(t->results[k], r[k]);
            }
            putchar('\n');
        } else if (st == LW_TRAP && lw_exec_trap_kind(x) == LW_TRAP_OUT_OF_FUEL) {
            printf("timeout\n");
            goto done;
        } else if (st == LW_TRAP) {
            printf("trap %s # %s\n", trap_class(lw_exec_trap_kind(x)), lw_exec_trap_message(x));
        } else {
            printf("status %d\n", st);
        }
        lw_exec_free(x);
        x = NULL;
    }
done:
    lw_exec_free(x);
    lw_instance_free(inst);
    free(imports);
    lw_host_table_free(&tab);
    lw_module_release(m);
    return 0;
}
