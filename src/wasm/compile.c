/*
 * compile.c - validates a function body and translates it to internal code
 * in a single pass.
 *
 * The Wasm operand stack is resolved at compile time: stack position i
 * lives in frame slot nlocals + i. A compile-time operand is one of
 *   TEMP   the value is in its position's slot,
 *   LOCAL  the value is local x (local.get emits nothing),
 *   CONST  the value is a constant (i32.const emits nothing),
 * so consumers read locals and constants directly or use immediate forms.
 * Before a local is overwritten, operands that still refer to it are
 * materialized into their slots. At block boundaries every LOCAL operand is
 * materialized, so all paths that meet at a label agree on where values are.
 *
 * Peepholes: a value-producing instruction followed by local.set writes the
 * local directly; a comparison followed by br_if or if becomes one
 * compare-and-branch instruction.
 *
 * Validation follows the spec's algorithm (control frames, a polymorphic
 * stack after unconditional branches); code is not emitted while the
 * current frame is unreachable.
 */
#include <stdlib.h>
#include <string.h>

#include "wasm/reader.h"

#define T_ANY 0     /* unknown type of the polymorphic stack */
#define NO_POS UINT32_MAX
#define MAX_LOCALS 50000u

enum { K_TEMP, K_LOCAL, K_CONST };

typedef struct operand {
    uint8_t type, kind;
    uint32_t local;
    uint64_t val;
} operand;

enum { C_FUNC, C_BLOCK, C_LOOP, C_IF, C_ELSE };

typedef struct ctrl {
    uint8_t kind;
    bool unreachable;         /* validation: the stack is polymorphic */
    bool dead;                /* emission: an enclosing frame is unreachable */
    uint32_t height;          /* operand stack height at entry (below params) */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint8_t single;           /* storage for a one-result block type */
    uint32_t loop_pc;         /* loop: code position of the head */
    uint32_t fixups;          /* head of the forward-branch list, or NO_POS */
    uint32_t else_instr, else_cell; /* if: the branch to the else arm */
} ctrl;

typedef struct fixup {
    uint32_t instr, cell, next;
} fixup;

typedef struct compiler {
    lw_module *m;
    lw_code *fn;
    reader r;
    /* locals */
    uint32_t nlocals;
    uint8_t *ltypes;           /* all locals, params first */
    uint32_t *lrefs;           /* per local: operands that refer to it */
    uint32_t pending_refs;     /* total LOCAL operands on the stack */
    /* operand stack */
    operand *stk;
    uint32_t depth, cap, maxdepth;
    /* control stack */
    ctrl *ctl;
    uint32_t nctl, ctlcap;
    /* code */
    uint32_t *code;
    uint32_t ncode, codecap;
    fixup *fix;
    uint32_t nfix, fixcap;
    /* peephole state: last emitted instruction */
    uint32_t last_pos, last_op, last_dst;
    bool oom;
} compiler;

static bool fail(compiler *c, const char *msg) { return rd_fail(&c->r, msg); }

/* ---- code emission ------------------------------------------------------ */

static bool dead(const compiler *c)
{
    const ctrl *f = &c->ctl[c->nctl - 1];
    return f->unreachable || f->dead;
}

/* Result types of a frame. A one-result block type is stored in the frame
 * itself, so never keep the pointer across a push_ctrl. */
static const uint8_t *res_of(const ctrl *f) { return f->single ? &f->single : f->results; }

static void emit(compiler *c, uint32_t v)
{
    if (c->ncode == c->codecap) {
        uint32_t n = c->codecap ? c->codecap * 2 : 256;
        uint32_t *p = realloc(c->code, n * sizeof *p);
        if (!p) {
            c->oom = true;
            fail(c, "out of memory");
            c->ncode = 0;
            return;
        }
        c->code = p;
        c->codecap = n;
    }
    c->code[c->ncode++] = v;
}

/* Starts an instruction; returns its position. */
static uint32_t emit_op(compiler *c, uint32_t op)
{
    uint32_t pos = c->ncode;
    emit(c, (uint32_t)lw_op_offsets[op]);
    c->last_pos = pos;
    c->last_op = op;
    c->last_dst = NO_POS;
    return pos;
}

/* A label: later instructions may be reached from elsewhere. */
static void label(compiler *c)
{
    c->last_op = OP_COUNT;
    c->last_dst = NO_POS;
}

static uint32_t slot_of(const compiler *c, uint32_t pos) { return c->nlocals + pos; }

/* ---- operand stack -------------------------------------------------------- */

static operand *push(compiler *c, uint8_t type)
{
    if (c->depth == c->cap) {
        uint32_t n = c->cap ? c->cap * 2 : 64;
        operand *p = realloc(c->stk, n * sizeof *p);
        if (!p) {
            fail(c, "out of memory");
            c->depth = 0;
            return &c->stk[0];
        }
        c->stk = p;
        c->cap = n;
    }
    operand *o = &c->stk[c->depth++];
    o->type = type;
    o->kind = K_TEMP;
    if (c->depth > c->maxdepth)
        c->maxdepth = c->depth;
    return o;
}

static void drop_ref(compiler *c, const operand *o)
{
    if (o->kind == K_LOCAL) {
        c->lrefs[o->local]--;
        c->pending_refs--;
    }
}

/* Pops an operand of type `want` (T_ANY: any type). Returns its position,
 * or NO_POS for a value of the polymorphic stack. */
static uint32_t pop_pos(compiler *c, uint8_t want, uint8_t *type_out)
{
    ctrl *f = &c->ctl[c->nctl - 1];
    if (c->depth == f->height) {
        if (!f->unreachable)
            fail(c, "type mismatch");
        if (type_out)
            *type_out = T_ANY;
        return NO_POS;
    }
    operand *o = &c->stk[c->depth - 1];
    if (want != T_ANY && o->type != T_ANY && o->type != want) {
        fail(c, "type mismatch");
        return NO_POS;
    }
    if (type_out)
        *type_out = o->type;
    c->depth--;
    return c->depth;
}

static void emit_const(compiler *c, uint32_t dst, const operand *o);

/* Writes operand o (at stack position pos) into its slot. */
static void materialize(compiler *c, uint32_t pos)
{
    operand *o = &c->stk[pos];
    if (o->kind == K_TEMP)
        return;
    if (!dead(c)) {
        if (o->kind == K_LOCAL) {
            emit_op(c, OP_COPY);
            emit(c, slot_of(c, pos));
            emit(c, o->local);
        } else {
            emit_const(c, slot_of(c, pos), o);
        }
    }
    drop_ref(c, o);
    o->kind = K_TEMP;
}

static void materialize_locals(compiler *c)
{
    if (!c->pending_refs)
        return;
    for (uint32_t i = 0; i < c->depth; i++)
        if (c->stk[i].kind == K_LOCAL)
            materialize(c, i);
}

/* The slot to read operand at pos from; constants are materialized. The
 * operand must still be in the stack array (popped operands stay there). */
static uint32_t src(compiler *c, uint32_t pos)
{
    operand *o = &c->stk[pos];
    if (o->kind == K_LOCAL)
        return o->local;
    if (o->kind == K_CONST)
        materialize(c, pos);
    return slot_of(c, pos);
}

/* After popping operands at positions >= pos: release their local refs. */
static void release_from(compiler *c, uint32_t pos, uint32_t end)
{
    for (uint32_t i = pos; i < end; i++) {
        drop_ref(c, &c->stk[i]);
        c->stk[i].kind = K_TEMP;
    }
}

/* Pushes a result that the instruction just started writes to its slot. The
 * dst cell is emitted here. */
