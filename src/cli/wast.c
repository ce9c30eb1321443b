/*
 * wast.c - the spec conformance runner: `lunatic wast [-v] FILE.wast`.
 *
 * The script is converted by wabt's wast2json into a JSON command list plus
 * one .wasm file per module, in a private temporary directory. Every command is then executed against the engine
 * through src/wasm/lw.h only, and counted as passed or failed; commands on
 * text modules (assert_malformed/assert_invalid of `module quote`) are
 * skipped and not counted, since the engine only reads binaries.
 *
 * Invariants:
 *   - Every instance created while running a file (including those whose
 *     start function trapped, whose functions may already sit in an imported
 *     table) stays alive until the end of the file and is freed in reverse
 *     creation order, so an exporter always outlives its importers.
 *   - The temporary directory is read into memory and removed before any
 *     module runs, so that an engine crash leaves nothing behind.
 *   - One lw_exec runs every call of a file. With WAST_BUDGET=N the exec
 *     gets a reduction budget of N and each run is resumed until it ends,
 *     which checks that a run stopped at any point gives the same results.
 *
 * Output: one line per failed command ("FILE:LINE: COMMAND: why"), then the
 * last line "N passed, M failed". The exit status is 0 iff nothing failed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "wasm/lw.h"

/* How an expected result is compared with the value the engine produced. */
typedef enum cliw_match {
    CLIW_EXACT,       /* same bits (of the value type's width) */
    CLIW_NAN_CANON,   /* a canonical NaN of either sign */
    CLIW_NAN_ARITH,   /* any NaN with the quiet bit set */
    CLIW_NONNULL      /* any non-null reference (funcref results) */
} cliw_match;

/* A parsed argument or expected result. */
typedef struct cliw_value {
    uint8_t type;     /* lw_valtype code */
    cliw_match match;
    lw_val v;
} cliw_value;

/* A file wast2json wrote (a module binary or text), kept in memory. */
typedef struct cliw_file {
    char *name;
    uint8_t *bytes;
    size_t len;
} cliw_file;

/* A name under which instances are found by `module` fields of actions. */
typedef struct cliw_named {
    char *name;
    lw_instance *inst;
} cliw_named;

/* A `register`ed module: imports naming `as` resolve to inst's exports.
 * inst NULL stands for the built-in spectest module. */
typedef struct cliw_reg {
    char *as;
    size_t as_len;
    lw_instance *inst;
} cliw_reg;

/* The spectest host module's exports. */
enum { CLIW_SPECTEST_FUNCS = 7, CLIW_SPECTEST_GLOBALS = 4 };

typedef struct cliw_state {
    const char *path;        /* the .wast file, for messages */
    cliw_file *files;        /* the modules wast2json wrote */
    size_t nfiles, cap_files;
    int verbose;
    lw_exec *x;

    lw_instance **insts;   /* every instance, in creation order */
    size_t ninsts, cap_insts;
    cliw_named *named;
    size_t nnamed, cap_named;
    cliw_reg *regs;
    size_t nregs, cap_regs;
    lw_instance *current;  /* the last module defined, or NULL */

    lw_func *st_funcs[CLIW_SPECTEST_FUNCS];
    lw_global *st_globals[CLIW_SPECTEST_GLOBALS];
    lw_table *st_table;
    lw_memory *st_memory;

    /* The command being executed, for messages. */
    int line;
    const char *cmd;
    unsigned passed, failed;
    unsigned long long resumes;   /* yields and suspensions resumed (-v) */
} cliw_state;

/* Outcome of loading and instantiating one module file. */
typedef enum cliw_inst_status {
    CLIW_INST_OK,
    CLIW_INST_IO,            /* wast2json wrote no such file */
    CLIW_INST_INVALID,       /* lw_module_new failed */
    CLIW_INST_UNLINKABLE,    /* an import could not be resolved or typed */
    CLIW_INST_FAILED,        /* lw_instance_new failed (link or segment) */
    CLIW_INST_START_TRAP     /* instantiated, but the start function trapped */
} cliw_inst_status;

/* ---- Reporting ----------------------------------------------------------- */

static void cliw_fail(cliw_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cliw_fail(cliw_state *s, const char *fmt, ...)
{
    va_list ap;
    s->failed++;
    printf("%s:%d: %s: ", s->path, s->line, s->cmd);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void cliw_pass(cliw_state *s)
{
    s->passed++;
    if (s->verbose)
        printf("%s:%d: %s: ok\n", s->path, s->line, s->cmd);
}

static void *cliw_xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "lunatic wast: out of memory\n");
        exit(2);
    }
    return p;
}

static char *cliw_xstrndup(const char *str, size_t len)
{
    char *p = cliw_xrealloc(NULL, len + 1);
    memcpy(p, str, len);
    p[len] = 0;
    return p;
}

/* ---- Values -------------------------------------------------------------- */

