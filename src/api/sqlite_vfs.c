/*
 * sqlite_vfs.c - the "lunatic" SQLite VFS: every file a guest's connection
 * opens lies beneath one of the process's preopened directories, resolved
 * by the WASI resolver (lwasi_open_beneath: openat2 RESOLVE_BENEATH or the
 * component walker, the rules of path_open), and calls that take long or
 * block hand the worker's run queues to another thread.
 *
 * Why a VFS and not a check of the path before sqlite3_open: SQLite opens
 * files by name itself, and more than one (the database, its -journal,
 * -wal and -shm, a super-journal, ATTACHed databases), at any time during
 * the connection's life; a check before the open races with a symlink
 * planted between the check and the open. Writing a VFS from scratch
 * would mean re-doing SQLite's POSIX locking (fcntl locks are per OS
 * process, so connections of two lunatic processes to one file need
 * SQLite's inode bookkeeping) and its WAL shared memory. So this VFS
 * wraps SQLite's own "unix" VFS and changes only how names become
 * descriptors:
 *
 *  - xFullPathname resolves the name the guest gave against the preopens
 *    of the process running the call (sq_cur), as the guest's libc would,
 *    and returns a marked name "/\1lunatic-beneath/<dirfd>/<relative>"; a
 *    name under no preopen fails (SQLITE_CANTOPEN). SQLite derives every
 *    other file's name from the full name by appending a suffix, so all
 *    of a connection's files carry the mark.
 *  - The unix VFS's system calls that take a path (open, access, stat,
 *    unlink, mkdir, rmdir and its openDirectory, overridable through
 *    xSetSystemCall) are replaced by functions that resolve a marked name
 *    beneath <dirfd> and pass any other name to the original call. The
 *    overrides are process-wide, but only marked names change behaviour,
 *    and only this VFS makes them.
 *  - xOpen, xAccess and xDelete of this VFS refuse unmarked names (a
 *    temporary file, opened without a name, is the exception), so nothing
 *    can make a guest's connection open a file by a name that bypassed
 *    xFullPathname. URI file names, which could select another VFS, are
 *    switched off (SQLITE_CONFIG_URI; Debian builds SQLite with them on),
 *    and where that is impossible ATTACH is (SQLITE_LIMIT_ATTACHED 0, see
 *    sqlite.c).
 *
 * The descriptor in a marked name is the preopen's host descriptor, held
 * by the process's WASI share, which outlives the process's connections
 * (process.c frees the resource tables first).
 *
 * Files are wrapped (sq_file) to time the I/O: a write, read or sync that
 * brings a call doing much I/O past SQ_HANDOFF_NS hands the worker off,
 * and a sync is preceded by a hand-off where syncs take longer than that
 * on average (a slow disk).
 * xSleep, which SQLite's busy handler and lock retries call, hands off
 * before sleeping more than half a millisecond, and stops sleeping early
 * for a process about to be killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/sqlite_int.h"

#define MARK "/\001lunatic-beneath/"
#define MARK_LEN (sizeof MARK - 1)
#define REL_MAX 1024

/* ---- marked names ------------------------------------------------------------ */

/* If path is marked, its descriptor and relative part; else false. */
static bool unmark(const char *path, int *dirfd, const char **rel)
{
    if (!path || strncmp(path, MARK, MARK_LEN) != 0)
        return false;
    const char *p = path + MARK_LEN;
    long fd = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9' && fd < 1 << 24)
        fd = fd * 10 + (*p++ - '0');
    if (*p != '/')
        return false;
    *dirfd = (int)fd;
    *rel = p + 1;
    return true;
}

/* Copies rel into buf for the resolver calls that modify their path. */
static bool rel_copy(char *buf, const char *rel)
{
    size_t n = strlen(rel);
    if (n >= REL_MAX) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(buf, rel, n + 1);
    return true;
}

/* ---- the unix VFS's system calls, overridden for marked names ----------------- */

