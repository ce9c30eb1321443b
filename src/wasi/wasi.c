/*
 * wasi.c - the shared configuration (lwasi_shared), the per-process WASI
 * context, the context resolver, its descriptor table, the suspend bookkeeping
 * and the host functions for args, environ, clocks, random and proc; plus
 * the table of all 46 wasi_snapshot_preview1 functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

/* ---- context resolver ---------------------------------------------------------- */

/* NULL: the default (the instance's user pointer). */
static _Atomic(lwasi_ctx_resolver) ctx_resolver;

void lwasi_set_ctx_resolver(lwasi_ctx_resolver resolve)
{
    atomic_store_explicit(&ctx_resolver, resolve, memory_order_relaxed);
}

lwasi_ctx *lwasi_ctx_of(lw_exec *x)
{
    lwasi_ctx_resolver r = atomic_load_explicit(&ctx_resolver, memory_order_relaxed);
    if (r)
        return r(x);
    return (lwasi_ctx *)lw_instance_user(lw_exec_instance(x));
}

/* ---- the shared part --------------------------------------------------------- */

/* The rights of a host descriptor of a given type. */
static uint64_t rights_for(uint8_t type, int host)
{
    switch (type) {
    case WFT_REG: return WR_FILE;
    case WFT_DIR: return WR_DIR;
    case WFT_CHAR:
        /* wasi-libc's isatty: a character device without seek/tell. */
        return isatty(host) ? WR_STREAM & ~(WR_SOCK_SHUTDOWN | WR_SOCK_ACCEPT)
                            : WR_FILE;
    default: return WR_STREAM;
    }
}

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* Copies n strings into the pointer array v (NULL-terminated) and the
 * character area at *chars; returns their total size with NULs. */
static size_t strv_put(char **v, int n, const char *const *src, char **chars)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(src[i]) + 1;
        memcpy(*chars, src[i], len);
        v[i] = *chars;
        *chars += len;
        total += len;
    }
    v[n] = NULL;
    return total;
}

/* Closes the share's own descriptors: a redirected stdout/stderr (a
 * duplicate, so never 0-2) and the preopens below `upto`. */
static void shared_close(lwasi_shared *sh, uint32_t upto)
{
    for (uint32_t i = 1; i < 3; i++)
        if (sh->tmpl[i].host > 2)
            close(sh->tmpl[i].host);
    for (uint32_t i = 3; i < upto; i++)
        if (sh->tmpl[i].host >= 0)
            close(sh->tmpl[i].host);
}

