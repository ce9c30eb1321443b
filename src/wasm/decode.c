/*
 * decode.c - binary module decoding and module-level validation.
 *
 * lw_module_new reads the sections in order, checks everything that is not
 * inside a function body (limits, indices, constant expressions, export
 * names, segment kinds), then hands each body to compile.c, which validates
 * and translates it in one pass. The module keeps a private copy of the
 * binary (data segments point into it), so callers may free theirs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/reader.h"

int lw_error_set(lw_error *err, size_t off, const char *fmt, ...)
{
    if (!err || err->failed)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->offset = off;
    err->failed = 1;
    return -1;
}

const char *lw_trapkind_message(lw_trapkind k)
{
    static const char *const msgs[] = {
#define TRAP_MSG(name, msg) msg,
        LW_TRAP_LIST(TRAP_MSG)
#undef TRAP_MSG
    };
    return (unsigned)k < LW_TRAP_COUNT ? msgs[k] : "unknown trap";
}

/* Section ids in the order the binary format requires them. */
static int section_rank(uint8_t id)
{
    static const int rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id <= 12 ? rank[id] : -1;
}

int lw_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Reads a name into a fresh NUL-terminated string. */
static char *rd_name(reader *r, uint32_t *len_out)
{
    uint32_t n = rd_u32(r);
    const uint8_t *s = rd_bytes(r, n);
    if (!s)
        return NULL;
    if (!lw_utf8_valid(s, n)) {
        rd_fail(r, "malformed UTF-8 encoding");
        return NULL;
    }
    char *out = malloc((size_t)n + 1);
    if (!out) {
        rd_fail(r, "out of memory");
        return NULL;
    }
    memcpy(out, s, n);
    out[n] = 0;
    if (len_out)
        *len_out = n;
    return out;
}

static uint8_t rd_reftype(reader *r)
{
    uint8_t t = rd_u8(r);
    if (!r->bad && !is_reftype(t))
        rd_fail(r, "malformed reference type");
    return t;
}

static void rd_limits(reader *r, lw_limits_decl *l, bool is_mem)
{
    uint8_t flag = rd_u8(r);
    if (flag > 1) {
        rd_fail(r, "integer too large");
        return;
    }
    l->has_max = flag;
    l->min = rd_u32(r);
    l->max = flag ? rd_u32(r) : 0;
    if (r->bad)
        return;
    if (is_mem) {
        if (l->min > LW_MAX_PAGES || (flag && l->max > LW_MAX_PAGES)) {
            rd_fail(r, "memory size must be at most 65536 pages (4GiB)");
            return;
        }
    }
    if (flag && l->min > l->max)
        rd_fail(r, "size minimum must not be greater than maximum");
}

/* Decoding state beyond the module itself. */
typedef struct decoder {
    lw_module *m;
    reader r;
    uint8_t *declared;         /* function index -> referenced outside code */
    uint32_t ncodes;
    bool have_funcsec, have_codesec;
} decoder;

/* Reads a constant expression of the expected type. In Wasm 2.0 constant
 * expressions may only read imported globals (only_imported). */
static void rd_cexpr(decoder *d, lw_cexpr *e, uint8_t want, bool only_imported)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint8_t op = rd_u8(r);
    e->index = 0;
    e->value = 0;
    switch (op) {
    case 0x41:
        e->kind = CEXPR_CONST, e->type = LW_I32;
        e->value = (uint32_t)rd_sleb(r, 32);
        break;
    case 0x42:
        e->kind = CEXPR_CONST, e->type = LW_I64;
        e->value = (uint64_t)rd_sleb(r, 64);
        break;
    case 0x43:
        e->kind = CEXPR_CONST, e->type = LW_F32;
        e->value = rd_fixed32(r);
        break;
    case 0x44:
        e->kind = CEXPR_CONST, e->type = LW_F64;
        e->value = rd_fixed64(r);
        break;
    case 0xd0:
        e->kind = CEXPR_REFNULL;
        e->type = rd_reftype(r);
        break;
    case 0xd2:
        e->kind = CEXPR_REFFUNC, e->type = LW_FUNCREF;
        e->index = rd_u32(r);
        if (!r->bad && e->index >= m->nfuncs) {
            rd_fail(r, "unknown function");
            return;
        }
        if (!r->bad)
            d->declared[e->index] = 1;
        break;
    case 0x23:
        e->kind = CEXPR_GLOBAL;
        e->index = rd_u32(r);
        if (r->bad)
            return;
        if (e->index >= (only_imported ? m->nglobalimports : m->nglobals)) {
            rd_fail(r, "unknown global");
            return;
        }
        if (m->globals[e->index].mut) {
            rd_fail(r, "constant expression required");
            return;
        }
        e->type = m->globals[e->index].valtype;
        break;
    default:
        if (!r->bad)
            rd_fail(r, (op == 0x0b) ? "type mismatch" : "constant expression required");
        return;
    }
    if (r->bad)
        return;
    uint8_t end = rd_u8(r);
    if (r->bad)
        return;
    if (end != 0x0b) {
        /* a second instruction: either a non-constant or a type error */
        rd_fail(r, (end == 0x41 || end == 0x42 || end == 0x43 || end == 0x44 ||
                    end == 0x23 || end == 0xd0 || end == 0xd2)
                       ? "type mismatch"
                       : "constant expression required");
        return;
    }
    if (e->type != want)
        rd_fail(r, "type mismatch");
}

