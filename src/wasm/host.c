/*
 * host.c - host function tables and the import resolver (see host.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/host.h"

static int sig_code(char c, uint8_t *out)
{
    switch (c) {
    case 'i': *out = LW_I32; return 0;
    case 'I': *out = LW_I64; return 0;
    case 'f': *out = LW_F32; return 0;
    case 'F': *out = LW_F64; return 0;
    default: return -1;
    }
}

const lw_functype *lw_host_sig_type(const char *sig)
{
    uint8_t params[32], results[8];
    uint32_t np = 0, nr = 0;
    const char *p = sig;
    for (; *p && *p != ':'; p++) {
        if (np == sizeof params || sig_code(*p, &params[np++]))
            return NULL;
    }
    if (*p != ':')
        return NULL;
    for (p++; *p; p++) {
        if (nr == sizeof results || sig_code(*p, &results[nr++]))
            return NULL;
    }
    return lw_functype_get(np, params, nr, results);
}

int lw_host_table_init(lw_host_table *t, const lw_host_func_def *defs, size_t n)
{
    t->defs = defs;
    t->n = n;
    t->funcs = calloc(n ? n : 1, sizeof *t->funcs);
    if (!t->funcs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const lw_functype *ft = lw_host_sig_type(defs[i].sig);
        if (!ft || !(t->funcs[i] = lw_func_new_host(ft, defs[i].fn, NULL))) {
            lw_host_table_free(t);
            return -1;
        }
    }
    return 0;
}

void lw_host_table_free(lw_host_table *t)
{
    if (t->funcs) {
        for (size_t i = 0; i < t->n; i++)
            if (t->funcs[i])
                lw_func_free(t->funcs[i]);
        free(t->funcs);
    }
    t->funcs = NULL;
    t->n = 0;
}

static const char *valtype_name(uint8_t v)
{
    switch (v) {
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

char *lw_host_type_format(const lw_functype *t, char *buf, size_t size)
{
    size_t n = 0;
#define PUT(...)                                                           \
    do {                                                                   \
        int k_ = snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__);  \
        if (k_ > 0)                                                        \
            n += (size_t)k_;                                               \
    } while (0)
    if (!size)
        return buf;
    buf[0] = 0;
    PUT("(");
    for (uint32_t i = 0; i < t->nparams; i++)
        PUT("%s%s", i ? ", " : "", valtype_name(t->params[i]));
    PUT(") -> ");
    if (t->nresults == 1) {
        PUT("%s", valtype_name(t->results[0]));
    } else {
        PUT("(");
        for (uint32_t i = 0; i < t->nresults; i++)
            PUT("%s%s", i ? ", " : "", valtype_name(t->results[i]));
        PUT(")");
    }
#undef PUT
    return buf;
}

static const char *kind_name(lw_externkind k)
{
    switch (k) {
    case LW_EXTERN_FUNC: return "function";
    case LW_EXTERN_TABLE: return "table";
    case LW_EXTERN_MEMORY: return "memory";
    case LW_EXTERN_GLOBAL: return "global";
    }
    return "?";
}

/* Names may hold NUL bytes: compare with lengths. */
static int name_eq(const char *a, uint32_t alen, const char *b)
{
    size_t blen = strlen(b);
    return alen == blen && !memcmp(a, b, blen);
}

/* Prints a name for an error message, replacing unprintable bytes. */
static void name_print(char *dst, size_t size, const char *s, uint32_t len)
{
    size_t j = 0;
    for (uint32_t i = 0; i < len && j + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (size)
        dst[j < size ? j : size - 1] = 0;
}

int lw_host_resolve(const lw_host_table *const *tables, size_t ntables,
                 const lw_module *m, lw_extern *out, char *err, size_t errsize)
{
    uint32_t n = lw_module_num_imports(m);
    for (uint32_t i = 0; i < n; i++) {
        lw_import imp;
        lw_module_import(m, i, &imp);
        char mod[96], name[96];
        name_print(mod, sizeof mod, imp.module, imp.module_len);
        name_print(name, sizeof name, imp.name, imp.name_len);
        const lw_host_func_def *def = NULL;
        lw_func *fn = NULL;
        for (size_t t = 0; t < ntables && !def; t++) {
            for (size_t j = 0; j < tables[t]->n; j++) {
                const lw_host_func_def *d = &tables[t]->defs[j];
                if (name_eq(imp.module, imp.module_len, d->module) &&
                    name_eq(imp.name, imp.name_len, d->name)) {
                    def = d;
                    fn = tables[t]->funcs[j];
                    break;
                }
            }
        }
        if (!def) {
            snprintf(err, errsize, "unknown import: %s::%s", mod, name);
            return -1;
        }
        if (imp.type.kind != LW_EXTERN_FUNC) {
            snprintf(err, errsize, "import %s::%s has the wrong kind: expected a function, got a %s",
                     mod, name, kind_name(imp.type.kind));
            return -1;
        }
        const lw_functype *want = lw_func_type(fn);
        if (imp.type.func != want) {
            char a[160], b[160];
            snprintf(err, errsize, "import %s::%s has the wrong type: expected %s, got %s", mod,
                     name, lw_host_type_format(want, a, sizeof a),
                     lw_host_type_format(imp.type.func, b, sizeof b));
            return -1;
        }
        out[i].kind = LW_EXTERN_FUNC;
        out[i].u.func = fn;
    }
    return 0;
}
