/*
 * interp.c - the interpreter: direct-threaded dispatch over internal code.
 *
 * One C function runs every Wasm frame of an exec: calls push a lw_frame
 * and jump, returns pop and jump, so the C stack never grows with Wasm
 * recursion and a run can stop at any call or backward branch and resume
 * later (on another thread) from x->pc and the frame stack alone.
 *
 * Dispatch: each instruction's first cell holds its handler's offset from
 * the label `base`; NEXT() adds and jumps (labels as values, supported by
 * gcc and clang). Hot state lives in locals the compiler keeps in
 * registers: pc, fp, mem, memsize, reds.
 *
 * Reductions: every function entry and taken backward branch is a charge.
 * A run with budget B stops with LW_YIELD at its B-th charge (so budget 1
 * stops at every possible point); the stopping charge is counted, and the
 * resumed run starts at the branch target or callee entry without charging
 * again, so fuel use does not depend on the budget. Fuel F allows exactly F
 * charges; the next one traps with OUT_OF_FUEL. `reds` holds the charges
 * this run may still make before it stops.
 *
 * Invariant at every stop: x->pc is where to continue; frames[nframes-1]
 * holds the running function's fp and instance.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

static inline uint32_t rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline uint32_t rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline uint64_t rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline uint64_t rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }

/* Wasm min/max: NaN wins, and -0 is below +0. */
static inline float fmin32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float fmax32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double fmin64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double fmax64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Saturating truncations (NaN -> 0). */
static inline int32_t sat_i32_f32(float a)
{
    if (a != a) return 0;
    if (a < -2147483648.0f) return INT32_MIN;
    if (a >= 2147483648.0f) return INT32_MAX;
    return (int32_t)a;
}
static inline uint32_t sat_u32_f32(float a)
{
    if (!(a > -1.0f)) return 0;
    if (a >= 4294967296.0f) return UINT32_MAX;
    return (uint32_t)a;
}
static inline int32_t sat_i32_f64(double a)
{
    if (a != a) return 0;
    if (a <= -2147483649.0) return INT32_MIN;
    if (a >= 2147483648.0) return INT32_MAX;
    return (int32_t)a;
}
static inline uint32_t sat_u32_f64(double a)
{
    if (!(a > -1.0)) return 0;
    if (a >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)a;
}
static inline int64_t sat_i64_f32(float a)
{
    if (a != a) return 0;
    if (a < -9223372036854775808.0f) return INT64_MIN;
    if (a >= 9223372036854775808.0f) return INT64_MAX;
    return (int64_t)a;
}
static inline uint64_t sat_u64_f32(float a)
{
    if (!(a > -1.0f)) return 0;
    if (a >= 18446744073709551616.0f) return UINT64_MAX;
    return (uint64_t)a;
}
static inline int64_t sat_i64_f64(double a)
{
    if (a != a) return 0;
    if (a < -9223372036854775808.0) return INT64_MIN;
    if (a >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)a;
}
static inline uint64_t sat_u64_f64(double a)
{
    if (!(a > -1.0)) return 0;
    if (a >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)a;
}

/* Rounding functions that quiet a signalling NaN, as Wasm requires. */
static inline float q_ceilf(float a) { return a != a ? a + a : ceilf(a); }
static inline float q_floorf(float a) { return a != a ? a + a : floorf(a); }
static inline float q_truncf(float a) { return a != a ? a + a : truncf(a); }
static inline float q_nearbyintf(float a) { return a != a ? a + a : nearbyintf(a); }
static inline double q_ceil(double a) { return a != a ? a + a : ceil(a); }
static inline double q_floor(double a) { return a != a ? a + a : floor(a); }
static inline double q_trunc(double a) { return a != a ? a + a : trunc(a); }
static inline double q_nearbyint(double a) { return a != a ? a + a : nearbyint(a); }

const int32_t *lw_op_offsets;

static void interp_init_once(void) { lw_interp_run(NULL); }

/* Publishes the handler table once; pthread_once orders the write before
 * every reader, whichever thread compiles first. */
