/*
 * instance.c - instantiation, and the runtime objects an instance owns or
 * imports: memories, tables, globals, function objects.
 *
 * An instance is one allocation (struct, import pointers, function objects,
 * own tables and globals, small tables' elements, drop flags) plus its
 * memory's pages and the element arrays of larger or grown tables. Linear memory comes from pages.c: a recycled slot in a
 * large shared mapping, so instances cost no mapping of their own and
 * untouched pages cost no resident memory.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wasm/internal.h"

/* ---- memories ------------------------------------------------------------ */

static int memory_init(lw_memory *mem, uint32_t pages, uint32_t max_pages, uint8_t has_max)
{
    memset(mem, 0, sizeof *mem);
    mem->max_pages = max_pages;
    mem->has_max = has_max;
    if (pages == 0)
        return 0;
    uint64_t size = (uint64_t)pages * LW_PAGE_SIZE;
    void *p = lw_pages_get(size);
    if (!p)
        return -1;
    mem->data = p;
    mem->size = size;
    mem->mapped = lw_pages_capacity(size);
    mem->pages = pages;
    return 0;
}

static void memory_release(lw_memory *mem)
{
    lw_pages_put(mem->data, mem->mapped);
    mem->data = NULL;
    mem->size = mem->mapped = 0;
}

int64_t lw_memory_grow_internal(lw_memory *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > mem->max_pages)
        return -1;
    uint64_t size = pages * LW_PAGE_SIZE;
    if (size > mem->mapped) {
        uint64_t cap;
        void *p = lw_pages_grow(mem->data, mem->mapped, mem->size, size, &cap);
        if (!p)
            return -1;
        mem->data = p;
        mem->mapped = cap;
    }
    mem->pages = (uint32_t)pages;
    mem->size = size;
    return old;
}

int64_t lw_instance_grow_memory(lw_instance *inst, uint32_t delta)
{
    lw_memory *mem = inst->mem;
    if (!inst->memory_growing || delta == 0 || (uint64_t)mem->pages + delta > mem->max_pages)
        return lw_memory_grow_internal(mem, delta);
    uint64_t from = mem->size, to = ((uint64_t)mem->pages + delta) * LW_PAGE_SIZE;
    if (inst->memory_growing(inst->growing_ud, from, to) != 0)
        return -1;
    int64_t r = lw_memory_grow_internal(mem, delta);
    if (r < 0)
        inst->memory_growing(inst->growing_ud, to, from);
    return r;
}

lw_memory *lw_memory_new(uint32_t min_pages, uint32_t max_pages, int has_max)
{
    lw_memory *mem = malloc(sizeof *mem);
    if (!mem)
        return NULL;
    if (memory_init(mem, min_pages, has_max ? max_pages : LW_MAX_PAGES, (uint8_t)!!has_max) < 0) {
        free(mem);
        return NULL;
    }
    return mem;
}

void lw_memory_free(lw_memory *mem)
{
    if (!mem)
        return;
    memory_release(mem);
    free(mem);
}

uint8_t *lw_memory_data(lw_memory *mem)
{
    lw_memory_materialize(mem); /* the caller may read anything */
    return mem->data;
}
uint64_t lw_memory_size(const lw_memory *mem) { return mem->size; }
int64_t lw_memory_grow(lw_memory *mem, uint32_t delta) { return lw_memory_grow_internal(mem, delta); }

/* ---- tables ---------------------------------------------------------------- */

/* Tables of up to this many elements start inside their instance's block
 * (a C guest's table holds its few address-taken functions). */
#define TABLE_INLINE 64

/* buf: zeroed room for size elements in the instance block, or NULL. */
static int table_init(lw_table *t, uint8_t elemtype, uint32_t size, uint32_t max, uint8_t has_max,
                      uint64_t *buf)
{
    t->elemtype = elemtype;
    t->size = size;
    t->max = has_max ? max : UINT32_MAX;
    t->has_max = has_max;
    t->inline_elems = buf != NULL;
    t->elems = buf ? buf : calloc(size ? size : 1, sizeof *t->elems);
    return t->elems ? 0 : -1;
}

