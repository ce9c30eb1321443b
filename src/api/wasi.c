/*
 * wasi.c - lunatic::wasi (ABI.md 2.7): the WASI parts of a config
 * (environment variables, arguments, preopened directories). Preopens are
 * checked and opened when a process is spawned with the config: one
 * outside the spawner's own preopens, or one that cannot be opened, is a
 * spawn error (lt_config_check_within).
 */
#include "api/api.h"

lt_config *lapi_config_mut(lw_exec *x, uint64_t id); /* process.c */

static int add(lw_exec *x, lt_config *c, lt_cfglist which, const char *s, size_t len)
{
    /* charged to the process: the copy (two for a preopen: host path and
     * name) and its list slots */
    lt_process *p = lt_self(x);
    uint64_t cost = 2 * ((uint64_t)len + 1) + 2 * sizeof(char *);
    if (lt_account_charge(&p->acct, cost) < 0)
        return lapi_oom(x, NULL);
    if (lt_config_add(c, which, s, len) < 0) {
        lt_account_release(&p->acct, cost);
        return lapi_oom(x, NULL);
    }
    c->charged += cost;
    return LW_OK;
}

static int wasi_config_add_environment_variable(lw_exec *x, void *env, lw_val *args)
{
    lt_config *c = lapi_config_mut(x, A64(0));
    if (!c)
        return LW_TRAP;
    const char *k = lapi_str(x, A32(1), A32(2));
    const char *v = k ? lapi_str(x, A32(3), A32(4)) : NULL;
    if (!v)
        return LW_TRAP;
    char buf[4096];
    size_t kl = A32(2), vl = A32(4);
    if (kl + vl + 1 > sizeof buf)
        return lapi_trap(x, "environment variable too long");
    memcpy(buf, k, kl);
    buf[kl] = '=';
    memcpy(buf + kl + 1, v, vl);
    return add(x, c, LT_CFG_ENV, buf, kl + 1 + vl);
}

/* (config, ptr, len): appends the string to one of the config's lists. */
static int add_string_arg(lw_exec *x, lw_val *args, lt_cfglist which)
{
    lt_config *c = lapi_config_mut(x, A64(0));
    if (!c)
        return LW_TRAP;
    const char *s = lapi_str(x, A32(1), A32(2));
    if (!s)
        return LW_TRAP;
    return add(x, c, which, s, A32(2));
}

static int wasi_config_add_command_line_argument(lw_exec *x, void *env, lw_val *args)
{
    return add_string_arg(x, args, LT_CFG_ARG);
}

static int wasi_config_preopen_dir(lw_exec *x, void *env, lw_val *args)
{
    return add_string_arg(x, args, LT_CFG_PREOPEN);
}

#define M "lunatic::wasi"
const lw_host_func_def lapi_wasi_defs[] = {
    {M, "config_add_environment_variable", "Iiiii:", wasi_config_add_environment_variable},
    {M, "config_add_command_line_argument", "Iii:", wasi_config_add_command_line_argument},
    {M, "config_preopen_dir", "Iii:", wasi_config_preopen_dir},
};
const size_t lapi_wasi_count = sizeof lapi_wasi_defs / sizeof *lapi_wasi_defs;