void lw_interp_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, interp_init_once);
}

static int grow_frames(lw_exec *x)
{
    if (x->frames_cap >= x->frames_max)
        return -1;
    uint32_t n = x->frames_cap ? x->frames_cap * 2 : 4;
    if (n > x->frames_max)
        n = x->frames_max;
    lw_frame *f = lw_grow_buf(x->frames, x->inline_frames, (size_t)x->frames_cap * sizeof *f,
                              n * sizeof *f);
    if (!f)
        return -1;
    x->frames = f;
    x->frames_cap = n;
    return 0;
}

/* Evaluates element segment item i for table.init. */
static uint64_t elem_item(lw_instance *inst, const lw_elemseg *s, uint32_t i)
{
    lw_val v = 0;
    lw_cexpr_eval(inst, &s->items[i], &v);
    return v;
}

/* Deferred data segments (lw_limits.defer_data) cost nothing per access:
 * while a memory has them, the interpreter sees its size as 0, so every
 * access takes the bounds check's slow path, mem_slow, which copies the
 * data in when an access touches it (or after LAZY_ACCESSES accesses, so
 * that a busy process that never reads its data is not slowed for long)
 * and otherwise lets the access proceed. */
#define LAZY_ACCESSES 65536u

static inline uint64_t visible_size(const lw_memory *m) { return m->lazy_hi ? 0 : m->size; }

/* The slow path of an access [off, off+len) past the visible size:
 * UINT64_MAX if it is out of bounds, else the visible size from now on.
 * (It returns the size rather than storing it so that the interpreter's
 * memsize never has its address taken and stays in a register.) */
static __attribute__((noinline, cold)) uint64_t mem_slow(lw_memory *m, uint64_t off, uint64_t len)
{
    if (off + len > m->size)
        return UINT64_MAX;
    if (lw_memory_lazy(m, off, len) || ++m->lazy_accesses >= LAZY_ACCESSES)
        lw_memory_materialize(m);
    return visible_size(m);
}

