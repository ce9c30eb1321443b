/*
 * wasi_path.c - the sandboxed path resolver and the path_* host functions.
 *
 * Every path_* call resolves its path through lwasi_open_beneath or
 * lwasi_open_parent, relative to a preopened (or opened-from-preopen)
 * directory descriptor. With openat2 the kernel enforces RESOLVE_BENEATH
 * atomically. Without it (ENOSYS, or LUNATIC_WASI_NO_OPENAT2=1 for tests)
 * walk() opens one component at a time with O_NOFOLLOW relative to the
 * previous directory's descriptor, keeps its own stack of descriptors for
 * "..", and expands symbolic links itself, refusing absolute targets and
 * ".." above the start. Each step is relative to a held descriptor, so a
 * concurrent rename or a directory swapped for a symlink cannot lead out.
 *
 * Operations on the last component that never follow it (mkdir, rmdir,
 * unlink, rename, link, symlink) open the parent beneath and pass the name
 * to the *at call; the name never contains "/" except trailing slashes,
 * which those calls do not follow either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

#define MAX_LINKS 40

/* -1 unknown, 0 absent (fall back to walk), 1 present. Racy but benign. */
static int have_openat2 = -1;

int lwasi_path_copy(lw_exec *x, uint32_t ptr, uint32_t len, char *out, size_t size)
{
    const uint8_t *p = lwasi_mem(x, ptr, len);
    if (!p)
        return WE_FAULT;
    if (len >= size)
        return WE_NAMETOOLONG;
    if (memchr(p, 0, len))
        return WE_INVAL;
    memcpy(out, p, len);
    out[len] = 0;
    return 0;
}

/* Replaces the unresolved rest of a walk by link + "/" + rest. */
static int expand(char **buf, const char **p, const char *link, size_t llen,
                  const char *rest)
{
    if (llen == 0)
        return -ENOENT;
    if (link[0] == '/')
        return -EPERM;
    size_t rlen = strlen(rest);
    if (llen + rlen + 2 > PATH_MAX * 4)
        return -ENAMETOOLONG;
    char *n = malloc(llen + rlen + 2);
    if (!n)
        return -ENOMEM;
    memcpy(n, link, llen);
    n[llen] = '/';
    memcpy(n + llen + 1, rest, rlen + 1);
    if (!rlen)
        n[llen] = 0;
    free(*buf);
    *buf = n;
    *p = n;
    return 0;
}

