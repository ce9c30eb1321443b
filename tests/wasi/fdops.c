/* fdops.c - WASI-only: descriptor-table calls that libc does not expose
 * directly (renumber, rights, fdstat flags, prestat, seek rights). */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int failures;

#define EXPECT(what, got, want)                                                  \
    do {                                                                         \
        long long g_ = (long long)(got), w_ = (long long)(want);                 \
        printf("%s: %lld%s\n", what, g_, g_ == w_ ? "" : " (WRONG)");            \
        failures += g_ != w_;                                                    \
    } while (0)

static __wasi_fd_t open_file(const char *path, __wasi_oflags_t of, __wasi_rights_t r)
{
    __wasi_fd_t fd = 0;
    if (__wasi_path_open(3, 0, path, of, r, 0, 0, &fd))
        return (__wasi_fd_t)-1;
    return fd;
}

/* path_open(".") with oflags and rights: the errno (the fd is closed). */
static __wasi_errno_t open_dir(__wasi_oflags_t of, __wasi_rights_t r)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, ".", of, r, 0, 0, &fd);
    if (!e && __wasi_fd_close(fd))
        failures++;
    return e;
}

int main(void)
{
    __wasi_prestat_t pre;
    EXPECT("prestat 3", __wasi_fd_prestat_get(3, &pre), 0);
    EXPECT("prestat 3 name len", pre.u.dir.pr_name_len, 1);
    char name[4];
    EXPECT("prestat name too short", __wasi_fd_prestat_dir_name(3, (uint8_t *)name, 0),
           __WASI_ERRNO_NAMETOOLONG);
    EXPECT("prestat 0", __wasi_fd_prestat_get(0, &pre), __WASI_ERRNO_BADF);

    __wasi_rights_t rw = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE |
                         __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                         __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS;
    __wasi_fd_t a = open_file("a.tmp", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rw);
    __wasi_fd_t b = open_file("b.tmp", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, rw);
    EXPECT("opened two", a != (__wasi_fd_t)-1 && b != (__wasi_fd_t)-1, 1);
    __wasi_ciovec_t iov = {(const uint8_t *)"AAAA", 4};
    __wasi_size_t n;
    EXPECT("write a", __wasi_fd_write(a, &iov, 1, &n), 0);
    EXPECT("renumber a -> b", __wasi_fd_renumber(a, b), 0);
    EXPECT("a is gone", __wasi_fd_close(a), __WASI_ERRNO_BADF);
    __wasi_filesize_t pos;
    EXPECT("tell b (was a)", __wasi_fd_tell(b, &pos), 0);
    EXPECT("offset 4", pos, 4);
    EXPECT("renumber to a closed fd", __wasi_fd_renumber(b, 1000), __WASI_ERRNO_BADF);

    __wasi_fdstat_t st;
    EXPECT("fdstat", __wasi_fd_fdstat_get(b, &st), 0);
    EXPECT("filetype regular", st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
    EXPECT("rights as asked", st.fs_rights_base, rw);
    EXPECT("set APPEND", __wasi_fd_fdstat_set_flags(b, __WASI_FDFLAGS_APPEND), 0);
    EXPECT("fdstat", __wasi_fd_fdstat_get(b, &st), 0);
    EXPECT("flags APPEND", st.fs_flags, __WASI_FDFLAGS_APPEND);
    EXPECT("set SYNC refused", __wasi_fd_fdstat_set_flags(b, __WASI_FDFLAGS_SYNC),
           __WASI_ERRNO_INVAL);
    EXPECT("bad whence", __wasi_fd_seek(b, 0, 7, &pos), __WASI_ERRNO_INVAL);
    EXPECT("drop seek right", __wasi_fd_fdstat_set_rights(b, __WASI_RIGHTS_FD_READ |
                                                         __WASI_RIGHTS_FD_TELL, 0), 0);
    EXPECT("seek without right", __wasi_fd_seek(b, 1, __WASI_WHENCE_SET, &pos),
           __WASI_ERRNO_NOTCAPABLE);
    EXPECT("tell still allowed", __wasi_fd_seek(b, 0, __WASI_WHENCE_CUR, &pos), 0);
    EXPECT("write without right", __wasi_fd_write(b, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    EXPECT("regain a right", __wasi_fd_fdstat_set_rights(b, rw, 0), __WASI_ERRNO_NOTCAPABLE);
    EXPECT("close b", __wasi_fd_close(b), 0);

    __wasi_fd_t r = open_file("a.tmp", 0, __WASI_RIGHTS_FD_READ);
    EXPECT("read-only open", r != (__wasi_fd_t)-1, 1);
    EXPECT("write to read-only", __wasi_fd_write(r, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    EXPECT("close r", __wasi_fd_close(r), 0);
    EXPECT("unlink a", __wasi_path_unlink_file(3, "a.tmp"), 0);
    EXPECT("unlink b", __wasi_path_unlink_file(3, "b.tmp"), 0);
    EXPECT("open with O_DIRECTORY|CREAT",
           __wasi_path_open(3, 0, "x", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0, 0, 0, &r),
           __WASI_ERRNO_INVAL);
    /* A directory is never opened for writing: fd_write in rights_base
     * gives ISDIR with or without O_DIRECTORY, as in wasmtime (which asks
     * the OS for write access exactly when fd_write is requested); other
     * rights open it. */
    EXPECT("dir, O_DIRECTORY, fd_write", open_dir(__WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_WRITE),
           __WASI_ERRNO_ISDIR);
    EXPECT("dir, O_DIRECTORY, fd_read|fd_write",
           open_dir(__WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE),
           __WASI_ERRNO_ISDIR);
    EXPECT("dir, fd_write", open_dir(0, __WASI_RIGHTS_FD_WRITE), __WASI_ERRNO_ISDIR);
    EXPECT("dir, fd_read|fd_write", open_dir(0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE),
           __WASI_ERRNO_ISDIR);
    EXPECT("dir, O_DIRECTORY, fd_read", open_dir(__WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ), 0);
    EXPECT("dir, O_DIRECTORY, fd_readdir",
           open_dir(__WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN), 0);
    EXPECT("dir, fd_read", open_dir(0, __WASI_RIGHTS_FD_READ), 0);
    EXPECT("fd_readdir on a file", __wasi_fd_readdir(1, (uint8_t *)name, 4, 0, &n),
           __WASI_ERRNO_NOTCAPABLE);
    __wasi_timestamp_t t;
    EXPECT("clock_res_get realtime", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &t), 0);
    EXPECT("thread cputime", __wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &t), 0);
    printf("failures: %d\n", failures);
    return failures != 0;
}
