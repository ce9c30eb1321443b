/*
 * wasi.c - lunatic::wasi (ABI.md 2.7): the WASI parts of a config
 * (environment variables, arguments, preopened directories). Preopens are
 * opened when a process is spawned with the config; a failure there is a
 * spawn error.
 */
#include "api/api.h"

lt_config *api_config_mut(wasm_exec *x, uint64_t id); /* process.c */

static int add(wasm_exec *x, lt_config *c, lt_cfglist which, const char *s, size_t len)
{
    if (lt_config_add(c, which, s, len) < 0)
        return api_trap(x, "out of memory");
    return WASM_OK;
}

static int config_add_environment_variable(wasm_exec *x, void *env, wasm_val *args)
{
    lt_config *c = api_config_mut(x, A64(0));
    if (!c)
        return WASM_TRAP;
    const char *k = api_str(x, A32(1), A32(2));
    const char *v = k ? api_str(x, A32(3), A32(4)) : NULL;
    if (!v)
        return WASM_TRAP;
    char buf[4096];
    size_t kl = A32(2), vl = A32(4);
    if (kl + vl + 1 > sizeof buf)
        return api_trap(x, "environment variable too long");
    memcpy(buf, k, kl);
    buf[kl] = '=';
    memcpy(buf + kl + 1, v, vl);
    return add(x, c, CFG_ENV, buf, kl + 1 + vl);
}

/* (config, ptr, len): appends the string to one of the config's lists. */
static int add_string_arg(wasm_exec *x, wasm_val *args, lt_cfglist which)
{
    lt_config *c = api_config_mut(x, A64(0));
    if (!c)
        return WASM_TRAP;
    const char *s = api_str(x, A32(1), A32(2));
    if (!s)
        return WASM_TRAP;
    return add(x, c, which, s, A32(2));
}

static int config_add_command_line_argument(wasm_exec *x, void *env, wasm_val *args)
{
    return add_string_arg(x, args, CFG_ARG);
}

static int config_preopen_dir(wasm_exec *x, void *env, wasm_val *args)
{
    return add_string_arg(x, args, CFG_PREOPEN);
}

#define M "lunatic::wasi"
const host_func_def api_wasi_defs[] = {
    {M, "config_add_environment_variable", "Iiiii:", config_add_environment_variable},
    {M, "config_add_command_line_argument", "Iii:", config_add_command_line_argument},
    {M, "config_preopen_dir", "Iii:", config_preopen_dir},
};
const size_t api_wasi_count = sizeof api_wasi_defs / sizeof *api_wasi_defs;