int lw_interp_run(lw_exec *x)
{
#define H(name) &&L_##name - &&L_UNREACHABLE,
#define HN(name, ...) &&L_##name - &&L_UNREACHABLE,
#define HI(n, c, f, rf, e, imm, br) HI_##imm(n)
#define HI_Y(n) &&L_##n##_I - &&L_UNREACHABLE,
#define HI_N(n)
#define HB(n, c, f, rf, e, imm, br) HB_##br(n)
#define HB_Y(n) &&L_BR_##n - &&L_UNREACHABLE,
#define HB_N(n)
#define HBI(n, c, f, rf, e, imm, br) HBI_##br(n)
#define HBI_Y(n) &&L_BR_##n##_I - &&L_UNREACHABLE,
#define HBI_N(n)
    static const int32_t offsets[OP_COUNT] = {LW_ALL_OPS(H, HN, HI, HB, HBI)};
    if (!x) {
        lw_op_offsets = offsets;
        return 0;
    }

    const char *const base = (const char *)&&L_UNREACHABLE;
#define NEXT() goto *(const void *)(base + (int32_t)*pc)
#define S(i) fp[pc[i]]

    const uint32_t *pc = x->pc;
    lw_frame *frame = &x->frames[x->nframes - 1];
    lw_instance *inst = frame->inst;
    lw_slot *fp = x->stack + frame->fp;
    uint8_t *mem = inst->mem->data;
    uint64_t memsize = visible_size(inst->mem);
    const lw_code *codes = inst->module->codes;

    /* Charges this run may make: budget - 1, or what is left of the fuel. */
    int64_t limit = x->budget ? (int64_t)(x->budget > INT64_MAX ? INT64_MAX : x->budget - 1) : INT64_MAX;
    bool fuel_limited = false;
    if (x->fuel != UINT64_MAX && x->fuel <= (uint64_t)limit) {
        limit = (int64_t)x->fuel;
        fuel_limited = true;
    }
    int64_t reds = limit;
    /* Set only when entering a function for lw_exec_continue_with. It is
     * declared here because handlers are entered by computed goto, which
     * would skip an initializer further down. */
    uint32_t catches = 0;
    lw_trapkind trap = LW_TRAP_NONE;
    int status;

#define RELOAD_MEM()                                                        \
    do {                                                                    \
        mem = inst->mem->data;                                              \
        memsize = visible_size(inst->mem);                                  \
    } while (0)
#define TRAP(kind)                                                          \
    do {                                                                    \
        trap = (kind);                                                      \
        goto do_trap;                                                       \
    } while (0)
#define JUMP(off)                                                           \
    do {                                                                    \
        int32_t o_ = (int32_t)(off);                                        \
        pc += o_;                                                           \
        if (o_ <= 0 && --reds < 0)                                          \
            goto out_of_reds;                                               \
        NEXT();                                                             \
    } while (0)
/* An access [off, off+len) beyond memsize: out of bounds, or the slow path
 * of a memory with deferred data (see visible_size). */
#define CHECK_MEM(off, len)                                                 \
    do {                                                                    \
        if (__builtin_expect((off) + (len) > memsize, 0)) {                 \
            uint64_t v_ = mem_slow(inst->mem, (off), (len));                \
            if (v_ == UINT64_MAX)                                           \
                TRAP(LW_TRAP_MEM_OOB);                                      \
            memsize = v_;                                                   \
        }                                                                   \
    } while (0)
#define EA(addr, off, size)                                                 \
    uint64_t ea = (uint64_t)S(addr).u32 + pc[off];                          \
    CHECK_MEM(ea, size);

    NEXT();

L_UNREACHABLE:
    TRAP(LW_TRAP_UNREACHABLE);
L_NOP:
    pc += 1;
    NEXT();
L_BR:
    JUMP(pc[1]);
L_BR_IF:
    if (S(1).u32)
        JUMP(pc[2]);
    pc += 3;
    NEXT();
L_BR_UNLESS:
    if (!S(1).u32)
        JUMP(pc[2]);
    pc += 3;
    NEXT();
L_BR_TABLE: {
    uint32_t i = S(1).u32, n = pc[2];
    JUMP(pc[3 + (i < n ? i : n)]);
}
L_RETURN1:
    fp[0] = S(1);
    /* fall through */
L_RETURN: {
    const uint32_t *ret = frame->ret_pc;
    x->nframes--;
    if (x->nframes == 0) {
        status = LW_OK;
        goto done;
    }
    frame--;
    pc = ret;
    fp = x->stack + frame->fp;
    if (frame->inst != inst) {
        inst = frame->inst;
        codes = inst->module->codes;
    }
    RELOAD_MEM();
    NEXT();
}

    /* Calls. callee/cinst name a Wasm function to enter at slot base. */
    const lw_code *callee;
    lw_instance *cinst;
    uint32_t argbase, ilen;
    lw_func *func;
L_CALL:
    callee = &codes[pc[1]];
    cinst = inst;
    argbase = pc[2];
    ilen = 3;
    goto enter;
L_CALL_IMPORT:
    func = inst->funcimports[pc[1]];
    argbase = pc[2];
    ilen = 3;
    goto call_func;
L_CALL_INDIRECT: {
    lw_table *t = inst->tables[pc[2]];
    uint32_t i = S(4).u32;
    if (i >= t->size)
        TRAP(LW_TRAP_UNDEF_ELEM);
    func = (lw_func *)(uintptr_t)t->elems[i];
    if (!func)
        TRAP(LW_TRAP_UNINIT_ELEM);
    if (func->type != inst->module->types[pc[1]])
        TRAP(LW_TRAP_SIG_MISMATCH);
    argbase = pc[3];
    ilen = 5;
    goto call_func;
}
call_func:
    if (func->kind == FUNC_WASM) {
        callee = func->u.w.code;
        cinst = func->u.w.inst;
        goto enter;
    } else {
        x->host_inst = inst;
        x->pc = pc;
        int st = func->u.h.fn(x, func->u.h.env, (lw_val *)(void *)(fp + argbase));
        if (st == LW_OK) {
            RELOAD_MEM();
            pc += ilen;
            NEXT();
        }
        if (st == LW_YIELD) {
            /* done, but it asks to give up the rest of the slice */
            pc += ilen;
            status = LW_YIELD;
            goto save;
        }
        if (st == LW_SUSPEND) {
            /* resume re-executes this call instruction */
            status = LW_SUSPEND;
            goto save;
        }
        if (st == LW_CALL && x->cont) {
            callee = x->cont->u.w.code;
            cinst = x->cont->u.w.inst;
            catches = x->cont_catch;
            x->cont = NULL;
            goto enter;
        }
        trap = x->trap != LW_TRAP_NONE ? x->trap : LW_TRAP_HOST;
        goto do_trap;
    }
enter: {
    uint64_t fpoff = (uint64_t)(fp - x->stack) + argbase;
    if (fpoff + callee->nslots > x->stack_cap) {
        if (lw_exec_grow_stack(x, fpoff + callee->nslots) < 0)
            TRAP(LW_TRAP_STACK_EXHAUSTED);
    }
    if (x->nframes == x->frames_cap && grow_frames(x) < 0)
        TRAP(LW_TRAP_STACK_EXHAUSTED);
    frame = &x->frames[x->nframes++];
    frame->ret_pc = pc + ilen;
    frame->code = callee;
    frame->inst = cinst;
    frame->fp = (uint32_t)fpoff;
    frame->catches = catches;
    if (catches) {
        frame->on_trap = x->cont_on_trap;
        catches = 0;
    }
    fp = x->stack + fpoff;
    if (callee->nlocals > callee->nparams)
        memset(fp + callee->nparams, 0, (callee->nlocals - callee->nparams) * sizeof *fp);
    if (cinst != inst) {
        inst = cinst;
        codes = inst->module->codes;
        RELOAD_MEM();
    }
    pc = callee->code;
    if (--reds < 0)
        goto out_of_reds;
    NEXT();
}

L_COPY:
    S(1) = S(2);
    pc += 3;
    NEXT();
L_COPY2:
    S(1) = S(2);
    S(3) = S(4);
    pc += 5;
    NEXT();
L_CONST32:
    S(1).u32 = pc[2];
    pc += 3;
    NEXT();
L_CONST64:
    S(1).u64 = (uint64_t)pc[2] | (uint64_t)pc[3] << 32;
    pc += 4;
    NEXT();
L_SELECT:
    S(1) = S(4).u32 ? S(2) : S(3);
    pc += 5;
    NEXT();
L_GLOBAL_GET:
    S(1) = inst->globals[pc[2]]->v;
    pc += 3;
    NEXT();
L_GLOBAL_SET:
    inst->globals[pc[1]]->v = S(2);
    pc += 3;
    NEXT();

    /* Trapping integer arithmetic. */
L_I32_DIV_S: {
    int32_t a = S(2).i32, b = S(3).i32;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    if (a == INT32_MIN && b == -1)
        TRAP(LW_TRAP_INT_OVERFLOW);
    S(1).i32 = a / b;
    pc += 4;
    NEXT();
}
L_I32_DIV_U: {
    uint32_t a = S(2).u32, b = S(3).u32;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).u32 = a / b;
    pc += 4;
    NEXT();
}
L_I32_REM_S: {
    int32_t a = S(2).i32, b = S(3).i32;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).i32 = (b == -1) ? 0 : a % b;
    pc += 4;
    NEXT();
}
L_I32_REM_U: {
    uint32_t a = S(2).u32, b = S(3).u32;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).u32 = a % b;
    pc += 4;
    NEXT();
}
L_I64_DIV_S: {
    int64_t a = S(2).i64, b = S(3).i64;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    if (a == INT64_MIN && b == -1)
        TRAP(LW_TRAP_INT_OVERFLOW);
    S(1).i64 = a / b;
    pc += 4;
    NEXT();
}
L_I64_DIV_U: {
    uint64_t a = S(2).u64, b = S(3).u64;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).u64 = a / b;
    pc += 4;
    NEXT();
}
L_I64_REM_S: {
    int64_t a = S(2).i64, b = S(3).i64;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).i64 = (b == -1) ? 0 : a % b;
    pc += 4;
    NEXT();
}
L_I64_REM_U: {
    uint64_t a = S(2).u64, b = S(3).u64;
    if (b == 0)
        TRAP(LW_TRAP_DIV_ZERO);
    S(1).u64 = a % b;
    pc += 4;
    NEXT();
}

    /* Trapping float-to-int truncations: NaN is an invalid conversion, a
     * value outside the target range an overflow. */
