/*
 * api.h - helpers shared by the lunatic::* host modules (one file per
 * module in src/api/). Every host function has the engine's signature
 * int fn(wasm_exec *x, void *env, wasm_val *args): args hold the Wasm
 * parameters and receive the results; the function returns WASM_OK,
 * WASM_TRAP (after api_trap), WASM_SUSPEND (a blocking call: it is
 * called again with the same args when the process is woken) or
 * WASM_YIELD (done; the process gives up the rest of its slice).
 *
 * Guest memory: every pointer and length is checked through wasm_exec_mem;
 * a bad one traps (ABI.md 1.2). Multi-byte values are little-endian and
 * written with memcpy.
 */
#ifndef LUNATIC_API_H
#define LUNATIC_API_H

#include <string.h>

#include "rt/rt.h"

#define A32(i) ((uint32_t)args[i])
#define A64(i) ((uint64_t)args[i])
#define RET32(v) (args[0] = (uint32_t)(v))
#define RET64(v) (args[0] = (uint64_t)(v))

/* ABI return codes */
#define API_OK 0
#define API_ERR 1
#define API_TIMEOUT 9027

static inline int api_trap(wasm_exec *x, const char *msg)
{
    wasm_exec_trap(x, WASM_TRAP_HOST, msg);
    return WASM_TRAP;
}

/* api_trap with a formatted message. */
int api_trapf(wasm_exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A checked pointer into guest memory, or NULL. */
static inline void *api_mem(wasm_exec *x, uint32_t ptr, uint64_t len)
{
    return wasm_exec_mem(x, ptr, len);
}

static inline int api_put_u64(wasm_exec *x, uint32_t ptr, uint64_t v)
{
    void *p = api_mem(x, ptr, 8);
    if (!p)
        return -1;
    memcpy(p, &v, 8);
    return 0;
}

static inline int api_put_u32(wasm_exec *x, uint32_t ptr, uint32_t v)
{
    void *p = api_mem(x, ptr, 4);
    if (!p)
        return -1;
    memcpy(p, &v, 4);
    return 0;
}

/* Charges a host call's work to the calling process's slice, in
 * reductions (the unit of the interpreter's budget, which does not see
 * host calls): WASM_OK while the slice lasts, then WASM_YIELD so that a
 * process making many costly calls (a spawn loop) lets the others run.
 * Fuel is not charged. */
static inline int api_charge(lt_process *p, uint32_t reductions)
{
    if (!p->started)
        return WASM_OK; /* a start function runs inside a spawn: no slices */
    p->slice_work += reductions;
    if (p->slice_work < p->rt->reductions)
        return WASM_OK;
    p->slice_work = 0;
    return WASM_YIELD;
}

/* Records an error string as a resource of the calling process and
 * returns its id (ABI.md 1.4: the id goes where the result would). */
uint64_t api_error_new(lt_process *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A UTF-8 string argument; NULL (after a trap) if out of bounds or not UTF-8. */
const char *api_str(wasm_exec *x, uint32_t ptr, uint32_t len);

/* Blocking calls (receive, sleep, ...): the first entry starts a wait with
 * a timeout in ms (UINT64_MAX = none); later entries see it running.
 * api_wait_expired tells whether its deadline passed; api_wait_end closes
 * it (and invalidates its timer). */
bool api_wait_begin(lt_process *p, uint64_t timeout_ms); /* true on the first entry */
bool api_wait_expired(const lt_process *p);
void api_wait_end(lt_process *p);

/* The definitions of each host module. */
#define API_MODULE(name)                                                         \
    extern const host_func_def api_##name##_defs[];                              \
    extern const size_t api_##name##_count;
API_MODULE(process)
API_MODULE(message)
API_MODULE(registry)
API_MODULE(timer)
API_MODULE(error)
API_MODULE(version)
API_MODULE(trap)
API_MODULE(wasi)
API_MODULE(metrics)
API_MODULE(distributed)
API_MODULE(networking)
API_MODULE(sqlite)
#undef API_MODULE

#endif
