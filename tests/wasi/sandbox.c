/* sandbox.c - WASI-only: every way out of the preopened directory must be
 * refused. Run with the current directory "box" as preopen (fd 3), which
 * the driver fills with links pointing outside. Calls the WASI API
 * directly so that wasi-libc's own path handling does not hide anything. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int failures;

static const char *verdict(__wasi_errno_t e, int want_ok)
{
    if ((e == 0) != want_ok)
        failures++;
    return e == 0 ? "ok" : "refused";
}

static void try_open(__wasi_fd_t dir, const char *path, int want_ok)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0,
                                        __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("open %s: %s (%d)\n", path, verdict(e, want_ok), e);
    if (!e && __wasi_fd_close(fd))
        failures++;
    __wasi_filestat_t st;
    e = __wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, &st);
    printf("stat %s: %s (%d)\n", path, verdict(e, want_ok), e);
}

static void show(const char *what, __wasi_errno_t e, int want_ok)
{
    printf("%s: %s (%d)\n", what, verdict(e, want_ok), e);
}

int main(void)
{
    const __wasi_fd_t box = 3;
    __wasi_prestat_t pre;
    char name[16] = {0};
    if (__wasi_fd_prestat_get(box, &pre) || __wasi_fd_prestat_dir_name(box, (uint8_t *)name, 1))
        return 2;
    printf("preopen 3: '%s'\n", name);
    try_open(box, "inside.txt", 1);
    try_open(box, "sub/../inside.txt", 1);
    try_open(box, "ok_link", 1);
    try_open(box, "/etc/passwd", 0);
    try_open(box, "..", 0);
    try_open(box, "../outside.txt", 0);
    try_open(box, "sub/../../outside.txt", 0);
    try_open(box, "abs_link", 0);
    try_open(box, "rel_link", 0);
    try_open(box, "sub/../rel_link", 0);
    try_open(box, "dir_link/file", 0);
    try_open(box, "sub/up/outside.txt", 0);
    try_open(box, "loop", 0);

    /* Operations on a last component whose parent leads out. */
    show("mkdir ../newdir", __wasi_path_create_directory(box, "../newdir"), 0);
    show("mkdir dir_link/newdir", __wasi_path_create_directory(box, "dir_link/newdir"), 0);
    show("mkdir sub/..", __wasi_path_create_directory(box, "sub/.."), 0);
    show("rmdir ..", __wasi_path_remove_directory(box, ".."), 0);
    show("unlink ../outside.txt", __wasi_path_unlink_file(box, "../outside.txt"), 0);
    show("unlink dir_link/file", __wasi_path_unlink_file(box, "dir_link/file"), 0);
    show("rename to ../moved.txt", __wasi_path_rename(box, "inside.txt", box, "../moved.txt"), 0);
    show("rename from ../outside.txt", __wasi_path_rename(box, "../outside.txt", box, "stolen"), 0);
    show("link to dir_link/hl", __wasi_path_link(box, 0, "inside.txt", box, "dir_link/hl"), 0);
    show("link from abs path", __wasi_path_link(box, 0, "/etc/passwd", box, "hl"), 0);
    show("symlink in ../", __wasi_path_symlink("x", box, "../evil"), 0);
    __wasi_fd_t fd;
    show("create dir_link/created",
         __wasi_path_open(box, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dir_link/created",
                          __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd), 0);
    show("create through dangling abs link",
         __wasi_path_open(box, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling",
                          __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd), 0);
    show("set times through abs_link",
         __wasi_path_filestat_set_times(box, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs_link", 1, 1,
                                        __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), 0);
    uint8_t buf[256];
    __wasi_size_t used = 0;
    show("readlink abs_link (text only)", __wasi_path_readlink(box, "abs_link", buf, sizeof buf, &used), 1);

    /* A directory fd opened from the preopen is a root of its own. */
    __wasi_fd_t sub;
    if (__wasi_path_open(box, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_OPEN |
                         __WASI_RIGHTS_PATH_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR,
                         __WASI_RIGHTS_FD_READ, 0, &sub))
        return 3;
    try_open(sub, "../inside.txt", 0);
    try_open(sub, "up", 0);

    /* A symlink to an absolute path is not even created (as in wasmtime,
     * whose cap-std refuses it with PERM): another program than ours
     * could follow it out of the sandbox. */
    __wasi_errno_t e = __wasi_path_symlink("/etc", box, "etc_link");
    show("symlink to /etc", e, 0);
    if (e != __WASI_ERRNO_PERM)
        failures++;
    e = __wasi_path_symlink("/", box, "root_link");
    show("symlink to /", e, 0);
    if (e != __WASI_ERRNO_PERM)
        failures++;
    try_open(box, "etc_link/passwd", 0);
    /* A relative one that leads out is created (following it is refused). */
    show("symlink to ../outside.txt", __wasi_path_symlink("../outside.txt", box, "rel_link2"), 1);
    try_open(box, "rel_link2", 0);

    /* A directory swapped for a symlink after it was used. */
    try_open(box, "swap/file", 1);
    show("rename swap", __wasi_path_rename(box, "swap", box, "swap_old"), 1);
    show("symlink swap", __wasi_path_symlink("../outside_dir", box, "swap"), 1);
    try_open(box, "swap/file", 0);

    /* libc-level paths. */
    printf("fopen /etc/passwd: %s\n", fopen("/etc/passwd", "r") ? "ok" : "refused");
    printf("fopen ../outside.txt: %s\n", fopen("../outside.txt", "r") ? "ok" : "refused");
    printf("failures: %d\n", failures);
    return failures != 0;
}
