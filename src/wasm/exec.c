/*
 * exec.c - execution contexts: starting, resuming and inspecting runs.
 *
 * An exec owns a value stack (grown on demand up to a maximum) and a frame
 * stack. A run is started by lw_exec_call and continued by
 * lw_exec_resume after LW_YIELD or LW_SUSPEND; on LW_TRAP the
 * backtrace is taken from the frames before they are discarded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

#define DEFAULT_STACK_BYTES (8u << 20)
#define MAX_FRAMES 100000u

lw_exec *lw_exec_new(size_t max_stack_bytes)
{
    lw_exec *x = lw_obj_alloc(sizeof *x);
    if (!x)
        return NULL;
    if (!max_stack_bytes)
        max_stack_bytes = DEFAULT_STACK_BYTES;
    uint64_t slots = max_stack_bytes / sizeof(lw_slot);
    x->stack_max = (uint32_t)(slots > UINT32_MAX / 2 ? UINT32_MAX / 2 : slots);
    x->frames_max = MAX_FRAMES;
    x->stack = x->inline_stack;
    x->stack_cap = x->stack_max < LW_INLINE_SLOTS ? x->stack_max : LW_INLINE_SLOTS;
    x->frames = x->inline_frames;
    x->frames_cap = LW_INLINE_FRAMES;
    x->fuel = UINT64_MAX;
    lw_interp_init();
    return x;
}

void lw_exec_free(lw_exec *x)
{
    if (!x)
        return;
    if (x->stack != x->inline_stack)
        free(x->stack);
    if (x->frames != x->inline_frames)
        free(x->frames);
    free(x->ti);
    lw_obj_free(x, sizeof *x);
}

void lw_exec_set_budget(lw_exec *x, uint64_t reductions) { x->budget = reductions; }
void lw_exec_set_fuel(lw_exec *x, uint64_t fuel) { x->fuel = fuel; }
uint64_t lw_exec_fuel(const lw_exec *x) { return x->fuel; }

uint64_t lw_exec_reductions(const lw_exec *x)
{
    return atomic_load_explicit(&x->reductions, memory_order_relaxed);
}

size_t lw_exec_host_bytes(const lw_exec *x)
{
    size_t n = sizeof *x;
    if (x->stack != x->inline_stack)
        n += (size_t)x->stack_cap * sizeof *x->stack;
    if (x->frames != x->inline_frames)
        n += (size_t)x->frames_cap * sizeof *x->frames;
    if (x->ti)
        n += sizeof *x->ti;
    return n;
}
void lw_exec_set_user(lw_exec *x, void *user) { x->user = user; }
void *lw_exec_user(const lw_exec *x) { return x->user; }

int lw_exec_grow_stack(lw_exec *x, uint64_t slots)
{
    if (slots <= x->stack_cap)
        return 0;
    if (slots > x->stack_max)
        return -1;
    /* Start small: an idle process keeps its stack, and a million of
     * them should not each hold 2 KiB they never use. */
    uint64_t n = x->stack_cap ? x->stack_cap : 32;
    while (n < slots)
        n *= 2;
    if (n > x->stack_max)
        n = x->stack_max;
    lw_slot *s = lw_grow_buf(x->stack, x->inline_stack, (size_t)x->stack_cap * sizeof *s,
                             n * sizeof *s);
    if (!s)
        return -1;
    x->stack = s;
    x->stack_cap = (uint32_t)n;
    return 0;
}

/* The exec's trap information, made on first use; NULL if out of memory
 * (the trap then reports only its kind). */
static lw_trapinfo *trapinfo(lw_exec *x)
{
    if (!x->ti)
        x->ti = calloc(1, sizeof *x->ti);
    return x->ti;
}

/* Records the backtrace of a trapped run and drops its frames. */
static int finish(lw_exec *x, int status)
{
    x->state = status;
    if (status == LW_TRAP) {
        lw_trapinfo *ti = x->nframes ? trapinfo(x) : x->ti;
        if (ti) {
            ti->bt_n = 0;
            for (uint32_t i = x->nframes; i-- > 0 && ti->bt_n < LW_BT_MAX;) {
                ti->bt_func[ti->bt_n] = x->frames[i].code->funcidx;
                ti->bt_mod[ti->bt_n] = x->frames[i].inst->module;
                ti->bt_n++;
            }
        }
        x->nframes = 0;
        x->host_pending = NULL;
    }
    if (status == LW_OK)
        x->host_pending = NULL;
    return status;
}

/* A top-level call of a host function: it runs here, not in the loop. */
static int run_host(lw_exec *x)
{
    lw_func *f = x->host_pending;
    int st = f->u.h.fn(x, f->u.h.env, (lw_val *)(void *)&x->stack[0]);
    if (st == LW_TRAP && x->trap == LW_TRAP_NONE)
        x->trap = LW_TRAP_HOST;
    if (st == LW_YIELD)
        st = LW_OK; /* complete; nothing is left to run */
    if (st != LW_SUSPEND && st != LW_OK && st != LW_TRAP)
        st = LW_TRAP, x->trap = LW_TRAP_HOST;
    return finish(x, st);
}