int lw_table_grow_internal(lw_table *t, uint32_t delta, uint64_t init, uint32_t limit)
{
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    if (n > t->max || n > limit)
        return -1;
    if (delta == 0)
        return (int)old;
    uint64_t *e = t->inline_elems ? malloc(n * sizeof *e) : realloc(t->elems, n * sizeof *e);
    if (!e)
        return -1;
    if (t->inline_elems) {
        memcpy(e, t->elems, old * sizeof *e);
        t->inline_elems = 0;
    }
    for (uint64_t i = old; i < n; i++)
        e[i] = init;
    t->elems = e;
    t->size = (uint32_t)n;
    return (int)old;
}

lw_table *lw_table_new(uint8_t elemtype, uint32_t min, uint32_t max, int has_max)
{
    lw_table *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    if (table_init(t, elemtype, min, max, (uint8_t)!!has_max, NULL) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

void lw_table_free(lw_table *t)
{
    if (!t)
        return;
    free(t->elems);
    free(t);
}

uint32_t lw_table_size(const lw_table *t) { return t->size; }

lw_val lw_table_get(const lw_table *t, uint32_t i) { return i < t->size ? t->elems[i] : 0; }

/* ---- globals and host functions ------------------------------------------- */

lw_global *lw_global_new(uint8_t valtype, int mut, lw_val v)
{
    lw_global *g = malloc(sizeof *g);
    if (!g)
        return NULL;
    g->v.u64 = v;
    g->valtype = valtype;
    g->mut = (uint8_t)!!mut;
    return g;
}

void lw_global_free(lw_global *g) { free(g); }
lw_val lw_global_get(const lw_global *g) { return g->v.u64; }
void lw_global_set(lw_global *g, lw_val v) { g->v.u64 = v; }

lw_func *lw_func_new_host(const lw_functype *type, lw_host_fn fn, void *env)
{
    lw_func *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = FUNC_HOST;
    f->type = type;
    f->u.h.fn = fn;
    f->u.h.env = env;
    return f;
}

void lw_func_free(lw_func *f) { free(f); }
const lw_functype *lw_func_type(const lw_func *f) { return f->type; }

/* ---- instances -------------------------------------------------------------- */

static lw_val funcref_of(const lw_instance *inst, uint32_t idx)
{
    const lw_module *m = inst->module;
    if (idx < m->nfuncimports)
        return (lw_val)(uintptr_t)inst->funcimports[idx];
    return (lw_val)(uintptr_t)&inst->funcs[m->funcref[idx]];
}

int lw_cexpr_eval(const lw_instance *inst, const lw_cexpr *e, lw_val *out)
{
    switch (e->kind) {
    case CEXPR_CONST: *out = e->value; break;
    case CEXPR_GLOBAL: *out = inst->globals[e->index]->v.u64; break;
    case CEXPR_REFNULL: *out = 0; break;
    case CEXPR_REFFUNC: *out = funcref_of(inst, e->index); break;
    }
    return 0;
}

/* Instances whose failed initialization already wrote function references
 * into imported tables: those elements stay (the spec keeps partial
 * writes), so the instance must stay alive as long as a table may call it;
 * it is kept here until exit. Only imported tables lead here, which
 * lunatic processes never have (embedders and spec scripts do). */
typedef struct orphan {
    struct orphan *next;
    lw_instance *inst;
} orphan;
static orphan *orphans;
static pthread_mutex_t orphans_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps inst alive; false when out of memory (the caller frees it: a
 * table holding its functions must then not be used). */
static bool keep_orphan(lw_instance *inst)
{
    orphan *o = malloc(sizeof *o);
    if (!o)
        return false;
    o->inst = inst;
    pthread_mutex_lock(&orphans_lock);
    o->next = orphans;
    orphans = o;
    pthread_mutex_unlock(&orphans_lock);
    return true;
}

static int import_mismatch(lw_error *err, const lw_importdecl *im, const char *why)
{
    return lw_error_set(err, 0, "incompatible import type for \"%s\" \"%s\": %s", im->module,
                        im->name, why);
}

static bool limits_match(uint32_t size, uint8_t has_max, uint32_t max, const lw_limits_decl *want)
{
    if (size < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

static int check_import(const lw_importdecl *im, const lw_module *m, const lw_extern *ex,
                        lw_error *err)
{
    if (ex->kind != im->kind)
        return import_mismatch(err, im, "wrong kind");
    switch (im->kind) {
    case LW_EXTERN_FUNC:
        if (!ex->u.func || ex->u.func->type != m->types[im->index])
            return import_mismatch(err, im, "function signature differs");
        break;
    case LW_EXTERN_TABLE: {
        const lw_table *t = ex->u.table;
        if (!t || t->elemtype != im->table.elemtype)
            return import_mismatch(err, im, "table element type differs");
        if (!limits_match(t->size, t->has_max, t->max, &im->table.lim))
            return import_mismatch(err, im, "table limits do not match");
        break;
    }
    case LW_EXTERN_MEMORY: {
        const lw_memory *mem = ex->u.memory;
        if (!mem || !limits_match(mem->pages, mem->has_max, mem->max_pages, &im->mem))
            return import_mismatch(err, im, "memory limits do not match");
        break;
    }
    case LW_EXTERN_GLOBAL: {
        const lw_global *g = ex->u.global;
        if (!g || g->valtype != im->global.valtype || g->mut != im->global.mut)
            return import_mismatch(err, im, "global type differs");
        break;
    }
    }
    return 0;
}

lw_instance *lw_instance_new(lw_module *m, const lw_extern *imports, uint32_t nimports,
                             const lw_limits *limits, lw_error *err)
{
    lw_error local_err;
    if (!err)
        err = &local_err;
    memset(err, 0, sizeof *err);
    if (nimports < m->nimports) {
        const lw_importdecl *im = &m->imports[nimports];
        lw_error_set(err, 0, "missing import \"%s\" \"%s\" (%u of %u imports given)",
                     im->module, im->name, nimports, m->nimports);
        return NULL;
    }
    for (uint32_t i = 0; i < m->nimports; i++)
        if (check_import(&m->imports[i], m, &imports[i], err) < 0)
            return NULL;

    uint32_t ntown = m->ntables - m->ntableimports;
    uint32_t ngown = m->nglobals - m->nglobalimports;
    size_t sz = sizeof(lw_instance);
    size_t o_fimp = sz;
    sz += m->nfuncimports * sizeof(lw_func *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_funcs = sz;
    sz += m->nfuncrefs * sizeof(lw_func);
    size_t o_tabs = sz;
    sz += m->ntables * sizeof(lw_table *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_otabs = sz;
    sz += ntown * sizeof(lw_table);
    size_t o_globs = sz;
    sz += m->nglobals * sizeof(lw_global *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_oglobs = sz;
    sz += ngown * sizeof(lw_global);
    sz = (sz + 7) & ~(size_t)7;
    size_t o_telems = sz;
    for (uint32_t i = 0; i < ntown; i++) {
        uint32_t min = m->tables[m->ntableimports + i].lim.min;
        if (min <= TABLE_INLINE)
            sz += min * sizeof(uint64_t);
    }
    size_t o_drops = sz;
    sz += m->nelems + m->ndatas;

    char *blk = lw_obj_alloc(sz);
    if (!blk) {
        lw_error_set(err, 0, "out of memory");
        return NULL;
    }
    lw_instance *inst = (lw_instance *)blk;
    inst->block_size = (uint32_t)sz;
    inst->module = m;
    inst->funcimports = (lw_func **)(blk + o_fimp);
    inst->funcs = (lw_func *)(blk + o_funcs);
    inst->tables = (lw_table **)(blk + o_tabs);
    inst->own_tables = (lw_table *)(blk + o_otabs);
    inst->globals = (lw_global **)(blk + o_globs);
    inst->own_globals = (lw_global *)(blk + o_oglobs);
    inst->elem_dropped = (uint8_t *)(blk + o_drops);
    inst->data_dropped = inst->elem_dropped + m->nelems;
    inst->max_memory_bytes = limits && limits->max_memory_bytes ? limits->max_memory_bytes
                                                                : (uint64_t)LW_MAX_PAGES * LW_PAGE_SIZE;
    inst->max_table_elems = limits && limits->max_table_elems ? limits->max_table_elems : 10000000u;
    if (limits) {
        inst->memory_growing = limits->memory_growing;
        inst->growing_ud = limits->growing_ud;
    }
    inst->mem = &inst->own_mem;
    lw_module_retain(m);

    /* imports */
    uint32_t fi = 0, ti = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const lw_extern *ex = &imports[i];
        switch (m->imports[i].kind) {
        case LW_EXTERN_FUNC: inst->funcimports[fi++] = ex->u.func; break;
        case LW_EXTERN_TABLE: inst->tables[ti++] = ex->u.table; break;
        case LW_EXTERN_MEMORY: inst->mem = ex->u.memory; break;
        case LW_EXTERN_GLOBAL: inst->globals[gi++] = ex->u.global; break;
        }
    }
    /* function objects for functions that can be referenced */
    for (uint32_t s = 0; s < m->nfuncrefs; s++) {
        uint32_t i = m->funcref_func[s];
        lw_func *f = &inst->funcs[s];
        if (i < m->nfuncimports) {
            *f = *inst->funcimports[i];
        } else {
            f->kind = FUNC_WASM;
            f->type = m->types[m->functypes[i]];
            f->u.w.inst = inst;
            f->u.w.code = &m->codes[i - m->nfuncimports];
        }
    }
    /* own tables */
    uint64_t *telems = (uint64_t *)(void *)(blk + o_telems);
    for (uint32_t i = 0; i < ntown; i++) {
        const lw_tabletype *tt = &m->tables[m->ntableimports + i];
        if (tt->lim.min > inst->max_table_elems) {
            lw_error_set(err, 0, "table of %u elements exceeds the limit", tt->lim.min);
            goto fail;
        }
        uint64_t *buf = tt->lim.min <= TABLE_INLINE ? telems : NULL;
        if (buf)
            telems += tt->lim.min;
        if (table_init(&inst->own_tables[i], tt->elemtype, tt->lim.min, tt->lim.max,
                       tt->lim.has_max, buf) < 0) {
            lw_error_set(err, 0, "out of memory");
            goto fail;
        }
        inst->tables[m->ntableimports + i] = &inst->own_tables[i];
    }
    /* own memory */
    if (m->nmems > m->nmemimports) {
        const lw_limits_decl *l = &m->mems[0];
        uint64_t cap = inst->max_memory_bytes / LW_PAGE_SIZE;
        uint32_t maxp = l->has_max ? l->max : LW_MAX_PAGES;
        if (maxp > cap)
            maxp = (uint32_t)cap;
        if (l->min > maxp) {
            lw_error_set(err, 0, "memory of %u pages exceeds the limit of %u pages", l->min, maxp);
            goto fail;
        }
        if (memory_init(&inst->own_mem, l->min, maxp, l->has_max) < 0) {
            lw_error_set(err, 0, "out of memory");
            goto fail;
        }
    }
    /* own globals */
    for (uint32_t i = 0; i < ngown; i++) {
        lw_global *g = &inst->own_globals[i];
        g->valtype = m->globals[m->nglobalimports + i].valtype;
        g->mut = m->globals[m->nglobalimports + i].mut;
        lw_cexpr_eval(inst, &m->global_inits[i], &g->v.u64);
        inst->globals[m->nglobalimports + i] = g;
    }

    /* element segments, then data segments; a segment that does not fit
     * fails instantiation, keeping the effects of earlier ones */
    bool wrote_imported_table = false;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const lw_elemseg *s = &m->elems[i];
        if (s->mode == SEG_PASSIVE)
            continue;
        inst->elem_dropped[i] = 1;
        if (s->mode == SEG_DECLARATIVE)
            continue;
        lw_val off = 0;
        lw_cexpr_eval(inst, &s->offset, &off);
        lw_table *t = inst->tables[s->table];
        if ((uint64_t)(uint32_t)off + s->n > t->size) {
            lw_error_set(err, 0, "out of bounds table access");
            goto fail_after_writes;
        }
        for (uint32_t k = 0; k < s->n; k++)
            lw_cexpr_eval(inst, &s->items[k], &t->elems[(uint32_t)off + k]);
        if (s->table < m->ntableimports && s->n)
            wrote_imported_table = true;
    }
    bool defer = limits && limits->defer_data && m->start < 0 && inst->mem == &inst->own_mem;
    uint64_t lazy_lo = UINT64_MAX, lazy_hi = 0;
    for (uint32_t i = 0; defer && i < m->ndatas; i++) {
        const lw_dataseg *s = &m->datas[i];
        if (s->mode != SEG_ACTIVE || !s->len)
            continue;
        if (s->offset.kind != CEXPR_CONST) {
            defer = false;
            break;
        }
        uint64_t off = (uint32_t)s->offset.value;
        if (off + s->len > inst->mem->size) {
            defer = false; /* it fails: the segments before it are written now */
            break;
        }
        if (off < lazy_lo)
            lazy_lo = off;
        if (off + s->len > lazy_hi)
            lazy_hi = off + s->len;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const lw_dataseg *s = &m->datas[i];
        if (s->mode != SEG_ACTIVE)
            continue;
        inst->data_dropped[i] = 1;
        lw_val off = 0;
        lw_cexpr_eval(inst, &s->offset, &off);
        if ((uint64_t)(uint32_t)off + s->len > inst->mem->size) {
            lw_error_set(err, 0, "out of bounds memory access");
            goto fail_after_writes;
        }
        if (s->len && !defer)
            memcpy(inst->mem->data + (uint32_t)off, s->bytes, s->len);
    }
    if (defer && lazy_hi) {
        inst->own_mem.lazy_lo = lazy_lo;
        inst->own_mem.lazy_hi = lazy_hi;
        inst->own_mem.lazy_mod = m;
    }
    return inst;

fail_after_writes:
    if (wrote_imported_table && keep_orphan(inst))
        return NULL;
fail:
    lw_instance_free(inst);
    return NULL;
}

void lw_memory_materialize(lw_memory *mem)
{
    if (!mem->lazy_hi)
        return;
    /* checked at instantiation; the offsets are constants, and nothing has
     * touched these bytes since (every access there comes here first) */
    const lw_module *m = mem->lazy_mod;
    mem->lazy_lo = mem->lazy_hi = 0;
    mem->lazy_mod = NULL;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const lw_dataseg *s = &m->datas[i];
        if (s->mode == SEG_ACTIVE && s->len)
            memcpy(mem->data + (uint32_t)s->offset.value, s->bytes, s->len);
    }
}

void lw_instance_init_data(lw_instance *inst)
{
    if (inst->mem)
        lw_memory_materialize(inst->mem);
}

void lw_instance_free(lw_instance *inst)
{
    if (!inst)
        return;
    lw_module *m = inst->module;
    for (uint32_t i = 0; i < m->ntables - m->ntableimports; i++)
        if (!inst->own_tables[i].inline_elems)
            free(inst->own_tables[i].elems);
    memory_release(&inst->own_mem);
    lw_module_release(m);
    lw_obj_free(inst, inst->block_size);
}

lw_module *lw_instance_module(const lw_instance *inst) { return inst->module; }

lw_func *lw_instance_start_func(lw_instance *inst)
{
    const lw_module *m = inst->module;
    if (m->start < 0)
        return NULL;
    if (m->start < m->nfuncimports)
        return inst->funcimports[m->start];
    return &inst->funcs[m->funcref[m->start]];
}

int lw_instance_export(lw_instance *inst, const char *name, lw_extern *out)
{
    return lw_instance_export_n(inst, name, strlen(name), out);
}

int lw_instance_export_n(lw_instance *inst, const char *name, size_t len, lw_extern *out)
{
    const lw_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const lw_exportdecl *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len))
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case LW_EXTERN_FUNC:
            out->u.func = e->index < m->nfuncimports ? inst->funcimports[e->index]
                                                     : &inst->funcs[m->funcref[e->index]];
            break;
        case LW_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
        case LW_EXTERN_MEMORY:
            lw_instance_init_data(inst); /* others may read it from now on */
            out->u.memory = inst->mem;
            break;
        case LW_EXTERN_GLOBAL: out->u.global = inst->globals[e->index]; break;
        }
        return 0;
    }
    return -1;
}

lw_memory *lw_instance_memory(lw_instance *inst)
{
    lw_instance_init_data(inst);
    return inst->module->nmems ? inst->mem : NULL;
}

void lw_instance_set_user(lw_instance *inst, void *user) { inst->user = user; }
void *lw_instance_user(const lw_instance *inst) { return inst->user; }

uint64_t lw_instance_memory_bytes(const lw_instance *inst)
{
    return inst->module->nmems && inst->mem ? inst->mem->size : 0;
}

size_t lw_instance_host_bytes(const lw_instance *inst) { return inst->block_size; }

const char *lw_func_export_name(const lw_func *f, uint32_t *len)
{
    if (f->kind != FUNC_WASM)
        return NULL;
    const lw_module *m = f->u.w.inst->module;
    uint32_t idx = f->u.w.code->funcidx;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const lw_exportdecl *e = &m->exports[i];
        if (e->kind == LW_EXTERN_FUNC && e->index == idx) {
            *len = e->name_len;
            return e->name;
        }
    }
    return NULL;
}