lwasi_shared *lwasi_shared_new(const lwasi_config *cfg, char *err, size_t errsize)
{
    int argc = cfg->argc > 0 ? cfg->argc : 0, envc = cfg->envc > 0 ? cfg->envc : 0;
    int npre = cfg->npreopens > 0 ? cfg->npreopens : 0;
    if ((uint32_t)npre > WASI_MAX_FDS - 3) {
        snprintf(err, errsize, "too many preopened directories (%d)", npre);
        return NULL;
    }
    /* One block: struct | argv[] | env[] | tmpl[] | characters. */
    size_t off_argv = ALIGN8(sizeof(lwasi_shared));
    size_t off_env = off_argv + ((size_t)argc + 1) * sizeof(char *);
    size_t off_tmpl = ALIGN8(off_env + ((size_t)envc + 1) * sizeof(char *));
    size_t off_chars = off_tmpl + (size_t)(3 + npre) * sizeof(lwasi_fd);
    size_t nchars = 0;
    for (int i = 0; i < argc; i++)
        nchars += strlen(cfg->argv[i]) + 1;
    for (int i = 0; i < envc; i++)
        nchars += strlen(cfg->env[i]) + 1;
    for (int i = 0; i < npre; i++)
        nchars += strlen(cfg->preopens[i].name) + 1;
    char *block = calloc(1, off_chars + nchars);
    if (!block) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    lwasi_shared *sh = (lwasi_shared *)block;
    char *chars = block + off_chars;
    atomic_init(&sh->refs, 1);
    sh->argc = argc;
    sh->envc = envc;
    sh->argv = (char **)(block + off_argv);
    sh->env = (char **)(block + off_env);
    sh->tmpl = (lwasi_fd *)(block + off_tmpl);
    sh->ntmpl = 3 + (uint32_t)npre;
    sh->argv_bytes = strv_put(sh->argv, argc, cfg->argv, &chars);
    sh->env_bytes = strv_put(sh->env, envc, cfg->env, &chars);
    for (int i = 0; i < 3; i++) {
        lwasi_fd *e = &sh->tmpl[i];
        int redirect = i == 1 ? cfg->stdout_fd : i == 2 ? cfg->stderr_fd : 0;
        e->host = i;
        if (redirect > 0) {
            /* at least 3: shared_close tells it from the host's stdio */
            e->host = fcntl(redirect, F_DUPFD_CLOEXEC, 3);
            if (e->host < 0) {
                snprintf(err, errsize, "cannot duplicate descriptor %d: %s", redirect,
                         strerror(errno));
                shared_close(sh, 3);
                free(block);
                return NULL;
            }
        }
        struct stat st;
        e->type = fstat(e->host, &st) ? WFT_UNKNOWN : lwasi_filetype(st.st_mode, e->host);
        e->rights = rights_for(e->type, e->host);
        e->used = e->borrowed = 1;
    }
    for (int i = 0; i < npre; i++) {
        const lwasi_preopen *p = &cfg->preopens[i];
        lwasi_fd *e = &sh->tmpl[3 + i];
        size_t len = strlen(p->name) + 1;
        memcpy(chars, p->name, len);
        e->preopen = chars;
        chars += len;
        e->host = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->host < 0) {
            snprintf(err, errsize, "cannot open directory '%s': %s", p->path, strerror(errno));
            shared_close(sh, 3 + (uint32_t)i);
            free(block);
            return NULL;
        }
        e->type = WFT_DIR;
        e->rights = WR_DIR;
        e->inherit = WR_ALL;
        e->used = e->borrowed = 1;
    }
    return sh;
}

void lwasi_shared_retain(lwasi_shared *sh)
{
    if (sh)
        atomic_fetch_add_explicit(&sh->refs, 1, memory_order_relaxed);
}

void lwasi_shared_release(lwasi_shared *sh)
{
    if (!sh || atomic_fetch_sub_explicit(&sh->refs, 1, memory_order_acq_rel) != 1)
        return;
    shared_close(sh, sh->ntmpl);
    free(sh);
}

/* ---- context ----------------------------------------------------------------- */

lwasi_ctx *lwasi_ctx_new_shared(lwasi_shared *sh)
{
    lwasi_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx)
        return NULL;
    *ctx = (lwasi_ctx){.sh = sh, .wait = {.deadline = -1}};
    lwasi_shared_retain(sh);
    return ctx;
}

lwasi_shared *lwasi_ctx_shared(const lwasi_ctx *ctx)
{
    return ctx->sh;
}

int lwasi_shared_preopen(const lwasi_shared *sh, uint32_t i, const char **name, int *fd)
{
    if (i >= sh->ntmpl - 3)
        return -1;
    const lwasi_fd *e = &sh->tmpl[3 + i];
    *name = e->preopen;
    *fd = e->host;
    return 0;
}

lwasi_ctx *lwasi_ctx_new(const lwasi_config *cfg, char *err, size_t errsize)
{
    lwasi_shared *sh = lwasi_shared_new(cfg, err, errsize);
    if (!sh)
        return NULL;
    lwasi_ctx *ctx = lwasi_ctx_new_shared(sh);
    lwasi_shared_release(sh);
    if (!ctx)
        snprintf(err, errsize, "out of memory");
    return ctx;
}

void lwasi_ctx_free(lwasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].used)
            lwasi_fd_release(&ctx->fds[i]);
    free(ctx->fds);
    free(ctx->wait_fds);
    lwasi_shared_release(ctx->sh);
    free(ctx);
}

/* ---- descriptor table -------------------------------------------------------- */

/* Builds the table on the first fd operation: an exact copy of the
 * template (stdio and the preopens); lwasi_fd_insert doubles it when the
 * guest opens more. Returns 0 or -1 (out of memory). */