static void push_result(compiler *c, uint8_t type)
{
    uint32_t pos = c->depth;
    push(c, type);
    if (!dead(c)) {
        c->last_dst = c->ncode;
        emit(c, slot_of(c, pos));
    }
}

/* ---- control ------------------------------------------------------------ */

static ctrl *push_ctrl(compiler *c, uint8_t kind, uint32_t np, const uint8_t *p,
                       uint32_t nr, const uint8_t *r)
{
    if (c->nctl == c->ctlcap) {
        uint32_t n = c->ctlcap ? c->ctlcap * 2 : 16;
        ctrl *q = realloc(c->ctl, n * sizeof *q);
        if (!q) {
            fail(c, "out of memory");
            return &c->ctl[c->nctl - 1];
        }
        c->ctl = q;
        c->ctlcap = n;
    }
    bool parent_dead = c->nctl ? dead(c) : false;
    ctrl *f = &c->ctl[c->nctl++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->dead = parent_dead;
    f->height = c->depth - np;
    f->nparams = np;
    f->params = p;
    f->nresults = nr;
    f->results = r;
    f->fixups = NO_POS;
    f->else_instr = NO_POS;
    return f;
}

static void set_unreachable(compiler *c)
{
    ctrl *f = &c->ctl[c->nctl - 1];
    release_from(c, f->height, c->depth);
    c->depth = f->height;
    f->unreachable = true;
}

static void add_fixup(compiler *c, ctrl *f, uint32_t instr, uint32_t cell)
{
    if (c->nfix == c->fixcap) {
        uint32_t n = c->fixcap ? c->fixcap * 2 : 64;
        fixup *p = realloc(c->fix, n * sizeof *p);
        if (!p) {
            fail(c, "out of memory");
            return;
        }
        c->fix = p;
        c->fixcap = n;
    }
    c->fix[c->nfix] = (fixup){instr, cell, f->fixups};
    f->fixups = c->nfix++;
}

static void patch_fixups(compiler *c, ctrl *f)
{
    for (uint32_t i = f->fixups; i != NO_POS; i = c->fix[i].next) {
        if (c->fix[i].cell < c->ncode)
            c->code[c->fix[i].cell] = c->ncode - c->fix[i].instr;
    }
    f->fixups = NO_POS;
}

/* Emits the offset cell of a branch (instruction at instr) to frame f. */
static void emit_target(compiler *c, uint32_t instr, ctrl *f)
{
    if (f->kind == C_LOOP) {
        emit(c, f->loop_pc - instr);
    } else {
        add_fixup(c, f, instr, c->ncode);
        emit(c, 0);
    }
}

static uint32_t label_arity(const ctrl *f) { return f->kind == C_LOOP ? f->nparams : f->nresults; }

static const uint8_t *label_types(const ctrl *f) { return f->kind == C_LOOP ? f->params : res_of(f); }

/* Do the top n operands already sit where a branch to f expects them? */
static bool in_place(const compiler *c, const ctrl *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->depth - n + i;
        if (c->stk[pos].kind != K_TEMP || pos != f->height + i)
            return false;
    }
    return true;
}

/* Moves the top n operands into the slots a branch to f expects. Ascending
 * order is safe: a target slot is never above its source. */
static void move_to_label(compiler *c, const ctrl *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->depth - n + i;
        uint32_t dst = slot_of(c, f->height + i);
        operand *o = &c->stk[pos];
        if (o->kind == K_TEMP && pos == f->height + i)
            continue;
        if (o->kind == K_CONST) {
            emit_const(c, dst, o);
        } else {
            emit_op(c, OP_COPY);
            emit(c, dst);
            emit(c, o->kind == K_LOCAL ? o->local : slot_of(c, pos));
        }
    }
}

/* Emits the function's return: results to fp[0..], then RETURN. It may sit
 * on a conditional path, so it emits moves without changing operand kinds. */
static void emit_const(compiler *c, uint32_t dst, const operand *o)
{
    if (o->type == LW_I32 || o->type == LW_F32) {
        emit_op(c, OP_CONST32);
        emit(c, dst);
        emit(c, (uint32_t)o->val);
    } else {
        emit_op(c, OP_CONST64);
        emit(c, dst);
        emit(c, (uint32_t)o->val);
        emit(c, (uint32_t)(o->val >> 32));
    }
}