#define GROW(arr, n) ((arr) = reallocarray((arr), (n), sizeof *(arr)))

static void sec_type(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    m->types = calloc(n ? n : 1, sizeof *m->types);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        if (rd_u8(r) != 0x60) {
            rd_fail(r, "integer representation too long");
            return;
        }
        uint8_t buf[2][1024];
        uint8_t *heap[2] = {NULL, NULL};
        uint32_t cnt[2];
        for (int k = 0; k < 2 && !r->bad; k++) {
            cnt[k] = rd_u32(r);
            if (r->bad)
                break;
            if (cnt[k] > (uint32_t)(r->end - r->p)) {
                rd_fail(r, "unexpected end");
                break;
            }
            uint8_t *dst = buf[k];
            if (cnt[k] > sizeof buf[k])
                dst = heap[k] = malloc(cnt[k]);
            for (uint32_t j = 0; j < cnt[k] && !r->bad; j++)
                dst[j] = rd_valtype(r);
        }
        if (!r->bad) {
            m->types[i] = lw_functype_get(cnt[0], heap[0] ? heap[0] : buf[0], cnt[1],
                                          heap[1] ? heap[1] : buf[1]);
            m->ntypes = i + 1;
        }
        free(heap[0]);
        free(heap[1]);
    }
}

static void sec_import(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    m->imports = calloc(n ? n : 1, sizeof *m->imports);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_importdecl *im = &m->imports[i];
        im->module = rd_name(r, &im->module_len);
        if (r->bad)
            return;
        m->nimports = i + 1;
        im->name = rd_name(r, &im->name_len);
        im->kind = rd_u8(r);
        if (r->bad)
            return;
        switch (im->kind) {
        case LW_EXTERN_FUNC:
            im->index = rd_u32(r);
            if (!r->bad && im->index >= m->ntypes) {
                rd_fail(r, "unknown type");
                return;
            }
            GROW(m->functypes, m->nfuncs + 1);
            m->functypes[m->nfuncs++] = im->index;
            m->nfuncimports++;
            break;
        case LW_EXTERN_TABLE:
            im->table.elemtype = rd_reftype(r);
            rd_limits(r, &im->table.lim, false);
            GROW(m->tables, m->ntables + 1);
            m->tables[m->ntables++] = im->table;
            m->ntableimports++;
            break;
        case LW_EXTERN_MEMORY:
            rd_limits(r, &im->mem, true);
            GROW(m->mems, m->nmems + 1);
            m->mems[m->nmems++] = im->mem;
            m->nmemimports++;
            break;
        case LW_EXTERN_GLOBAL:
            im->global.valtype = rd_valtype(r);
            im->global.mut = rd_u8(r);
            if (!r->bad && im->global.mut > 1) {
                rd_fail(r, "malformed mutability");
                return;
            }
            GROW(m->globals, m->nglobals + 1);
            m->globals[m->nglobals++] = im->global;
            m->nglobalimports++;
            break;
        default:
            rd_fail(r, "malformed import kind");
            return;
        }
    }
}

static void sec_function(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    d->have_funcsec = true;
    GROW(m->functypes, m->nfuncs + n + 1);
    m->codes = calloc(n ? n : 1, sizeof *m->codes);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t t = rd_u32(r);
        if (r->bad)
            return;
        if (t >= m->ntypes) {
            rd_fail(r, "unknown type");
            return;
        }
        lw_code *c = &m->codes[i];
        c->funcidx = m->nfuncs;
        c->type = m->types[t];
        m->functypes[m->nfuncs++] = t;
    }
}