static int table_init(lwasi_ctx *ctx)
{
    uint32_t n = ctx->sh->ntmpl;
    lwasi_fd *f = malloc(n * sizeof *f);
    if (!f)
        return -1;
    memcpy(f, ctx->sh->tmpl, n * sizeof *f);
    ctx->fds = f;
    ctx->nfds = n;
    return 0;
}

lwasi_fd *lwasi_fd_get(lwasi_ctx *ctx, uint32_t fd, uint64_t need, int *err)
{
    if (fd >= ctx->nfds) {
        if (ctx->fds || fd >= ctx->sh->ntmpl) {
            *err = WE_BADF;
            return NULL;
        }
        if (table_init(ctx)) {
            *err = WE_NOMEM;
            return NULL;
        }
    }
    lwasi_fd *e = &ctx->fds[fd];
    if (!e->used) {
        *err = WE_BADF;
        return NULL;
    }
    if ((e->rights & need) != need) {
        *err = WE_NOTCAPABLE;
        return NULL;
    }
    return e;
}

int64_t lwasi_fd_insert(lwasi_ctx *ctx, int host, uint8_t type, uint16_t flags,
                        uint64_t rights, uint64_t inherit)
{
    if (!ctx->fds && table_init(ctx))
        return -1;
    uint32_t i = 0;
    while (i < ctx->nfds && ctx->fds[i].used)
        i++;
    if (i == ctx->nfds) {
        if (ctx->nfds >= WASI_MAX_FDS)
            return -1;
        uint32_t n = ctx->nfds * 2;
        lwasi_fd *f = realloc(ctx->fds, n * sizeof *f);
        if (!f)
            return -1;
        memset(f + ctx->nfds, 0, (n - ctx->nfds) * sizeof *f);
        ctx->fds = f;
        ctx->nfds = n;
    }
    lwasi_fd *e = &ctx->fds[i];
    memset(e, 0, sizeof *e);
    e->used = 1;
    e->host = host;
    e->type = type;
    e->flags = flags;
    e->rights = rights;
    e->inherit = inherit;
    return i;
}

void lwasi_fd_release(lwasi_fd *e)
{
    if (e->dir)
        closedir(e->dir);
    if (!e->borrowed && e->host >= 0)
        close(e->host);
    memset(e, 0, sizeof *e);
}

/* ---- conversions ------------------------------------------------------------- */