static void emit_return(compiler *c)
{
    uint32_t n = c->fn->nresults;
    if (n == 1) {
        operand *o = &c->stk[c->depth - 1];
        if (o->kind == K_CONST) {
            emit_const(c, 0, o);
            emit_op(c, OP_RETURN);
        } else {
            emit_op(c, OP_RETURN1);
            emit(c, o->kind == K_LOCAL ? o->local : slot_of(c, c->depth - 1));
        }
        return;
    }
    /* Results may read locals that earlier result copies overwrite: first
     * gather every result in its own temporary slot. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->depth - n + i;
        operand *o = &c->stk[pos];
        if (o->kind == K_CONST) {
            emit_const(c, slot_of(c, pos), o);
        } else if (o->kind == K_LOCAL) {
            emit_op(c, OP_COPY);
            emit(c, slot_of(c, pos));
            emit(c, o->local);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->depth - n + i;
        if (slot_of(c, pos) != i) {
            emit_op(c, OP_COPY);
            emit(c, i);
            emit(c, slot_of(c, pos));
        }
    }
    emit_op(c, OP_RETURN);
}

/* Type-checks the top n operands against types (not popping). */
static void check_top(compiler *c, uint32_t n, const uint8_t *types)
{
    ctrl *f = &c->ctl[c->nctl - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t from_top = n - 1 - i;
        if (c->depth - f->height <= from_top) {
            if (!f->unreachable)
                fail(c, "type mismatch");
            continue;
        }
        uint8_t t = c->stk[c->depth - 1 - from_top].type;
        if (t != T_ANY && t != types[i])
            fail(c, "type mismatch");
    }
}

/* Pushes operands for the polymorphic part so that exactly n typed values
 * are on top of the frame (used in unreachable code before moves). */
static void fill_polymorphic(compiler *c, uint32_t n, const uint8_t *types)
{
    ctrl *f = &c->ctl[c->nctl - 1];
    if (!f->unreachable)
        return;
    uint32_t have = c->depth - f->height;
    if (have >= n)
        return;
    /* insert missing bottom values */
    uint32_t missing = n - have;
    for (uint32_t i = 0; i < missing; i++)
        push(c, T_ANY);
    memmove(&c->stk[f->height + missing], &c->stk[f->height], have * sizeof *c->stk);
    for (uint32_t i = 0; i < missing; i++) {
        c->stk[f->height + i].type = types[i];
        c->stk[f->height + i].kind = K_TEMP;
    }
}

/* A branch to the frame `depth` levels out: br, or the taken arm of br_if. */
static void emit_br(compiler *c, ctrl *f)
{
    if (&c->ctl[0] == f) {
        emit_return(c);
        return;
    }
    move_to_label(c, f, label_arity(f));
    uint32_t at = emit_op(c, OP_BR);
    emit_target(c, at, f);
}

static const uint32_t cmp_negate[][2] = {
    {OP_I32_EQ, OP_I32_NE}, {OP_I32_LT_S, OP_I32_GE_S}, {OP_I32_LT_U, OP_I32_GE_U},
    {OP_I32_GT_S, OP_I32_LE_S}, {OP_I32_GT_U, OP_I32_LE_U},
    {OP_I64_EQ, OP_I64_NE}, {OP_I64_LT_S, OP_I64_GE_S}, {OP_I64_LT_U, OP_I64_GE_U},
    {OP_I64_GT_S, OP_I64_LE_S}, {OP_I64_GT_U, OP_I64_LE_U},
};

static uint32_t negate_cmp(uint32_t op)
{
    for (size_t i = 0; i < sizeof cmp_negate / sizeof *cmp_negate; i++) {
        if (cmp_negate[i][0] == op)
            return cmp_negate[i][1];
        if (cmp_negate[i][1] == op)
            return cmp_negate[i][0];
    }
    return OP_COUNT;
}

/* The slot form of an immediate-form op, or OP_COUNT. */
static uint32_t imm_base(uint32_t op)
{
    switch (op) {
#define IMM_BASE(n, c, f, rf, e, imm, br) IMM_BASE_##imm(n)
#define IMM_BASE_Y(n) case OP_##n##_I: return OP_##n;
#define IMM_BASE_N(n)
        LW_BINOPS(IMM_BASE)
    }
    return OP_COUNT;
}

/* The compare-and-branch form of a comparison, or OP_COUNT. */
static uint32_t cmp_branch(uint32_t op, bool imm)
{
    switch (op) {
#define CB(n, c, f, rf, e, imm_, br) CB_##br(n)
#define CB_Y(n) case OP_##n: return imm ? OP_BR_##n##_I : OP_BR_##n;
#define CB_N(n)
        LW_BINOPS(CB)
    }
    return OP_COUNT;
}

/* If the condition at stack position pos was computed by the instruction
 * just emitted, rewrites that instruction into a conditional branch taken
 * when the condition is `when` (true: nonzero). Returns the branch's
 * position or NO_POS. The caller then emits the offset cell. */
static uint32_t fuse_cond(compiler *c, uint32_t pos, bool when)
{
    if (c->last_dst == NO_POS || c->last_dst != c->last_pos + 1 ||
        c->code[c->last_dst] != slot_of(c, pos) || c->stk[pos].kind != K_TEMP)
        return NO_POS;
    uint32_t op = c->last_op;
    if (op == OP_I32_EQZ && c->ncode == c->last_pos + 3) {
        /* [EQZ d a] -> [BR_UNLESS/BR_IF a off] */
        uint32_t a = c->code[c->last_pos + 2];
        c->ncode = c->last_pos;
        uint32_t at = emit_op(c, when ? OP_BR_UNLESS : OP_BR_IF);
        emit(c, a);
        return at;
    }
    if (c->ncode != c->last_pos + 4)
        return NO_POS;
    bool imm = false;
    uint32_t base = imm_base(op);
    if (base != OP_COUNT)
        imm = true;
    else
        base = op;
    if (!when)
        base = negate_cmp(base);
    uint32_t br = base == OP_COUNT ? OP_COUNT : cmp_branch(base, imm);
    if (br == OP_COUNT)
        return NO_POS;
    /* [CMP d a b] -> [BR_CMP a b off] */
    uint32_t a = c->code[c->last_pos + 2], b = c->code[c->last_pos + 3];
    c->ncode = c->last_pos;
    uint32_t at = emit_op(c, br);
    emit(c, a);
    emit(c, b);
    return at;
}

/* ---- block types ---------------------------------------------------------- */

static bool read_blocktype(compiler *c, uint32_t *np, const uint8_t **p, uint32_t *nr,
                           const uint8_t **r, uint8_t *single)
{
    reader *rd = &c->r;
    if (rd->p >= rd->end)
        return fail(c, "unexpected end");
    uint8_t b = *rd->p;
    if (b == 0x40) {
        rd->p++;
        *np = *nr = 0;
        *p = *r = NULL;
        return true;
    }
    if (is_valtype(b)) {
        rd->p++;
        *single = b;
        *np = 0;
        *p = NULL;
        *nr = 1;
        *r = single;
        return true;
    }
    int64_t idx = rd_sleb(rd, 33);
    if (rd->bad)
        return false;
    if (idx < 0)
        return fail(c, "malformed value type");
    if ((uint64_t)idx >= c->m->ntypes)
        return fail(c, "unknown type");
    const lw_functype *t = c->m->types[idx];
    *np = t->nparams;
    *p = t->params;
    *nr = t->nresults;
    *r = t->results;
    return true;
}

/* Starts block/loop/if: checks and materializes the params. */
static ctrl *enter_block(compiler *c, uint8_t kind)
{
    uint32_t np, nr;
    const uint8_t *p, *r;
    uint8_t single = 0;
    if (!read_blocktype(c, &np, &p, &nr, &r, &single))
        return NULL;
    uint32_t cond = NO_POS;
    if (kind == C_IF)
        cond = pop_pos(c, LW_I32, NULL);
    check_top(c, np, p);
    fill_polymorphic(c, np, p);
    if (c->r.bad)
        return NULL;
    /* Every path that meets at this block's labels must agree on where
     * values live: no operand may refer to a local any more. */
    materialize_locals(c);
    for (uint32_t i = 0; i < np; i++)
        materialize(c, c->depth - np + i);
    /* The if condition sits above the params; read it before pushing. */
    uint32_t at = NO_POS;
    if (kind == C_IF && !dead(c)) {
        if (cond != NO_POS) {
            c->depth++; /* cond is still in the array right above */
            at = fuse_cond(c, cond, false);
            uint32_t s = at == NO_POS ? src(c, cond) : 0;
            c->depth--;
            if (at == NO_POS) {
                at = emit_op(c, OP_BR_UNLESS);
                emit(c, s);
            }
        } else {
            at = emit_op(c, OP_BR_UNLESS);
            emit(c, 0);
        }
    }
    if (cond != NO_POS)
        release_from(c, cond, cond + 1);
    ctrl *f = push_ctrl(c, kind, np, p, nr, single ? NULL : r);
    f->single = single;
    if (kind == C_IF && at != NO_POS) {
        f->else_instr = at;
        f->else_cell = c->ncode;
        emit(c, 0);
    }
    label(c);
    if (kind == C_LOOP)
        f->loop_pc = c->ncode;
    return f;
}

/* Ends the current frame's arm: results checked and moved into place. */
static void finish_arm(compiler *c, ctrl *f)
{
    check_top(c, f->nresults, res_of(f));
    if (c->r.bad)
        return;
    if (!f->unreachable) {
        if (c->depth - f->height != f->nresults) {
            fail(c, "type mismatch");
            return;
        }
        if (!f->dead && f->kind != C_FUNC)
            move_to_label(c, f, f->nresults);
    } else if (c->depth - f->height > f->nresults) {
        fail(c, "type mismatch");
    }
}

/* ---- the translation loop ------------------------------------------------ */

/* Operand and result types of the numeric opcodes 0x45..0xc4. */
static void numeric_types(uint8_t op, uint8_t *in, uint8_t *out, bool *unary)
{
    *unary = false;
    if (op == 0x45) { *in = LW_I32; *out = LW_I32; *unary = true; return; }
    if (op >= 0x46 && op <= 0x4f) { *in = LW_I32; *out = LW_I32; return; }
    if (op == 0x50) { *in = LW_I64; *out = LW_I32; *unary = true; return; }
    if (op >= 0x51 && op <= 0x5a) { *in = LW_I64; *out = LW_I32; return; }
    if (op >= 0x5b && op <= 0x60) { *in = LW_F32; *out = LW_I32; return; }
    if (op >= 0x61 && op <= 0x66) { *in = LW_F64; *out = LW_I32; return; }
    if (op >= 0x67 && op <= 0x69) { *in = *out = LW_I32; *unary = true; return; }
    if (op >= 0x6a && op <= 0x78) { *in = *out = LW_I32; return; }
    if (op >= 0x79 && op <= 0x7b) { *in = *out = LW_I64; *unary = true; return; }
    if (op >= 0x7c && op <= 0x8a) { *in = *out = LW_I64; return; }
    if (op >= 0x8b && op <= 0x91) { *in = *out = LW_F32; *unary = true; return; }
    if (op >= 0x92 && op <= 0x98) { *in = *out = LW_F32; return; }
    if (op >= 0x99 && op <= 0x9f) { *in = *out = LW_F64; *unary = true; return; }
    if (op >= 0xa0 && op <= 0xa6) { *in = *out = LW_F64; return; }
    *unary = true;
    switch (op) {
    case 0xa7: *in = LW_I64; *out = LW_I32; return;
    case 0xa8: case 0xa9: *in = LW_F32; *out = LW_I32; return;
    case 0xaa: case 0xab: *in = LW_F64; *out = LW_I32; return;
    case 0xac: case 0xad: *in = LW_I32; *out = LW_I64; return;
    case 0xae: case 0xaf: *in = LW_F32; *out = LW_I64; return;
    case 0xb0: case 0xb1: *in = LW_F64; *out = LW_I64; return;
    case 0xb2: case 0xb3: *in = LW_I32; *out = LW_F32; return;
    case 0xb4: case 0xb5: *in = LW_I64; *out = LW_F32; return;
    case 0xb6: *in = LW_F64; *out = LW_F32; return;
    case 0xb7: case 0xb8: *in = LW_I32; *out = LW_F64; return;
    case 0xb9: case 0xba: *in = LW_I64; *out = LW_F64; return;
    case 0xbb: *in = LW_F32; *out = LW_F64; return;
    case 0xbc: *in = LW_F32; *out = LW_I32; return;
    case 0xbd: *in = LW_F64; *out = LW_I64; return;
    case 0xbe: *in = LW_I32; *out = LW_F32; return;
    case 0xbf: *in = LW_I64; *out = LW_F64; return;
    case 0xc0: case 0xc1: *in = *out = LW_I32; return;
    case 0xc2: case 0xc3: case 0xc4: *in = *out = LW_I64; return;
    }
}

/* Internal op for numeric opcodes 0x45..0xc4 (and 0xfc 0..7 via sat). */
static uint32_t numeric_op(uint32_t op)
{
    switch (op) {
#define CASE_OP(name, code, ...) case code: return OP_##name;
        LW_BINOPS(CASE_OP)
        LW_UNOPS(CASE_OP)
    case 0x6d: return OP_I32_DIV_S;
    case 0x6e: return OP_I32_DIV_U;
    case 0x6f: return OP_I32_REM_S;
    case 0x70: return OP_I32_REM_U;
    case 0x7f: return OP_I64_DIV_S;
    case 0x80: return OP_I64_DIV_U;
    case 0x81: return OP_I64_REM_S;
    case 0x82: return OP_I64_REM_U;
    case 0xa8: return OP_I32_TRUNC_F32_S;
    case 0xa9: return OP_I32_TRUNC_F32_U;
    case 0xaa: return OP_I32_TRUNC_F64_S;
    case 0xab: return OP_I32_TRUNC_F64_U;
    case 0xae: return OP_I64_TRUNC_F32_S;
    case 0xaf: return OP_I64_TRUNC_F32_U;
    case 0xb0: return OP_I64_TRUNC_F64_S;
    case 0xb1: return OP_I64_TRUNC_F64_U;
    }
    return OP_COUNT; /* reinterpretations: no code */
}

/* Immediate form of a binary op, or OP_COUNT. */
static uint32_t imm_form(uint32_t op)
{
    switch (op) {
#define IMM_CASE(n, c, f, rf, e, imm, br) IMM_CASE_##imm(n)
#define IMM_CASE_Y(n) case OP_##n: return OP_##n##_I;
#define IMM_CASE_N(n)
        LW_BINOPS(IMM_CASE)
    }
    return OP_COUNT;
}

static void do_numeric(compiler *c, uint8_t opcode)
{
    uint8_t in = 0, out = 0;
    bool unary;
    numeric_types(opcode, &in, &out, &unary);
    uint32_t op = numeric_op(opcode);
    if (unary) {
        uint32_t a = pop_pos(c, in, NULL);
        if (c->r.bad)
            return;
        if (op == OP_COUNT) { /* reinterpret: same bits, new type */
            if (a == NO_POS) {
                push(c, out);
            } else {
                c->depth++;
                c->stk[a].type = out;
            }
            return;
        }
        if (dead(c) || a == NO_POS) {
            if (a != NO_POS)
                release_from(c, a, a + 1);
            push(c, out);
            return;
        }
        uint32_t sa = src(c, a);
        release_from(c, a, a + 1);
        emit_op(c, op);
        push_result(c, out);
        emit(c, sa);
        return;
    }
    uint32_t b = pop_pos(c, in, NULL);
    uint32_t a = pop_pos(c, in, NULL);
    if (c->r.bad)
        return;
    if (dead(c) || a == NO_POS || b == NO_POS) {
        if (a != NO_POS)
            release_from(c, a, a + 2);
        else if (b != NO_POS)
            release_from(c, b, b + 1);
        push(c, out);
        return;
    }
    operand *ob = &c->stk[b];
    uint32_t imm = imm_form(op);
    bool use_imm = imm != OP_COUNT && ob->kind == K_CONST &&
                   (in == LW_I32 || (int64_t)ob->val == (int64_t)(int32_t)ob->val);
    uint32_t sa = src(c, a);
    uint32_t sb = use_imm ? (uint32_t)ob->val : src(c, b);
    release_from(c, a, a + 2);
    emit_op(c, use_imm ? imm : op);
    push_result(c, out);
    emit(c, sa);
    emit(c, sb);
}

static bool check_mem(compiler *c)
{
    if (c->m->nmems == 0)
        return fail(c, "unknown memory");
    return true;
}

static void do_load(compiler *c, uint32_t op, uint8_t type, uint32_t natural)
{
    uint32_t align = rd_u32(&c->r);
    uint32_t offset = rd_u32(&c->r);
    if (c->r.bad || !check_mem(c))
        return;
    if (align >= 32 || (1u << align) > natural) {
        fail(c, "alignment must not be larger than natural");
        return;
    }
    uint32_t a = pop_pos(c, LW_I32, NULL);
    if (c->r.bad)
        return;
    if (dead(c) || a == NO_POS) {
        push(c, type);
        return;
    }
    uint32_t sa = src(c, a);
    release_from(c, a, a + 1);
    emit_op(c, op);
    push_result(c, type);
    emit(c, sa);
    emit(c, offset);
}

static void do_store(compiler *c, uint32_t op, uint8_t type, uint32_t natural)
{
    uint32_t align = rd_u32(&c->r);
    uint32_t offset = rd_u32(&c->r);
    if (c->r.bad || !check_mem(c))
        return;
    if (align >= 32 || (1u << align) > natural) {
        fail(c, "alignment must not be larger than natural");
        return;
    }
    uint32_t v = pop_pos(c, type, NULL);
    uint32_t a = pop_pos(c, LW_I32, NULL);
    if (c->r.bad || dead(c) || a == NO_POS || v == NO_POS) {
        if (a != NO_POS)
            release_from(c, a, a + 2);
        return;
    }
    uint32_t sa = src(c, a), sv = src(c, v);
    release_from(c, a, a + 2);
    emit_op(c, op);
    emit(c, sa);
    emit(c, sv);
    emit(c, offset);
}

/* Pops n operands of the given types; returns the position of the first,
 * or NO_POS if any came from the polymorphic stack. Operands stay in the
 * array for src(); the caller releases them. */
static uint32_t pop_n(compiler *c, uint32_t n, const uint8_t *types)
{
    uint32_t top = c->depth;
    uint32_t first = NO_POS;
    bool poly = false;
    for (uint32_t i = n; i-- > 0;) {
        uint32_t p = pop_pos(c, types[i], NULL);
        if (p == NO_POS)
            poly = true;
        else
            first = p;
    }
    if (poly) {
        /* only the operands above the frame's height were real */
        if (first != NO_POS)
            release_from(c, first, top);
        return NO_POS;
    }
    return n ? first : c->depth;
}

static void do_call(compiler *c, const lw_functype *t, uint32_t op, uint32_t idx,
                    uint32_t extra, uint32_t elem_pos)
{
    uint32_t first = pop_n(c, t->nparams, t->params);
    if (c->r.bad)
        return;
    if (!dead(c) && first != NO_POS) {
        /* arguments must be in consecutive slots */
        for (uint32_t i = 0; i < t->nparams; i++)
            materialize(c, first + i);
        uint32_t se = 0;
        if (op == OP_CALL_INDIRECT) {
            c->depth = first + t->nparams + 1;   /* index still above */
            se = src(c, elem_pos);
            release_from(c, elem_pos, elem_pos + 1);
            c->depth = first;
        }
        emit_op(c, op);
        if (op == OP_CALL_INDIRECT)
            emit(c, extra);   /* type index */
        emit(c, idx);
        emit(c, slot_of(c, first));
        if (op == OP_CALL_INDIRECT)
            emit(c, se);
        release_from(c, first, first + t->nparams);
    } else if (first != NO_POS) {
        release_from(c, first, first + t->nparams);
    }
    /* results land in consecutive slots from the argument base */
    for (uint32_t i = 0; i < t->nresults; i++)
        push(c, t->results[i]);
    label(c);
}

static bool valid_local(compiler *c, uint32_t x)
{
    if (x >= c->nlocals)
        return fail(c, "unknown local");
    return true;
}

static void do_local_set(compiler *c, uint32_t x, bool tee)
{
    uint32_t v = pop_pos(c, c->ltypes[x], NULL);
    if (c->r.bad)
        return;
    if (dead(c) || v == NO_POS) {
        if (tee)
            push(c, c->ltypes[x]);
        return;
    }
    operand *o = &c->stk[v];
    if (o->kind == K_LOCAL && o->local == x) {
        /* local.set x of local.get x: nothing to do */
        if (tee) {
            c->depth++;
        } else {
            release_from(c, v, v + 1);
        }
        return;
    }
    /* Operands that still refer to x must keep the old value. */
    if (c->lrefs[x]) {
        for (uint32_t i = 0; i < v; i++)
            if (c->stk[i].kind == K_LOCAL && c->stk[i].local == x)
                materialize(c, i);
    }
    if (o->kind == K_TEMP && c->last_dst != NO_POS && c->code[c->last_dst] == slot_of(c, v)) {
        /* the instruction that computed the value writes x directly */
        c->code[c->last_dst] = x;
        c->last_dst = NO_POS;
    } else if (o->kind == K_CONST) {
        emit_const(c, x, o);
    } else {
        uint32_t s = src(c, v);
        emit_op(c, OP_COPY);
        emit(c, x);
        emit(c, s);
    }
    release_from(c, v, v + 1);
    if (tee) {
        operand *n = push(c, c->ltypes[x]);
        n->kind = K_LOCAL;
        n->local = x;
        c->lrefs[x]++;
        c->pending_refs++;
    }
}

static uint8_t table_type(compiler *c, uint32_t t)
{
    if (t >= c->m->ntables) {
        fail(c, "unknown table");
        return LW_FUNCREF;
    }
    return c->m->tables[t].elemtype;
}

/* Emits an instruction reading n operands popped as given, with leading
 * immediates, and an optional result. */
static void emit_generic(compiler *c, uint32_t op, uint32_t n, const uint8_t *types,
                         uint32_t nimm, const uint32_t *imm, uint8_t result)
{
    uint32_t first = pop_n(c, n, types);
    if (c->r.bad)
        return;
    if (dead(c) || first == NO_POS) {
        if (result)
            push(c, result);
        return;
    }
    uint32_t s[5];
    for (uint32_t i = 0; i < n; i++)
        s[i] = src(c, first + i);
    release_from(c, first, first + n);
    emit_op(c, op);
    if (result)
        push_result(c, result);
    for (uint32_t i = 0; i < nimm; i++)
        emit(c, imm[i]);
    for (uint32_t i = 0; i < n; i++)
        emit(c, s[i]);
}

static bool need_datacount(compiler *c, uint32_t seg)
{
    if (c->m->datacount < 0)
        return fail(c, "data count section required");
    if (seg >= (uint64_t)c->m->datacount)
        return fail(c, "unknown data segment");
    return true;
}

static void do_prefixed(compiler *c)
{
    reader *r = &c->r;
    uint32_t sub = rd_u32(r);
    if (r->bad)
        return;
    uint8_t t3[3] = {LW_I32, LW_I32, LW_I32};
    if (sub <= 7) {
        static const uint8_t in[8] = {LW_F32, LW_F32, LW_F64, LW_F64,
                                      LW_F32, LW_F32, LW_F64, LW_F64};
        static const uint8_t out[8] = {LW_I32, LW_I32, LW_I32, LW_I32,
                                       LW_I64, LW_I64, LW_I64, LW_I64};
        emit_generic(c, OP_I32_TRUNC_SAT_F32_S + sub, 1, &in[sub], 0, NULL, out[sub]);
        return;
    }
    switch (sub) {
    case 8: { /* memory.init */
        uint32_t seg = rd_u32(r);
        if (rd_u8(r) != 0 && !r->bad)
            fail(c, "zero byte expected");
        if (r->bad || !check_mem(c) || !need_datacount(c, seg))
            return;
        emit_generic(c, OP_MEMORY_INIT, 3, t3, 1, &seg, 0);
        return;
    }
    case 9: { /* data.drop */
        uint32_t seg = rd_u32(r);
        if (r->bad || !need_datacount(c, seg))
            return;
        emit_generic(c, OP_DATA_DROP, 0, NULL, 1, &seg, 0);
        return;
    }
    case 10: /* memory.copy */
        if ((rd_u8(r) != 0 || rd_u8(r) != 0) && !r->bad)
            fail(c, "zero byte expected");
        if (r->bad || !check_mem(c))
            return;
        emit_generic(c, OP_MEMORY_COPY, 3, t3, 0, NULL, 0);
        return;
    case 11: /* memory.fill */
        if (rd_u8(r) != 0 && !r->bad)
            fail(c, "zero byte expected");
        if (r->bad || !check_mem(c))
            return;
        emit_generic(c, OP_MEMORY_FILL, 3, t3, 0, NULL, 0);
        return;
    case 12: { /* table.init */
        uint32_t imm[2];
        imm[1] = rd_u32(r); /* segment */
        imm[0] = rd_u32(r); /* table */
        if (r->bad)
            return;
        uint8_t tt = table_type(c, imm[0]);
        if (r->bad)
            return;
        if (imm[1] >= c->m->nelems) {
            fail(c, "unknown elem segment");
            return;
        }
        if (c->m->elems[imm[1]].elemtype != tt) {
            fail(c, "type mismatch");
            return;
        }
        emit_generic(c, OP_TABLE_INIT, 3, t3, 2, imm, 0);
        return;
    }
    case 13: { /* elem.drop */
        uint32_t seg = rd_u32(r);
        if (r->bad)
            return;
        if (seg >= c->m->nelems) {
            fail(c, "unknown elem segment");
            return;
        }
        emit_generic(c, OP_ELEM_DROP, 0, NULL, 1, &seg, 0);
        return;
    }
    case 14: { /* table.copy */
        uint32_t imm[2];
        imm[0] = rd_u32(r);
        imm[1] = rd_u32(r);
        if (r->bad)
            return;
        uint8_t td = table_type(c, imm[0]), ts = table_type(c, imm[1]);
        if (r->bad)
            return;
        if (td != ts) {
            fail(c, "type mismatch");
            return;
        }
        emit_generic(c, OP_TABLE_COPY, 3, t3, 2, imm, 0);
        return;
    }
    case 15: { /* table.grow */
        uint32_t t = rd_u32(r);
        if (r->bad)
            return;
        uint8_t tt = table_type(c, t);
        if (r->bad)
            return;
        uint8_t ty[2] = {tt, LW_I32};
        emit_generic(c, OP_TABLE_GROW, 2, ty, 1, &t, LW_I32);
        return;
    }
    case 16: { /* table.size */
        uint32_t t = rd_u32(r);
        if (r->bad)
            return;
        table_type(c, t);
        if (r->bad)
            return;
        emit_generic(c, OP_TABLE_SIZE, 0, NULL, 1, &t, LW_I32);
        return;
    }
    case 17: { /* table.fill */
        uint32_t t = rd_u32(r);
        if (r->bad)
            return;
        uint8_t tt = table_type(c, t);
        if (r->bad)
            return;
        uint8_t ty[3] = {LW_I32, tt, LW_I32};
        emit_generic(c, OP_TABLE_FILL, 3, ty, 1, &t, 0);
        return;
    }
    default:
        fail(c, "illegal opcode");
    }
}

static void do_br_table(compiler *c)
{
    reader *r = &c->r;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        fail(c, "unexpected end");
        return;
    }
    uint32_t *depths = malloc(((size_t)n + 1) * sizeof *depths);
    if (!depths) {
        fail(c, "out of memory");
        return;
    }
    for (uint32_t i = 0; i <= n && !r->bad; i++) {
        depths[i] = rd_u32(r);
        if (!r->bad && depths[i] >= c->nctl)
            fail(c, "unknown label");
    }
    uint32_t cond = NO_POS;
    if (!r->bad)
        cond = pop_pos(c, LW_I32, NULL);
    if (r->bad) {
        free(depths);
        return;
    }
    ctrl *def = &c->ctl[c->nctl - 1 - depths[n]];
    uint32_t arity = label_arity(def);
    for (uint32_t i = 0; i <= n && !r->bad; i++) {
        ctrl *f = &c->ctl[c->nctl - 1 - depths[i]];
        if (label_arity(f) != arity) {
            fail(c, "type mismatch");
            break;
        }
        check_top(c, arity, label_types(f));
    }
    if (r->bad || dead(c) || cond == NO_POS) {
        if (cond != NO_POS)
            release_from(c, cond, cond + 1);
        free(depths);
        set_unreachable(c);
        return;
    }
    c->depth++;
    uint32_t sc = src(c, cond);
    c->depth--;
    release_from(c, cond, cond + 1);
    uint32_t at = emit_op(c, OP_BR_TABLE);
    emit(c, sc);
    emit(c, n);
    uint32_t cells = c->ncode;
    for (uint32_t i = 0; i <= n; i++)
        emit(c, 0);
    /* Targets whose values are already in place are jumped to directly;
     * the others go through a stub that moves the values first. */
    for (uint32_t i = 0; i <= n && !c->oom; i++) {
        ctrl *f = &c->ctl[c->nctl - 1 - depths[i]];
        if (f != &c->ctl[0] && in_place(c, f, arity)) {
            if (f->kind == C_LOOP)
                c->code[cells + i] = f->loop_pc - at;
            else
                add_fixup(c, f, at, cells + i);
            continue;
        }
        c->code[cells + i] = c->ncode - at;
        label(c);
        emit_br(c, f);
    }
    free(depths);
    set_unreachable(c);
}