#define TRUNC(name, F, RF, T, lo_ok, hi_ok)                                 \
    L_##name: {                                                             \
        __typeof__(S(2).F) a = S(2).F;                                      \
        if (a != a)                                                         \
            TRAP(LW_TRAP_BAD_CONVERSION);                                   \
        if (!(lo_ok) || !(hi_ok))                                           \
            TRAP(LW_TRAP_INT_OVERFLOW);                                     \
        S(1).RF = (T)a;                                                     \
        pc += 3;                                                            \
        NEXT();                                                             \
    }
    TRUNC(I32_TRUNC_F32_S, f32, i32, int32_t, a >= -2147483648.0f, a < 2147483648.0f)
    TRUNC(I32_TRUNC_F32_U, f32, u32, uint32_t, a > -1.0f, a < 4294967296.0f)
    TRUNC(I32_TRUNC_F64_S, f64, i32, int32_t, a > -2147483649.0, a < 2147483648.0)
    TRUNC(I32_TRUNC_F64_U, f64, u32, uint32_t, a > -1.0, a < 4294967296.0)
    TRUNC(I64_TRUNC_F32_S, f32, i64, int64_t, a >= -9223372036854775808.0f, a < 9223372036854775808.0f)
    TRUNC(I64_TRUNC_F32_U, f32, u64, uint64_t, a > -1.0f, a < 18446744073709551616.0f)
    TRUNC(I64_TRUNC_F64_S, f64, i64, int64_t, a >= -9223372036854775808.0, a < 9223372036854775808.0)
    TRUNC(I64_TRUNC_F64_U, f64, u64, uint64_t, a > -1.0, a < 18446744073709551616.0)
