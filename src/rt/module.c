/*
 * module.c - compiled modules (module.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "rt/module.h"
#include "rt/stats.h"

/* The first use of OpenSSL in the process (a module is compiled before
 * any process runs): without its atexit cleanup. `lunatic run` ends with
 * exit() while workers may still be inside OpenSSL (a TLS stream, the
 * distribution layer), and the cleanup would free OpenSSL's locks under
 * them; the OS takes the memory back anyway. */
static void openssl_init(void) { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL); }

uint64_t lt_module_hash(const uint8_t *bytes, size_t len)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, openssl_init);
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(bytes, len, d);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | d[i];
    return h;
}

lt_module *lt_module_compile(const lw_host_table *const *hosts, size_t nhosts,
                             const uint8_t *bytes, size_t len, char *err, size_t errsize)
{
    static atomic_uint_fast64_t next_id = 1;
    int64_t t0 = lt_now_ns();
    lw_error werr;
    lw_module *wm = lw_module_new(bytes, len, &werr);
    if (!wm) {
        snprintf(err, errsize, "invalid module at byte offset %zu: %s", werr.offset, werr.msg);
        return NULL;
    }
    lt_module *m = calloc(1, sizeof *m);
    uint32_t n = lw_module_num_imports(wm);
    lw_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!m || !imports) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    if (lw_host_resolve(hosts, nhosts, wm, imports, err, errsize) < 0)
        goto fail;
    atomic_init(&m->refs, 1);
    m->wasm = wm;
    m->imports = imports;
    m->nimports = n;
    m->cost = lt_module_size_cost(len, false) + sizeof *m + n * sizeof *imports;
    m->id = atomic_fetch_add(&next_id, 1);
    lt_stat_add(LT_STAT_MODULES_COMPILED, 1);
    lt_hist_record(LT_HIST_COMPILE, (uint64_t)(lt_now_ns() - t0));
    return m;
fail:
    free(imports);
    free(m);
    lw_module_release(wm);
    return NULL;
}

int lt_module_keep(lt_module *m, const uint8_t *bytes, size_t len)
{
    if (m->bytes)
        return 0;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, bytes, len);
    m->bytes = copy;
    m->len = len;
    m->hash = lt_module_hash(bytes, len);
    m->cost += lt_module_size_cost(len, true) - lt_module_size_cost(len, false);
    return 0;
}

int lt_module_check_entry(const lt_module *m, const char *name, char *err, size_t errsize)
{
    for (uint32_t i = 0; i < lw_module_num_exports(m->wasm); i++) {
        lw_export e;
        lw_module_export(m->wasm, i, &e);
        if (strlen(name) != e.name_len || memcmp(name, e.name, e.name_len))
            continue;
        if (e.type.kind != LW_EXTERN_FUNC)
            break;
        if (e.type.func->nparams || e.type.func->nresults) {
            char tb[128];
            snprintf(err, errsize, "'%s' has type %s, expected () -> ()", name,
                     lw_host_type_format(e.type.func, tb, sizeof tb));
            return -1;
        }
        return 0;
    }
    snprintf(err, errsize, "no exported function '%s'", name);
    return -1;
}

int lt_module_set_name(lt_module *m, const char *name)
{
    char *copy = strdup(name);
    if (!copy)
        return -1;
    free(m->name);
    m->name = copy;
    return 0;
}

void lt_module_retain(lt_module *m) { atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed); }

void lt_module_release(lt_module *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    lw_module_release(m->wasm);
    free(m->imports);
    free(m->name);
    free(m->bytes);
    free(m);
    lt_stat_add(LT_STAT_MODULES_DROPPED, 1);
}
