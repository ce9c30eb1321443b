/*
 * dump.c - prints a function's internal code, for working on the compiler:
 * LUNATIC_DUMP_CODE=1 makes lw_module_new print every function it
 * compiles to stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wasm/internal.h"

#define NAME(n) #n,
#define NAME_N(n, ...) #n,
#define NAME_I(n, c, f, rf, e, imm, br) NAME_I_##imm(n)
#define NAME_I_Y(n) #n "_I",
#define NAME_I_N(n)
#define NAME_B(n, c, f, rf, e, imm, br) NAME_B_##br(n)
#define NAME_B_Y(n) "BR_" #n,
#define NAME_B_N(n)
#define NAME_BI(n, c, f, rf, e, imm, br) NAME_BI_##br(n)
#define NAME_BI_Y(n) "BR_" #n "_I",
#define NAME_BI_N(n)
static const char *const op_names[OP_COUNT] = {
    LW_ALL_OPS(NAME, NAME_N, NAME_I, NAME_B, NAME_BI)};

/* Cells of each plain op, handler included (0: variable). */
static unsigned op_len(uint32_t op, const uint32_t *pc)
{
    switch (op) {
    case OP_UNREACHABLE: case OP_NOP: case OP_RETURN: return 1;
    case OP_BR: case OP_RETURN1: case OP_MEMORY_SIZE: case OP_DATA_DROP: case OP_ELEM_DROP: return 2;
    case OP_BR_IF: case OP_BR_UNLESS: case OP_CALL: case OP_CALL_IMPORT: case OP_COPY:
    case OP_CONST32: case OP_GLOBAL_GET: case OP_GLOBAL_SET: case OP_MEMORY_GROW:
    case OP_TABLE_SIZE: case OP_REF_IS_NULL: case OP_REF_FUNC: return 3;
    case OP_CONST64: case OP_MEMORY_FILL: case OP_MEMORY_COPY: case OP_TABLE_GET:
    case OP_TABLE_SET: return 4;
    case OP_CALL_INDIRECT: case OP_COPY2: case OP_SELECT: case OP_MEMORY_INIT:
    case OP_TABLE_GROW: case OP_TABLE_FILL: return 5;
    case OP_TABLE_COPY: case OP_TABLE_INIT: return 6;
    case OP_BR_TABLE: return 4 + pc[2];
    }
    if (op >= OP_LOAD32 && op <= OP_STORE64)
        return 4;
    if (op >= OP_I32_TRUNC_F32_S && op <= OP_I64_TRUNC_F64_U)
        return 3;
    if (op >= OP_I32_DIV_S && op <= OP_I64_REM_U)
        return 4;
#define IS_UN(n, ...) || op == OP_##n
    if (0 LW_UNOPS(IS_UN))
        return 3;
    return 4; /* binary, immediate and compare-branch forms */
}

void lw_dump_code(const lw_module *m, const lw_code *c)
{
    const char *name = lw_module_func_name(m, c->funcidx);
    fprintf(stderr, "func %u %s: params %u locals %u slots %u\n", c->funcidx, name ? name : "",
            c->nparams, c->nlocals, c->nslots);
    for (uint32_t i = 0; i < c->ncode;) {
        uint32_t op = OP_COUNT;
        for (uint32_t k = 0; k < OP_COUNT; k++)
            if ((uint32_t)lw_op_offsets[k] == c->code[i])
                op = k;
        if (op == OP_COUNT) {
            fprintf(stderr, "  %5u  ?? %u\n", i, c->code[i]);
            return;
        }
        unsigned n = op_len(op, c->code + i);
        fprintf(stderr, "  %5u  %-18s", i, op_names[op]);
        for (unsigned k = 1; k < n; k++)
            fprintf(stderr, " %d", (int32_t)c->code[i + k]);
        fputc('\n', stderr);
        i += n;
    }
}