/* The component-by-component resolver (see the top of the file). */
static int walk(int dirfd, const char *path, int flags, mode_t mode)
{
    int stack[256];
    int depth = 0, links = 0, result;
    int follow_last = !(flags & O_NOFOLLOW);
    char *buf = strdup(path);
    if (!buf)
        return -ENOMEM;
    const char *p = buf;
    stack[0] = dirfd;
    for (;;) {
        int cur = stack[depth];
        while (*p == '/')
            p++;
        if (!*p) {
            /* The path named the current directory itself. */
            int fl = (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC;
            result = openat(cur, ".", fl, mode);
            if (result < 0)
                result = -errno;
            if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) && result >= 0) {
                close(result);
                result = -EEXIST;
            }
            goto out;
        }
        const char *q = p;
        while (*q && *q != '/')
            q++;
        size_t clen = (size_t)(q - p);
        char comp[NAME_MAX + 1];
        if (clen > NAME_MAX) {
            result = -ENAMETOOLONG;
            goto out;
        }
        memcpy(comp, p, clen);
        comp[clen] = 0;
        const char *rest = q;
        int trailing = 0;
        while (*rest == '/')
            rest++, trailing = 1;
        int last = !*rest;
        if (!strcmp(comp, ".")) {
            p = q;
            continue;
        }
        if (!strcmp(comp, "..")) {
            if (depth == 0) {
                result = -EPERM;
                goto out;
            }
            close(stack[depth--]);
            p = q;
            continue;
        }
        char link[PATH_MAX];
        if (!last) {
            int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            if (fd < 0 || fstat(fd, &st)) {
                result = -errno;
                if (fd >= 0)
                    close(fd);
                goto out;
            }
            if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlinkat(fd, "", link, sizeof link);
                close(fd);
                if (n < 0 || ++links > MAX_LINKS) {
                    result = n < 0 ? -errno : -ELOOP;
                    goto out;
                }
                if ((result = expand(&buf, &p, link, (size_t)n, rest)) < 0)
                    goto out;
                continue;
            }
            if (!S_ISDIR(st.st_mode)) {
                close(fd);
                result = -ENOTDIR;
                goto out;
            }
            if (depth + 1 >= (int)(sizeof stack / sizeof stack[0])) {
                close(fd);
                result = -ENAMETOOLONG;
                goto out;
            }
            stack[++depth] = fd;
            p = rest;
            continue;
        }
        /* The last component: a trailing slash demands a directory. */
        int fl = flags | O_NOFOLLOW | O_CLOEXEC;
        if (trailing && !(flags & O_CREAT))
            fl |= O_DIRECTORY;
        int fd = openat(cur, comp, fl, mode);
        if (fd >= 0 && (flags & O_PATH) && follow_last) {
            struct stat st;
            if (!fstat(fd, &st) && S_ISLNK(st.st_mode)) {
                ssize_t n = readlinkat(fd, "", link, sizeof link);
                close(fd);
                if (n < 0 || ++links > MAX_LINKS) {
                    result = n < 0 ? -errno : -ELOOP;
                    goto out;
                }
                if ((result = expand(&buf, &p, link, (size_t)n, rest)) < 0)
                    goto out;
                continue;
            }
        }
        if (fd >= 0) {
            result = fd;
            goto out;
        }
        result = -errno;
        if (follow_last && (errno == ELOOP || errno == ENOTDIR)) {
            ssize_t n = readlinkat(cur, comp, link, sizeof link);
            if (n >= 0) {
                if (++links > MAX_LINKS) {
                    result = -ELOOP;
                    goto out;
                }
                if ((result = expand(&buf, &p, link, (size_t)n, rest)) < 0)
                    goto out;
                continue;
            }
        }
        goto out;
    }
out:
    while (depth > 0)
        close(stack[depth--]);
    free(buf);
    return result;
}

int lwasi_open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    if (!*path)
        return -ENOENT;
    if (path[0] == '/')
        return -EPERM;
    if (have_openat2 < 0) {
        const char *no = getenv("LUNATIC_WASI_NO_OPENAT2");
        have_openat2 = !(no && *no && strcmp(no, "0"));
    }
    if (have_openat2) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        /* openat2 checks flags strictly: O_PATH takes no O_NOCTTY, and a
         * mode is only allowed when creating. */
        how.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
        how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        for (int tries = 0; tries < 32; tries++) {
            long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
            if (r >= 0)
                return (int)r;
            if (errno == EAGAIN || errno == EINTR)
                continue;   /* a concurrent rename; the kernel asks to retry */
            if (errno == ENOSYS) {
                have_openat2 = 0;
                break;
            }
            return errno == EXDEV ? -EPERM : -errno;
        }
        if (have_openat2)
            return -EAGAIN;
    }
    return walk(dirfd, path, flags | ((flags & O_PATH) ? 0 : O_NOCTTY), mode);
}

int lwasi_open_parent(int dirfd, char *path, const char **last)
{
    size_t len = strlen(path);
    if (!len)
        return -ENOENT;
    if (path[0] == '/')
        return -EPERM;
    size_t end = len;
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t s = end;
    while (s > 0 && path[s - 1] != '/')
        s--;
    size_t nlen = end - s;
    if ((nlen == 1 && path[s] == '.') || (nlen == 2 && path[s] == '.' && path[s + 1] == '.')) {
        /* "x/.." names a directory we must not act on by name: resolve
         * it and act on ".", which every *at call refuses sensibly. */
        *last = ".";
        return lwasi_open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0);
    }
    *last = path + s;
    if (s == 0)
        return lwasi_open_beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0);
    char save = path[s];
    path[s] = 0;
    int fd = lwasi_open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0);
    path[s] = save;
    return fd;
}

/* ---- host functions ------------------------------------------------------- */