int lwasi_errno(int e)
{
    switch (e) {
    case 0: return WE_SUCCESS;
    case E2BIG: return WE_2BIG;
    case EACCES: return WE_ACCES;
    case EADDRINUSE: return WE_ADDRINUSE;
    case EADDRNOTAVAIL: return WE_ADDRNOTAVAIL;
    case EAFNOSUPPORT: return WE_AFNOSUPPORT;
    case EAGAIN: return WE_AGAIN;
    case EALREADY: return WE_ALREADY;
    case EBADF: return WE_BADF;
    case EBADMSG: return WE_BADMSG;
    case EBUSY: return WE_BUSY;
    case ECANCELED: return WE_CANCELED;
    case ECHILD: return WE_CHILD;
    case ECONNABORTED: return WE_CONNABORTED;
    case ECONNREFUSED: return WE_CONNREFUSED;
    case ECONNRESET: return WE_CONNRESET;
    case EDEADLK: return WE_DEADLK;
    case EDESTADDRREQ: return WE_DESTADDRREQ;
    case EDOM: return WE_DOM;
    case EDQUOT: return WE_DQUOT;
    case EEXIST: return WE_EXIST;
    case EFAULT: return WE_FAULT;
    case EFBIG: return WE_FBIG;
    case EHOSTUNREACH: return WE_HOSTUNREACH;
    case EIDRM: return WE_IDRM;
    case EILSEQ: return WE_ILSEQ;
    case EINPROGRESS: return WE_INPROGRESS;
    case EINTR: return WE_INTR;
    case EINVAL: return WE_INVAL;
    case EIO: return WE_IO;
    case EISCONN: return WE_ISCONN;
    case EISDIR: return WE_ISDIR;
    case ELOOP: return WE_LOOP;
    case EMFILE: return WE_MFILE;
    case EMLINK: return WE_MLINK;
    case EMSGSIZE: return WE_MSGSIZE;
    case EMULTIHOP: return WE_MULTIHOP;
    case ENAMETOOLONG: return WE_NAMETOOLONG;
    case ENETDOWN: return WE_NETDOWN;
    case ENETRESET: return WE_NETRESET;
    case ENETUNREACH: return WE_NETUNREACH;
    case ENFILE: return WE_NFILE;
    case ENOBUFS: return WE_NOBUFS;
    case ENODEV: return WE_NODEV;
    case ENOENT: return WE_NOENT;
    case ENOEXEC: return WE_NOEXEC;
    case ENOLCK: return WE_NOLCK;
    case ENOLINK: return WE_NOLINK;
    case ENOMEM: return WE_NOMEM;
    case ENOMSG: return WE_NOMSG;
    case ENOPROTOOPT: return WE_NOPROTOOPT;
    case ENOSPC: return WE_NOSPC;
    case ENOSYS: return WE_NOSYS;
    case ENOTCONN: return WE_NOTCONN;
    case ENOTDIR: return WE_NOTDIR;
    case ENOTEMPTY: return WE_NOTEMPTY;
    case ENOTRECOVERABLE: return WE_NOTRECOVERABLE;
    case ENOTSOCK: return WE_NOTSOCK;
    case EOPNOTSUPP: return WE_NOTSUP;
    case ENOTTY: return WE_NOTTY;
    case ENXIO: return WE_NXIO;
    case EOVERFLOW: return WE_OVERFLOW;
    case EOWNERDEAD: return WE_OWNERDEAD;
    case EPERM: return WE_PERM;
    case EPIPE: return WE_PIPE;
    case EPROTO: return WE_PROTO;
    case EPROTONOSUPPORT: return WE_PROTONOSUPPORT;
    case EPROTOTYPE: return WE_PROTOTYPE;
    case ERANGE: return WE_RANGE;
    case EROFS: return WE_ROFS;
    case ESPIPE: return WE_SPIPE;
    case ESRCH: return WE_SRCH;
    case ESTALE: return WE_STALE;
    case ETIMEDOUT: return WE_TIMEDOUT;
    case ETXTBSY: return WE_TXTBSY;
    case EXDEV: return WE_XDEV;
    default: return WE_IO;
    }
}

uint8_t lwasi_filetype(mode_t mode, int host)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WFT_REG;
    case S_IFDIR: return WFT_DIR;
    case S_IFCHR: return WFT_CHAR;
    case S_IFBLK: return WFT_BLOCK;
    case S_IFLNK: return WFT_SYMLINK;
    case S_IFSOCK: {
        int t = SOCK_STREAM;
        socklen_t len = sizeof t;
        if (host >= 0)
            getsockopt(host, SOL_SOCKET, SO_TYPE, &t, &len);
        return t == SOCK_DGRAM ? WFT_SOCK_DGRAM : WFT_SOCK_STREAM;
    }
    default: return WFT_UNKNOWN;
    }
}

static uint64_t ts_ns(struct timespec t)
{
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void lwasi_filestat_put(uint8_t *d, const struct stat *st)
{
    memset(d, 0, 64);
    lwasi_put_u64(d + 0, (uint64_t)st->st_dev);
    lwasi_put_u64(d + 8, (uint64_t)st->st_ino);
    d[16] = lwasi_filetype(st->st_mode, -1);
    lwasi_put_u64(d + 24, (uint64_t)st->st_nlink);
    lwasi_put_u64(d + 32, (uint64_t)st->st_size);
    lwasi_put_u64(d + 40, ts_ns(st->st_atim));
    lwasi_put_u64(d + 48, ts_ns(st->st_mtim));
    lwasi_put_u64(d + 56, ts_ns(st->st_ctim));
}

int lwasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2])
{
    if (((fst & WST_ATIM) && (fst & WST_ATIM_NOW)) ||
        ((fst & WST_MTIM) && (fst & WST_MTIM_NOW)) || (fst & ~15u))
        return WE_INVAL;
    ts[0].tv_sec = (time_t)(atim / 1000000000ull);
    ts[0].tv_nsec = (long)(atim % 1000000000ull);
    ts[1].tv_sec = (time_t)(mtim / 1000000000ull);
    ts[1].tv_nsec = (long)(mtim % 1000000000ull);
    if (!(fst & (WST_ATIM | WST_ATIM_NOW)))
        ts[0].tv_nsec = UTIME_OMIT;
    else if (fst & WST_ATIM_NOW)
        ts[0].tv_nsec = UTIME_NOW;
    if (!(fst & (WST_MTIM | WST_MTIM_NOW)))
        ts[1].tv_nsec = UTIME_OMIT;
    else if (fst & WST_MTIM_NOW)
        ts[1].tv_nsec = UTIME_NOW;
    return 0;
}