static const char *cliw_type_name(uint8_t t)
{
    switch (t) {
    case LW_I32: return "i32";
    case LW_I64: return "i64";
    case LW_F32: return "f32";
    case LW_F64: return "f64";
    case LW_V128: return "v128";
    case LW_FUNCREF: return "funcref";
    case LW_EXTERNREF: return "externref";
    default: return "?";
    }
}

static int cliw_type_parse(const char *name, uint8_t *out)
{
    static const uint8_t codes[] = { LW_I32, LW_I64, LW_F32, LW_F64,
                                     LW_V128, LW_FUNCREF, LW_EXTERNREF };
    for (size_t i = 0; i < sizeof codes; i++) {
        if (!strcmp(name, cliw_type_name(codes[i]))) {
            *out = codes[i];
            return 0;
        }
    }
    return -1;
}

/* Parses one {"type": T, "value": V} object of wast2json. Numbers are the
 * unsigned decimal bit pattern (floats too); references are "null" or a
 * number. The test's `ref.extern N` becomes N+1 so that it differs from
 * null; a funcref result that is not null can only be checked for being
 * non-null, since the script cannot name a function's address. A missing
 * value (assert_trap results) parses as 0. Returns -1 on anything else. */
static int cliw_value_parse(json_t *j, int is_result, cliw_value *out)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *val = json_string_value(json_object_get(j, "value"));
    out->match = CLIW_EXACT;
    out->v = 0;
    if (!type || cliw_type_parse(type, &out->type) || out->type == LW_V128)
        return -1;
    if (!val)
        return 0;
    if (out->type == LW_FUNCREF || out->type == LW_EXTERNREF) {
        if (!strcmp(val, "null"))
            return 0;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(val, &end, 10);
        if (errno || *end || end == val)
            return -1;
        if (out->type == LW_EXTERNREF)
            out->v = (lw_val)n + 1;
        else if (is_result)
            out->match = CLIW_NONNULL;
        else
            return -1;    /* a funcref argument other than null is unnameable */
        return 0;
    }
    if (!strcmp(val, "nan:canonical") || !strcmp(val, "nan:arithmetic")) {
        if (!is_result || (out->type != LW_F32 && out->type != LW_F64))
            return -1;
        out->match = val[4] == 'c' ? CLIW_NAN_CANON : CLIW_NAN_ARITH;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(val, &end, 10);
    if (errno || *end || end == val)
        return -1;
    out->v = n;
    return 0;
}

/* Does the value v of type e->type satisfy the expected result e? i32 and
 * f32 compare only the low 32 bits, which is all the API defines. */
