/*
 * wasi_int.h - internals shared by the WASI files: the ABI constants and
 * layouts of wasi_snapshot_preview1, the context and its descriptor table,
 * guest memory helpers and the sandboxed path resolver.
 *
 * Files: wasi.c (context, args, environ, clocks, random, proc, table),
 * wasi_fd.c (fd_*), wasi_path.c (path_* and the resolver), wasi_poll.c
 * (poll_oneoff, sched_yield, sock_*).
 */
#ifndef LUNATIC_WASI_INT_H
#define LUNATIC_WASI_INT_H

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "wasi/wasi.h"

/* ---- errno (witx order) -------------------------------------------------- */
enum {
    WE_SUCCESS = 0, WE_2BIG = 1, WE_ACCES = 2, WE_ADDRINUSE = 3, WE_ADDRNOTAVAIL = 4,
    WE_AFNOSUPPORT = 5, WE_AGAIN = 6, WE_ALREADY = 7, WE_BADF = 8, WE_BADMSG = 9,
    WE_BUSY = 10, WE_CANCELED = 11, WE_CHILD = 12, WE_CONNABORTED = 13,
    WE_CONNREFUSED = 14, WE_CONNRESET = 15, WE_DEADLK = 16, WE_DESTADDRREQ = 17,
    WE_DOM = 18, WE_DQUOT = 19, WE_EXIST = 20, WE_FAULT = 21, WE_FBIG = 22,
    WE_HOSTUNREACH = 23, WE_IDRM = 24, WE_ILSEQ = 25, WE_INPROGRESS = 26, WE_INTR = 27,
    WE_INVAL = 28, WE_IO = 29, WE_ISCONN = 30, WE_ISDIR = 31, WE_LOOP = 32,
    WE_MFILE = 33, WE_MLINK = 34, WE_MSGSIZE = 35, WE_MULTIHOP = 36,
    WE_NAMETOOLONG = 37, WE_NETDOWN = 38, WE_NETRESET = 39, WE_NETUNREACH = 40,
    WE_NFILE = 41, WE_NOBUFS = 42, WE_NODEV = 43, WE_NOENT = 44, WE_NOEXEC = 45,
    WE_NOLCK = 46, WE_NOLINK = 47, WE_NOMEM = 48, WE_NOMSG = 49, WE_NOPROTOOPT = 50,
    WE_NOSPC = 51, WE_NOSYS = 52, WE_NOTCONN = 53, WE_NOTDIR = 54, WE_NOTEMPTY = 55,
    WE_NOTRECOVERABLE = 56, WE_NOTSOCK = 57, WE_NOTSUP = 58, WE_NOTTY = 59,
    WE_NXIO = 60, WE_OVERFLOW = 61, WE_OWNERDEAD = 62, WE_PERM = 63, WE_PIPE = 64,
    WE_PROTO = 65, WE_PROTONOSUPPORT = 66, WE_PROTOTYPE = 67, WE_RANGE = 68,
    WE_ROFS = 69, WE_SPIPE = 70, WE_SRCH = 71, WE_STALE = 72, WE_TIMEDOUT = 73,
    WE_TXTBSY = 74, WE_XDEV = 75, WE_NOTCAPABLE = 76
};

/* ---- filetype, flags ------------------------------------------------------- */
enum {
    WFT_UNKNOWN = 0, WFT_BLOCK = 1, WFT_CHAR = 2, WFT_DIR = 3, WFT_REG = 4,
    WFT_SOCK_DGRAM = 5, WFT_SOCK_STREAM = 6, WFT_SYMLINK = 7
};
enum { WFD_APPEND = 1, WFD_DSYNC = 2, WFD_NONBLOCK = 4, WFD_RSYNC = 8, WFD_SYNC = 16 };
enum { WO_CREAT = 1, WO_DIRECTORY = 2, WO_EXCL = 4, WO_TRUNC = 8 };
enum { WL_SYMLINK_FOLLOW = 1 };
enum { WST_ATIM = 1, WST_ATIM_NOW = 2, WST_MTIM = 4, WST_MTIM_NOW = 8 };

/* ---- rights ---------------------------------------------------------------- */
#define WR_FD_DATASYNC (1ull << 0)
#define WR_FD_READ (1ull << 1)
#define WR_FD_SEEK (1ull << 2)
#define WR_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define WR_FD_SYNC (1ull << 4)
#define WR_FD_TELL (1ull << 5)
#define WR_FD_WRITE (1ull << 6)
#define WR_FD_ADVISE (1ull << 7)
#define WR_FD_ALLOCATE (1ull << 8)
#define WR_PATH_CREATE_DIRECTORY (1ull << 9)
#define WR_PATH_CREATE_FILE (1ull << 10)
#define WR_PATH_LINK_SOURCE (1ull << 11)
#define WR_PATH_LINK_TARGET (1ull << 12)
#define WR_PATH_OPEN (1ull << 13)
#define WR_FD_READDIR (1ull << 14)
#define WR_PATH_READLINK (1ull << 15)
#define WR_PATH_RENAME_SOURCE (1ull << 16)
#define WR_PATH_RENAME_TARGET (1ull << 17)
#define WR_PATH_FILESTAT_GET (1ull << 18)
#define WR_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define WR_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WR_FD_FILESTAT_GET (1ull << 21)
#define WR_FD_FILESTAT_SET_SIZE (1ull << 22)
#define WR_FD_FILESTAT_SET_TIMES (1ull << 23)
#define WR_PATH_SYMLINK (1ull << 24)
#define WR_PATH_REMOVE_DIRECTORY (1ull << 25)
#define WR_PATH_UNLINK_FILE (1ull << 26)
#define WR_POLL_FD_READWRITE (1ull << 27)
#define WR_SOCK_SHUTDOWN (1ull << 28)
#define WR_SOCK_ACCEPT (1ull << 29)
#define WR_ALL ((1ull << 30) - 1)