/* ---- guest memory ------------------------------------------------------------ */

uint8_t *lwasi_mem(lw_exec *x, uint64_t off, uint64_t len)
{
    static uint8_t empty;
    if (len)
        return (uint8_t *)lw_exec_mem(x, off, len);
    lw_memory *mem = lw_instance_memory(lw_exec_instance(x));
    return mem && off <= lw_memory_size(mem) ? &empty : NULL;
}

int lwasi_store_u32(lw_exec *x, uint32_t ptr, uint32_t v)
{
    uint8_t *p = lwasi_mem(x, ptr, 4);
    if (!p)
        return WE_FAULT;
    lwasi_put_u32(p, v);
    return 0;
}

int lwasi_store_u64(lw_exec *x, uint32_t ptr, uint64_t v)
{
    uint8_t *p = lwasi_mem(x, ptr, 8);
    if (!p)
        return WE_FAULT;
    lwasi_put_u64(p, v);
    return 0;
}

int lwasi_iovecs(lw_exec *x, uint32_t iovs, uint32_t n, struct iovec *out, int max)
{
    const uint8_t *v = lwasi_mem(x, iovs, (uint64_t)n * 8);
    if (!v)
        return -WE_FAULT;
    int k = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && k < max; i++) {
        uint32_t buf = lwasi_get_u32(v + 8 * i), len = lwasi_get_u32(v + 8 * i + 4);
        uint8_t *p = lwasi_mem(x, buf, len);
        if (!p)
            return -WE_FAULT;
        /* A guest may not ask for more than SSIZE_MAX in one call. */
        if ((total += len) > (uint64_t)SSIZE_MAX)
            return -WE_INVAL;
        if (!len)
            continue;
        out[k].iov_base = p;
        out[k].iov_len = len;
        k++;
    }
    return k;
}

/* ---- waiting ------------------------------------------------------------------- */

int64_t lwasi_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)ts_ns(t);
}

void lwasi_wait_reset(lwasi_ctx *ctx)
{
    ctx->wait.nfds = 0;
    ctx->wait.fds = ctx->wait_fds;
}

int lwasi_wait_fd(lwasi_ctx *ctx, int host, short events)
{
    if (ctx->wait.nfds == ctx->wait_cap) {
        int n = ctx->wait_cap ? ctx->wait_cap * 2 : 4;
        struct pollfd *p = realloc(ctx->wait_fds, (size_t)n * sizeof *p);
        if (!p)
            return -1;
        ctx->wait_fds = p;
        ctx->wait_cap = n;
    }
    ctx->wait_fds[ctx->wait.nfds].fd = host;
    ctx->wait_fds[ctx->wait.nfds].events = events;
    ctx->wait_fds[ctx->wait.nfds].revents = 0;
    ctx->wait.nfds++;
    ctx->wait.fds = ctx->wait_fds;
    return 0;
}

int lwasi_suspend(lwasi_ctx *ctx, int64_t deadline)
{
    ctx->wait.active = 1;
    ctx->wait.deadline = deadline;
    return LW_SUSPEND;
}

void lwasi_wait_done(lwasi_ctx *ctx)
{
    ctx->wait.active = 0;
    ctx->wait.nfds = 0;
    ctx->wait.deadline = -1;
}