static int cliw_value_matches(const cliw_value *e, lw_val v)
{
    switch (e->type) {
    case LW_I32:
        return (uint32_t)v == (uint32_t)e->v;
    case LW_F32:
        if (e->match == CLIW_NAN_CANON)
            return ((uint32_t)v & 0x7fffffffu) == 0x7fc00000u;
        if (e->match == CLIW_NAN_ARITH)
            return ((uint32_t)v & 0x7fc00000u) == 0x7fc00000u;
        return (uint32_t)v == (uint32_t)e->v;
    case LW_F64:
        if (e->match == CLIW_NAN_CANON)
            return (v & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (e->match == CLIW_NAN_ARITH)
            return (v & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return v == e->v;
    case LW_FUNCREF:
    case LW_EXTERNREF:
        if (e->match == CLIW_NONNULL)
            return v != 0;
        return v == e->v;
    default:
        return v == e->v;
    }
}

/* Formats a value of type t for a failure message. */
static void cliw_value_format(char *buf, size_t size, uint8_t t, lw_val v)
{
    switch (t) {
    case LW_I32:
        snprintf(buf, size, "i32:%u (%d)", (uint32_t)v, (int32_t)(uint32_t)v);
        break;
    case LW_I64:
        snprintf(buf, size, "i64:%llu (%lld)", (unsigned long long)v, (long long)v);
        break;
    case LW_F32: {
        uint32_t bits = (uint32_t)v;
        float f;
        memcpy(&f, &bits, sizeof f);
        snprintf(buf, size, "f32:0x%08x (%.9g)", bits, (double)f);
        break;
    }
    case LW_F64: {
        double d;
        memcpy(&d, &v, sizeof d);
        snprintf(buf, size, "f64:0x%016llx (%.17g)", (unsigned long long)v, d);
        break;
    }
    case LW_EXTERNREF:
        if (v)
            snprintf(buf, size, "externref:%llu", (unsigned long long)(v - 1));
        else
            snprintf(buf, size, "externref:null");
        break;
    case LW_FUNCREF:
        if (v)
            snprintf(buf, size, "funcref:0x%llx", (unsigned long long)v);
        else
            snprintf(buf, size, "funcref:null");
        break;
    default:
        snprintf(buf, size, "%s:0x%llx", cliw_type_name(t), (unsigned long long)v);
        break;
    }
}

static void cliw_expect_format(char *buf, size_t size, const cliw_value *e)
{
    if (e->match == CLIW_NAN_CANON)
        snprintf(buf, size, "%s:nan:canonical", cliw_type_name(e->type));
    else if (e->match == CLIW_NAN_ARITH)
        snprintf(buf, size, "%s:nan:arithmetic", cliw_type_name(e->type));
    else if (e->match == CLIW_NONNULL)
        snprintf(buf, size, "%s:non-null", cliw_type_name(e->type));
    else
        cliw_value_format(buf, size, e->type, e->v);
}

/* ---- The spectest host module ------------------------------------------- */

/* spectest.print*: print their arguments the way the reference interpreter
 * does ("13 : i32"), but only with -v so that the failure list stays
 * readable. env is the function's parameter type list. */
static int cliw_spectest_print(lw_exec *x, void *env, lw_val *args)
{
    const cliw_state *s = lw_exec_user(x);
    const lw_functype *ft = env;
    if (!s || !s->verbose)
        return LW_OK;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        char buf[96];
        cliw_value_format(buf, sizeof buf, ft->params[i], args[i]);
        printf("spectest print: %s\n", buf);
    }
    if (ft->nparams == 0)
        printf("spectest print\n");
    return LW_OK;
}

static const struct {
    const char *name;
    uint8_t nparams;
    uint8_t params[2];
} cliw_spectest_funcs[CLIW_SPECTEST_FUNCS] = {
    { "print", 0, { 0, 0 } },
    { "print_i32", 1, { LW_I32, 0 } },
    { "print_i64", 1, { LW_I64, 0 } },
    { "print_f32", 1, { LW_F32, 0 } },
    { "print_f64", 1, { LW_F64, 0 } },
    { "print_i32_f32", 2, { LW_I32, LW_F32 } },
    { "print_f64_f64", 2, { LW_F64, LW_F64 } },
};

static const char *const cliw_spectest_globals[CLIW_SPECTEST_GLOBALS] = {
    "global_i32", "global_i64", "global_f32", "global_f64"
};

static void cliw_spectest_new(cliw_state *s)
{
    for (int i = 0; i < CLIW_SPECTEST_FUNCS; i++) {
        const lw_functype *ft = lw_functype_get(cliw_spectest_funcs[i].nparams,
                                                cliw_spectest_funcs[i].params, 0, NULL);
        s->st_funcs[i] = lw_func_new_host(ft, cliw_spectest_print, (void *)ft);
    }
    float f32 = 666.6f;
    double f64 = 666.6;
    uint32_t f32_bits;
    lw_val f64_bits;
    memcpy(&f32_bits, &f32, sizeof f32_bits);
    memcpy(&f64_bits, &f64, sizeof f64_bits);
    s->st_globals[0] = lw_global_new(LW_I32, 0, 666);
    s->st_globals[1] = lw_global_new(LW_I64, 0, 666);
    s->st_globals[2] = lw_global_new(LW_F32, 0, f32_bits);
    s->st_globals[3] = lw_global_new(LW_F64, 0, f64_bits);
    s->st_table = lw_table_new(LW_FUNCREF, 10, 20, 1);
    s->st_memory = lw_memory_new(1, 2, 1);
}

static void cliw_spectest_free(cliw_state *s)
{
    for (int i = 0; i < CLIW_SPECTEST_FUNCS; i++)
        if (s->st_funcs[i])
            lw_func_free(s->st_funcs[i]);
    for (int i = 0; i < CLIW_SPECTEST_GLOBALS; i++)
        if (s->st_globals[i])
            lw_global_free(s->st_globals[i]);
    if (s->st_table)
        lw_table_free(s->st_table);
    if (s->st_memory)
        lw_memory_free(s->st_memory);
}

/* Looks up a spectest export by name; returns 0 when found. */
static int cliw_spectest_export(const cliw_state *s, const char *name, size_t len,
                                lw_extern *out)
{
    for (int i = 0; i < CLIW_SPECTEST_FUNCS; i++) {
        if (strlen(cliw_spectest_funcs[i].name) == len &&
            !memcmp(cliw_spectest_funcs[i].name, name, len)) {
            out->kind = LW_EXTERN_FUNC;
            out->u.func = s->st_funcs[i];
            return 0;
        }
    }
    for (int i = 0; i < CLIW_SPECTEST_GLOBALS; i++) {
        if (strlen(cliw_spectest_globals[i]) == len &&
            !memcmp(cliw_spectest_globals[i], name, len)) {
            out->kind = LW_EXTERN_GLOBAL;
            out->u.global = s->st_globals[i];
            return 0;
        }
    }
    if (len == 5 && !memcmp(name, "table", 5)) {
        out->kind = LW_EXTERN_TABLE;
        out->u.table = s->st_table;
        return 0;
    }
    if (len == 6 && !memcmp(name, "memory", 6)) {
        out->kind = LW_EXTERN_MEMORY;
        out->u.memory = s->st_memory;
        return 0;
    }
    return -1;
}

/* ---- Modules and instances ---------------------------------------------- */

static int cliw_read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = cliw_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void cliw_add_instance(cliw_state *s, lw_instance *inst)
{
    if (s->ninsts == s->cap_insts) {
        s->cap_insts = s->cap_insts ? s->cap_insts * 2 : 16;
        s->insts = cliw_xrealloc(s->insts, s->cap_insts * sizeof *s->insts);
    }
    s->insts[s->ninsts++] = inst;
}

/* Resolves import i of m against the registered modules; on failure writes
 * the reason (the spec's wording) into msg and returns -1. */
static int cliw_resolve_import(cliw_state *s, const lw_module *m, uint32_t i,
                               lw_extern *out, char *msg, size_t msgsize)
{
    lw_import imp;
    lw_module_import(m, i, &imp);
    const cliw_reg *reg = NULL;
    /* The latest registration of a name wins. */
    for (size_t r = s->nregs; r-- > 0;) {
        if (s->regs[r].as_len == imp.module_len &&
            !memcmp(s->regs[r].as, imp.module, imp.module_len)) {
            reg = &s->regs[r];
            break;
        }
    }
    int found;
    if (!reg)
        found = -1;
    else if (!reg->inst)
        found = cliw_spectest_export(s, imp.name, imp.name_len, out);
    else
        found = lw_instance_export_n(reg->inst, imp.name, imp.name_len, out);
    if (found != 0) {
        snprintf(msg, msgsize, "unknown import \"%s\" \"%s\"", imp.module, imp.name);
        return -1;
    }
    if (out->kind != imp.type.kind) {
        snprintf(msg, msgsize, "incompatible import type for \"%s\" \"%s\"",
                 imp.module, imp.name);
        return -1;
    }
    return 0;
}

/* Runs f with args to completion on the file's exec, resuming across
 * yields (WAST_BUDGET) and host suspensions. Returns LW_OK or LW_TRAP. */
static int cliw_run(cliw_state *s, lw_func *f, const lw_val *args)
{
    int st = lw_exec_call(s->x, f, args);
    while (st == LW_YIELD || st == LW_SUSPEND) {
        s->resumes++;
        st = lw_exec_resume(s->x);
    }
    return st;
}

static const cliw_file *cliw_find_file(const cliw_state *s, const char *name)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i].name, name))
            return &s->files[i];
    return NULL;
}