/* Rights a regular file / a directory / a socket or stream can use. */
#define WR_FILE                                                                        \
    (WR_FD_DATASYNC | WR_FD_READ | WR_FD_SEEK | WR_FD_FDSTAT_SET_FLAGS | WR_FD_SYNC |  \
     WR_FD_TELL | WR_FD_WRITE | WR_FD_ADVISE | WR_FD_ALLOCATE | WR_FD_FILESTAT_GET |   \
     WR_FD_FILESTAT_SET_SIZE | WR_FD_FILESTAT_SET_TIMES | WR_POLL_FD_READWRITE)
#define WR_DIR                                                                          \
    (WR_FD_FDSTAT_SET_FLAGS | WR_FD_SYNC | WR_FD_ADVISE | WR_PATH_CREATE_DIRECTORY |    \
     WR_PATH_CREATE_FILE | WR_PATH_LINK_SOURCE | WR_PATH_LINK_TARGET | WR_PATH_OPEN |   \
     WR_FD_READDIR | WR_PATH_READLINK | WR_PATH_RENAME_SOURCE | WR_PATH_RENAME_TARGET | \
     WR_PATH_FILESTAT_GET | WR_PATH_FILESTAT_SET_SIZE | WR_PATH_FILESTAT_SET_TIMES |    \
     WR_FD_FILESTAT_GET | WR_FD_FILESTAT_SET_TIMES | WR_PATH_SYMLINK |                  \
     WR_PATH_REMOVE_DIRECTORY | WR_PATH_UNLINK_FILE | WR_POLL_FD_READWRITE |            \
     WR_FD_DATASYNC)
#define WR_STREAM                                                                      \
    (WR_FD_READ | WR_FD_WRITE | WR_FD_FDSTAT_SET_FLAGS | WR_FD_FILESTAT_GET |          \
     WR_POLL_FD_READWRITE | WR_SOCK_SHUTDOWN | WR_SOCK_ACCEPT | WR_FD_DATASYNC |       \
     WR_FD_SYNC | WR_FD_ADVISE | WR_FD_ALLOCATE | WR_FD_FILESTAT_SET_SIZE |            \
     WR_FD_FILESTAT_SET_TIMES)

/* ---- the descriptor table -------------------------------------------------- */
typedef struct lwasi_fd {
    int host;                 /* host descriptor */
    uint8_t used;
    uint8_t borrowed;         /* stdio, shared preopens: never closed or
                                 changed (fcntl) by the context */
    uint8_t type;             /* WFT_* */
    uint16_t flags;           /* WFD_* as the guest sees them */
    uint64_t rights, inherit;
    const char *preopen;      /* guest name of a preopened directory (owned
                                 by the lwasi_shared), else NULL */
    DIR *dir;                 /* readdir stream, opened on first fd_readdir */
} lwasi_fd;

/* The immutable part shared by every context of one configuration; one
 * allocation holding the struct, the argv/env pointer arrays, the template
 * descriptor table and all strings. See "Sharing" in wasi.h. */
struct lwasi_shared {
    _Atomic unsigned long refs;
    int argc, envc;
    char **argv;              /* argc + 1 entries, NULL-terminated */
    char **env;
    size_t argv_bytes, env_bytes;
    uint32_t ntmpl;           /* 3 + number of preopens */
    lwasi_fd *tmpl;            /* stdio and preopens, all borrowed; the
                                 preopens' host fds are owned by the share */
};

struct lwasi_ctx {
    lwasi_shared *sh;          /* retained */
    lwasi_fd *fds;             /* NULL until the first fd operation */
    uint32_t nfds;            /* entries allocated */
    int wait_cap;
    lwasi_wait_info wait;
    struct pollfd *wait_fds;  /* storage of wait.fds */
    int64_t poll_start;       /* first call of a suspended poll_oneoff */
};

#define WASI_MAX_FDS 65536u

/* Looks up guest fd `fd` and checks that it has every right in `need`.
 * Returns the entry, or NULL with *err = BADF or NOTCAPABLE (or NOMEM when
 * the lazily built table cannot be allocated). */