const lwasi_wait_info *lwasi_ctx_wait_info(const lwasi_ctx *ctx)
{
    return &ctx->wait;
}

int lwasi_would_block(const lwasi_fd *e, short events)
{
    if (e->type == WFT_REG || e->type == WFT_DIR || e->type == WFT_BLOCK)
        return 0;
    struct pollfd p = {e->host, events, 0};
    if (poll(&p, 1, 0) == 1)
        return 0;
    return 1;
}

/* ---- args, environ ------------------------------------------------------------- */

static int put_strings(lw_exec *x, char **v, int n, size_t bytes, uint32_t ptrs,
                       uint32_t buf)
{
    uint8_t *pv = lwasi_mem(x, ptrs, (uint64_t)n * 4);
    uint8_t *pb = lwasi_mem(x, buf, bytes);
    if (!pv || !pb)
        return WE_FAULT;
    uint32_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        lwasi_put_u32(pv + 4 * i, buf + off);
        memcpy(pb + off, v[i], len);
        off += (uint32_t)len;
    }
    return 0;
}

static int put_sizes(lw_exec *x, uint32_t count, size_t bytes, uint32_t pc, uint32_t pb)
{
    uint8_t *a = lwasi_mem(x, pc, 4), *b = lwasi_mem(x, pb, 4);
    if (!a || !b)
        return WE_FAULT;
    lwasi_put_u32(a, count);
    lwasi_put_u32(b, (uint32_t)bytes);
    return 0;
}

/* args_get(argv: i32, argv_buf: i32) -> errno */
static WASI_FN(args_get)
{
    const lwasi_shared *sh = lwasi_ctx_of(x)->sh;
    RETURN_ERRNO(put_strings(x, sh->argv, sh->argc, sh->argv_bytes, A32(0), A32(1)));
}

/* args_sizes_get(argc_out: i32, argv_buf_size_out: i32) -> errno */
static WASI_FN(args_sizes_get)
{
    const lwasi_shared *sh = lwasi_ctx_of(x)->sh;
    RETURN_ERRNO(put_sizes(x, (uint32_t)sh->argc, sh->argv_bytes, A32(0), A32(1)));
}

/* environ_get(environ: i32, environ_buf: i32) -> errno */
static WASI_FN(environ_get)
{
    const lwasi_shared *sh = lwasi_ctx_of(x)->sh;
    RETURN_ERRNO(put_strings(x, sh->env, sh->envc, sh->env_bytes, A32(0), A32(1)));
}

/* environ_sizes_get(count_out: i32, buf_size_out: i32) -> errno */
static WASI_FN(environ_sizes_get)
{
    const lwasi_shared *sh = lwasi_ctx_of(x)->sh;
    RETURN_ERRNO(put_sizes(x, (uint32_t)sh->envc, sh->env_bytes, A32(0), A32(1)));
}

/* ---- clocks -------------------------------------------------------------------- */

static int clock_host(uint32_t id, clockid_t *out)
{
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return 0;
    case 1: *out = CLOCK_MONOTONIC; return 0;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
    default: return WE_INVAL;
    }
}

/* clock_res_get(id: i32, resolution_out: i32) -> errno */
static WASI_FN(clock_res_get)
{
    clockid_t c;
    struct timespec t;
    if (clock_host(A32(0), &c))
        RETURN_ERRNO(WE_INVAL);
    if (clock_getres(c, &t))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u64(x, A32(1), ts_ns(t)));
}

/* clock_time_get(id: i32, precision: i64, time_out: i32) -> errno */
static WASI_FN(clock_time_get)
{
    clockid_t c;
    struct timespec t;
    if (clock_host(A32(0), &c))
        RETURN_ERRNO(WE_INVAL);
    if (clock_gettime(c, &t))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u64(x, A32(2), ts_ns(t)));
}

/* ---- random, proc -------------------------------------------------------------- */

/* random_get(buf: i32, len: i32) -> errno */
static WASI_FN(random_get)
{
    uint8_t *p = lwasi_mem(x, A32(0), A32(1));
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    size_t done = 0, len = A32(1);
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            RETURN_ERRNO(lwasi_errno(errno));
        }
        done += (size_t)n;
    }
    RETURN_ERRNO(0);
}

