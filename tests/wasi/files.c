/* files.c - file I/O inside the preopened current directory. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        names[n++] = strdup(e->d_name);
        if (!strcmp(e->d_name, "sub"))
            CHECK(e->d_type == DT_DIR);
        if (!strcmp(e->d_name, "b.txt"))
            CHECK(e->d_type == DT_REG);
        if (!strcmp(e->d_name, "lnk"))
            CHECK(e->d_type == DT_LNK);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void)
{
    char buf[256];
    CHECK(mkdir("work", 0755) == 0);
    SHOW("mkdir again", mkdir("work", 0755) == 0);
    int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello, world\n", 13) == 13);
    CHECK(lseek(fd, 0, SEEK_CUR) == 13);
    CHECK(lseek(fd, 7, SEEK_SET) == 7);
    ssize_t n = read(fd, buf, sizeof buf);
    printf("read after seek: %zd '%.*s'\n", n, (int)n - 1, buf);
    CHECK(pwrite(fd, "W", 1, 7) == 1);
    n = pread(fd, buf, 5, 7);
    printf("pread: %zd '%.*s'\n", n, (int)n, buf);
    CHECK(lseek(fd, 0, SEEK_CUR) == 13);   /* pread/pwrite keep the offset */
    CHECK(lseek(fd, -3, SEEK_END) == 10);
    CHECK(ftruncate(fd, 5) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    printf("size after truncate: %lld regular: %d nlink: %d\n", (long long)st.st_size,
           S_ISREG(st.st_mode), (int)st.st_nlink);
    CHECK(close(fd) == 0);
    SHOW("close twice", close(fd) == 0);

    SHOW("excl create", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0);
    SHOW("open missing", open("nope.txt", O_RDONLY) >= 0);
    SHOW("open dir for write", open(".", O_WRONLY) >= 0);
    SHOW("open dir for write, O_DIRECTORY", open(".", O_WRONLY | O_DIRECTORY) >= 0);
    SHOW("open dir read-write, O_DIRECTORY", open(".", O_RDWR | O_DIRECTORY) >= 0);
    SHOW("open dir read-only, O_DIRECTORY", (fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0 && close(fd) == 0);
    SHOW("open file as dir", open("a.txt", O_RDONLY | O_DIRECTORY) >= 0);

    /* append mode */
    fd = open("a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "++", 2) == 2);
    close(fd);
    FILE *f = fopen("a.txt", "r");
    CHECK(f);
    CHECK(fgets(buf, sizeof buf, f));
    fclose(f);
    printf("after append: '%s'\n", buf);

    /* stdio buffered I/O, big file */
    f = fopen("big.bin", "w");
    CHECK(f);
    for (int i = 0; i < 100000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    CHECK(stat("big.bin", &st) == 0);
    printf("big size: %lld\n", (long long)st.st_size);
    f = fopen("big.bin", "r");
    fseek(f, 50000, SEEK_SET);
    printf("big[50000]: %c\n", fgetc(f));
    fclose(f);

    /* sync, allocate, advise, flags */
    fd = open("a.txt", O_RDWR);
    CHECK(fd >= 0);
    printf("fsync: %d fdatasync: %d\n", fsync(fd), fdatasync(fd));
    printf("posix_fallocate: %d\n", posix_fallocate(fd, 0, 4096));
    printf("posix_fadvise: %d\n", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    CHECK(fstat(fd, &st) == 0);
    printf("size after fallocate: %lld\n", (long long)st.st_size);
    CHECK(ftruncate(fd, 7) == 0);
    printf("O_APPEND before: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0);
    printf("O_APPEND after: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    printf("O_ACCMODE is O_RDWR: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    close(fd);

    /* many directory entries: readdir must page through all of them */
    CHECK(mkdir("many", 0755) == 0);
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "many/a-rather-long-file-name-to-fill-the-buffer-%03d", i);
        fd = open(buf, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        close(fd);
    }
    DIR *dm = opendir("many");
    CHECK(dm);
    int count = 0, sum = 0;
    struct dirent *de;
    while ((de = readdir(dm))) {
        count++;
        if (de->d_name[0] == 'a')
            sum += atoi(de->d_name + 43);
    }
    rewinddir(dm);
    int again = 0;
    while (readdir(dm))
        again++;
    closedir(dm);
    printf("entries: %d sum: %d after rewind: %d\n", count, sum, again);
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "many/a-rather-long-file-name-to-fill-the-buffer-%03d", i);
        CHECK(unlink(buf) == 0);
    }
    CHECK(rmdir("many") == 0);

    /* rename, link, symlink, readlink */
    CHECK(rename("a.txt", "b.txt") == 0);
    SHOW("stat old name", stat("a.txt", &st) == 0);
    CHECK(link("b.txt", "c.txt") == 0);
    CHECK(stat("b.txt", &st) == 0);
    printf("nlink after link: %d\n", (int)st.st_nlink);
    CHECK(symlink("b.txt", "lnk") == 0);
    n = readlink("lnk", buf, sizeof buf);
    printf("readlink: %zd '%.*s'\n", n, (int)n, buf);
    n = readlink("lnk", buf, 3);
    printf("readlink short: %zd '%.*s'\n", n, (int)n, buf);
    SHOW("readlink of file", readlink("b.txt", buf, sizeof buf) >= 0);
    CHECK(lstat("lnk", &st) == 0);
    printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
    CHECK(stat("lnk", &st) == 0);
    printf("stat through link: size %lld\n", (long long)st.st_size);
    fd = open("lnk", O_RDONLY);
    CHECK(fd >= 0);
    n = read(fd, buf, sizeof buf);
    printf("read through link: '%.*s'\n", (int)n, buf);
    close(fd);
    SHOW("open nofollow", open("lnk", O_RDONLY | O_NOFOLLOW) >= 0);

    /* times */
    struct timeval tv[2] = {{1000000000, 0}, {1200000000, 500000}};
    CHECK(utimes("b.txt", tv) == 0);
    CHECK(stat("b.txt", &st) == 0);
    printf("mtime: %lld atime: %lld\n", (long long)st.st_mtime, (long long)st.st_atime);

    /* directories */
    CHECK(mkdir("sub", 0755) == 0);
    CHECK(mkdir("sub/deeper", 0755) == 0);
    fd = open("sub/deeper/x", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK(stat("sub/../sub/./deeper/x", &st) == 0);
    list(".");
    list("sub");
    SHOW("rmdir nonempty", rmdir("sub") == 0);
    SHOW("unlink dir", unlink("sub") == 0);
    SHOW("rmdir file", rmdir("b.txt") == 0);
    CHECK(unlink("sub/deeper/x") == 0);
    CHECK(rmdir("sub/deeper") == 0);
    CHECK(rmdir("sub") == 0);
    CHECK(unlink("lnk") == 0);
    CHECK(unlink("c.txt") == 0);
    CHECK(unlink("b.txt") == 0);
    CHECK(unlink("big.bin") == 0);
    list(".");
    CHECK(rmdir("work") == 0);
    SHOW("stat removed", stat("work", &st) == 0);
    printf("done\n");
    return 0;
}