/* Loads the module file, links it and instantiates it, then runs its start
 * function. On CLIW_INST_OK *out is the new instance; it and any instance
 * whose start function trapped are kept until the end of the file. msg
 * receives the reason of any failure. */
static cliw_inst_status cliw_instantiate(cliw_state *s, const char *file,
                                         lw_instance **out, char *msg, size_t msgsize)
{
    *out = NULL;
    msg[0] = 0;
    const cliw_file *fl = cliw_find_file(s, file);
    if (!fl) {
        snprintf(msg, msgsize, "wast2json wrote no file %s", file);
        return CLIW_INST_IO;
    }
    lw_error err = { 0 };
    lw_module *m = lw_module_new(fl->bytes, fl->len, &err);
    if (!m) {
        snprintf(msg, msgsize, "%s (at byte %zu)", err.msg, err.offset);
        return CLIW_INST_INVALID;
    }

    uint32_t nimports = lw_module_num_imports(m);
    lw_extern *imports = cliw_xrealloc(NULL, (nimports ? nimports : 1) * sizeof *imports);
    for (uint32_t i = 0; i < nimports; i++) {
        if (cliw_resolve_import(s, m, i, &imports[i], msg, msgsize)) {
            free(imports);
            lw_module_release(m);
            return CLIW_INST_UNLINKABLE;
        }
    }
    /* WAST_DEFER=1: data segments are copied at their first access */
    lw_limits limits = {.defer_data = getenv("WAST_DEFER") != NULL};
    memset(&err, 0, sizeof err);
    lw_instance *inst = lw_instance_new(m, imports, nimports, &limits, &err);
    free(imports);
    /* The instance holds its own reference to the module. */
    lw_module_release(m);
    if (!inst) {
        snprintf(msg, msgsize, "%s", err.msg);
        return CLIW_INST_FAILED;
    }
    cliw_add_instance(s, inst);

    lw_func *start = lw_instance_start_func(inst);
    lw_val none[1] = { 0 };   /* start takes no arguments; never pass NULL */
    if (start && cliw_run(s, start, none) != LW_OK) {
        snprintf(msg, msgsize, "start function trapped: %s",
                 lw_exec_trap_message(s->x));
        return CLIW_INST_START_TRAP;
    }
    *out = inst;
    return CLIW_INST_OK;
}