/* Translates the body; the reader is positioned after the locals. */
static void translate(compiler *c)
{
    reader *r = &c->r;
    lw_module *m = c->m;
    while (!r->bad) {
        if (r->p >= r->end) {
            fail(c, "unexpected end of section or function");
            return;
        }
        uint8_t op = *r->p++;
        switch (op) {
        case 0x00: /* unreachable */
            if (!dead(c))
                emit_op(c, OP_UNREACHABLE);
            set_unreachable(c);
            break;
        case 0x01:
            break;
        case 0x02:
            enter_block(c, C_BLOCK);
            break;
        case 0x03:
            enter_block(c, C_LOOP);
            break;
        case 0x04:
            enter_block(c, C_IF);
            break;
        case 0x05: { /* else */
            ctrl *f = &c->ctl[c->nctl - 1];
            if (f->kind != C_IF) {
                fail(c, "else without if");
                return;
            }
            finish_arm(c, f);
            if (r->bad)
                return;
            if (!dead(c)) {
                uint32_t at = emit_op(c, OP_BR);
                emit_target(c, at, f);
            }
            if (f->else_instr != NO_POS)
                c->code[f->else_cell] = c->ncode - f->else_instr;
            f->else_instr = NO_POS;
            release_from(c, f->height, c->depth);
            c->depth = f->height;
            for (uint32_t i = 0; i < f->nparams; i++)
                push(c, f->params[i]);
            f->kind = C_ELSE;
            f->unreachable = false;
            label(c);
            break;
        }
        case 0x0b: { /* end */
            ctrl *f = &c->ctl[c->nctl - 1];
            if (f->kind == C_IF && (f->nparams != f->nresults ||
                                    (f->nparams && memcmp(f->params, res_of(f), f->nparams)))) {
                fail(c, "type mismatch");
                return;
            }
            finish_arm(c, f);
            if (r->bad)
                return;
            if (f->kind == C_FUNC) {
                if (!dead(c))
                    emit_return(c);
                patch_fixups(c, f);
                if (r->p != r->end)
                    fail(c, "section size mismatch");
                return;
            }
            if (f->else_instr != NO_POS)
                c->code[f->else_cell] = c->ncode - f->else_instr;
            patch_fixups(c, f);
            uint32_t h = f->height, nr = f->nresults;
            uint8_t res[1024], *heap = NULL, *rt = res;
            if (nr > sizeof res)
                rt = heap = malloc(nr);
            if (!rt) {
                fail(c, "out of memory");
                return;
            }
            if (nr)
                memcpy(rt, res_of(f), nr);
            release_from(c, h, c->depth);
            c->depth = h;
            c->nctl--;
            for (uint32_t i = 0; i < nr; i++)
                push(c, rt[i]);
            free(heap);
            label(c);
            break;
        }
        case 0x0c: { /* br */
            uint32_t d = rd_u32(r);
            if (r->bad)
                return;
            if (d >= c->nctl) {
                fail(c, "unknown label");
                return;
            }
            ctrl *f = &c->ctl[c->nctl - 1 - d];
            check_top(c, label_arity(f), label_types(f));
            if (r->bad)
                return;
            if (!dead(c))
                emit_br(c, f);
            set_unreachable(c);
            break;
        }
        case 0x0d: { /* br_if */
            uint32_t d = rd_u32(r);
            if (r->bad)
                return;
            if (d >= c->nctl) {
                fail(c, "unknown label");
                return;
            }
            uint32_t cond = pop_pos(c, LW_I32, NULL);
            ctrl *f = &c->ctl[c->nctl - 1 - d];
            uint32_t n = label_arity(f);
            check_top(c, n, label_types(f));
            if (r->bad)
                return;
            if (dead(c) || cond == NO_POS) {
                if (cond != NO_POS)
                    release_from(c, cond, cond + 1);
                /* the label's types replace what was there */
                ctrl *cur = &c->ctl[c->nctl - 1];
                fill_polymorphic(c, n, label_types(f));
                for (uint32_t i = 0; i < n; i++)
                    if (c->depth - n + i >= cur->height)
                        c->stk[c->depth - n + i].type = label_types(f)[i];
                break;
            }
            bool direct = f != &c->ctl[0] && in_place(c, f, n);
            if (direct) {
                c->depth++;
                uint32_t at = fuse_cond(c, cond, true);
                if (at == NO_POS) {
                    uint32_t s = src(c, cond);
                    at = emit_op(c, OP_BR_IF);
                    emit(c, s);
                }
                c->depth--;
                release_from(c, cond, cond + 1);
                emit_target(c, at, f);
            } else {
                c->depth++;
                uint32_t at = fuse_cond(c, cond, false);
                if (at == NO_POS) {
                    uint32_t s = src(c, cond);
                    at = emit_op(c, OP_BR_UNLESS);
                    emit(c, s);
                }
                c->depth--;
                release_from(c, cond, cond + 1);
                uint32_t cell = c->ncode;
                emit(c, 0);
                emit_br(c, f);
                if (cell < c->ncode)
                    c->code[cell] = c->ncode - at;
            }
            label(c);
            break;
        }
        case 0x0e:
            do_br_table(c);
            break;
        case 0x0f: { /* return */
            ctrl *f = &c->ctl[0];
            check_top(c, f->nresults, f->results);
            if (r->bad)
                return;
            if (!dead(c))
                emit_return(c);
            set_unreachable(c);
            break;
        }
        case 0x10: { /* call */
            uint32_t idx = rd_u32(r);
            if (r->bad)
                return;
            if (idx >= m->nfuncs) {
                fail(c, "unknown function");
                return;
            }
            const lw_functype *t = m->types[m->functypes[idx]];
            if (idx < m->nfuncimports)
                do_call(c, t, OP_CALL_IMPORT, idx, 0, 0);
            else
                do_call(c, t, OP_CALL, idx - m->nfuncimports, 0, 0);
            break;
        }
        case 0x11: { /* call_indirect */
            uint32_t ti = rd_u32(r);
            uint32_t tab = rd_u32(r);
            if (r->bad)
                return;
            if (tab >= m->ntables) {
                fail(c, "unknown table");
                return;
            }
            if (ti >= m->ntypes) {
                fail(c, "unknown type");
                return;
            }
            if (m->tables[tab].elemtype != LW_FUNCREF) {
                fail(c, "type mismatch");
                return;
            }
            uint32_t e = pop_pos(c, LW_I32, NULL);
            if (r->bad)
                return;
            if (e == NO_POS) {
                uint32_t first = pop_n(c, m->types[ti]->nparams, m->types[ti]->params);
                if (first != NO_POS)
                    release_from(c, first, first + m->types[ti]->nparams);
                for (uint32_t i = 0; i < m->types[ti]->nresults; i++)
                    push(c, m->types[ti]->results[i]);
                break;
            }
            do_call(c, m->types[ti], OP_CALL_INDIRECT, tab, ti, e);
            break;
        }
        case 0x1a: { /* drop */
            uint32_t p = pop_pos(c, T_ANY, NULL);
            if (p != NO_POS)
                release_from(c, p, p + 1);
            break;
        }
        case 0x1b:
        case 0x1c: { /* select, select t */
            uint8_t want = T_ANY;
            if (op == 0x1c) {
                uint32_t n = rd_u32(r);
                if (r->bad)
                    return;
                if (n != 1) {
                    fail(c, "invalid result arity");
                    return;
                }
                want = rd_valtype(r);
                if (r->bad)
                    return;
            }
            uint32_t top = c->depth;
            uint32_t cnd = pop_pos(c, LW_I32, NULL);
            uint8_t tb = T_ANY, ta = T_ANY;
            uint32_t b = pop_pos(c, want, &tb);
            uint32_t a = pop_pos(c, want, &ta);
            if (r->bad)
                return;
            uint8_t t = want;
            if (op == 0x1b) {
                if ((ta != T_ANY && is_reftype(ta)) || (tb != T_ANY && is_reftype(tb))) {
                    fail(c, "type mismatch");
                    return;
                }
                if (ta != T_ANY && tb != T_ANY && ta != tb) {
                    fail(c, "type mismatch");
                    return;
                }
                t = ta != T_ANY ? ta : tb;
            }
            if (dead(c) || a == NO_POS || b == NO_POS || cnd == NO_POS) {
                uint32_t lo = a != NO_POS ? a : b != NO_POS ? b : cnd;
                if (lo != NO_POS)
                    release_from(c, lo, top);
                push(c, t);
                break;
            }
            c->depth += 3;
            uint32_t sa = src(c, a), sb = src(c, b), sc = src(c, cnd);
            c->depth -= 3;
            release_from(c, a, a + 3);
            emit_op(c, OP_SELECT);
            push_result(c, t);
            emit(c, sa);
            emit(c, sb);
            emit(c, sc);
            break;
        }
        case 0x20: { /* local.get */
            uint32_t x = rd_u32(r);
            if (r->bad || !valid_local(c, x))
                return;
            operand *o = push(c, c->ltypes[x]);
            if (!dead(c)) {
                o->kind = K_LOCAL;
                o->local = x;
                c->lrefs[x]++;
                c->pending_refs++;
            }
            break;
        }
        case 0x21:
        case 0x22: {
            uint32_t x = rd_u32(r);
            if (r->bad || !valid_local(c, x))
                return;
            do_local_set(c, x, op == 0x22);
            break;
        }
        case 0x23: { /* global.get */
            uint32_t g = rd_u32(r);
            if (r->bad)
                return;
            if (g >= m->nglobals) {
                fail(c, "unknown global");
                return;
            }
            emit_generic(c, OP_GLOBAL_GET, 0, NULL, 0, NULL, m->globals[g].valtype);
            if (!dead(c))
                emit(c, g);
            break;
        }
        case 0x24: { /* global.set */
            uint32_t g = rd_u32(r);
            if (r->bad)
                return;
            if (g >= m->nglobals) {
                fail(c, "unknown global");
                return;
            }
            if (!m->globals[g].mut) {
                fail(c, "global is immutable");
                return;
            }
            emit_generic(c, OP_GLOBAL_SET, 1, &m->globals[g].valtype, 1, &g, 0);
            break;
        }
        case 0x25: { /* table.get */
            uint32_t t = rd_u32(r);
            if (r->bad)
                return;
            uint8_t tt = table_type(c, t);
            if (r->bad)
                return;
            static const uint8_t i32 = LW_I32;
            emit_generic(c, OP_TABLE_GET, 1, &i32, 1, &t, tt);
            break;
        }
        case 0x26: { /* table.set */
            uint32_t t = rd_u32(r);
            if (r->bad)
                return;
            uint8_t tt = table_type(c, t);
            if (r->bad)
                return;
            uint8_t ty[2] = {LW_I32, tt};
            emit_generic(c, OP_TABLE_SET, 2, ty, 1, &t, 0);
            break;
        }
        case 0x28: do_load(c, OP_LOAD32, LW_I32, 4); break;
        case 0x29: do_load(c, OP_LOAD64, LW_I64, 8); break;
        case 0x2a: do_load(c, OP_LOAD32, LW_F32, 4); break;
        case 0x2b: do_load(c, OP_LOAD64, LW_F64, 8); break;
        case 0x2c: do_load(c, OP_LOAD8_S32, LW_I32, 1); break;
        case 0x2d: do_load(c, OP_LOAD8_U32, LW_I32, 1); break;
        case 0x2e: do_load(c, OP_LOAD16_S32, LW_I32, 2); break;
        case 0x2f: do_load(c, OP_LOAD16_U32, LW_I32, 2); break;
        case 0x30: do_load(c, OP_LOAD8_S64, LW_I64, 1); break;
        case 0x31: do_load(c, OP_LOAD8_U32, LW_I64, 1); break;
        case 0x32: do_load(c, OP_LOAD16_S64, LW_I64, 2); break;
        case 0x33: do_load(c, OP_LOAD16_U32, LW_I64, 2); break;
        case 0x34: do_load(c, OP_LOAD32_S64, LW_I64, 4); break;
        case 0x35: do_load(c, OP_LOAD32, LW_I64, 4); break;
        case 0x36: do_store(c, OP_STORE32, LW_I32, 4); break;
        case 0x37: do_store(c, OP_STORE64, LW_I64, 8); break;
        case 0x38: do_store(c, OP_STORE32, LW_F32, 4); break;
        case 0x39: do_store(c, OP_STORE64, LW_F64, 8); break;
        case 0x3a: do_store(c, OP_STORE8, LW_I32, 1); break;
        case 0x3b: do_store(c, OP_STORE16, LW_I32, 2); break;
        case 0x3c: do_store(c, OP_STORE8, LW_I64, 1); break;
        case 0x3d: do_store(c, OP_STORE16, LW_I64, 2); break;
        case 0x3e: do_store(c, OP_STORE32, LW_I64, 4); break;
        case 0x3f: /* memory.size */
            if (rd_u8(r) != 0 && !r->bad)
                fail(c, "zero byte expected");
            if (r->bad || !check_mem(c))
                return;
            emit_generic(c, OP_MEMORY_SIZE, 0, NULL, 0, NULL, LW_I32);
            break;
        case 0x40: { /* memory.grow */
            if (rd_u8(r) != 0 && !r->bad)
                fail(c, "zero byte expected");
            if (r->bad || !check_mem(c))
                return;
            static const uint8_t i32 = LW_I32;
            emit_generic(c, OP_MEMORY_GROW, 1, &i32, 0, NULL, LW_I32);
            break;
        }
        case 0x41:
        case 0x42:
        case 0x43:
        case 0x44: {
            operand o = {0};
            if (op == 0x41) {
                o.type = LW_I32;
                o.val = (uint32_t)rd_sleb(r, 32);
            } else if (op == 0x42) {
                o.type = LW_I64;
                o.val = (uint64_t)rd_sleb(r, 64);
            } else if (op == 0x43) {
                o.type = LW_F32;
                o.val = rd_fixed32(r);
            } else {
                o.type = LW_F64;
                o.val = rd_fixed64(r);
            }
            if (r->bad)
                return;
            operand *p = push(c, o.type);
            if (!dead(c)) {
                p->kind = K_CONST;
                p->val = o.val;
            }
            break;
        }
        case 0xd0: { /* ref.null */
            uint8_t t = rd_u8(r);
            if (!r->bad && !is_reftype(t))
                fail(c, "malformed reference type");
            if (r->bad)
                return;
            operand *p = push(c, t);
            if (!dead(c)) {
                p->kind = K_CONST;
                p->val = 0;
            }
            break;
        }
        case 0xd1: { /* ref.is_null */
            uint8_t t;
            uint32_t a = pop_pos(c, T_ANY, &t);
            if (r->bad)
                return;
            if (t != T_ANY && !is_reftype(t)) {
                fail(c, "type mismatch");
                return;
            }
            if (a == NO_POS || dead(c)) {
                if (a != NO_POS)
                    release_from(c, a, a + 1);
                push(c, LW_I32);
                break;
            }
            c->depth++;
            uint32_t s = src(c, a);
            c->depth--;
            release_from(c, a, a + 1);
            emit_op(c, OP_REF_IS_NULL);
            push_result(c, LW_I32);
            emit(c, s);
            break;
        }
        case 0xd2: { /* ref.func */
            uint32_t f = rd_u32(r);
            if (r->bad)
                return;
            if (f >= m->nfuncs) {
                fail(c, "unknown function");
                return;
            }
            if (!m->declared[f]) {
                fail(c, "undeclared function reference");
                return;
            }
            emit_generic(c, OP_REF_FUNC, 0, NULL, 0, NULL, LW_FUNCREF);
            if (!dead(c))
                emit(c, (uint32_t)m->funcref[f]);
            break;
        }
        case 0xfc:
            do_prefixed(c);
            break;
        default:
            if (op >= 0x45 && op <= 0xc4) {
                do_numeric(c, op);
                break;
            }
            fail(c, "illegal opcode");
            return;
        }
        if (c->nctl == 0)
            return;
    }
}

