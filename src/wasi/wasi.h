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
 * lw_exec_mem before use; a range outside memory gives ERRNO_FAULT. Guest
 * memory is read and written with memcpy (it may be unaligned).
 *
 * Blocking (the suspend contract). A host function never blocks the thread
 * that runs it on something the guest waits for: a clock in poll_oneoff,
 * stdin, a pipe, a socket or sched_yield. Instead it records what it waits
 * for in its context (lwasi_ctx_wait_info: descriptors with poll events
 * and/or a CLOCK_MONOTONIC deadline) and returns LW_SUSPEND. Whoever runs
 * the exec (the process runtime, src/rt/process.c) waits until one of
 * those conditions holds, or is woken for another reason, and calls
 * lw_exec_resume; the engine then calls the same host function again with
 * the same arguments. The function re-checks its condition from scratch, so
 * an early or spurious resume is harmless (it suspends again), and it keeps
 * its first deadline across re-entries (relative timeouts do not restart).
 * Between a suspend and its resume the guest does not run, so the context
 * holds at most one pending wait. A wait with no fds and no deadline
 * (sched_yield) means "ready now": requeue the caller behind the others.
 * A NONBLOCK descriptor never suspends; it gets ERRNO_AGAIN.
 *
 * Sharing (many processes, one configuration). A lwasi_shared holds what
 * every context built from one configuration has in common and never
 * changes: argv and env (copied once, in one allocation), the types and
 * rights of the host's stdio, and ONE host descriptor per preopened
 * directory (opened once, O_RDONLY|O_DIRECTORY|O_CLOEXEC). It is immutable
 * after lwasi_shared_new and reference counted with atomics, so any number
 * of contexts on any number of threads may hold it. A context made with
 * lwasi_ctx_new_shared is one small allocation that retains the share; its
 * descriptor table is built on the first fd operation (a copy of the
 * share's template: stdio and the preopens, all BORROWED). Borrowed means
 * the context never closes nor changes the host descriptor: fd_close or
 * fd_renumber of a preopen only changes this context's table, and
 * fd_fdstat_set_flags keeps the flags to the context. The shared
 * descriptors are used only with *at() calls, fstat, fsync and futimens
 * (never with their file offset: fd_readdir opens its own descriptor), so
 * concurrent use from many threads is safe.
 *
 * Threads: a context belongs to the thread that runs its instance (one at
 * a time; it may migrate between threads with its process). A lwasi_shared
 * may be used from any thread.
 *
 * Errors: the guest gets WASI errno values as results; the host functions
 * return the engine's statuses (LW_OK, LW_SUSPEND, LW_TRAP only when there
 * is no context or proc_exit ends the run). Constructors return NULL with
 * a one-line reason in an err buffer.
 */
#ifndef LUNATIC_WASI_H
#define LUNATIC_WASI_H

#include <poll.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/lw.h"
#include "wasm/host.h"

typedef struct lwasi_ctx lwasi_ctx;
typedef struct lwasi_shared lwasi_shared;

/* A preopened directory: the guest sees `name`, the host opens `path`. */
typedef struct lwasi_preopen {
    const char *name;
    const char *path;
} lwasi_preopen;

/* What a context is built from. All strings are copied. */
typedef struct lwasi_config {
    int argc;
    const char *const *argv;      /* the guest's argv (argv[0] included) */
    int envc;
    const char *const *env;       /* "KEY=VALUE" strings */
    int npreopens;
    const lwasi_preopen *preopens; /* fds 3, 4, ... in this order */
    /* Host descriptors the guest's fds 1 (stdout) and 2 (stderr) write to
     * instead of the host's own, e.g. a per-test capture pipe; 0 (the
     * default) = the host's fd 1 / 2. The share keeps its own duplicate of
     * each (closed with the share), so every context built from it, and so
     * every process spawned with the same config, writes there. */
    int stdout_fd, stderr_fd;
} lwasi_config;

/* Builds the shared part of a configuration (see "Sharing" above): copies
 * every string of cfg (cfg may be freed afterwards), records the type and
 * rights of fds 0-2 (duplicating cfg->stdout_fd / stderr_fd when set) and
 * opens each preopened directory once. Returns it
 * with one reference, or NULL with a one-line reason in err (e.g. "cannot
 * open directory 'x': No such file or directory", "out of memory"). */