static lw_instance *cliw_find_named(const cliw_state *s, const char *name)
{
    for (size_t i = s->nnamed; i-- > 0;)
        if (!strcmp(s->named[i].name, name))
            return s->named[i].inst;
    return NULL;
}

/* ---- Commands ------------------------------------------------------------ */

static void cliw_cmd_module(cliw_state *s, json_t *cmd)
{
    const char *file = json_string_value(json_object_get(cmd, "filename"));
    const char *name = json_string_value(json_object_get(cmd, "name"));
    char msg[512];
    lw_instance *inst = NULL;
    s->current = NULL;
    if (!file) {
        cliw_fail(s, "no filename");
        return;
    }
    cliw_inst_status st = cliw_instantiate(s, file, &inst, msg, sizeof msg);
    if (st != CLIW_INST_OK) {
        cliw_fail(s, "%s: expected a module, got: %s", file, msg);
        return;
    }
    s->current = inst;
    if (name) {
        if (s->nnamed == s->cap_named) {
            s->cap_named = s->cap_named ? s->cap_named * 2 : 8;
            s->named = cliw_xrealloc(s->named, s->cap_named * sizeof *s->named);
        }
        s->named[s->nnamed].name = cliw_xstrndup(name, strlen(name));
        s->named[s->nnamed].inst = inst;
        s->nnamed++;
    }
    cliw_pass(s);
}

static void cliw_cmd_register(cliw_state *s, json_t *cmd)
{
    const char *name = json_string_value(json_object_get(cmd, "name"));
    json_t *as = json_object_get(cmd, "as");
    lw_instance *inst = name ? cliw_find_named(s, name) : s->current;
    if (!inst || !json_is_string(as)) {
        cliw_fail(s, "no module %s to register", name ? name : "(current)");
        return;
    }
    if (s->nregs == s->cap_regs) {
        s->cap_regs = s->cap_regs ? s->cap_regs * 2 : 8;
        s->regs = cliw_xrealloc(s->regs, s->cap_regs * sizeof *s->regs);
    }
    s->regs[s->nregs].as_len = json_string_length(as);
    s->regs[s->nregs].as = cliw_xstrndup(json_string_value(as), s->regs[s->nregs].as_len);
    s->regs[s->nregs].inst = inst;
    s->nregs++;
    cliw_pass(s);
}

/* The result of performing an action. */
typedef struct cliw_outcome {
    int status;               /* LW_OK or LW_TRAP; -1 = could not run */
    uint32_t nresults;
    const uint8_t *types;     /* result types */
    const lw_val *results;  /* valid until the next run */
    uint8_t get_type;         /* storage for a global's type */
    lw_val get_val;
} cliw_outcome;

/* Performs an invoke or get action. Returns -1 after reporting the failure
 * when the action cannot even be attempted (unknown export, bad args). */
static int cliw_action(cliw_state *s, json_t *action, cliw_outcome *o)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *modname = json_string_value(json_object_get(action, "module"));
    json_t *field = json_object_get(action, "field");
    const char *fname = json_string_value(field);
    memset(o, 0, sizeof *o);
    o->status = -1;

    lw_instance *inst = modname ? cliw_find_named(s, modname) : s->current;
    if (!inst) {
        cliw_fail(s, "no module %s", modname ? modname : "(current)");
        return -1;
    }
    if (!type || !fname) {
        cliw_fail(s, "malformed action");
        return -1;
    }
    lw_extern ext;
    if (lw_instance_export_n(inst, fname, json_string_length(field), &ext)) {
        cliw_fail(s, "unknown export \"%s\"", fname);
        return -1;
    }

    if (!strcmp(type, "get")) {
        if (ext.kind != LW_EXTERN_GLOBAL) {
            cliw_fail(s, "export \"%s\" is not a global", fname);
            return -1;
        }
        o->status = LW_OK;
        o->get_val = lw_global_get(ext.u.global);
        o->nresults = 1;
        o->results = &o->get_val;
        o->types = NULL;   /* the expected type is taken as the global's */
        return 0;
    }
    if (strcmp(type, "invoke")) {
        cliw_fail(s, "unknown action type %s", type);
        return -1;
    }
    if (ext.kind != LW_EXTERN_FUNC) {
        cliw_fail(s, "export \"%s\" is not a function", fname);
        return -1;
    }
    const lw_functype *ft = lw_func_type(ext.u.func);
    json_t *jargs = json_object_get(action, "args");
    size_t nargs = json_array_size(jargs);
    if (nargs != ft->nparams) {
        cliw_fail(s, "\"%s\" takes %u arguments, script passes %zu", fname,
                  ft->nparams, nargs);
        return -1;
    }
    lw_val *args = cliw_xrealloc(NULL, (nargs ? nargs : 1) * sizeof *args);
    for (size_t i = 0; i < nargs; i++) {
        cliw_value v;
        if (cliw_value_parse(json_array_get(jargs, i), 0, &v) || v.type != ft->params[i]) {
            free(args);
            cliw_fail(s, "\"%s\": argument %zu unsupported or of the wrong type", fname, i);
            return -1;
        }
        args[i] = v.v;
    }
    o->status = cliw_run(s, ext.u.func, args);
    free(args);
    if (o->status == LW_OK) {
        o->nresults = ft->nresults;
        o->types = ft->results;
        o->results = lw_exec_results(s->x);
    }
    return 0;
}