int lw_compile_function(lw_module *m, const uint8_t *bin, size_t binlen, lw_code *fn,
                        lw_error *err)
{
    compiler cc;
    compiler *c = &cc;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->fn = fn;
    c->r = (reader){.base = bin, .p = bin + fn->body_off,
                    .end = bin + fn->body_off + fn->body_len, .err = err};
    c->last_dst = NO_POS;
    c->last_op = OP_COUNT;
    (void)binlen;

    const lw_functype *t = fn->type;
    fn->nparams = t->nparams;
    fn->nresults = t->nresults;

    /* locals: params first, then the declared groups */
    reader *r = &c->r;
    uint32_t ngroups = rd_u32(r);
    uint64_t total = t->nparams;
    const uint8_t *groups = r->p;
    for (uint32_t i = 0; i < ngroups && !r->bad; i++) {
        total += rd_u32(r);
        rd_valtype(r);
        if (total > MAX_LOCALS) {
            fail(c, "too many locals");
            break;
        }
    }
    if (r->bad)
        return -1;
    c->nlocals = (uint32_t)total;
    c->ltypes = malloc(total + 1);
    c->lrefs = calloc(total + 1, sizeof *c->lrefs);
    if (!c->ltypes || !c->lrefs) {
        fail(c, "out of memory");
        goto out;
    }
    memcpy(c->ltypes, t->params, t->nparams);
    {
        reader g = {.base = bin, .p = groups, .end = c->r.end, .err = err};
        uint32_t k = t->nparams;
        for (uint32_t i = 0; i < ngroups; i++) {
            uint32_t n = rd_u32(&g);
            uint8_t ty = rd_u8(&g);
            memset(c->ltypes + k, ty, n);
            k += n;
        }
    }

    push_ctrl(c, C_FUNC, 0, NULL, t->nresults, t->results);
    translate(c);
    if (!r->bad && c->nctl != 0 && c->ctl[0].kind == C_FUNC && r->p != r->end)
        fail(c, "section size mismatch");
    if (r->bad)
        goto out;

    fn->nlocals = c->nlocals;
    fn->nslots = c->nlocals + c->maxdepth + 2;
    if (fn->nslots < t->nresults)
        fn->nslots = t->nresults;
    fn->local_types = NULL;
    fn->code = realloc(c->code, (c->ncode ? c->ncode : 1) * sizeof *c->code);
    if (!fn->code)
        fn->code = c->code;
    fn->ncode = c->ncode;
    c->code = NULL;

out:
    free(c->code);
    free(c->ltypes);
    free(c->lrefs);
    free(c->stk);
    free(c->ctl);
    free(c->fix);
    return r->bad ? -1 : 0;
}