static sqlite3_vfs *unix_vfs;
static int (*real_open)(const char *, int, int);
static int (*real_access)(const char *, int);
static int (*real_stat)(const char *, struct stat *);
static int (*real_unlink)(const char *);
static int (*real_mkdir)(const char *, mode_t);
static int (*real_rmdir)(const char *);
static int (*real_open_directory)(const char *, int *);

static int ret_errno(int r)
{
    if (r >= 0)
        return r;
    errno = -r;
    return -1;
}

static int sys_open(const char *path, int flags, int mode)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_open(path, flags, mode);
    return ret_errno(lwasi_open_beneath(dirfd, rel, flags, (mode_t)mode));
}

static int sys_stat(const char *path, struct stat *st)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_stat(path, st);
    int fd = lwasi_open_beneath(dirfd, rel, O_PATH, 0);
    if (fd < 0)
        return ret_errno(fd);
    int r = fstat(fd, st);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static int sys_access(const char *path, int mode)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_access(path, mode);
    int fd = lwasi_open_beneath(dirfd, rel, O_PATH, 0);
    if (fd < 0)
        return ret_errno(fd);
    int r = 0;
    if (mode != F_OK) {
        r = faccessat(fd, "", mode, AT_EMPTY_PATH);
        if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* a kernel without faccessat2: the magic link names the file
             * already resolved beneath */
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            r = real_access(proc, mode);
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

/* unlink / rmdir / mkdir of a marked name: on its last component, in its
 * parent opened beneath. */
static int at_parent(const char *rel, int dirfd, int op, mode_t mode)
{
    char buf[REL_MAX];
    if (!rel_copy(buf, rel))
        return -1;
    const char *last;
    int pfd = lwasi_open_parent(dirfd, buf, &last);
    if (pfd < 0)
        return ret_errno(pfd);
    int r = op == 'm' ? mkdirat(pfd, last, mode) : unlinkat(pfd, last, op == 'r' ? AT_REMOVEDIR : 0);
    int e = errno;
    close(pfd);
    errno = e;
    return r;
}

static int sys_unlink(const char *path)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_unlink(path);
    return at_parent(rel, dirfd, 'u', 0);
}

static int sys_mkdir(const char *path, mode_t mode)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_mkdir(path, mode);
    return at_parent(rel, dirfd, 'm', mode);
}

static int sys_rmdir(const char *path)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_rmdir(path);
    return at_parent(rel, dirfd, 'r', 0);
}

/* SQLite's openDirectory(file, &fd): opens the directory holding file,
 * for an fsync after creating or deleting a journal. SQLITE_CANTOPEN is
 * tolerated by its callers (no directory sync). */