static const char *cliw_action_name(json_t *action)
{
    const char *f = json_string_value(json_object_get(json_object_get(action, "action"), "field"));
    return f ? f : "?";
}

/* Does a trap of kind k with message msg satisfy the script's text? The
 * script may append detail to the kind's wording ("uninitialized element 2"),
 * and the engine may put detail into its message. */
static int cliw_trap_matches(const char *text, lw_trapkind k, const char *msg)
{
    const char *km = lw_trapkind_message(k);
    size_t kl = strlen(km);
    if (!strncmp(text, km, kl) && (text[kl] == 0 || text[kl] == ' '))
        return 1;
    return msg && strstr(msg, text) != NULL;
}

static void cliw_trap_describe(const cliw_state *s, char *buf, size_t size)
{
    snprintf(buf, size, "trap (%s: %s)", lw_trapkind_message(lw_exec_trap_kind(s->x)),
             lw_exec_trap_message(s->x));
}

static void cliw_cmd_action(cliw_state *s, json_t *cmd)
{
    cliw_outcome o;
    if (cliw_action(s, json_object_get(cmd, "action"), &o))
        return;
    if (o.status != LW_OK) {
        char buf[320];
        cliw_trap_describe(s, buf, sizeof buf);
        cliw_fail(s, "\"%s\": expected no trap, got %s", cliw_action_name(cmd), buf);
        return;
    }
    cliw_pass(s);
}

static void cliw_cmd_assert_return(cliw_state *s, json_t *cmd)
{
    json_t *expected = json_object_get(cmd, "expected");
    size_t nexp = json_array_size(expected);
    const char *fname = cliw_action_name(cmd);
    cliw_outcome o;
    if (cliw_action(s, json_object_get(cmd, "action"), &o))
        return;
    if (o.status != LW_OK) {
        char buf[320];
        cliw_trap_describe(s, buf, sizeof buf);
        cliw_fail(s, "\"%s\": expected a return, got %s", fname, buf);
        return;
    }
    if (nexp != o.nresults) {
        cliw_fail(s, "\"%s\": expected %zu results, got %u", fname, nexp, o.nresults);
        return;
    }
    for (size_t i = 0; i < nexp; i++) {
        cliw_value e;
        char ebuf[96], gbuf[96];
        if (cliw_value_parse(json_array_get(expected, i), 1, &e)) {
            cliw_fail(s, "\"%s\": result %zu has an unsupported expected value", fname, i);
            return;
        }
        if (o.types && o.types[i] != e.type) {
            cliw_fail(s, "\"%s\": result %zu: expected type %s, function returns %s", fname,
                      i, cliw_type_name(e.type), cliw_type_name(o.types[i]));
            return;
        }
        lw_val got = o.results[i];
        if (!cliw_value_matches(&e, got)) {
            cliw_expect_format(ebuf, sizeof ebuf, &e);
            cliw_value_format(gbuf, sizeof gbuf, e.type, got);
            cliw_fail(s, "\"%s\": result %zu: expected %s, got %s", fname, i, ebuf, gbuf);
            return;
        }
    }
    cliw_pass(s);
}

/* assert_trap and assert_exhaustion: the action must trap with the text. */
static void cliw_cmd_assert_trap(cliw_state *s, json_t *cmd, int exhaustion)
{
    const char *text = json_string_value(json_object_get(cmd, "text"));
    const char *fname = cliw_action_name(cmd);
    cliw_outcome o;
    if (!text)
        text = "";
    if (cliw_action(s, json_object_get(cmd, "action"), &o))
        return;
    if (o.status == LW_OK) {
        cliw_fail(s, "\"%s\": expected trap \"%s\", got a return", fname, text);
        return;
    }
    lw_trapkind k = lw_exec_trap_kind(s->x);
    int ok = exhaustion ? k == LW_TRAP_STACK_EXHAUSTED
                        : cliw_trap_matches(text, k, lw_exec_trap_message(s->x));
    if (!ok) {
        char buf[320];
        cliw_trap_describe(s, buf, sizeof buf);
        cliw_fail(s, "\"%s\": expected trap \"%s\", got %s", fname, text, buf);
        return;
    }
    cliw_pass(s);
}

/* assert_invalid and assert_malformed of binary modules: decoding or
 * validation must fail. The engine's wording is not compared: it is free to
 * differ from the reference interpreter's. */