lwasi_shared *lwasi_shared_new(const lwasi_config *cfg, char *err, size_t errsize);
/* Takes / drops a reference (atomic, any thread). The last release closes
 * the preopened directories and frees the share. NULL is ignored. */
void lwasi_shared_retain(lwasi_shared *sh);
void lwasi_shared_release(lwasi_shared *sh);

/* A context for one instance (process) built from sh, which it retains:
 * fds 0-2 are the host's stdio (or the share's stdout/stderr), fds 3.. the share's preopens in order, all
 * borrowed (never closed by the context). Cheap: one small allocation, no
 * system call; the descriptor table is allocated on first use. NULL when
 * memory runs out. */
lwasi_ctx *lwasi_ctx_new_shared(lwasi_shared *sh);
/* The share a context was built from (not retained for the caller). */
lwasi_shared *lwasi_ctx_shared(const lwasi_ctx *ctx);

/* lwasi_shared_new + lwasi_ctx_new_shared, the context holding the only
 * reference: for a single instance (the CLI). Same errors as
 * lwasi_shared_new. */
lwasi_ctx *lwasi_ctx_new(const lwasi_config *cfg, char *err, size_t errsize);
/* Closes every descriptor the context owns (files it opened; never the
 * borrowed stdio and preopens), releases its share and frees it. */
void lwasi_ctx_free(lwasi_ctx *ctx);

/* The context a host function runs for, or NULL when there is none (the
 * host function then traps with "no WASI context"). This is the ONE place
 * that knows where contexts live; every WASI host function asks it (more
 * than once per call, so it must be cheap and return the same context each
 * time for the same exec).
 *
 * By default it is the user pointer of the exec's instance
 * (lw_instance_user(lw_exec_instance(x))), which is what `lunatic run`
 * sets. A process runtime installs its own resolver instead, e.g. one that
 * returns the running process's context and creates it with
 * lwasi_ctx_new_shared on the first WASI call. lwasi_set_ctx_resolver(NULL)
 * restores the default. The resolver is process-wide: install it before
 * any guest runs (the pointer is read with a relaxed atomic load, so a
 * late switch is not a data race, but calls in flight may use either). */
lwasi_ctx *lwasi_ctx_of(lw_exec *x);
typedef lwasi_ctx *(*lwasi_ctx_resolver)(lw_exec *x);
void lwasi_set_ctx_resolver(lwasi_ctx_resolver resolve);

/* What a suspended host function waits for (see the suspend contract). */
typedef struct lwasi_wait_info {
    int active;               /* a host function of this ctx is suspended */
    int nfds;                 /* descriptors in fds[] */
    struct pollfd *fds;       /* host fds and events (POLLIN / POLLOUT) */
    int64_t deadline;         /* CLOCK_MONOTONIC ns, or -1 for none */
} lwasi_wait_info;

/* The wait recorded by the last LW_SUSPEND (valid until the resume). */
const lwasi_wait_info *lwasi_ctx_wait_info(const lwasi_ctx *ctx);

/* The sandboxed resolver, for host modules that open files on a guest's
 * behalf with the same rules as path_open (lunatic::sqlite's VFS).
 *
 * lwasi_open_beneath opens `path` (relative; absolute paths give -EPERM)
 * beneath directory descriptor dirfd with open(2) flags `flags` (O_NOFOLLOW
 * applies to the last component only; symbolic links are followed only
 * while they stay beneath). Returns a host fd the caller owns, or a
 * negative host errno; escaping gives -EPERM. Thread-safe.
 *
 * lwasi_open_parent splits `path` for a call that acts on its last
 * component: opens the parent beneath dirfd (O_PATH) and points *last at
 * the final name inside path ("." when the path ends in "." or "..").
 * Returns the parent fd (the caller closes it) or a negative host errno. */
int lwasi_open_beneath(int dirfd, const char *path, int flags, mode_t mode);
int lwasi_open_parent(int dirfd, char *path, const char **last);

/* Preopened directory i (0-based, in configuration order) of a share: its
 * guest name and its host descriptor, both owned by the share and valid
 * while the caller holds a reference to it. Returns 0, or -1 when there
 * is no preopen i. */
int lwasi_shared_preopen(const lwasi_shared *sh, uint32_t i, const char **name, int *fd);

/* The table of the 46 wasi_snapshot_preview1 host functions, created on
 * first use (thread-safe) and alive until exit; NULL when out of memory. */
const lw_host_table *lwasi_host_table(void);

#endif
