/*
 * api.h - helpers shared by the lunatic::* host modules (one file per
 * module in src/api/). Every host function has the engine's signature
 * int fn(lw_exec *x, void *env, lw_val *args): args hold the Wasm
 * parameters and receive the results; the function returns LW_OK,
 * LW_TRAP (after lapi_trap), LW_SUSPEND (a blocking call: it is
 * called again with the same args when the process is woken) or
 * LW_YIELD (done; the process gives up the rest of its slice).
 *
 * Guest memory: every pointer and length is checked through lw_exec_mem;
 * a bad one traps (ABI.md 1.2). Multi-byte values are little-endian and
 * written with memcpy.
 *
 * Error convention of the layer: a host function returns one of the
 * engine's statuses above; what the guest sees as a result follows the ABI
 * (0 success, 1 with an error id, 9027 timeout: LAPI_OK, LAPI_ERR,
 * LAPI_TIMEOUT). A helper that checks something for a host function
 * returns NULL (pointers) or LW_TRAP (ints) after recording the trap, so
 * the caller only passes LW_TRAP on. A guest mistake is a trap; a failure
 * of the world (a refused connection, a missing file) is an error id.
 */
#ifndef LUNATIC_API_H
#define LUNATIC_API_H

#include <string.h>

#include "rt/config.h"
#include "rt/env.h"
#include "rt/module.h"
#include "rt/process.h"
#include "rt/registry.h"
#include "rt/runtime.h"
#include "rt/timer.h"

/* A host function's result (A32/A64 read its arguments: wasm/host.h). */
#define SET_RESULT32(v) (args[0] = (uint32_t)(v))
#define SET_RESULT64(v) (args[0] = (uint64_t)(v))

/* Kinds of the resources a message carries (lt_message_add_resource). */
enum { LAPI_RES_MODULE = 1, LAPI_RES_TCP_STREAM, LAPI_RES_TLS_STREAM, LAPI_RES_UDP_SOCKET };

/* ABI return codes */
#define LAPI_OK 0
#define LAPI_ERR 1
#define LAPI_TIMEOUT 9027

static inline int lapi_trap(lw_exec *x, const char *msg)
{
    lw_exec_trap(x, LW_TRAP_HOST, msg);
    return LW_TRAP;
}

/* lapi_trap with a formatted message. */
int lapi_trapf(lw_exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Traps "<what>: out of memory" (what may be NULL), saying so when it is
 * the process's memory limit that refused (account.h) rather than the
 * machine. */
int lapi_oom(lw_exec *x, const char *what);

/* The scratch message (ABI.md §1.8) is charged to the process's memory
 * account (account.h) while it holds it: replaces it with m (NULL: none),
 * releasing and freeing the old one. m must be charged already. */
static inline void lapi_scratch_set(lt_process *p, lt_signal *m)
{
    if (p->scratch) {
        lt_account_release(&p->acct, lt_signal_bytes(p->scratch));
        lt_signal_free(p->scratch);
    }
    p->scratch = m;
}
/* Puts m in p's module table and charges it: 0 with *id, or -1 when out of
 * memory or over the limit (m is not taken then). */
int lapi_module_add(lt_process *p, lt_module *m, uint64_t *id);

/* A checked pointer into guest memory, or NULL. */
static inline void *lapi_mem(lw_exec *x, uint32_t ptr, uint64_t len)
{
    return lw_exec_mem(x, ptr, len);
}

static inline int lapi_put_u64(lw_exec *x, uint32_t ptr, uint64_t v)
{
    void *p = lapi_mem(x, ptr, 8);
    if (!p)
        return -1;
    memcpy(p, &v, 8);
    return 0;
}

static inline int lapi_put_u32(lw_exec *x, uint32_t ptr, uint32_t v)
{
    void *p = lapi_mem(x, ptr, 4);
    if (!p)
        return -1;
    memcpy(p, &v, 4);
    return 0;
}

/* Records an error string as a resource of the calling process and
 * returns its id (ABI.md 1.4: the id goes where the result would);
 * LAPI_ERROR_OOM when out of memory, an id that error::* read as "out of
 * memory" (so a caller can hand it on like any other). */
#define LAPI_ERROR_OOM UINT64_MAX
uint64_t lapi_error_new(lt_process *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A UTF-8 string argument; NULL (after a trap) if out of bounds or not UTF-8. */
const char *lapi_str(lw_exec *x, uint32_t ptr, uint32_t len);

/* Blocking calls (receive, sleep, ...): the first entry starts a wait with
 * a timeout in ms (UINT64_MAX = none); later entries see it running.
 * lapi_wait_expired tells whether its deadline passed; lapi_wait_end closes
 * it (and invalidates its timer). */
bool lapi_wait_begin(lt_process *p, uint64_t timeout_ms); /* true on the first entry */
bool lapi_wait_expired(const lt_process *p);
void lapi_wait_end(lt_process *p);  /* also cancels a socket wait (p->io_fd) */

/* The definitions of each host module. */
#define LAPI_MODULE(name)                                                         \
    extern const lw_host_func_def lapi_##name##_defs[];                           \
    extern const size_t lapi_##name##_count;
LAPI_MODULE(process)
LAPI_MODULE(message)
LAPI_MODULE(registry)
LAPI_MODULE(timer)
LAPI_MODULE(error)
LAPI_MODULE(version)
LAPI_MODULE(trap)
LAPI_MODULE(wasi)
LAPI_MODULE(metrics)
LAPI_MODULE(distributed)
LAPI_MODULE(networking)
LAPI_MODULE(sqlite)
#undef LAPI_MODULE

/* lunatic::message's functions that move sockets (networking.c). */
int message_push_tcp_stream(lw_exec *x, void *env, lw_val *args);
int message_take_tcp_stream(lw_exec *x, void *env, lw_val *args);
int message_push_tls_stream(lw_exec *x, void *env, lw_val *args);
int message_take_tls_stream(lw_exec *x, void *env, lw_val *args);
int message_push_udp_socket(lw_exec *x, void *env, lw_val *args);
int message_take_udp_socket(lw_exec *x, void *env, lw_val *args);

/* Every lunatic::* host function in one table, created on first use
 * (thread-safe) and alive until exit; NULL when out of memory. */
const lw_host_table *lapi_host_table(void);

#endif