static void sec_table(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    GROW(m->tables, m->ntables + n + 1);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_tabletype *t = &m->tables[m->ntables];
        t->elemtype = rd_reftype(r);
        rd_limits(r, &t->lim, false);
        if (!r->bad)
            m->ntables++;
    }
}

static void sec_memory(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    GROW(m->mems, m->nmems + n + 1);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        rd_limits(r, &m->mems[m->nmems], true);
        if (!r->bad)
            m->nmems++;
    }
}

static void sec_global(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    GROW(m->globals, m->nglobals + n + 1);
    m->global_inits = calloc(n ? n : 1, sizeof *m->global_inits);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_globaltype *g = &m->globals[m->nglobals];
        g->valtype = rd_valtype(r);
        g->mut = rd_u8(r);
        if (!r->bad && g->mut > 1) {
            rd_fail(r, "malformed mutability");
            return;
        }
        rd_cexpr(d, &m->global_inits[i], g->valtype, true);
        if (!r->bad)
            m->nglobals++;
    }
}

static void sec_export(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    m->exports = calloc(n ? n : 1, sizeof *m->exports);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_exportdecl *e = &m->exports[i];
        e->name = rd_name(r, &e->name_len);
        if (r->bad)
            return;
        m->nexports = i + 1;
        e->kind = rd_u8(r);
        e->index = rd_u32(r);
        if (r->bad)
            return;
        const uint32_t limit[4] = {m->nfuncs, m->ntables, m->nmems, m->nglobals};
        if (e->kind > 3) {
            rd_fail(r, "malformed export kind");
            return;
        }
        static const char *const unknown[4] = {"unknown function", "unknown table",
                                               "unknown memory", "unknown global"};
        if (e->index >= limit[e->kind]) {
            rd_fail(r, unknown[e->kind]);
            return;
        }
        if (e->kind == LW_EXTERN_FUNC)
            d->declared[e->index] = 1;
        for (uint32_t j = 0; j < i; j++) {
            if (m->exports[j].name_len == e->name_len &&
                !memcmp(m->exports[j].name, e->name, e->name_len)) {
                rd_fail(r, "duplicate export name");
                return;
            }
        }
    }
}

static void sec_start(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t idx = rd_u32(r);
    if (r->bad)
        return;
    if (idx >= m->nfuncs) {
        rd_fail(r, "unknown function");
        return;
    }
    const lw_functype *t = m->types[m->functypes[idx]];
    if (t->nparams || t->nresults) {
        rd_fail(r, "start function");
        return;
    }
    m->start = idx;
}

static void sec_elem(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    m->elems = calloc(n ? n : 1, sizeof *m->elems);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_elemseg *s = &m->elems[i];
        uint32_t flags = rd_u32(r);
        if (r->bad)
            return;
        m->nelems = i + 1;
        if (flags > 7) {
            rd_fail(r, "malformed elements segment kind");
            return;
        }
        bool passive_or_decl = flags & 1, explicit_table = flags & 2, exprs = flags & 4;
        s->mode = !passive_or_decl ? SEG_ACTIVE : explicit_table ? SEG_DECLARATIVE : SEG_PASSIVE;
        s->table = 0;
        if (s->mode == SEG_ACTIVE) {
            if (explicit_table)
                s->table = rd_u32(r);
            if (r->bad)
                return;
            if (s->table >= m->ntables) {
                rd_fail(r, "unknown table");
                return;
            }
            rd_cexpr(d, &s->offset, LW_I32, true);
        }
        /* flags 0 and 4 imply funcref; the others name the type */
        if (flags == 0 || flags == 4) {
            s->elemtype = LW_FUNCREF;
        } else if (exprs) {
            s->elemtype = rd_reftype(r);
        } else {
            if (rd_u8(r) != 0x00 && !r->bad) {
                rd_fail(r, "malformed element kind");
                return;
            }
            s->elemtype = LW_FUNCREF;
        }
        if (r->bad)
            return;
        if (s->mode == SEG_ACTIVE && m->tables[s->table].elemtype != s->elemtype) {
            rd_fail(r, "type mismatch");
            return;
        }
        s->n = rd_u32(r);
        if (r->bad)
            return;
        if (s->n > (uint32_t)(r->end - r->p)) {
            rd_fail(r, "unexpected end");
            return;
        }
        s->items = calloc(s->n ? s->n : 1, sizeof *s->items);
        for (uint32_t j = 0; j < s->n && !r->bad; j++) {
            if (exprs) {
                rd_cexpr(d, &s->items[j], s->elemtype, true);
            } else {
                uint32_t f = rd_u32(r);
                if (!r->bad && f >= m->nfuncs) {
                    rd_fail(r, "unknown function");
                    return;
                }
                s->items[j].kind = CEXPR_REFFUNC;
                s->items[j].type = LW_FUNCREF;
                s->items[j].index = f;
                if (!r->bad)
                    d->declared[f] = 1;
            }
        }
    }
}