#undef TRUNC

    /* Memory. Effective addresses are computed in 64 bits. */
#define LOAD(name, T, RF, size)                                             \
    L_##name: {                                                             \
        EA(2, 3, size);                                                     \
        T v;                                                                \
        memcpy(&v, mem + ea, size);                                         \
        S(1).RF = v;                                                        \
        pc += 4;                                                            \
        NEXT();                                                             \
    }
    LOAD(LOAD32, uint32_t, u64, 4)
    LOAD(LOAD64, uint64_t, u64, 8)
    LOAD(LOAD8_S32, int8_t, i32, 1)
    LOAD(LOAD8_U32, uint8_t, u64, 1)
    LOAD(LOAD16_S32, int16_t, i32, 2)
    LOAD(LOAD16_U32, uint16_t, u64, 2)
    LOAD(LOAD8_S64, int8_t, i64, 1)
    LOAD(LOAD16_S64, int16_t, i64, 2)
    LOAD(LOAD32_S64, int32_t, i64, 4)
#undef LOAD
#define STORE(name, T, F, size)                                             \
    L_##name: {                                                             \
        EA(1, 3, size);                                                     \
        T v = (T)S(2).F;                                                    \
        memcpy(mem + ea, &v, size);                                         \
        pc += 4;                                                            \
        NEXT();                                                             \
    }
    STORE(STORE8, uint8_t, u32, 1)
    STORE(STORE16, uint16_t, u32, 2)
    STORE(STORE32, uint32_t, u32, 4)
    STORE(STORE64, uint64_t, u64, 8)
#undef STORE

