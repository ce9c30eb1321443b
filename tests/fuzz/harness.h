/*
 * harness.h - the engine fuzzing harness shared by the libFuzzer target
 * (fuzz_engine.c) and the regression replayer (replay.c).
 *
 * fuzz_one(bytes, len): decodes and validates the bytes; if they form a
 * valid module, instantiates it with every import satisfied by a dummy host
 * object of the declared type (host functions return zeros), with memory
 * capped at 16 MiB; runs the start function, then every exported function
 * with all-zero arguments, each on an exec with a small fuel and budget
 * (resuming on LW_YIELD a bounded number of times); frees everything.
 * It must never crash, leak, or run for long, whatever the input.
 */
#ifndef LUNATIC_FUZZ_HARNESS_H
#define LUNATIC_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/lw.h"

#define FUZZ_MAX_MEM_PAGES 256u          /* 16 MiB */
#define FUZZ_MAX_TABLE 100000u
#define FUZZ_FUEL 10000u
#define FUZZ_BUDGET 100u
#define FUZZ_MAX_RESUMES 1000
#define FUZZ_MAX_EXPORT_CALLS 64u

static int fuzz_host_zero(lw_exec *x, void *env, lw_val *args)
{
    (void)x;
    const lw_functype *t = env;
    for (uint32_t i = 0; i < t->nresults; i++)
        args[i] = 0;
    return LW_OK;
}

static void fuzz_run(lw_func *f)
{
    const lw_functype *t = lw_func_type(f);
    lw_val *args = calloc(t->nparams ? t->nparams : 1, sizeof *args);
    lw_exec *x = lw_exec_new(1u << 20);
    if (!args || !x) {
        free(args);
        lw_exec_free(x);
        return;
    }
    lw_exec_set_fuel(x, FUZZ_FUEL);
    lw_exec_set_budget(x, FUZZ_BUDGET);
    int st = lw_exec_call(x, f, args);
    for (int n = 0; st == LW_YIELD && n < FUZZ_MAX_RESUMES; n++)
        st = lw_exec_resume(x);
    if (st == LW_OK) {
        const lw_val *r = lw_exec_results(x);
        volatile lw_val sink = 0;
        for (uint32_t i = 0; i < t->nresults; i++)
            sink ^= r[i];
        (void)sink;
    } else if (st == LW_TRAP) {
        char buf[512];
        lw_exec_trap_format(x, buf, sizeof buf);
    }
    lw_exec_free(x);
    free(args);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    lw_error err;
    lw_module *m = lw_module_new(data, size, &err);
    if (!m)
        return;
    uint32_t ni = lw_module_num_imports(m);
    lw_extern *ex = calloc(ni ? ni : 1, sizeof *ex);
    lw_instance *inst = NULL;
    uint32_t made = 0;
    if (!ex)
        goto done;
    for (; made < ni; made++) {
        lw_import im;
        lw_module_import(m, made, &im);
        const lw_externtype *t = &im.type;
        ex[made].kind = t->kind;
        switch (t->kind) {
        case LW_EXTERN_FUNC:
            ex[made].u.func = lw_func_new_host(t->func, fuzz_host_zero, (void *)t->func);
            if (!ex[made].u.func)
                goto done;
            break;
        case LW_EXTERN_TABLE:
            if (t->min > FUZZ_MAX_TABLE)
                goto done;
            ex[made].u.table = lw_table_new(t->elemtype, t->min, t->has_max ? t->max : FUZZ_MAX_TABLE, 1);
            if (!ex[made].u.table)
                goto done;
            break;
        case LW_EXTERN_MEMORY: {
            if (t->min > FUZZ_MAX_MEM_PAGES)
                goto done;
            uint32_t max = t->has_max && t->max < FUZZ_MAX_MEM_PAGES ? t->max : FUZZ_MAX_MEM_PAGES;
            ex[made].u.memory = lw_memory_new(t->min, max, 1);
            if (!ex[made].u.memory)
                goto done;
            break;
        }
        case LW_EXTERN_GLOBAL:
            ex[made].u.global = lw_global_new(t->valtype, t->mut, 0);
            if (!ex[made].u.global)
                goto done;
            break;
        }
    }
    /* inputs of odd length defer their data segments (as processes do) */
    lw_limits lim = {.max_memory_bytes = (uint64_t)FUZZ_MAX_MEM_PAGES * 65536u,
                       .max_table_elems = FUZZ_MAX_TABLE,
                       .defer_data = (int)(size & 1)};
    inst = lw_instance_new(m, ex, ni, &lim, &err);
    if (!inst)
        goto done;
    lw_func *start = lw_instance_start_func(inst);
    if (start)
        fuzz_run(start);
    uint32_t ne = lw_module_num_exports(m), calls = 0;
    for (uint32_t i = 0; i < ne && calls < FUZZ_MAX_EXPORT_CALLS; i++) {
        lw_export e;
        lw_module_export(m, i, &e);
        if (e.type.kind != LW_EXTERN_FUNC)
            continue;
        lw_extern out;
        if (lw_instance_export_n(inst, e.name, e.name_len, &out) != 0 || out.kind != LW_EXTERN_FUNC)
            abort();   /* a declared export must resolve */
        fuzz_run(out.u.func);
        calls++;
    }
done:
    lw_instance_free(inst);
    for (uint32_t i = 0; i < made; i++) {
        switch (ex[i].kind) {
        case LW_EXTERN_FUNC: lw_func_free(ex[i].u.func); break;
        case LW_EXTERN_TABLE: lw_table_free(ex[i].u.table); break;
        case LW_EXTERN_MEMORY: lw_memory_free(ex[i].u.memory); break;
        case LW_EXTERN_GLOBAL: lw_global_free(ex[i].u.global); break;
        }
    }
    free(ex);
    lw_module_release(m);
}

#endif
