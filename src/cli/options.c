/*
 * options.c - option values shared by the subcommands: preopened
 * directories given as DIR or HOST::GUEST, and sizes such as 64M.
 */
#include <stdlib.h>
#include <string.h>

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