L_MEMORY_SIZE:
    S(1).u32 = inst->mem->pages;
    pc += 2;
    NEXT();
L_MEMORY_GROW:
    S(1).i32 = (int32_t)lw_instance_grow_memory(inst, S(2).u32);
    RELOAD_MEM();
    pc += 3;
    NEXT();
L_MEMORY_FILL: {
    uint64_t d = S(1).u32, n = S(3).u32;
    CHECK_MEM(d, n);
    memset(mem + d, (int)(uint8_t)S(2).u32, n);
    pc += 4;
    NEXT();
}
L_MEMORY_COPY: {
    uint64_t d = S(1).u32, s = S(2).u32, n = S(3).u32;
    CHECK_MEM(d, n);
    CHECK_MEM(s, n);
    memmove(mem + d, mem + s, n);
    pc += 4;
    NEXT();
}
L_MEMORY_INIT: {
    const lw_dataseg *seg = &inst->module->datas[pc[1]];
    uint64_t len = inst->data_dropped[pc[1]] ? 0 : seg->len;
    uint64_t d = S(2).u32, s = S(3).u32, n = S(4).u32;
    if (s + n > len)
        TRAP(LW_TRAP_MEM_OOB);
    CHECK_MEM(d, n);
    if (n)
        memcpy(mem + d, seg->bytes + s, n);
    pc += 5;
    NEXT();
}
L_DATA_DROP:
    inst->data_dropped[pc[1]] = 1;
    pc += 2;
    NEXT();

    /* Tables and references. */
L_TABLE_GET: {
    lw_table *t = inst->tables[pc[2]];
    uint32_t i = S(3).u32;
    if (i >= t->size)
        TRAP(LW_TRAP_TABLE_OOB);
    S(1).u64 = t->elems[i];
    pc += 4;
    NEXT();
}
L_TABLE_SET: {
    lw_table *t = inst->tables[pc[1]];
    uint32_t i = S(2).u32;
    if (i >= t->size)
        TRAP(LW_TRAP_TABLE_OOB);
    t->elems[i] = S(3).u64;
    pc += 4;
    NEXT();
}
L_TABLE_SIZE:
    S(1).u32 = inst->tables[pc[2]]->size;
    pc += 3;
    NEXT();
L_TABLE_GROW:
    S(1).i32 = lw_table_grow_internal(inst->tables[pc[2]], S(4).u32, S(3).u64,
                                      inst->max_table_elems);
    pc += 5;
    NEXT();
L_TABLE_FILL: {
    lw_table *t = inst->tables[pc[1]];
    uint64_t i = S(2).u32, n = S(4).u32;
    uint64_t v = S(3).u64;
    if (i + n > t->size)
        TRAP(LW_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    pc += 5;
    NEXT();
}
L_TABLE_COPY: {
    lw_table *dt = inst->tables[pc[1]], *st = inst->tables[pc[2]];
    uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
    if (d + n > dt->size || s + n > st->size)
        TRAP(LW_TRAP_TABLE_OOB);
    if (n)
        memmove(dt->elems + d, st->elems + s, n * sizeof *dt->elems);
    pc += 6;
    NEXT();
}
L_TABLE_INIT: {
    lw_table *t = inst->tables[pc[1]];
    const lw_elemseg *seg = &inst->module->elems[pc[2]];
    uint64_t len = inst->elem_dropped[pc[2]] ? 0 : seg->n;
    uint64_t d = S(3).u32, s = S(4).u32, n = S(5).u32;
    if (s + n > len || d + n > t->size)
        TRAP(LW_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        t->elems[d + k] = elem_item(inst, seg, (uint32_t)(s + k));
    pc += 6;
    NEXT();
}
L_ELEM_DROP:
    inst->elem_dropped[pc[1]] = 1;
    pc += 2;
    NEXT();
L_REF_IS_NULL:
    S(1).u32 = S(2).u64 == 0;
    pc += 3;
    NEXT();
L_REF_FUNC:
    S(1).u64 = (uint64_t)(uintptr_t)&inst->funcs[pc[2]];
    pc += 3;
    NEXT();

    /* Generated numeric handlers. */
#define BIN(name, code, F, RF, E, imm, br)                                  \
    L_##name: {                                                             \
        __typeof__(S(2).F) a = S(2).F, b = S(3).F;                          \
        S(1).RF = (E);                                                      \
        pc += 4;                                                            \
        NEXT();                                                             \
    }
    LW_BINOPS(BIN)
#undef BIN
#define UN(name, code, F, RF, E)                                            \
    L_##name: {                                                             \
        __typeof__(S(2).F) a = S(2).F;                                      \
        S(1).RF = (E);                                                      \
        pc += 3;                                                            \
        NEXT();                                                             \
    }
    LW_UNOPS(UN)
