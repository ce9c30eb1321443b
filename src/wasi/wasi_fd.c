/*
 * wasi_fd.c - the fd_* host functions of wasi_snapshot_preview1.
 *
 * Reads and writes on streams (pipes, terminals, sockets) that are not
 * ready suspend the caller instead of blocking (see the contract in
 * wasi.h); an fd the guest marked NONBLOCK gets ERRNO_AGAIN instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

#define MAX_IOV 1024

/* Looks up fd with rights `need` or returns its errno from the caller. */
#define GET_FD(e, ctx, fdnum, need)                                \
    int err_ = 0;                                                  \
    lwasi_fd *e = lwasi_fd_get((ctx), (fdnum), (need), &err_);     \
    if (!e)                                                        \
        RETURN_ERRNO(err_)

/* Suspends a stream read/write that would block, or fails it with AGAIN
 * for a NONBLOCK fd. Returns -1 to continue with the I/O. */
static int wait_stream(lwasi_ctx *ctx, lwasi_fd *e, short events)
{
    if (!lwasi_would_block(e, events)) {
        lwasi_wait_done(ctx);
        return -1;
    }
    if (e->flags & WFD_NONBLOCK) {
        lwasi_wait_done(ctx);
        return WE_AGAIN;
    }
    lwasi_wait_reset(ctx);
    if (lwasi_wait_fd(ctx, e->host, events))
        return WE_NOMEM;
    return -2;
}

static int rw(lw_exec *x, lw_val *args, int write)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    GET_FD(e, ctx, A32(0), write ? WR_FD_WRITE : WR_FD_READ);
    struct iovec iov[MAX_IOV];
    if (!lwasi_mem(x, A32(3), 4))
        RETURN_ERRNO(WE_FAULT);
    int k = lwasi_iovecs(x, A32(1), A32(2), iov, MAX_IOV);
    if (k < 0)
        RETURN_ERRNO(-k);
    if (k == 0)
        RETURN_ERRNO(lwasi_store_u32(x, A32(3), 0));
    for (;;) {
        int w = wait_stream(ctx, e, write ? POLLOUT : POLLIN);
        if (w == -2)
            return lwasi_suspend(ctx, -1);
        if (w >= 0)
            RETURN_ERRNO(w);
        ssize_t n = write ? writev(e->host, iov, k) : readv(e->host, iov, k);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !(e->flags & WFD_NONBLOCK)) {
            /* Lost a race with another reader: wait again. */
            lwasi_wait_reset(ctx);
            if (lwasi_wait_fd(ctx, e->host, write ? POLLOUT : POLLIN))
                RETURN_ERRNO(WE_NOMEM);
            return lwasi_suspend(ctx, -1);
        }
        if (n < 0)
            RETURN_ERRNO(lwasi_errno(errno));
        RETURN_ERRNO(lwasi_store_u32(x, A32(3), (uint32_t)n));
    }
}

/* fd_read(fd, iovs, iovs_len, nread_out) -> errno */
WASI_FN(fd_read)
{
    return rw(x, args, 0);
}

/* fd_write(fd, iovs, iovs_len, nwritten_out) -> errno */
WASI_FN(fd_write)
{
    return rw(x, args, 1);
}

static int prw(lw_exec *x, lw_val *args, int write)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    GET_FD(e, ctx, A32(0), (write ? WR_FD_WRITE : WR_FD_READ) | WR_FD_SEEK);
    struct iovec iov[MAX_IOV];
    if (!lwasi_mem(x, A32(4), 4))
        RETURN_ERRNO(WE_FAULT);
    if (A64(3) > INT64_MAX)
        RETURN_ERRNO(WE_INVAL);
    int k = lwasi_iovecs(x, A32(1), A32(2), iov, MAX_IOV);
    if (k < 0)
        RETURN_ERRNO(-k);
    ssize_t n;
    if (k == 0)
        n = 0;
    else
        do {
            n = write ? pwritev(e->host, iov, k, (off_t)A64(3))
                      : preadv(e->host, iov, k, (off_t)A64(3));
        } while (n < 0 && errno == EINTR);
    if (n < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u32(x, A32(4), (uint32_t)n));
}

/* fd_pread(fd, iovs, iovs_len, offset: i64, nread_out) -> errno */
WASI_FN(fd_pread)
{
    return prw(x, args, 0);
}

/* fd_pwrite(fd, iovs, iovs_len, offset: i64, nwritten_out) -> errno */
WASI_FN(fd_pwrite)
{
    return prw(x, args, 1);
}

/* fd_seek(fd, offset: i64, whence, newoffset_out) -> errno */
WASI_FN(fd_seek)
{
    int64_t off = (int64_t)A64(1);
    uint32_t whence = A32(2);
    uint64_t need = (off == 0 && whence == 1) ? WR_FD_TELL : WR_FD_SEEK;
    GET_FD(e, lwasi_ctx_of(x), A32(0), need);
    if (whence > 2)
        RETURN_ERRNO(WE_INVAL);
    if (!lwasi_mem(x, A32(3), 8))
        RETURN_ERRNO(WE_FAULT);
    static const int wh[3] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t r = lseek(e->host, (off_t)off, wh[whence]);
    if (r < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u64(x, A32(3), (uint64_t)r));
}