static void sec_datacount(decoder *d)
{
    d->m->datacount = rd_u32(&d->r);
}

static void sec_code(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    d->have_codesec = true;
    if (n != m->nfuncs - m->nfuncimports) {
        rd_fail(r, "function and code section have inconsistent lengths");
        return;
    }
    d->ncodes = n;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t size = rd_u32(r);
        const uint8_t *body = rd_bytes(r, size);
        if (!body)
            return;
        m->codes[i].body_off = (uint32_t)(body - r->base);
        m->codes[i].body_len = size;
    }
}

static void sec_data(decoder *d)
{
    reader *r = &d->r;
    lw_module *m = d->m;
    uint32_t n = rd_u32(r);
    if (r->bad)
        return;
    if (n > (uint32_t)(r->end - r->p)) {
        rd_fail(r, "unexpected end");
        return;
    }
    if (m->datacount >= 0 && (uint32_t)m->datacount != n) {
        rd_fail(r, "data count and data section have inconsistent lengths");
        return;
    }
    m->datas = calloc(n ? n : 1, sizeof *m->datas);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        lw_dataseg *s = &m->datas[i];
        uint32_t flags = rd_u32(r);
        if (r->bad)
            return;
        m->ndatas = i + 1;
        if (flags > 2) {
            rd_fail(r, "malformed data segment kind");
            return;
        }
        s->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
        s->mem = flags == 2 ? rd_u32(r) : 0;
        if (s->mode == SEG_ACTIVE) {
            if (!r->bad && s->mem >= m->nmems) {
                rd_fail(r, "unknown memory");
                return;
            }
            rd_cexpr(d, &s->offset, LW_I32, true);
        }
        s->len = rd_u32(r);
        s->bytes = rd_bytes(r, s->len);
    }
}

/* The "name" custom section: only function names (subsection 1) are kept.
 * A damaged name section is ignored, as the spec allows. */
static void sec_names(lw_module *m, const uint8_t *p, const uint8_t *end)
{
    lw_error ignore = {0};
    reader r = {.base = p, .p = p, .end = end, .err = &ignore};
    while (r.p < r.end && !r.bad) {
        uint8_t id = rd_u8(&r);
        uint32_t size = rd_u32(&r);
        const uint8_t *sub = rd_bytes(&r, size);
        if (!sub || id != 1)
            continue;
        reader s = {.base = sub, .p = sub, .end = sub + size, .err = &ignore};
        uint32_t n = rd_u32(&s);
        if (!m->func_names && m->nfuncs)
            m->func_names = calloc(m->nfuncs, sizeof *m->func_names);
        for (uint32_t i = 0; i < n && !s.bad && m->func_names; i++) {
            uint32_t idx = rd_u32(&s);
            uint32_t len = rd_u32(&s);
            const uint8_t *name = rd_bytes(&s, len);
            if (!name || idx >= m->nfuncs || m->func_names[idx])
                continue;
            char *copy = malloc((size_t)len + 1);
            if (!copy)
                break;
            memcpy(copy, name, len);
            copy[len] = 0;
            m->func_names[idx] = copy;
        }
    }
}

/* Copies the data segments' bytes, which still point into the caller's
 * binary, into one block the module owns. 0, or -1 when out of memory. */
static int keep_data(lw_module *m)
{
    size_t total = 0;
    for (uint32_t i = 0; i < m->ndatas; i++)
        total += m->datas[i].len;
    m->blob = malloc(total ? total : 1);
    if (!m->blob)
        return -1;
    size_t off = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        lw_dataseg *s = &m->datas[i];
        if (s->len)
            memcpy(m->blob + off, s->bytes, s->len);
        s->bytes = m->blob + off;
        off += s->len;
    }
    return 0;
}