#undef UN
#define BINI(name, code, F, RF, E, imm, br) BINI_##imm(name, F, RF, E)
#define BINI_N(name, F, RF, E)
#define BINI_Y(name, F, RF, E)                                              \
    L_##name##_I: {                                                         \
        __typeof__(S(2).F) a = S(2).F;                                      \
        __typeof__(S(2).F) b = (__typeof__(S(2).F))(int32_t)pc[3];          \
        S(1).RF = (E);                                                      \
        pc += 4;                                                            \
        NEXT();                                                             \
    }
    LW_BINOPS(BINI)
#undef BINI
#define CMPBR(name, code, F, RF, E, imm, br) CMPBR_##br(name, F, E)
#define CMPBR_N(name, F, E)
#define CMPBR_Y(name, F, E)                                                 \
    L_BR_##name: {                                                          \
        __typeof__(S(1).F) a = S(1).F, b = S(2).F;                          \
        if (E)                                                              \
            JUMP(pc[3]);                                                    \
        pc += 4;                                                            \
        NEXT();                                                             \
    }                                                                       \
    L_BR_##name##_I: {                                                      \
        __typeof__(S(1).F) a = S(1).F;                                      \
        __typeof__(S(1).F) b = (__typeof__(S(1).F))(int32_t)pc[2];          \
        if (E)                                                              \
            JUMP(pc[3]);                                                    \
        pc += 4;                                                            \
        NEXT();                                                             \
    }
    LW_BINOPS(CMPBR)
#undef CMPBR

out_of_reds:
    /* pc is where to continue. */
    if (fuel_limited) {
        x->fuel = 0;
        trap = LW_TRAP_OUT_OF_FUEL;
        goto do_trap;
    }
    status = LW_YIELD;
    goto save;

do_trap:
    /* A trap inside lw_exec_continue_with(catch) unwinds to that call. */
    if (trap != LW_TRAP_EXIT) {
        for (uint32_t k = x->nframes; k-- > 1;) {
            if (!x->frames[k].catches)
                continue;
            lw_frame *c = &x->frames[k];
            x->stack[c->fp].u64 = c->on_trap;
            pc = c->ret_pc;
            x->nframes = k;
            frame = &x->frames[k - 1];
            fp = x->stack + frame->fp;
            inst = frame->inst;
            codes = inst->module->codes;
            RELOAD_MEM();
            x->trap = LW_TRAP_NONE;
            if (x->ti)
                x->ti->msg[0] = 0;
            trap = LW_TRAP_NONE;
            NEXT();
        }
    }
    x->trap = trap;
    x->pc = pc;
    status = LW_TRAP;
    goto done;

save:
    x->pc = pc;
done:;
    /* a yield's stopping charge (reds == -1) is counted */
    uint64_t used = (uint64_t)(limit - reds);
    if (x->fuel != UINT64_MAX && !(status == LW_TRAP && trap == LW_TRAP_OUT_OF_FUEL))
        x->fuel = used >= x->fuel ? 0 : x->fuel - used;
    /* only this thread writes it: a plain add, published for readers */
    atomic_store_explicit(&x->reductions,
                          atomic_load_explicit(&x->reductions, memory_order_relaxed) + used,
                          memory_order_relaxed);
    x->state = status;
    return status;
}