/* fd_tell(fd, offset_out) -> errno */
WASI_FN(fd_tell)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_TELL);
    if (!lwasi_mem(x, A32(1), 8))
        RETURN_ERRNO(WE_FAULT);
    off_t r = lseek(e->host, 0, SEEK_CUR);
    if (r < 0)
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(lwasi_store_u64(x, A32(1), (uint64_t)r));
}

/* fd_fdstat_get(fd, fdstat_out: 24 bytes) -> errno */
WASI_FN(fd_fdstat_get)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), 0);
    uint8_t *p = lwasi_mem(x, A32(1), 24);
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    uint16_t flags = e->flags & WFD_NONBLOCK;
    int fl = fcntl(e->host, F_GETFL);
    if (fl >= 0) {
        if (fl & O_APPEND)
            flags |= WFD_APPEND;
        if ((fl & O_SYNC) == O_SYNC)
            flags |= WFD_SYNC | WFD_RSYNC;
        else if (fl & O_DSYNC)
            flags |= WFD_DSYNC;
    }
    if (e->borrowed)
        flags |= e->flags & WFD_APPEND;
    memset(p, 0, 24);
    p[0] = e->type;
    lwasi_put_u16(p + 2, flags);
    lwasi_put_u64(p + 8, e->rights);
    lwasi_put_u64(p + 16, e->inherit);
    RETURN_ERRNO(0);
}

/* fd_fdstat_set_flags(fd, flags) -> errno: APPEND and NONBLOCK only. */
WASI_FN(fd_fdstat_set_flags)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_FDSTAT_SET_FLAGS);
    uint32_t f = A32(1);
    if (f & ~31u || (f & (WFD_DSYNC | WFD_RSYNC | WFD_SYNC)))
        RETURN_ERRNO(WE_INVAL);
    /* Stdio and shared preopens are borrowed: keep their flags to ourselves. */
    if (!e->borrowed) {
        int fl = fcntl(e->host, F_GETFL);
        if (fl < 0)
            RETURN_ERRNO(lwasi_errno(errno));
        fl = (f & WFD_APPEND) ? (fl | O_APPEND) : (fl & ~O_APPEND);
        if (fcntl(e->host, F_SETFL, fl) < 0)
            RETURN_ERRNO(lwasi_errno(errno));
    }
    e->flags = (uint16_t)f;
    RETURN_ERRNO(0);
}

/* fd_fdstat_set_rights(fd, base: i64, inheriting: i64) -> errno: only drops. */
WASI_FN(fd_fdstat_set_rights)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), 0);
    if ((A64(1) & ~e->rights) || (A64(2) & ~e->inherit))
        RETURN_ERRNO(WE_NOTCAPABLE);
    e->rights = A64(1);
    e->inherit = A64(2);
    RETURN_ERRNO(0);
}

/* fd_filestat_get(fd, filestat_out: 64 bytes) -> errno */
WASI_FN(fd_filestat_get)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_FILESTAT_GET);
    uint8_t *p = lwasi_mem(x, A32(1), 64);
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    struct stat st;
    if (fstat(e->host, &st))
        RETURN_ERRNO(lwasi_errno(errno));
    lwasi_filestat_put(p, &st);
    p[16] = e->type;
    RETURN_ERRNO(0);
}

/* fd_filestat_set_size(fd, size: i64) -> errno */
WASI_FN(fd_filestat_set_size)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_FILESTAT_SET_SIZE);
    if (A64(1) > INT64_MAX)
        RETURN_ERRNO(WE_INVAL);
    if (ftruncate(e->host, (off_t)A64(1)))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(0);
}

/* fd_filestat_set_times(fd, atim: i64, mtim: i64, fstflags) -> errno */
WASI_FN(fd_filestat_set_times)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_FILESTAT_SET_TIMES);
    struct timespec ts[2];
    int r = lwasi_times(A64(1), A64(2), A32(3), ts);
    if (r)
        RETURN_ERRNO(r);
    if (futimens(e->host, ts))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(0);
}

/* fd_allocate(fd, offset: i64, len: i64) -> errno */
WASI_FN(fd_allocate)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_ALLOCATE);
    if (A64(1) > INT64_MAX || A64(2) > INT64_MAX)
        RETURN_ERRNO(WE_INVAL);
    int r = posix_fallocate(e->host, (off_t)A64(1), (off_t)A64(2));
    RETURN_ERRNO(lwasi_errno(r));
}

/* fd_advise(fd, offset: i64, len: i64, advice) -> errno */
WASI_FN(fd_advise)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_ADVISE);
    static const int adv[6] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                               POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                               POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    if (A32(3) > 5 || A64(1) > INT64_MAX || A64(2) > INT64_MAX)
        RETURN_ERRNO(WE_INVAL);
    int r = posix_fadvise(e->host, (off_t)A64(1), (off_t)A64(2), adv[A32(3)]);
    RETURN_ERRNO(lwasi_errno(r));
}