static void cliw_cmd_assert_invalid(cliw_state *s, json_t *cmd)
{
    const char *file = json_string_value(json_object_get(cmd, "filename"));
    const char *text = json_string_value(json_object_get(cmd, "text"));
    const cliw_file *fl = file ? cliw_find_file(s, file) : NULL;
    if (!fl) {
        cliw_fail(s, "no module file %s", file ? file : "named");
        return;
    }
    lw_error err = { 0 };
    lw_module *m = lw_module_new(fl->bytes, fl->len, &err);
    if (m) {
        lw_module_release(m);
        cliw_fail(s, "%s: expected failure \"%s\", got a valid module", file,
                  text ? text : "");
        return;
    }
    if (s->verbose)
        printf("%s:%d: %s: expected \"%s\", engine says \"%s\"\n", s->path, s->line,
               s->cmd, text ? text : "", err.msg);
    cliw_pass(s);
}

/* assert_unlinkable: a valid module whose imports do not resolve or match. */
static void cliw_cmd_assert_unlinkable(cliw_state *s, json_t *cmd)
{
    const char *file = json_string_value(json_object_get(cmd, "filename"));
    const char *text = json_string_value(json_object_get(cmd, "text"));
    char msg[512];
    lw_instance *inst;
    if (!file) {
        cliw_fail(s, "no filename");
        return;
    }
    cliw_inst_status st = cliw_instantiate(s, file, &inst, msg, sizeof msg);
    if (st == CLIW_INST_UNLINKABLE || st == CLIW_INST_FAILED) {
        if (s->verbose)
            printf("%s:%d: %s: expected \"%s\", got \"%s\"\n", s->path, s->line, s->cmd,
                   text ? text : "", msg);
        cliw_pass(s);
        return;
    }
    if (st == CLIW_INST_OK)
        snprintf(msg, sizeof msg, "a linked instance");
    cliw_fail(s, "%s: expected link failure \"%s\", got %s", file, text ? text : "", msg);
}

/* assert_uninstantiable: links, but a segment does not fit or the start
 * function traps. */
static void cliw_cmd_assert_uninstantiable(cliw_state *s, json_t *cmd)
{
    const char *file = json_string_value(json_object_get(cmd, "filename"));
    const char *text = json_string_value(json_object_get(cmd, "text"));
    char msg[512];
    lw_instance *inst;
    if (!text)
        text = "";
    if (!file) {
        cliw_fail(s, "no filename");
        return;
    }
    cliw_inst_status st = cliw_instantiate(s, file, &inst, msg, sizeof msg);
    int ok = 0;
    if (st == CLIW_INST_FAILED)
        ok = strstr(msg, text) != NULL;
    else if (st == CLIW_INST_START_TRAP)
        ok = cliw_trap_matches(text, lw_exec_trap_kind(s->x), lw_exec_trap_message(s->x));
    if (ok) {
        cliw_pass(s);
        return;
    }
    if (st == CLIW_INST_OK)
        snprintf(msg, sizeof msg, "an instance whose start (if any) returned");
    cliw_fail(s, "%s: expected instantiation failure \"%s\", got %s", file, text, msg);
}

static void cliw_command(cliw_state *s, json_t *cmd)
{
    const char *type = json_string_value(json_object_get(cmd, "type"));
    const char *mtype = json_string_value(json_object_get(cmd, "module_type"));
    s->line = (int)json_integer_value(json_object_get(cmd, "line"));
    s->cmd = type ? type : "?";
    /* Text modules are for text-format parsers; the engine reads binaries. */
    if (mtype && !strcmp(mtype, "text"))
        return;
    if (!type)
        cliw_fail(s, "command without a type");
    else if (!strcmp(type, "module"))
        cliw_cmd_module(s, cmd);
    else if (!strcmp(type, "register"))
        cliw_cmd_register(s, cmd);
    else if (!strcmp(type, "action"))
        cliw_cmd_action(s, cmd);
    else if (!strcmp(type, "assert_return"))
        cliw_cmd_assert_return(s, cmd);
    else if (!strcmp(type, "assert_trap"))
        cliw_cmd_assert_trap(s, cmd, 0);
    else if (!strcmp(type, "assert_exhaustion"))
        cliw_cmd_assert_trap(s, cmd, 1);
    else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed"))
        cliw_cmd_assert_invalid(s, cmd);
    else if (!strcmp(type, "assert_unlinkable"))
        cliw_cmd_assert_unlinkable(s, cmd);
    else if (!strcmp(type, "assert_uninstantiable"))
        cliw_cmd_assert_uninstantiable(s, cmd);
    else
        cliw_fail(s, "unknown command type");
}

/* ---- The temporary directory and wast2json ------------------------------- */

