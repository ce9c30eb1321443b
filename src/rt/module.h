/*
 * module.h - compiled modules with their imports resolved once against the
 * runtime's host modules, so that a spawn only instantiates. Refcounted and
 * immutable: any thread may spawn from a module at once.
 *
 * A module keeps its bytes and their content hash: the hash is its id
 * across nodes (lunatic::distributed::module_id), and a node that is asked
 * to spawn it remotely fetches the bytes from the spawner.
 */
#ifndef LUNATIC_RT_MODULE_H
#define LUNATIC_RT_MODULE_H

#include "rt/base.h"
#include "wasm/host.h"
#include "wasm/lw.h"

struct lt_module {
    atomic_int refs;
    lw_module *wasm;
    lw_extern *imports;         /* one per import of wasm, in order */
    uint32_t nimports;
    uint64_t id;                /* counts from 1 in the process, for observers */
    char *name;                 /* what observers call it (lt_module_set_name), or NULL */
    /* In a cluster only (lt_module_keep): the module as compiled from,
     * and the first 8 bytes of their SHA-256, big-endian; else NULL and 0.
     * Outside a cluster nothing needs them, and a copy of a 5.8 MB module
     * with debug sections and its hash cost more than compiling it. */
    uint8_t *bytes;
    size_t len;
    uint64_t hash;
    /* what a process holding it is charged (account.h): an estimate,
     * twice its binary (the interpreter's code, the data segments), three
     * times when it keeps its bytes */
    uint64_t cost;
};

/* The part of lt_module.cost that grows with the binary's length len,
 * kept or not (lt_module_keep): what a compile must be able to pay for
 * before it starts. */
static inline uint64_t lt_module_size_cost(size_t len, bool kept)
{
    return (kept ? 3u : 2u) * (uint64_t)len;
}

/* The content hash of a module's bytes, as lt_module.hash. */
uint64_t lt_module_hash(const uint8_t *bytes, size_t len);
/* Keeps a copy of bytes (what m was compiled from) and their hash, so
 * that other nodes can fetch m by its hash. Before m is shared. 0, or -1
 * when out of memory. */
int lt_module_keep(lt_module *m, const uint8_t *bytes, size_t len);

/* Compiles bytes and resolves every import against the host modules
 * (a runtime's: rt->hosts). One reference; NULL with a one-line reason in
 * err (an invalid module with the byte offset, an unknown or mistyped
 * import, out of memory). */
lt_module *lt_module_compile(const lw_host_table *const *hosts, size_t nhosts,
                             const uint8_t *bytes, size_t len, char *err, size_t errsize);
/* Names m for observers (snapshot.h), e.g. after its file. Call before
 * spawning from it: the name is read without a lock afterwards. 0, or -1
 * when out of memory. */
int lt_module_set_name(lt_module *m, const char *name);
void lt_module_retain(lt_module *m);
/* Drops a reference; the last one frees it. NULL is ignored. */
void lt_module_release(lt_module *m);
/* 0 if m exports a function name of type () -> (), else -1 with a reason. */
int lt_module_check_entry(const lt_module *m, const char *name, char *err, size_t errsize);

#endif