/* fd_close(fd) -> errno */
WASI_FN(fd_close)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), 0);
    lwasi_fd_release(e);
    RETURN_ERRNO(0);
}

/* fd_datasync(fd) -> errno */
WASI_FN(fd_datasync)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_DATASYNC);
    if (fdatasync(e->host))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(0);
}

/* fd_sync(fd) -> errno */
WASI_FN(fd_sync)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_SYNC);
    if (fsync(e->host))
        RETURN_ERRNO(lwasi_errno(errno));
    RETURN_ERRNO(0);
}

/* fd_renumber(from, to) -> errno: `to` must be open; it is closed first. */
WASI_FN(fd_renumber)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    GET_FD(from, ctx, A32(0), 0);
    int err2 = 0;
    lwasi_fd *to = lwasi_fd_get(ctx, A32(1), 0, &err2);
    if (!to)
        RETURN_ERRNO(err2);
    if (from == to)
        RETURN_ERRNO(0);
    lwasi_fd_release(to);
    *to = *from;
    memset(from, 0, sizeof *from);
    RETURN_ERRNO(0);
}

/* fd_prestat_get(fd, prestat_out: 8 bytes) -> errno: BADF for non-preopens. */
WASI_FN(fd_prestat_get)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), 0);
    if (!e->preopen)
        RETURN_ERRNO(WE_BADF);
    uint8_t *p = lwasi_mem(x, A32(1), 8);
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    memset(p, 0, 8);
    lwasi_put_u32(p + 4, (uint32_t)strlen(e->preopen));
    RETURN_ERRNO(0);
}

/* fd_prestat_dir_name(fd, path_out, path_len) -> errno */
WASI_FN(fd_prestat_dir_name)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), 0);
    if (!e->preopen)
        RETURN_ERRNO(WE_BADF);
    size_t n = strlen(e->preopen);
    if (A32(2) < n)
        RETURN_ERRNO(WE_NAMETOOLONG);
    uint8_t *p = lwasi_mem(x, A32(1), n);
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    memcpy(p, e->preopen, n);
    RETURN_ERRNO(0);
}

static uint8_t dtype(const struct dirent *d, DIR *dir)
{
    switch (d->d_type) {
    case DT_REG: return WFT_REG;
    case DT_DIR: return WFT_DIR;
    case DT_LNK: return WFT_SYMLINK;
    case DT_CHR: return WFT_CHAR;
    case DT_BLK: return WFT_BLOCK;
    case DT_SOCK: return WFT_SOCK_STREAM;
    case DT_FIFO: return WFT_UNKNOWN;
    default: {
        struct stat st;
        if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW))
            return WFT_UNKNOWN;
        return lwasi_filetype(st.st_mode, -1);
    }
    }
}

/* fd_readdir(fd, buf, buf_len, cookie: i64, bufused_out) -> errno
 * Entries are 24-byte dirents (d_next, d_ino, d_namlen, d_type) each
 * followed by the name; the last one may be cut off when the buffer is
 * full. The cookie of an entry is the host's d_off (0 = the start). */
WASI_FN(fd_readdir)
{
    GET_FD(e, lwasi_ctx_of(x), A32(0), WR_FD_READDIR);
    uint32_t len = A32(2);
    uint8_t *buf = lwasi_mem(x, A32(1), len);
    if (!buf || !lwasi_mem(x, A32(4), 4))
        RETURN_ERRNO(WE_FAULT);
    if (e->type != WFT_DIR)
        RETURN_ERRNO(WE_NOTDIR);
    if (!e->dir) {
        int fd = openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            RETURN_ERRNO(lwasi_errno(errno));
        if (!(e->dir = fdopendir(fd))) {
            int er = errno;
            close(fd);
            RETURN_ERRNO(lwasi_errno(er));
        }
    }
    if (A64(3) == 0)
        rewinddir(e->dir);
    else
        seekdir(e->dir, (long)A64(3));
    uint32_t used = 0;
    while (used < len) {
        errno = 0;
        struct dirent *d = readdir(e->dir);
        if (!d) {
            if (errno)
                RETURN_ERRNO(lwasi_errno(errno));
            break;
        }
        uint8_t ent[24];
        size_t nlen = strlen(d->d_name);
        memset(ent, 0, sizeof ent);
        lwasi_put_u64(ent, (uint64_t)d->d_off);
        lwasi_put_u64(ent + 8, (uint64_t)d->d_ino);
        lwasi_put_u32(ent + 16, (uint32_t)nlen);
        ent[20] = dtype(d, e->dir);
        uint32_t n = len - used < 24 ? len - used : 24;
        memcpy(buf + used, ent, n);
        used += n;
        n = len - used < nlen ? len - used : (uint32_t)nlen;
        memcpy(buf + used, d->d_name, n);
        used += n;
    }
    RETURN_ERRNO(lwasi_store_u32(x, A32(4), used));
}