int lw_exec_reserve(lw_exec *x, const lw_func *f)
{
    const lw_functype *t = f->type;
    uint32_t need = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (f->kind == FUNC_WASM && f->u.w.code->nslots > need)
        need = f->u.w.code->nslots;
    return lw_exec_grow_stack(x, need + 1);
}

int lw_exec_call(lw_exec *x, lw_func *f, const lw_val *args)
{
    const lw_functype *t = f->type;
    x->trap = LW_TRAP_NONE;
    if (x->ti) {
        x->ti->msg[0] = 0;
        x->ti->bt_n = 0;
    }
    x->nframes = 0;
    x->host_pending = NULL;
    x->nresults = t->nresults;
    if (lw_exec_reserve(x, f) < 0) {
        x->trap = LW_TRAP_STACK_EXHAUSTED;
        return finish(x, LW_TRAP);
    }
    for (uint32_t i = 0; i < t->nparams; i++)
        x->stack[i].u64 = args[i];
    if (f->kind == FUNC_HOST) {
        x->host_pending = f;
        x->host_inst = NULL;
        return run_host(x);
    }
    const lw_code *c = f->u.w.code;
    if (c->nlocals > c->nparams)
        memset(&x->stack[c->nparams], 0, (c->nlocals - c->nparams) * sizeof(lw_slot));
    x->frames[0] = (lw_frame){.ret_pc = NULL, .code = c, .inst = f->u.w.inst, .fp = 0, .catches = 0};
    x->nframes = 1;
    x->pc = c->code;
    return finish(x, lw_interp_run(x));
}

int lw_exec_resume(lw_exec *x)
{
    if (x->state != LW_YIELD && x->state != LW_SUSPEND)
        return x->state;
    if (x->host_pending)
        return run_host(x);
    return finish(x, lw_interp_run(x));
}

const lw_val *lw_exec_results(const lw_exec *x)
{
    /* lw_slot and lw_val are both 64-bit cells */
    return (const lw_val *)(const void *)x->stack;
}

lw_instance *lw_exec_instance(const lw_exec *x) { return x->host_inst; }

void *lw_exec_mem(lw_exec *x, uint64_t offset, uint64_t len)
{
    lw_instance *inst = x->host_inst;
    if (!inst)
        return NULL;
    lw_memory *mem = inst->mem;
    if (offset > mem->size || len > mem->size - offset)
        return NULL;
    if (!mem->data)
        return len == 0 ? (void *)mem : NULL;
    if (lw_memory_lazy(mem, offset, len))
        lw_memory_materialize(mem);
    return mem->data + offset;
}

int lw_exec_continue_with(lw_exec *x, lw_func *f, int catch_traps, lw_val on_trap)
{
    if (f->kind != FUNC_WASM || !x->host_inst) {
        lw_exec_trap(x, LW_TRAP_HOST, "can only continue with a Wasm function");
        return LW_TRAP;
    }
    x->cont = f;
    x->cont_catch = catch_traps ? 1 : 0;
    x->cont_on_trap = on_trap;
    return LW_CALL;
}

void lw_exec_trap(lw_exec *x, lw_trapkind kind, const char *msg)
{
    x->trap = kind;
    lw_trapinfo *ti = msg && *msg ? trapinfo(x) : x->ti;
    if (ti)
        snprintf(ti->msg, sizeof ti->msg, "%s", msg ? msg : "");
}

void lw_exec_exit(lw_exec *x, int code)
{
    x->trap = LW_TRAP_EXIT;
    x->exit_code = code;
    if (x->ti)
        x->ti->msg[0] = 0;
}

lw_trapkind lw_exec_trap_kind(const lw_exec *x) { return x->trap; }

const char *lw_exec_trap_message(const lw_exec *x)
{
    return x->ti && x->ti->msg[0] ? x->ti->msg : lw_trapkind_message(x->trap);
}

int lw_exec_exit_code(const lw_exec *x) { return x->exit_code; }

size_t lw_exec_trap_format(const lw_exec *x, char *buf, size_t size)
{
    size_t n = 0;
#define OUT(...)                                                              \
    do {                                                                      \
        int k_ = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);     \
        if (k_ > 0)                                                           \
            n += (size_t)k_;                                                  \
    } while (0)
    if (size)
        buf[0] = 0;
    const lw_trapinfo *ti = x->ti;
    if (ti && ti->msg[0] && x->trap != LW_TRAP_HOST)
        OUT("%s: %s", lw_trapkind_message(x->trap), ti->msg);
    else
        OUT("%s", lw_exec_trap_message(x));
    if (ti && ti->bt_n)
        OUT("\nwasm backtrace:");
    for (uint32_t i = 0; ti && i < ti->bt_n; i++) {
        const char *name = lw_module_func_name(ti->bt_mod[i], ti->bt_func[i]);
        if (name)
            OUT("\n  #%u %s (func %u)", i, name, ti->bt_func[i]);
        else
            OUT("\n  #%u <func %u>", i, ti->bt_func[i]);
    }
#undef OUT
    return n < size ? n : (size ? size - 1 : 0);
}
