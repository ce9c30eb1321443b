/*
 * options.c - what the subcommands share: loading a module file, and
 * option values (preopened directories given as DIR or HOST::GUEST, sizes
 * such as 64M).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_add_dir(lunatic_config *c, const char *arg)
{
    /* wasmtime's syntax: HOST::GUEST gives the host directory HOST to the
     * program under the name GUEST (e.g. "data::/" as its root) */
    const char *sep = strstr(arg, "::");
    if (!sep)
        return lunatic_config_add_preopen(c, arg);
    size_t hl = (size_t)(sep - arg);
    if (hl == 0 || !sep[2])
        return -1;
    char *host = malloc(hl + 1);
    if (!host)
        return -1;
    memcpy(host, arg, hl);
    host[hl] = 0;
    int r = lunatic_config_add_preopen_as(c, host, sep + 2);
    free(host);
    return r;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if ((*end == 'i' || *end == 'I') && shift)
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

lunatic_module *cli_load_module(const char *path, bool keep, size_t *len, char *err,
                                size_t errsize)
{
    /* Mapped, not read: the engine reads the binary in place and copies
     * out only what it keeps, and never touches custom sections other than
     * "name", so the debug sections of a large program are not even paged
     * in. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        errno = EISDIR;
    else if (fd >= 0 && fstat(fd, &st) == 0)
        errno = 0;
    if (fd < 0 || errno) {
        snprintf(err, errsize, "cannot read '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *len = (size_t)st.st_size;
    static const uint8_t empty[1];
    const void *bytes = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : empty;
    close(fd);
    if (bytes == MAP_FAILED) {
        snprintf(err, errsize, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    char why[512];
    lunatic_module *m = lunatic_module_new(bytes, *len, why, sizeof why);
    if (m && keep && lunatic_module_keep_bytes(m, bytes, *len) < 0) {
        lunatic_module_release(m);
        m = NULL;
        snprintf(why, sizeof why, "out of memory");
    }
    if (*len)
        munmap((void *)bytes, *len);
    if (!m)
        snprintf(err, errsize, "%s: %s", path, why);
    return m;
}

lunatic_options cli_runtime_options(unsigned threads)
{
    lunatic_options o = {.threads = threads};
    const char *reds = getenv("LUNATIC_REDUCTIONS");
    if (reds && atoll(reds) > 0)
        o.reductions = (uint64_t)atoll(reds);
    const char *th = getenv("LUNATIC_THREADS");
    if (!threads && th && atoi(th) > 0)
        o.threads = (unsigned)atoi(th);
    return o;
}
