/*
 * test_wasi_resolve.c - the sandboxed path resolver (lwasi_open_beneath,
 * lwasi_open_parent) on a planted tree, with openat2 and with the fallback
 * walker. Prints "N passed, M failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wasi/wasi_int.h"

static int passed, failed;

static void expect(const char *what, int got, int want)
{
    if (got == want) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: got %d (%s), want %d (%s)\n", what, got,
               got < 0 ? strerror(-got) : "fd", want, want < 0 ? strerror(-want) : "fd");
    }
}

/* Opens path beneath box; returns 0 for success, else -errno. */
static int try(int box, const char *path, int flags)
{
    int fd = lwasi_open_beneath(box, path, flags, 0644);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return fd;
}

static void plant(const char *root)
{
    char p[PATH_MAX];
#define AT(s) (snprintf(p, sizeof p, "%s/%s", root, s), p)
    mkdir(AT("box"), 0755);
    mkdir(AT("box/sub"), 0755);
    mkdir(AT("outside_dir"), 0755);
    close(open(AT("outside.txt"), O_CREAT | O_WRONLY, 0644));
    close(open(AT("box/inside.txt"), O_CREAT | O_WRONLY, 0644));
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%s/outside.txt", root);
    if (symlink(target, AT("box/abs_link")) || symlink("../outside.txt", AT("box/rel_link")) ||
        symlink("../outside_dir", AT("box/dir_link")) || symlink("../..", AT("box/sub/up")) ||
        symlink("sub/../inside.txt", AT("box/ok_link")) || symlink("loop", AT("box/loop")) ||
        symlink("inside.txt", AT("box/sub/../in_link")))
        perror("symlink");
#undef AT
}

static void run(int box)
{
    expect("inside.txt", try(box, "inside.txt", O_RDONLY), 0);
    expect("sub/../inside.txt", try(box, "sub/../inside.txt", O_RDONLY), 0);
    expect("./sub//./../inside.txt", try(box, "./sub//./../inside.txt", O_RDONLY), 0);
    expect("ok_link", try(box, "ok_link", O_RDONLY), 0);
    expect("sub/", try(box, "sub/", O_RDONLY), 0);
    expect("inside.txt/", try(box, "inside.txt/", O_RDONLY), -ENOTDIR);
    expect("missing", try(box, "missing", O_RDONLY), -ENOENT);
    expect("empty", try(box, "", O_RDONLY), -ENOENT);
    expect(".", try(box, ".", O_RDONLY | O_DIRECTORY), 0);
    expect("/etc/passwd", try(box, "/etc/passwd", O_RDONLY), -EPERM);
    expect("..", try(box, "..", O_RDONLY), -EPERM);
    expect("../outside.txt", try(box, "../outside.txt", O_RDONLY), -EPERM);
    expect("sub/../../outside.txt", try(box, "sub/../../outside.txt", O_RDONLY), -EPERM);
    expect("abs_link", try(box, "abs_link", O_RDONLY), -EPERM);
    expect("rel_link", try(box, "rel_link", O_RDONLY), -EPERM);
    expect("dir_link/x", try(box, "dir_link/x", O_RDONLY), -EPERM);
    expect("sub/up/outside.txt", try(box, "sub/up/outside.txt", O_RDONLY), -EPERM);
    expect("loop", try(box, "loop", O_RDONLY), -ELOOP);
    expect("rel_link nofollow", try(box, "rel_link", O_RDONLY | O_NOFOLLOW), -ELOOP);
    expect("rel_link O_PATH nofollow", try(box, "rel_link", O_PATH | O_NOFOLLOW), 0);
    expect("abs_link O_PATH", try(box, "abs_link", O_PATH), -EPERM);
    expect("create dir_link/new", try(box, "dir_link/new", O_CREAT | O_WRONLY), -EPERM);
    expect("create new", try(box, "sub/new", O_CREAT | O_WRONLY), 0);
    expect("excl new", try(box, "sub/new", O_CREAT | O_EXCL | O_WRONLY), -EEXIST);
    expect("excl on link", try(box, "ok_link", O_CREAT | O_EXCL | O_WRONLY), -EEXIST);
    const char *last;
    char path[64];
    strcpy(path, "sub/../../x");
    int fd = lwasi_open_parent(box, path, &last);
    expect("parent of sub/../../x", fd < 0 ? fd : (close(fd), 0), -EPERM);
    strcpy(path, "..");
    fd = lwasi_open_parent(box, path, &last);
    expect("parent of ..", fd < 0 ? fd : (close(fd), 0), -EPERM);
    strcpy(path, "dir_link/x");
    fd = lwasi_open_parent(box, path, &last);
    expect("parent of dir_link/x", fd < 0 ? fd : (close(fd), 0), -EPERM);
    strcpy(path, "sub/x/");
    fd = lwasi_open_parent(box, path, &last);
    expect("parent of sub/x/", fd < 0 ? fd : (close(fd), 0), 0);
    expect("last of sub/x/", strcmp(last, "x/"), 0);
    strcpy(path, "sub/..");
    fd = lwasi_open_parent(box, path, &last);
    expect("parent of sub/..", fd < 0 ? fd : (close(fd), 0), 0);
    expect("last of sub/..", strcmp(last, "."), 0);
    unlink("box/sub/new");
}

int main(void)
{
    char tmpl[] = "/tmp/lunatic-resolve-XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root || chdir(root)) {
        perror("mkdtemp");
        return 1;
    }
    plant(root);
    int box = open("box", O_RDONLY | O_DIRECTORY);
    run(box);
    close(box);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd))
        failed++;
    if (getenv("RESOLVE_PASS2"))
        return failed != 0;
    /* The resolver reads LUNATIC_WASI_NO_OPENAT2 once per process: run the
     * same checks again in a child that uses the fallback walker. */
    setenv("RESOLVE_PASS2", "1", 1);
    setenv("LUNATIC_WASI_NO_OPENAT2", "1", 1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "test_wasi_resolve", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        passed++;
    else
        failed++, printf("FAIL the fallback resolver (above)\n");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
