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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wasm/internal.h"

/* ---- memories ------------------------------------------------------------ */

static int memory_init(wasm_memory *mem, uint32_t pages, uint32_t max_pages, uint8_t has_max)
{
    memset(mem, 0, sizeof *mem);
    mem->max_pages = max_pages;
    mem->has_max = has_max;
    if (pages == 0)
        return 0;
    uint64_t size = (uint64_t)pages * WASM_PAGE_SIZE;
    void *p = wasm_pages_get(size);
    if (!p)
        return -1;
    mem->data = p;
    mem->size = size;
    mem->mapped = wasm_pages_capacity(size);
    mem->pages = pages;
    return 0;
}

static void memory_release(wasm_memory *mem)
{
    wasm_pages_put(mem->data, mem->mapped);
    mem->data = NULL;
    mem->size = mem->mapped = 0;
}

int64_t wasm_memory_grow_internal(wasm_memory *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > mem->max_pages)
        return -1;
    uint64_t size = pages * WASM_PAGE_SIZE;
    if (size > mem->mapped) {
        uint64_t cap;
        void *p = wasm_pages_grow(mem->data, mem->mapped, mem->size, size, &cap);
        if (!p)
            return -1;
        mem->data = p;
        mem->mapped = cap;
    }
    mem->pages = (uint32_t)pages;
    mem->size = size;
    return old;
}

wasm_memory *wasm_memory_new(uint32_t min_pages, uint32_t max_pages, int has_max)
{
    wasm_memory *mem = malloc(sizeof *mem);
    if (!mem)
        return NULL;
    if (memory_init(mem, min_pages, has_max ? max_pages : WASM_MAX_PAGES, (uint8_t)!!has_max) < 0) {
        free(mem);
        return NULL;
    }
    return mem;
}

void wasm_memory_free(wasm_memory *mem)
{
    if (!mem)
        return;
    memory_release(mem);
    free(mem);
}

uint8_t *wasm_memory_data(wasm_memory *mem)
{
    wasm_memory_materialize(mem); /* the caller may read anything */
    return mem->data;
}
uint64_t wasm_memory_size(const wasm_memory *mem) { return mem->size; }
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta) { return wasm_memory_grow_internal(mem, delta); }

/* ---- tables ---------------------------------------------------------------- */

/* Tables of up to this many elements start inside their instance's block
 * (a C guest's table holds its few address-taken functions). */
#define TABLE_INLINE 64

