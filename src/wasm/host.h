/*
 * host.h - host modules and the import resolver.
 *
 * A host module is a static table of (module, name, signature, function).
 * lw_host_table_init turns it into engine functions once; lw_host_resolve then
 * satisfies every import of a lw_module from a list of such tables, or
 * fails with one line naming the import that is missing or mistyped.
 *
 * A signature is written "params:results" with one letter per value:
 * i = i32, I = i64, f = f32, F = f64. Example: fd_write is "iiii:i",
 * proc_exit is "i:".
 */
#ifndef LUNATIC_HOST_H
#define LUNATIC_HOST_H

#include <stddef.h>

#include "wasm/lw.h"

/* In a host function (parameters named as lw_host_fn's): argument i as
 * an i32 or an i64. */
#define A32(i) ((uint32_t)args[i])
#define A64(i) ((uint64_t)args[i])

typedef struct lw_host_func_def {
    const char *module;
    const char *name;
    const char *sig;
    lw_host_fn fn;
} lw_host_func_def;

typedef struct lw_host_table {
    const lw_host_func_def *defs;
    size_t n;
    lw_func **funcs;        /* funcs[i] implements defs[i] */
} lw_host_table;

/* Creates one engine function per definition (env NULL). The definitions
 * must outlive the table. Returns 0, or -1 on a bad signature string or
 * out of memory. */
int lw_host_table_init(lw_host_table *t, const lw_host_func_def *defs, size_t n);
/* Frees the functions of a table (no instance may still use them). */
void lw_host_table_free(lw_host_table *t);

/* Parses a signature string into an interned type; NULL if malformed. */
const lw_functype *lw_host_sig_type(const char *sig);

/* Fills out[0..num_imports-1] for module m from tables[0..ntables-1].
 * Returns 0, or -1 with a one-line reason in err:
 *   "unknown import: wasi_snapshot_preview1::fd_foo"
 *   "import wasi_snapshot_preview1::fd_write has the wrong type: expected
 *    (i32, i32, i32, i32) -> i32, got (i32) -> i32"
 * out must have room for lw_module_num_imports(m) entries. */
int lw_host_resolve(const lw_host_table *const *tables, size_t ntables,
                 const lw_module *m, lw_extern *out, char *err, size_t errsize);

/* Writes "(i32, i64) -> i32" for a type into buf; returns buf. */
char *lw_host_type_format(const lw_functype *t, char *buf, size_t size);

#endif