static int sys_open_directory(const char *path, int *pfd)
{
    int dirfd;
    const char *rel;
    if (!unmark(path, &dirfd, &rel))
        return real_open_directory(path, pfd);
    char buf[REL_MAX];
    if (!rel_copy(buf, rel))
        return SQLITE_CANTOPEN;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    int fd = lwasi_open_beneath(dirfd, slash ? buf : ".", O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return SQLITE_CANTOPEN;
    *pfd = fd;
    return SQLITE_OK;
}

/* ---- the lunatic VFS: names ------------------------------------------------------ */

int sq_resolve(const lwasi_shared *sh, const char *path, size_t len, int *dirfd, char *rel,
               size_t relsize)
{
    /* as wasi-libc: "./" in front of a relative path means nothing */
    while (len >= 2 && path[0] == '.' && path[1] == '/') {
        path += 2, len -= 2;
        while (len && path[0] == '/')
            path++, len--;
    }
    size_t best = 0;
    int fd = -1;
    const char *name;
    int pfd;
    for (uint32_t i = 0; lwasi_shared_preopen(sh, i, &name, &pfd) == 0; i++) {
        size_t n = strlen(name);
        while (n >= 2 && name[0] == '.' && name[1] == '/') /* "./data" is "data" */
            name += 2, n -= 2;
        if (n == 1 && name[0] == '.')
            n = 0; /* "." matches every relative path */
        size_t k = n;
        while (k > 0 && name[k - 1] == '/')
            k--;
        bool match;
        if (n == 0)
            match = len == 0 || path[0] != '/';
        else
            match = len >= k && memcmp(path, name, k) == 0 &&
                    (len == k || path[k] == '/' || (k == 0 && path[0] == '/'));
        if (match && (fd < 0 || k > best)) {
            fd = pfd;
            best = k;
        }
    }
    if (fd < 0)
        return -1;
    const char *r = path + best;
    size_t rn = len - best;
    while (rn && *r == '/')
        r++, rn--;
    if (rn == 0)
        r = ".", rn = 1;
    if (rn >= relsize)
        return -1;
    memcpy(rel, r, rn);
    rel[rn] = 0;
    *dirfd = fd;
    return 0;
}

static int lun_full_pathname(sqlite3_vfs *vfs, const char *name, int nout, char *out)
{
    sq_call *c = sq_cur;
    const lwasi_shared *sh = c && c->p ? c->p->wasi_share : NULL;
    char rel[REL_MAX];
    int dirfd;
    if (!sh || sq_resolve(sh, name, strlen(name), &dirfd, rel, sizeof rel) < 0)
        return SQLITE_CANTOPEN;
    int n = snprintf(out, (size_t)nout, MARK "%d/%s", dirfd, rel);
    return n < 0 || n >= nout ? SQLITE_CANTOPEN : SQLITE_OK;
}

static int lun_access(sqlite3_vfs *vfs, const char *name, int flags, int *res)
{
    int dirfd;
    const char *rel;
    if (!unmark(name, &dirfd, &rel)) {
        *res = 0; /* nothing outside the preopens exists for a guest */
        return SQLITE_OK;
    }
    return unix_vfs->xAccess(unix_vfs, name, flags, res);
}

static int lun_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    int dirfd;
    const char *rel;
    if (!unmark(name, &dirfd, &rel))
        return SQLITE_IOERR_DELETE;
    return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

/* ---- the lunatic VFS: timing --------------------------------------------------- */

/* How long syncs take, in ns: a moving average over every connection's
 * (3/4 old, 1/4 new). */
static _Atomic int64_t sync_ns;

static void io_check(void)
{
    if (sq_cur)
        (void)sq_long_call_check(1);
}

static int lun_sleep(sqlite3_vfs *vfs, int us)
{
    sq_call *c = sq_cur;
    if (!c)
        return unix_vfs->xSleep(unix_vfs, us);
    if (us >= 500)
        sq_hand_off_now();
    /* sleep in slices, to stop early for a process about to be killed;
     * SQLite's busy handler counts its own sleeps, so returning early
     * only makes it give up sooner */
    int64_t end = lt_now_ns() + (int64_t)us * 1000;
    for (;;) {
        if (lt_process_doomed(c->p)) {
            c->doomed = true;
            break;
        }
        int64_t left = end - lt_now_ns();
        if (left <= 0)
            break;
        struct timespec ts = {0, left > 10000000 ? 10000000 : left};
        nanosleep(&ts, NULL);
    }
    return us;
}

/* ---- the lunatic VFS: files ------------------------------------------------------ */

typedef struct sq_file {
    sqlite3_file base;         /* pMethods = &file_methods */
    sqlite3_file *real;        /* the unix VFS's file, right after this */
} sq_file;

#define REAL(f) (((sq_file *)(f))->real)

static int f_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    int rc = REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
    io_check();
    return rc;
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    int rc = REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
    io_check();
    return rc;
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = REAL(f)->pMethods->xTruncate(REAL(f), size);
    io_check();
    return rc;
}