/* buf: zeroed room for size elements in the instance block, or NULL. */
static int table_init(wasm_table *t, uint8_t elemtype, uint32_t size, uint32_t max, uint8_t has_max,
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

int wasm_table_grow_internal(wasm_table *t, uint32_t delta, uint64_t init, uint32_t limit)
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

wasm_table *wasm_table_new(uint8_t elemtype, uint32_t min, uint32_t max, int has_max)
{
    wasm_table *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    if (table_init(t, elemtype, min, max, (uint8_t)!!has_max, NULL) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

void wasm_table_free(wasm_table *t)
{
    if (!t)
        return;
    free(t->elems);
    free(t);
}

uint32_t wasm_table_size(const wasm_table *t) { return t->size; }

wasm_val wasm_table_get(const wasm_table *t, uint32_t i) { return i < t->size ? t->elems[i] : 0; }

/* ---- globals and host functions ------------------------------------------- */

wasm_global *wasm_global_new(uint8_t valtype, int mut, wasm_val v)
{
    wasm_global *g = malloc(sizeof *g);
    if (!g)
        return NULL;
    g->v.u64 = v;
    g->valtype = valtype;
    g->mut = (uint8_t)!!mut;
    return g;
}

void wasm_global_free(wasm_global *g) { free(g); }
wasm_val wasm_global_get(const wasm_global *g) { return g->v.u64; }
void wasm_global_set(wasm_global *g, wasm_val v) { g->v.u64 = v; }

wasm_func *wasm_func_new_host(const wasm_functype *type, wasm_host_fn fn, void *env)
{
    wasm_func *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = FUNC_HOST;
    f->type = type;
    f->u.h.fn = fn;
    f->u.h.env = env;
    return f;
}

void wasm_func_free(wasm_func *f) { free(f); }
const wasm_functype *wasm_func_type(const wasm_func *f) { return f->type; }

/* ---- instances -------------------------------------------------------------- */

static wasm_val funcref_of(const wasm_instance *inst, uint32_t idx)
{
    const wasm_module *m = inst->module;
    if (idx < m->nfuncimports)
        return (wasm_val)(uintptr_t)inst->funcimports[idx];
    return (wasm_val)(uintptr_t)&inst->funcs[m->funcref[idx]];
}

int wasm_cexpr_eval(const wasm_instance *inst, const wasm_cexpr *e, wasm_val *out)
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
 * into imported tables: they must stay alive while those tables may call
 * them, so they are kept here until exit. */
static wasm_instance *orphans[64];
static unsigned norphans;

static int import_mismatch(wasm_error *err, const wasm_importdecl *im, const char *why)
{
    return wasm_error_set(err, 0, "incompatible import type for \"%s\" \"%s\": %s", im->module,
                          im->name, why);
}

static bool limits_match(uint32_t size, uint8_t has_max, uint32_t max, const wasm_limits_decl *want)
{
    if (size < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

static int check_import(const wasm_importdecl *im, const wasm_module *m, const wasm_extern *ex,
                        wasm_error *err)
{
    if (ex->kind != im->kind)
        return import_mismatch(err, im, "wrong kind");
    switch (im->kind) {
    case WASM_EXTERN_FUNC:
        if (!ex->u.func || ex->u.func->type != m->types[im->index])
            return import_mismatch(err, im, "function signature differs");
        break;
    case WASM_EXTERN_TABLE: {
        const wasm_table *t = ex->u.table;
        if (!t || t->elemtype != im->table.elemtype)
            return import_mismatch(err, im, "table element type differs");
        if (!limits_match(t->size, t->has_max, t->max, &im->table.lim))
            return import_mismatch(err, im, "table limits do not match");
        break;
    }
    case WASM_EXTERN_MEMORY: {
        const wasm_memory *mem = ex->u.memory;
        if (!mem || !limits_match(mem->pages, mem->has_max, mem->max_pages, &im->mem))
            return import_mismatch(err, im, "memory limits do not match");
        break;
    }
    case WASM_EXTERN_GLOBAL: {
        const wasm_global *g = ex->u.global;
        if (!g || g->valtype != im->global.valtype || g->mut != im->global.mut)
            return import_mismatch(err, im, "global type differs");
        break;
    }
    }
    return 0;
}

wasm_instance *wasm_instance_new(wasm_module *m, const wasm_extern *imports, uint32_t nimports,
                                 const wasm_limits *limits, wasm_error *err)
{
    wasm_error local_err;
    if (!err)
        err = &local_err;
    memset(err, 0, sizeof *err);
    if (nimports < m->nimports) {
        const wasm_importdecl *im = &m->imports[nimports];
        wasm_error_set(err, 0, "missing import \"%s\" \"%s\" (%u of %u imports given)",
                       im->module, im->name, nimports, m->nimports);
        return NULL;
    }
    for (uint32_t i = 0; i < m->nimports; i++)
        if (check_import(&m->imports[i], m, &imports[i], err) < 0)
            return NULL;

    uint32_t ntown = m->ntables - m->ntableimports;
    uint32_t ngown = m->nglobals - m->nglobalimports;
    size_t sz = sizeof(wasm_instance);
    size_t o_fimp = sz;
    sz += m->nfuncimports * sizeof(wasm_func *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_funcs = sz;
    sz += m->nfuncrefs * sizeof(wasm_func);
    size_t o_tabs = sz;
    sz += m->ntables * sizeof(wasm_table *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_otabs = sz;
    sz += ntown * sizeof(wasm_table);
    size_t o_globs = sz;
    sz += m->nglobals * sizeof(wasm_global *);
    sz = (sz + 15) & ~(size_t)15;
    size_t o_oglobs = sz;
    sz += ngown * sizeof(wasm_global);
    sz = (sz + 7) & ~(size_t)7;
    size_t o_telems = sz;
    for (uint32_t i = 0; i < ntown; i++) {
        uint32_t min = m->tables[m->ntableimports + i].lim.min;
        if (min <= TABLE_INLINE)
            sz += min * sizeof(uint64_t);
    }
    size_t o_drops = sz;
    sz += m->nelems + m->ndatas;

    char *blk = wasm_obj_alloc(sz);
    if (!blk) {
        wasm_error_set(err, 0, "out of memory");
        return NULL;
    }
    wasm_instance *inst = (wasm_instance *)blk;
    inst->block_size = (uint32_t)sz;
    inst->module = m;
    inst->funcimports = (wasm_func **)(blk + o_fimp);
    inst->funcs = (wasm_func *)(blk + o_funcs);
    inst->tables = (wasm_table **)(blk + o_tabs);
    inst->own_tables = (wasm_table *)(blk + o_otabs);
    inst->globals = (wasm_global **)(blk + o_globs);
    inst->own_globals = (wasm_global *)(blk + o_oglobs);
    inst->elem_dropped = (uint8_t *)(blk + o_drops);
    inst->data_dropped = inst->elem_dropped + m->nelems;
    inst->max_memory_bytes = limits && limits->max_memory_bytes ? limits->max_memory_bytes
                                                                : (uint64_t)WASM_MAX_PAGES * WASM_PAGE_SIZE;
    inst->max_table_elems = limits && limits->max_table_elems ? limits->max_table_elems : 10000000u;
    inst->mem = &inst->own_mem;
    wasm_module_retain(m);

    /* imports */
    uint32_t fi = 0, ti = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wasm_extern *ex = &imports[i];
        switch (m->imports[i].kind) {
        case WASM_EXTERN_FUNC: inst->funcimports[fi++] = ex->u.func; break;
        case WASM_EXTERN_TABLE: inst->tables[ti++] = ex->u.table; break;
        case WASM_EXTERN_MEMORY: inst->mem = ex->u.memory; break;
        case WASM_EXTERN_GLOBAL: inst->globals[gi++] = ex->u.global; break;
        }
    }
    /* function objects for functions that can be referenced */
    for (uint32_t s = 0; s < m->nfuncrefs; s++) {
        uint32_t i = m->funcref_func[s];
        wasm_func *f = &inst->funcs[s];
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
        const wasm_tabletype *tt = &m->tables[m->ntableimports + i];
        if (tt->lim.min > inst->max_table_elems) {
            wasm_error_set(err, 0, "table of %u elements exceeds the limit", tt->lim.min);
            goto fail;
        }
        uint64_t *buf = tt->lim.min <= TABLE_INLINE ? telems : NULL;
        if (buf)
            telems += tt->lim.min;
        if (table_init(&inst->own_tables[i], tt->elemtype, tt->lim.min, tt->lim.max,
                       tt->lim.has_max, buf) < 0) {
            wasm_error_set(err, 0, "out of memory");
            goto fail;
        }
        inst->tables[m->ntableimports + i] = &inst->own_tables[i];
    }
    /* own memory */
    if (m->nmems > m->nmemimports) {
        const wasm_limits_decl *l = &m->mems[0];
        uint64_t cap = inst->max_memory_bytes / WASM_PAGE_SIZE;
        uint32_t maxp = l->has_max ? l->max : WASM_MAX_PAGES;
        if (maxp > cap)
            maxp = (uint32_t)cap;
        if (l->min > maxp) {
            wasm_error_set(err, 0, "memory of %u pages exceeds the limit of %u pages", l->min, maxp);
            goto fail;
        }
        if (memory_init(&inst->own_mem, l->min, maxp, l->has_max) < 0) {
            wasm_error_set(err, 0, "out of memory");
            goto fail;
        }
    }
    /* own globals */
    for (uint32_t i = 0; i < ngown; i++) {
        wasm_global *g = &inst->own_globals[i];
        g->valtype = m->globals[m->nglobalimports + i].valtype;
        g->mut = m->globals[m->nglobalimports + i].mut;
        wasm_cexpr_eval(inst, &m->global_inits[i], &g->v.u64);
        inst->globals[m->nglobalimports + i] = g;
    }

    /* element segments, then data segments; a segment that does not fit
     * fails instantiation, keeping the effects of earlier ones */
    bool wrote_imported_table = false;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wasm_elemseg *s = &m->elems[i];
        if (s->mode == SEG_PASSIVE)
            continue;
        inst->elem_dropped[i] = 1;
        if (s->mode == SEG_DECLARATIVE)
            continue;
        wasm_val off = 0;
        wasm_cexpr_eval(inst, &s->offset, &off);
        wasm_table *t = inst->tables[s->table];
        if ((uint64_t)(uint32_t)off + s->n > t->size) {
            wasm_error_set(err, 0, "out of bounds table access");
            goto fail_after_writes;
        }
        for (uint32_t k = 0; k < s->n; k++)
            wasm_cexpr_eval(inst, &s->items[k], &t->elems[(uint32_t)off + k]);
        if (s->table < m->ntableimports && s->n)
            wrote_imported_table = true;
    }
    bool defer = limits && limits->defer_data && m->start < 0 && inst->mem == &inst->own_mem;
    uint64_t lazy_lo = UINT64_MAX, lazy_hi = 0;
    for (uint32_t i = 0; defer && i < m->ndatas; i++) {
        const wasm_dataseg *s = &m->datas[i];
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
        const wasm_dataseg *s = &m->datas[i];
        if (s->mode != SEG_ACTIVE)
            continue;
        inst->data_dropped[i] = 1;
        wasm_val off = 0;
        wasm_cexpr_eval(inst, &s->offset, &off);
        if ((uint64_t)(uint32_t)off + s->len > inst->mem->size) {
            wasm_error_set(err, 0, "out of bounds memory access");
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
    if (wrote_imported_table && norphans < sizeof orphans / sizeof *orphans) {
        orphans[norphans++] = inst;
        return NULL;
    }
fail:
    wasm_instance_free(inst);
    return NULL;
}

void wasm_memory_materialize(wasm_memory *mem)
{
    if (!mem->lazy_hi)
        return;
    /* checked at instantiation; the offsets are constants, and nothing has
     * touched these bytes since (every access there comes here first) */
    const wasm_module *m = mem->lazy_mod;
    mem->lazy_lo = mem->lazy_hi = 0;
    mem->lazy_mod = NULL;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wasm_dataseg *s = &m->datas[i];
        if (s->mode == SEG_ACTIVE && s->len)
            memcpy(mem->data + (uint32_t)s->offset.value, s->bytes, s->len);
    }
}

void wasm_instance_init_data(wasm_instance *inst)
{
    if (inst->mem)
        wasm_memory_materialize(inst->mem);
}

void wasm_instance_free(wasm_instance *inst)
{
    if (!inst)
        return;
    wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->ntables - m->ntableimports; i++)
        if (!inst->own_tables[i].inline_elems)
            free(inst->own_tables[i].elems);
    memory_release(&inst->own_mem);
    wasm_module_release(m);
    wasm_obj_free(inst, inst->block_size);
}

wasm_module *wasm_instance_module(const wasm_instance *inst) { return inst->module; }

wasm_func *wasm_instance_start_func(wasm_instance *inst)
{
    const wasm_module *m = inst->module;
    if (m->start < 0)
        return NULL;
    if (m->start < m->nfuncimports)
        return inst->funcimports[m->start];
    return &inst->funcs[m->funcref[m->start]];
}

int wasm_instance_export(wasm_instance *inst, const char *name, wasm_extern *out)
{
    return wasm_instance_export_n(inst, name, strlen(name), out);
}

int wasm_instance_export_n(wasm_instance *inst, const char *name, size_t len, wasm_extern *out)
{
    const wasm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wasm_exportdecl *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len))
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case WASM_EXTERN_FUNC:
            out->u.func = e->index < m->nfuncimports ? inst->funcimports[e->index]
                                                     : &inst->funcs[m->funcref[e->index]];
            break;
        case WASM_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
        case WASM_EXTERN_MEMORY:
            wasm_instance_init_data(inst); /* others may read it from now on */
            out->u.memory = inst->mem;
            break;
        case WASM_EXTERN_GLOBAL: out->u.global = inst->globals[e->index]; break;
        }
        return 0;
    }
    return -1;
}

wasm_memory *wasm_instance_memory(wasm_instance *inst)
{
    wasm_instance_init_data(inst);
    return inst->module->nmems ? inst->mem : NULL;
}

void wasm_instance_set_user(wasm_instance *inst, void *user) { inst->user = user; }
void *wasm_instance_user(const wasm_instance *inst) { return inst->user; }