/* proc_exit(code: i32) -> noreturn: ends the run with trap kind EXIT. */
static WASI_FN(proc_exit)
{
    lw_exec_exit(x, (int)A32(0));
    return LW_TRAP;
}

/* proc_raise(sig: i32) -> errno: unsupported, a trap (as in wasmtime). */
static WASI_FN(proc_raise)
{
    char msg[64];
    snprintf(msg, sizeof msg, "proc_raise(%u) unsupported", A32(0));
    lw_exec_trap(x, LW_TRAP_HOST, msg);
    return LW_TRAP;
}

/* Every WASI host function first finds its context; without one it traps
 * instead of dereferencing NULL. */
#define CHECKED(name)                                                         \
    static int checked_##name(lw_exec *x, void *env, lw_val *args)            \
    {                                                                         \
        if (!lwasi_ctx_of(x)) {                                               \
            lw_exec_trap(x, LW_TRAP_HOST, "no WASI context");                 \
            return LW_TRAP;                                                   \
        }                                                                     \
        return lwasi_##name(x, env, args);                                    \
    }

#define WASI_FUNCS(X)                                                          \
    X(args_get, "ii:i") X(args_sizes_get, "ii:i") X(environ_get, "ii:i")       \
    X(environ_sizes_get, "ii:i") X(clock_res_get, "ii:i")                      \
    X(clock_time_get, "iIi:i") X(fd_advise, "iIIi:i") X(fd_allocate, "iII:i")  \
    X(fd_close, "i:i") X(fd_datasync, "i:i") X(fd_fdstat_get, "ii:i")          \
    X(fd_fdstat_set_flags, "ii:i") X(fd_fdstat_set_rights, "iII:i")            \
    X(fd_filestat_get, "ii:i") X(fd_filestat_set_size, "iI:i")                 \
    X(fd_filestat_set_times, "iIIi:i") X(fd_pread, "iiiIi:i")                  \
    X(fd_prestat_get, "ii:i") X(fd_prestat_dir_name, "iii:i")                  \
    X(fd_pwrite, "iiiIi:i") X(fd_read, "iiii:i") X(fd_readdir, "iiiIi:i")      \
    X(fd_renumber, "ii:i") X(fd_seek, "iIii:i") X(fd_sync, "i:i")              \
    X(fd_tell, "ii:i") X(fd_write, "iiii:i") X(path_create_directory, "iii:i") \
    X(path_filestat_get, "iiiii:i") X(path_filestat_set_times, "iiiiIIi:i")    \
    X(path_link, "iiiiiii:i") X(path_open, "iiiiiIIii:i")                      \
    X(path_readlink, "iiiiii:i") X(path_remove_directory, "iii:i")             \
    X(path_rename, "iiiiii:i") X(path_symlink, "iiiii:i")                      \
    X(path_unlink_file, "iii:i") X(poll_oneoff, "iiii:i") X(proc_exit, "i:")   \
    X(proc_raise, "i:i") X(sched_yield, ":i") X(random_get, "ii:i")            \
    X(sock_accept, "iii:i") X(sock_recv, "iiiiii:i") X(sock_send, "iiiii:i")   \
    X(sock_shutdown, "ii:i")

#define X_CHECKED(name, sig) CHECKED(name)
WASI_FUNCS(X_CHECKED)

static const lw_host_func_def lwasi_defs[] = {
#define X_DEF(name, sig) {"wasi_snapshot_preview1", #name, sig, checked_##name},
    WASI_FUNCS(X_DEF)
#undef X_DEF
};

static lw_host_table wasi_table;
static pthread_once_t wasi_table_once = PTHREAD_ONCE_INIT;
static int wasi_table_ok;

static void wasi_table_init(void)
{
    wasi_table_ok = lw_host_table_init(&wasi_table, lwasi_defs,
                                       sizeof lwasi_defs / sizeof lwasi_defs[0]) == 0;
}

const lw_host_table *lwasi_host_table(void)
{
    pthread_once(&wasi_table_once, wasi_table_init);
    return wasi_table_ok ? &wasi_table : NULL;
}