#define GET_FD(e, fdnum, need)                                           \
    int err_ = 0;                                                        \
    lwasi_fd *e = lwasi_fd_get(lwasi_ctx_of(x), (fdnum), (need), &err_); \
    if (!e)                                                              \
        RETURN_ERRNO(err_)

#define GET_PATH(buf, ptr, len)                                       \
    char buf[PATH_MAX];                                               \
    do {                                                              \
        int r_ = lwasi_path_copy(x, (ptr), (len), buf, sizeof buf);   \
        if (r_)                                                       \
            RETURN_ERRNO(r_);                                         \
    } while (0)

/* path_open(dirfd, dirflags, path, path_len, oflags, rights_base: i64,
 *           rights_inheriting: i64, fdflags, fd_out) -> errno */
WASI_FN(path_open)
{
    lwasi_ctx *ctx = lwasi_ctx_of(x);
    uint32_t oflags = A32(4), fdflags = A32(7);
    uint64_t base = A64(5), inh = A64(6);
    uint64_t need = WR_PATH_OPEN;
    if (oflags & WO_CREAT)
        need |= WR_PATH_CREATE_FILE;
    if (oflags & WO_TRUNC)
        need |= WR_PATH_FILESTAT_SET_SIZE;
    GET_FD(d, A32(0), need);
    GET_PATH(path, A32(2), A32(3));
    if (!lwasi_mem(x, A32(8), 4))
        RETURN_ERRNO(WE_FAULT);
    if ((oflags & ~15u) || (fdflags & ~31u))
        RETURN_ERRNO(WE_INVAL);
    if ((oflags & WO_DIRECTORY) && (oflags & (WO_CREAT | WO_EXCL | WO_TRUNC)))
        RETURN_ERRNO(WE_INVAL);
    int rd = (base & (WR_FD_READ | WR_FD_READDIR)) != 0;
    int wr = (base & (WR_FD_WRITE | WR_FD_ALLOCATE | WR_FD_FILESTAT_SET_SIZE)) != 0 ||
             (fdflags & WFD_APPEND);
    int fl = O_LARGEFILE;
    /* With O_DIRECTORY only fd_write asks for write access, as in wasmtime
     * (which opens for writing exactly when fd_write is requested): on a
     * directory it then fails with ISDIR from the kernel, as it does
     * without O_DIRECTORY; the other write rights (allocate, set_size) and
     * APPEND leave a directory open read-only. */
    if (oflags & WO_DIRECTORY)
        wr = (base & WR_FD_WRITE) != 0;
    fl |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & WO_CREAT)
        fl |= O_CREAT;
    if (oflags & WO_EXCL)
        fl |= O_EXCL;
    if (oflags & WO_TRUNC)
        fl |= O_TRUNC;
    if (oflags & WO_DIRECTORY)
        fl |= O_DIRECTORY;
    if (fdflags & WFD_APPEND)
        fl |= O_APPEND;
    if (fdflags & WFD_DSYNC)
        fl |= O_DSYNC;
    if (fdflags & WFD_SYNC)
        fl |= O_SYNC;
    if (fdflags & WFD_RSYNC)
        fl |= O_RSYNC;
    if (fdflags & WFD_NONBLOCK)
        fl |= O_NONBLOCK;
    if (!(A32(1) & WL_SYMLINK_FOLLOW))
        fl |= O_NOFOLLOW;
    int host = lwasi_open_beneath(d->host, path, fl, 0666);
    if (host < 0)
        RETURN_ERRNO(lwasi_errno(-host));
    struct stat st;
    if (fstat(host, &st)) {
        int er = errno;
        close(host);
        RETURN_ERRNO(lwasi_errno(er));
    }
    uint8_t type = lwasi_filetype(st.st_mode, host);
    uint64_t mask = type == WFT_DIR ? WR_DIR : type == WFT_REG ? WR_FILE : WR_STREAM;
    if (type == WFT_CHAR && isatty(host))
        mask &= ~(WR_FD_SEEK | WR_FD_TELL);
    /* d may move when the table grows: read what we need first. */
    uint64_t dinh = d->inherit;
    int64_t n = lwasi_fd_insert(ctx, host, type, (uint16_t)fdflags, base & dinh & mask,
                                inh & dinh);
    if (n < 0) {
        close(host);
        RETURN_ERRNO(WE_MFILE);
    }
    RETURN_ERRNO(lwasi_store_u32(x, A32(8), (uint32_t)n));
}

