/*
 * wasi.h - wasi_snapshot_preview1 for the engine: a per-instance context
 * (arguments, environment, file descriptor table, preopened directories)
 * and the 46 host functions that operate on it.
 *
 * Sandbox. Every path a guest names is resolved beneath one of its
 * preopened directories, relative to that directory's descriptor, with
 * openat2(RESOLVE_BENEATH) or, where the kernel lacks it, a component-by-
 * component walk that opens each step with O_NOFOLLOW and expands symbolic
 * links itself. Absolute paths, ".." that climbs out and symbolic links
 * that lead out are refused with ERRNO_PERM (wasmtime's answer). The guest
 * never sees a host path.
 *
 * Guest memory. Every pointer and length the guest passes is checked with
 * wasm_exec_mem before use; a range outside memory gives ERRNO_FAULT. Guest
 * memory is read and written with memcpy (it may be unaligned).
 *
 * Blocking (the suspend contract). A host function never blocks the thread
 * that runs it on something the guest waits for: a clock in poll_oneoff,
 * stdin, a pipe, a socket or sched_yield. Instead it records what it waits
 * for in its context (wasi_ctx_wait_info: descriptors with poll events
 * and/or a CLOCK_MONOTONIC deadline) and returns WASM_SUSPEND. Whoever runs
 * the exec (the CLI now, the process scheduler later) waits until one of
 * those conditions holds, or is woken for another reason, and calls
 * wasm_exec_resume; the engine then calls the same host function again with
 * the same arguments. The function re-checks its condition from scratch, so
 * an early or spurious resume is harmless (it suspends again), and it keeps
 * its first deadline across re-entries (relative timeouts do not restart).
 * Between a suspend and its resume the guest does not run, so the context
 * holds at most one pending wait. A wait with no fds and no deadline
 * (sched_yield) means "ready now": requeue the caller behind the others.
 * A NONBLOCK descriptor never suspends; it gets ERRNO_AGAIN.
 *
 * Threads: a context belongs to the thread that runs its instance.
 */
#ifndef LUNATIC_WASI_H
#define LUNATIC_WASI_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"
#include "wasi/host.h"

typedef struct wasi_ctx wasi_ctx;

/* A preopened directory: the guest sees `name`, the host opens `path`. */
typedef struct wasi_preopen {
    const char *name;
    const char *path;
} wasi_preopen;

/* What a context is built from. All strings are copied. */
typedef struct wasi_config {
    int argc;
    const char *const *argv;      /* the guest's argv (argv[0] included) */
    int envc;
    const char *const *env;       /* "KEY=VALUE" strings */
    int npreopens;
    const wasi_preopen *preopens; /* fds 3, 4, ... in this order */
} wasi_config;

/* Builds a context: fds 0-2 are the host's stdio (borrowed, never closed),
 * then one fd per preopen. Returns NULL and writes a one-line reason into
 * err (e.g. "cannot open directory 'x': No such file or directory") when a
 * preopen cannot be opened or memory runs out. */
wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errsize);
/* Closes every descriptor the context owns and frees it. */
void wasi_ctx_free(wasi_ctx *ctx);

/* The context of the instance a host function runs for. This is the ONE
 * place that knows where contexts live (the instance's user slot, for now;
 * the process layer will own it later). NULL when there is none. */
wasi_ctx *wasi_ctx_of(wasm_exec *x);

/* What a suspended host function waits for (see the suspend contract). */
typedef struct wasi_wait_info {
    int active;               /* a host function of this ctx is suspended */
    int nfds;                 /* descriptors in fds[] */
    struct pollfd *fds;       /* host fds and events (POLLIN / POLLOUT) */
    int64_t deadline;         /* CLOCK_MONOTONIC ns, or -1 for none */
} wasi_wait_info;

/* The wait recorded by the last WASM_SUSPEND (valid until the resume). */
const wasi_wait_info *wasi_ctx_wait_info(const wasi_ctx *ctx);
/* Blocks the calling thread until the recorded wait may be over (poll(2)
 * on the fds with the deadline as timeout, or a sleep). For simple hosts
 * such as the CLI; a scheduler uses wasi_ctx_wait_info instead. */
void wasi_ctx_wait(const wasi_ctx *ctx);

/* The table of the 46 wasi_snapshot_preview1 host functions, created on
 * first use (thread-safe) and alive until exit. */
const host_table *wasi_host_table(void);

#endif