static int f_sync(sqlite3_file *f, int flags)
{
    int64_t avg = atomic_load_explicit(&sync_ns, memory_order_relaxed);
    if (sq_cur && avg > SQ_HANDOFF_NS)
        sq_hand_off_now(); /* this disk syncs slowly: do not wait on it here */
    int64_t t0 = lt_now_ns();
    int rc = REAL(f)->pMethods->xSync(REAL(f), flags);
    atomic_store_explicit(&sync_ns, (avg * 3 + (lt_now_ns() - t0)) / 4, memory_order_relaxed);
    io_check();
    return rc;
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check_reserved(sqlite3_file *f, int *res)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), res);
}
static int f_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector_size(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_device_chars(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

/* Version 3 (shared memory and mmap), as the unix VFS's files; a file of
 * a lower version never gets its missing methods called. */
static const sqlite3_io_methods file_methods = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock,
    f_check_reserved, f_file_control, f_sector_size, f_device_chars, f_shm_map, f_shm_lock,
    f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch,
};

static int lun_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    sq_file *f = (sq_file *)file;
    f->base.pMethods = NULL;
    int dirfd;
    const char *rel;
    if (name && !unmark(name, &dirfd, &rel))
        return SQLITE_CANTOPEN;
    f->real = (sqlite3_file *)(f + 1);
    int rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out);
    /* SQLite closes a file whose pMethods is set, also after a failure */
    if (f->real->pMethods)
        f->base.pMethods = &file_methods;
    return rc;
}

/* Extensions are never loaded for a guest (SQLite's loading is off too). */
static void *dl_open(sqlite3_vfs *vfs, const char *name) { return NULL; }
static void dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
    snprintf(msg, (size_t)n, "loading extensions is not allowed");
}
static void (*dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void) { return NULL; }
static void dl_close(sqlite3_vfs *vfs, void *h) {}

/* ---- setting up --------------------------------------------------------------------- */

static sqlite3_vfs lun_vfs;
static int vfs_ok = -1;
static bool uris_off;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;

/* Overrides one system call of the unix VFS, keeping the original. */
#define OVERRIDE(name, fn, real)                                                          \
    do {                                                                                  \
        real = (__typeof__(real))unix_vfs->xGetSystemCall(unix_vfs, name);               \
        if (!real || unix_vfs->xSetSystemCall(unix_vfs, name, (sqlite3_syscall_ptr)fn))    \
            return;                                                                       \
    } while (0)

static void vfs_setup(void)
{
    vfs_ok = 0;
    /* URI names could pick another VFS; this fails (SQLITE_MISUSE) if the
     * library was initialized already, and sqlite.c then forbids ATTACH */
    uris_off = sqlite3_config(SQLITE_CONFIG_URI, 0) == SQLITE_OK;
    /* no memory statistics: they take a global mutex at every allocation,
     * and the runtime never reads them */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_initialize() != SQLITE_OK)
        return;
    unix_vfs = sqlite3_vfs_find("unix");
    if (!unix_vfs || unix_vfs->iVersion < 3 || !unix_vfs->xSetSystemCall)
        return;
    OVERRIDE("open", sys_open, real_open);
    OVERRIDE("access", sys_access, real_access);
    OVERRIDE("stat", sys_stat, real_stat);
    OVERRIDE("unlink", sys_unlink, real_unlink);
    OVERRIDE("mkdir", sys_mkdir, real_mkdir);
    OVERRIDE("rmdir", sys_rmdir, real_rmdir);
    OVERRIDE("openDirectory", sys_open_directory, real_open_directory);
    lun_vfs = *unix_vfs;
    lun_vfs.pNext = NULL;
    lun_vfs.zName = SQ_VFS_NAME;
    lun_vfs.szOsFile = (int)sizeof(sq_file) + unix_vfs->szOsFile;
    lun_vfs.xOpen = lun_open;
    lun_vfs.xDelete = lun_delete;
    lun_vfs.xAccess = lun_access;
    lun_vfs.xFullPathname = lun_full_pathname;
    lun_vfs.xSleep = lun_sleep;
    /* no loadable extensions through this VFS */
    lun_vfs.xDlOpen = dl_open;
    lun_vfs.xDlError = dl_error;
    lun_vfs.xDlSym = dl_sym;
    lun_vfs.xDlClose = dl_close;
    if (sqlite3_vfs_register(&lun_vfs, 0) != SQLITE_OK)
        return;
    vfs_ok = 1;
}

int sq_vfs_init(void)
{
    pthread_once(&vfs_once, vfs_setup);
    return vfs_ok == 1 ? 0 : -1;
}

bool sq_vfs_uris_off(void) { return uris_off; }