/* Runs `op` on (parent fd, last name) of a guest path beneath fd. */
#define WITH_PARENT(fdnum, need, ptr, len, pfd, last)                 \
    GET_FD(d_, fdnum, need);                                          \
    GET_PATH(path_, ptr, len);                                        \
    const char *last;                                                 \
    int pfd = lwasi_open_parent(d_->host, path_, &last);              \
    if (pfd < 0)                                                      \
        RETURN_ERRNO(lwasi_errno(-pfd))

static int done(int pfd, int r)
{
    int er = r < 0 ? errno : 0;
    close(pfd);
    return lwasi_errno(er);
}

/* path_create_directory(dirfd, path, path_len) -> errno */
WASI_FN(path_create_directory)
{
    WITH_PARENT(A32(0), WR_PATH_CREATE_DIRECTORY, A32(1), A32(2), pfd, last);
    RETURN_ERRNO(done(pfd, mkdirat(pfd, last, 0777)));
}

/* path_remove_directory(dirfd, path, path_len) -> errno */
WASI_FN(path_remove_directory)
{
    WITH_PARENT(A32(0), WR_PATH_REMOVE_DIRECTORY, A32(1), A32(2), pfd, last);
    RETURN_ERRNO(done(pfd, unlinkat(pfd, last, AT_REMOVEDIR)));
}

/* path_unlink_file(dirfd, path, path_len) -> errno */
WASI_FN(path_unlink_file)
{
    WITH_PARENT(A32(0), WR_PATH_UNLINK_FILE, A32(1), A32(2), pfd, last);
    RETURN_ERRNO(done(pfd, unlinkat(pfd, last, 0)));
}

/* path_symlink(old_path, old_len, dirfd, new_path, new_len) -> errno
 * A relative link text is stored as given (following it is checked
 * later). An absolute one is refused with PERM, as wasmtime (cap-std)
 * does: we would never follow it, but another program on the host
 * could, out of the sandbox. */
WASI_FN(path_symlink)
{
    GET_PATH(target, A32(0), A32(1));
    GET_FD(d, A32(2), WR_PATH_SYMLINK);
    GET_PATH(path, A32(3), A32(4));
    if (target[0] == '/')
        RETURN_ERRNO(WE_PERM);
    const char *last;
    int pfd = lwasi_open_parent(d->host, path, &last);
    if (pfd < 0)
        RETURN_ERRNO(lwasi_errno(-pfd));
    RETURN_ERRNO(done(pfd, symlinkat(target, pfd, last)));
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) -> errno */
WASI_FN(path_rename)
{
    int err2 = 0;
    lwasi_fd *nd = lwasi_fd_get(lwasi_ctx_of(x), A32(3), WR_PATH_RENAME_TARGET, &err2);
    WITH_PARENT(A32(0), WR_PATH_RENAME_SOURCE, A32(1), A32(2), pfd, last);
    if (!nd) {
        close(pfd);
        RETURN_ERRNO(err2);
    }
    char npath[PATH_MAX];
    int r = lwasi_path_copy(x, A32(4), A32(5), npath, sizeof npath);
    if (r) {
        close(pfd);
        RETURN_ERRNO(r);
    }
    const char *nlast;
    int npfd = lwasi_open_parent(nd->host, npath, &nlast);
    if (npfd < 0) {
        close(pfd);
        RETURN_ERRNO(lwasi_errno(-npfd));
    }
    r = renameat(pfd, last, npfd, nlast);
    int er = r < 0 ? errno : 0;
    close(npfd);
    close(pfd);
    RETURN_ERRNO(lwasi_errno(er));
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len)
 * -> errno. Following a symlink source is refused (INVAL), as in wasmtime. */