lwasi_fd *lwasi_fd_get(lwasi_ctx *ctx, uint32_t fd, uint64_t need, int *err);
/* Inserts a new entry with the lowest free number; returns it or -1 (MFILE,
 * the host descriptor is then NOT closed). */
int64_t lwasi_fd_insert(lwasi_ctx *ctx, int host, uint8_t type, uint16_t flags,
                       uint64_t rights, uint64_t inherit);
/* Closes an entry (the host fd unless borrowed) and marks it free. */
void lwasi_fd_release(lwasi_fd *e);

/* Maps a host errno to a WASI errno. */
int lwasi_errno(int host_errno);
/* The WASI filetype of a stat mode (sockets: from SO_TYPE when host >= 0). */
uint8_t lwasi_filetype(mode_t mode, int host);
/* Writes a filestat (64 bytes) from a host stat. */
void lwasi_filestat_put(uint8_t *dst, const struct stat *st);

/* Resolves the CLOCK_MONOTONIC time in ns. */
int64_t lwasi_now_ns(void);

/* Records a wait and returns LW_SUSPEND (see wasi.h). The fds are
 * appended with lwasi_wait_fd before calling it. */
void lwasi_wait_reset(lwasi_ctx *ctx);
int lwasi_wait_fd(lwasi_ctx *ctx, int host, short events);
int lwasi_suspend(lwasi_ctx *ctx, int64_t deadline);
/* Ends a wait: the host function completed. */
void lwasi_wait_done(lwasi_ctx *ctx);

/* Whether a read (POLLIN) or write (POLLOUT) on a stream entry would block
 * now. Regular files and directories never block. */
int lwasi_would_block(const lwasi_fd *e, short events);

/* ---- guest memory ----------------------------------------------------------- */
/* Bounds-checked guest range; NULL when outside memory. An empty range
 * is valid up to the end of memory (the pointer must not be used then). */
uint8_t *lwasi_mem(lw_exec *x, uint64_t off, uint64_t len);
static inline void lwasi_put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void lwasi_put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void lwasi_put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t lwasi_get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t lwasi_get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t lwasi_get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Stores a u32/u64 result at a guest address; returns 0 or WE_FAULT. */
int lwasi_store_u32(lw_exec *x, uint32_t ptr, uint32_t v);
int lwasi_store_u64(lw_exec *x, uint32_t ptr, uint64_t v);

/* Converts guest iovecs (8 bytes each) into host iovecs (at most IOV_MAX).
 * Returns the count, or -WE_FAULT / -WE_INVAL. */
struct iovec;
int lwasi_iovecs(lw_exec *x, uint32_t iovs, uint32_t n, struct iovec *out, int max);

/* Returns errno e from a host function (A32/A64 read its arguments:
 * wasm/host.h). */
#define RETURN_ERRNO(e) do { args[0] = (uint32_t)(e); return LW_OK; } while (0)

/* ---- the resolver ------------------------------------------------------------ */

/* Copies a guest path into a NUL-terminated host buffer. Returns 0 or a
 * WASI errno (FAULT, INVAL for a NUL byte, NAMETOOLONG). */
int lwasi_path_copy(lw_exec *x, uint32_t ptr, uint32_t len, char *out, size_t size);
/* lwasi_open_beneath and lwasi_open_parent are declared in wasi.h. */

/* Host functions, by file. */
#define WASI_FN(name)                                                      \
    int lwasi_##name(lw_exec *x __attribute__((unused)),                   \
                    void *env __attribute__((unused)), lw_val *args)
WASI_FN(fd_advise); WASI_FN(fd_allocate); WASI_FN(fd_close); WASI_FN(fd_datasync);
WASI_FN(fd_fdstat_get); WASI_FN(fd_fdstat_set_flags); WASI_FN(fd_fdstat_set_rights);
WASI_FN(fd_filestat_get); WASI_FN(fd_filestat_set_size); WASI_FN(fd_filestat_set_times);
WASI_FN(fd_pread); WASI_FN(fd_prestat_get); WASI_FN(fd_prestat_dir_name);
WASI_FN(fd_pwrite); WASI_FN(fd_read); WASI_FN(fd_readdir); WASI_FN(fd_renumber);
WASI_FN(fd_seek); WASI_FN(fd_sync); WASI_FN(fd_tell); WASI_FN(fd_write);
WASI_FN(path_create_directory); WASI_FN(path_filestat_get);
WASI_FN(path_filestat_set_times); WASI_FN(path_link); WASI_FN(path_open);
WASI_FN(path_readlink); WASI_FN(path_remove_directory); WASI_FN(path_rename);
WASI_FN(path_symlink); WASI_FN(path_unlink_file);
WASI_FN(poll_oneoff); WASI_FN(sched_yield);
WASI_FN(sock_accept); WASI_FN(sock_recv); WASI_FN(sock_send); WASI_FN(sock_shutdown);

/* Fills a timespec pair for utimensat from WASI times and fstflags;
 * returns 0 or WE_INVAL. */
struct timespec;
int lwasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

#endif