lw_module *lw_module_new(const uint8_t *bytes, size_t len, lw_error *err)
{
    lw_error local_err;
    if (!err)
        err = &local_err;
    memset(err, 0, sizeof *err);
    lw_interp_init();

    lw_module *m = calloc(1, sizeof *m);
    if (!m) {
        lw_error_set(err, 0, "out of memory");
        return NULL;
    }
    atomic_init(&m->refs, 1);
    m->start = -1;
    m->datacount = -1;
    /* The binary is read where it is (a file mapping, typically): the
     * module copies out only what it keeps (names, data segments), and
     * custom sections other than "name" are skipped without reading a
     * byte of them, so debug sections of a mapped file are never even
     * paged in. */
    decoder d = {.m = m};
    reader *r = &d.r;
    *r = (reader){.base = bytes, .p = bytes, .end = bytes + len, .err = err};

    const uint8_t *magic = rd_bytes(r, 4);
    if (!magic || memcmp(magic, "\0asm", 4)) {
        lw_error_set(err, 0, magic ? "magic header not detected" : "unexpected end");
        goto fail;
    }
    const uint8_t *version = rd_bytes(r, 4);
    if (!version || memcmp(version, "\1\0\0\0", 4)) {
        lw_error_set(err, 4, version ? "unknown binary version" : "unexpected end");
        goto fail;
    }

    int last_rank = 0;
    const uint8_t *names = NULL, *names_end = NULL;
    while (r->p < r->end && !r->bad) {
        size_t sec_start_off = rd_off(r);
        uint8_t id = rd_u8(r);
        uint32_t size = rd_u32(r);
        if (r->bad)
            break;
        if (size > (size_t)(r->end - r->p)) {
            rd_fail(r, "section size mismatch: unexpected end");
            break;
        }
        const uint8_t *sec_end = r->p + size;
        if (id != 0) {
            int rank = section_rank(id);
            if (rank < 0) {
                lw_error_set(err, sec_start_off, "malformed section id");
                goto fail;
            }
            if (rank <= last_rank) {
                lw_error_set(err, sec_start_off, "unexpected content after last section");
                goto fail;
            }
            last_rank = rank;
        }
        /* Each section is read by a reader limited to its own bytes. */
        const uint8_t *outer_end = r->end;
        r->end = sec_end;
        if (id >= 2 && id != 8 && !d.declared) {
            d.declared = calloc(m->nfuncs + 1, 1);
        }
        switch (id) {
        case 0: {
            uint32_t nlen = rd_u32(r);
            const uint8_t *name = rd_bytes(r, nlen);
            if (name && !lw_utf8_valid(name, nlen))
                rd_fail(r, "malformed UTF-8 encoding");
            /* custom sections may come anywhere: read names at the end,
             * when the number of functions is known */
            if (name && nlen == 4 && !memcmp(name, "name", 4) && !names)
                names = r->p, names_end = sec_end;
            r->p = sec_end;
            break;
        }
        case 1: sec_type(&d); break;
        case 2: sec_import(&d); break;
        case 3: sec_function(&d); break;
        case 4: sec_table(&d); break;
        case 5: sec_memory(&d); break;
        case 6: sec_global(&d); break;
        case 7: sec_export(&d); break;
        case 8: sec_start(&d); break;
        case 9: sec_elem(&d); break;
        case 10: sec_code(&d); break;
        case 11: sec_data(&d); break;
        case 12: sec_datacount(&d); break;
        }
        /* functions may be added by the import and function sections */
        if ((id == 2 || id == 3) && !r->bad) {
            free(d.declared);
            d.declared = calloc(m->nfuncs + 1, 1);
        }
        if (!r->bad && r->p != sec_end)
            rd_fail(r, "section size mismatch");
        r->end = outer_end;
    }
    if (r->bad)
        goto fail;
    if (m->nfuncs > m->nfuncimports && !d.have_codesec) {
        lw_error_set(err, len, "function and code section have inconsistent lengths");
        goto fail;
    }
    if (m->nmems > 1) {
        lw_error_set(err, len, "multiple memories");
        goto fail;
    }
    if (names)
        sec_names(m, names, names_end);
    if (m->datacount >= 0 && !m->ndatas && m->datacount != 0) {
        lw_error_set(err, len, "data count and data section have inconsistent lengths");
        goto fail;
    }

    /* Functions that can become references get an object per instance. */
    m->funcref = malloc(sizeof *m->funcref * (m->nfuncs + 1));
    m->funcref_func = malloc(sizeof *m->funcref_func * (m->nfuncs + 1));
    if (!m->funcref || !m->funcref_func) {
        lw_error_set(err, 0, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        bool need = (d.declared && d.declared[i]) || (int64_t)i == m->start;
        m->funcref[i] = need ? (int32_t)m->nfuncrefs : -1;
        if (need)
            m->funcref_func[m->nfuncrefs++] = i;
    }

    /* Validate and translate every function body. The "declared" set is
     * what ref.func may name inside code. */
    static const uint8_t none[1];
    m->declared = d.declared ? d.declared : none;
    bool dump = getenv("LUNATIC_DUMP_CODE") != NULL;
    for (uint32_t i = 0; i < m->nfuncs - m->nfuncimports; i++) {
        if (lw_compile_function(m, bytes, len, &m->codes[i], err) < 0)
            goto fail;
        if (dump)
            lw_dump_code(m, &m->codes[i]);
    }
    m->declared = NULL;
    free(d.declared);
    if (keep_data(m) < 0) {
        lw_error_set(err, 0, "out of memory");
        lw_module_release(m);
        return NULL;
    }
    return m;

fail:
    free(d.declared);
    lw_module_release(m);
    return NULL;
}

void lw_module_retain(lw_module *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void lw_module_release(lw_module *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    if (m->codes) {
        for (uint32_t i = 0; i < m->nfuncs - m->nfuncimports; i++) {
            free(m->codes[i].code);
            free(m->codes[i].local_types);
        }
    }
    free(m->codes);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    if (m->func_names) {
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
        free(m->func_names);
    }
    free(m->types);
    free(m->functypes);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    free(m->global_inits);
    free(m->funcref);
    free(m->funcref_func);
    free(m->blob);
    free(m);
}

static void externtype_of(const lw_module *m, uint8_t kind, uint32_t index,
                          lw_externtype *t)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    switch (kind) {
    case LW_EXTERN_FUNC:
        t->func = m->types[m->functypes[index]];
        break;
    case LW_EXTERN_TABLE:
        t->elemtype = m->tables[index].elemtype;
        t->min = m->tables[index].lim.min;
        t->max = m->tables[index].lim.max;
        t->has_max = m->tables[index].lim.has_max;
        break;
    case LW_EXTERN_MEMORY:
        t->min = m->mems[index].min;
        t->max = m->mems[index].max;
        t->has_max = m->mems[index].has_max;
        break;
    case LW_EXTERN_GLOBAL:
        t->valtype = m->globals[index].valtype;
        t->mut = m->globals[index].mut;
        break;
    }
}

uint32_t lw_module_num_imports(const lw_module *m) { return m->nimports; }

void lw_module_import(const lw_module *m, uint32_t i, lw_import *out)
{
    const lw_importdecl *im = &m->imports[i];
    out->module = im->module;
    out->name = im->name;
    out->module_len = im->module_len;
    out->name_len = im->name_len;
    memset(&out->type, 0, sizeof out->type);
    out->type.kind = im->kind;
    switch (im->kind) {
    case LW_EXTERN_FUNC:
        out->type.func = m->types[im->index];
        break;
    case LW_EXTERN_TABLE:
        out->type.elemtype = im->table.elemtype;
        out->type.min = im->table.lim.min;
        out->type.max = im->table.lim.max;
        out->type.has_max = im->table.lim.has_max;
        break;
    case LW_EXTERN_MEMORY:
        out->type.min = im->mem.min;
        out->type.max = im->mem.max;
        out->type.has_max = im->mem.has_max;
        break;
    case LW_EXTERN_GLOBAL:
        out->type.valtype = im->global.valtype;
        out->type.mut = im->global.mut;
        break;
    }
}

uint32_t lw_module_num_exports(const lw_module *m) { return m->nexports; }

void lw_module_export(const lw_module *m, uint32_t i, lw_export *out)
{
    const lw_exportdecl *e = &m->exports[i];
    out->name = e->name;
    out->name_len = e->name_len;
    externtype_of(m, e->kind, e->index, &out->type);
}

const char *lw_module_func_name(const lw_module *m, uint32_t funcidx)
{
    if (!m->func_names || funcidx >= m->nfuncs)
        return NULL;
    return m->func_names[funcidx];
}