WASI_FN(path_link)
{
    int err2 = 0;
    lwasi_fd *nd = lwasi_fd_get(lwasi_ctx_of(x), A32(4), WR_PATH_LINK_TARGET, &err2);
    if (A32(1) & WL_SYMLINK_FOLLOW)
        RETURN_ERRNO(WE_INVAL);
    WITH_PARENT(A32(0), WR_PATH_LINK_SOURCE, A32(2), A32(3), pfd, last);
    if (!nd) {
        close(pfd);
        RETURN_ERRNO(err2);
    }
    char npath[PATH_MAX];
    int r = lwasi_path_copy(x, A32(5), A32(6), npath, sizeof npath);
    if (r) {
        close(pfd);
        RETURN_ERRNO(r);
    }
    const char *nlast;
    int npfd = lwasi_open_parent(nd->host, npath, &nlast);
    if (npfd < 0) {
        close(pfd);
        RETURN_ERRNO(lwasi_errno(-npfd));
    }
    r = linkat(pfd, last, npfd, nlast, 0);
    int er = r < 0 ? errno : 0;
    close(npfd);
    close(pfd);
    RETURN_ERRNO(lwasi_errno(er));
}

/* path_readlink(dirfd, path, path_len, buf, buf_len, bufused_out) -> errno
 * A link longer than the buffer is truncated, as readlink(2) does. */
WASI_FN(path_readlink)
{
    GET_FD(d, A32(0), WR_PATH_READLINK);
    GET_PATH(path, A32(1), A32(2));
    uint8_t *buf = lwasi_mem(x, A32(3), A32(4));
    if (!buf || !lwasi_mem(x, A32(5), 4))
        RETURN_ERRNO(WE_FAULT);
    int fd = lwasi_open_beneath(d->host, path, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0)
        RETURN_ERRNO(lwasi_errno(-fd));
    char link[PATH_MAX];
    ssize_t n = readlinkat(fd, "", link, sizeof link);
    int er = errno;
    close(fd);
    if (n < 0)
        RETURN_ERRNO(lwasi_errno(er == ENOENT ? EINVAL : er));
    size_t k = (size_t)n < A32(4) ? (size_t)n : A32(4);
    memcpy(buf, link, k);
    RETURN_ERRNO(lwasi_store_u32(x, A32(5), (uint32_t)k));
}

/* path_filestat_get(dirfd, lookupflags, path, path_len, filestat_out) -> errno */
WASI_FN(path_filestat_get)
{
    GET_FD(d, A32(0), WR_PATH_FILESTAT_GET);
    GET_PATH(path, A32(2), A32(3));
    uint8_t *p = lwasi_mem(x, A32(4), 64);
    if (!p)
        RETURN_ERRNO(WE_FAULT);
    int fl = O_PATH | ((A32(1) & WL_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW);
    int fd = lwasi_open_beneath(d->host, path, fl, 0);
    if (fd < 0)
        RETURN_ERRNO(lwasi_errno(-fd));
    struct stat st;
    int r = fstat(fd, &st);
    int er = errno;
    close(fd);
    if (r)
        RETURN_ERRNO(lwasi_errno(er));
    lwasi_filestat_put(p, &st);
    RETURN_ERRNO(0);
}

/* path_filestat_set_times(dirfd, lookupflags, path, path_len, atim: i64,
 *                         mtim: i64, fstflags) -> errno */
WASI_FN(path_filestat_set_times)
{
    GET_FD(d, A32(0), WR_PATH_FILESTAT_SET_TIMES);
    GET_PATH(path, A32(2), A32(3));
    struct timespec ts[2];
    int r = lwasi_times(A64(4), A64(5), A32(6), ts);
    if (r)
        RETURN_ERRNO(r);
    int follow = (A32(1) & WL_SYMLINK_FOLLOW) != 0;
    int fd = lwasi_open_beneath(d->host, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
    if (fd < 0)
        RETURN_ERRNO(lwasi_errno(-fd));
    r = utimensat(fd, "", ts, AT_EMPTY_PATH | (follow ? 0 : AT_SYMLINK_NOFOLLOW));
    int er = errno;
    if (r && er == EINVAL) {
        /* Kernels before 5.8 lack AT_EMPTY_PATH here: go through /proc. */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        r = utimensat(AT_FDCWD, proc, ts, 0);
        er = errno;
    }
    close(fd);
    RETURN_ERRNO(r ? lwasi_errno(er) : 0);
}