/* Runs `wast2json wast -o dir/x.json`; returns its exit status, or -1. */
static int cliw_wast2json(const char *wast, const char *json)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* wast2json's diagnostics go to stderr; its stdout is unused. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execlp("wast2json", "wast2json", wast, "-o", json, (char *)NULL);
        fprintf(stderr, "lunatic wast: cannot run wast2json: %s\n", strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Reads every file wast2json put into dir (it makes no subdirectories)
 * into s->files, unless s is NULL, and removes them and dir. Returns -1 if
 * a file could not be read; the directory is removed in any case. */
static int cliw_slurp_rmdir(cliw_state *s, const char *dir)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096 + 256 + 8];   /* dir + "/" + d_name */
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (s) {
                cliw_file fl;
                if (cliw_read_file(path, &fl.bytes, &fl.len)) {
                    fprintf(stderr, "lunatic wast: cannot read %s: %s\n", path,
                            strerror(errno));
                    rc = -1;
                } else {
                    fl.name = cliw_xstrndup(e->d_name, strlen(e->d_name));
                    if (s->nfiles == s->cap_files) {
                        s->cap_files = s->cap_files ? s->cap_files * 2 : 64;
                        s->files = cliw_xrealloc(s->files, s->cap_files * sizeof *s->files);
                    }
                    s->files[s->nfiles++] = fl;
                }
            }
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    return rc;
}

static void cliw_state_free(cliw_state *s)
{
    /* Reverse order: importers go before the instances they import from. */
    for (size_t i = s->ninsts; i-- > 0;)
        lw_instance_free(s->insts[i]);
    free(s->insts);
    for (size_t i = 0; i < s->nnamed; i++)
        free(s->named[i].name);
    free(s->named);
    for (size_t i = 0; i < s->nregs; i++)
        free(s->regs[i].as);
    free(s->regs);
    for (size_t i = 0; i < s->nfiles; i++) {
        free(s->files[i].name);
        free(s->files[i].bytes);
    }
    free(s->files);
    cliw_spectest_free(s);
    if (s->x)
        lw_exec_free(s->x);
}

static void cliw_usage(void)
{
    fprintf(stderr, "usage: lunatic wast [-v] FILE.wast\n"
                    "  WAST_BUDGET=N  run with a reduction budget of N, resuming each yield\n"
                    "  WAST_DEFER=1   copy data segments at their first access (defer_data)\n");
}

/* lunatic wast [-v] FILE.wast: see the top of this file. */
int cli_wast(int argc, char **argv)
{
    cliw_state s;
    memset(&s, 0, sizeof s);
    const char *wast = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            s.verbose = 1;
        else if (argv[i][0] == '-' || wast) {
            cliw_usage();
            return 2;
        } else
            wast = argv[i];
    }
    if (!wast) {
        cliw_usage();
        return 2;
    }
    s.path = wast;

    uint64_t budget = 0;
    const char *b = getenv("WAST_BUDGET");
    if (b && *b) {
        char *end;
        budget = strtoull(b, &end, 10);
        if (*end || budget == 0) {
            fprintf(stderr, "lunatic wast: WAST_BUDGET must be a positive number\n");
            return 2;
        }
    }

    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/lunatic-wast-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "lunatic wast: mkdtemp %s: %s\n", dir, strerror(errno));
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char json_path[4200];
    snprintf(json_path, sizeof json_path, "%s/x.json", dir);
    json_t *root = NULL;
    json_error_t jerr;
    int rc = cliw_wast2json(wast, json_path);
    if (rc != 0)
        fprintf(stderr, "lunatic wast: wast2json %s failed (status %d)\n", wast, rc);
    else if (!(root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr)))
        fprintf(stderr, "lunatic wast: %s: bad JSON: %s (line %d)\n", wast, jerr.text,
                jerr.line);
    json_t *cmds = json_object_get(root, "commands");
    if (cliw_slurp_rmdir(rc == 0 ? &s : NULL, dir) || !json_is_array(cmds)) {
        json_decref(root);
        cliw_state_free(&s);
        printf("0 passed, 1 failed\n");
        return 1;
    }

    s.x = lw_exec_new(0);
    lw_exec_set_user(s.x, &s);
    if (budget)
        lw_exec_set_budget(s.x, budget);
    cliw_spectest_new(&s);
    s.nregs = s.cap_regs = 1;
    s.regs = cliw_xrealloc(NULL, sizeof *s.regs);
    s.regs[0].as = cliw_xstrndup("spectest", 8);
    s.regs[0].as_len = 8;
    s.regs[0].inst = NULL;

    for (size_t i = 0; i < json_array_size(cmds); i++)
        cliw_command(&s, json_array_get(cmds, i));

    cliw_state_free(&s);
    json_decref(root);
    if (s.verbose)
        printf("%llu resumes\n", s.resumes);
    printf("%u passed, %u failed\n", s.passed, s.failed);
    fflush(stdout);
    return s.failed ? 1 : 0;
}
