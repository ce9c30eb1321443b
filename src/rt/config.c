/*
 * config.c - process configs (config.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt/config.h"
#include "rt/stats.h"

lt_config *lt_config_new(void)
{
    lt_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    c->max_memory = UINT32_MAX;
    pthread_mutex_init(&c->wasi_lock, NULL);
    lt_stat_add(LT_STAT_CONFIGS_CREATED, 1);
    return c;
}

static int copy_strings(lt_config *dst, lt_cfglist which, char *const *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (lt_config_add(dst, which, src[i], strlen(src[i])) < 0)
            return -1;
    return 0;
}

static int copy_preopens(lt_config *dst, const lt_config *src)
{
    for (uint32_t i = 0; i < src->npreopens; i++)
        if (lt_config_add_preopen(dst, src->preopens[i], src->preopen_names[i]) < 0)
            return -1;
    return 0;
}

lt_config *lt_config_clone(const lt_config *c)
{
    lt_config *n = lt_config_new();
    if (!n)
        return NULL;
    n->max_memory = c->max_memory;
    n->max_fuel = c->max_fuel;
    n->can_compile = c->can_compile;
    n->can_create_configs = c->can_create_configs;
    n->can_spawn = c->can_spawn;
    n->no_network = c->no_network;
    n->charged = c->charged;
    if (lt_config_set_stdio(n, c->stdout_fd, c->stderr_fd) < 0 ||
        copy_strings(n, LT_CFG_ARG, c->args, c->nargs) < 0 ||
        copy_strings(n, LT_CFG_ENV, c->envs, c->nenvs) < 0 ||
        copy_preopens(n, c) < 0) {
        lt_config_release(n);
        return NULL;
    }
    return n;
}

void lt_config_retain(lt_config *c) { atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed); }

static void free_strings(char **a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void lt_config_release(lt_config *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    free_strings(c->args, c->nargs);
    free_strings(c->envs, c->nenvs);
    free_strings(c->preopens, c->npreopens);
    free_strings(c->preopen_names, c->npreopens);
    lt_config_set_stdio(c, 0, 0);
    if (c->wasi)
        lwasi_shared_release(c->wasi);
    pthread_mutex_destroy(&c->wasi_lock);
    free(c);
    lt_stat_add(LT_STAT_CONFIGS_DROPPED, 1);
}

/* The WASI share reflects args, env, preopens and stdio: drop it when one
 * of them changes. Called with wasi_lock held, which also keeps a share
 * from being built from half-changed lists. */
static void drop_wasi_share(lt_config *c)
{
    if (c->wasi) {
        lwasi_shared_release(c->wasi);
        c->wasi = NULL;
    }
}

int lt_config_add(lt_config *c, lt_cfglist which, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = 0;
    if (which == LT_CFG_PREOPEN) {
        int r = lt_config_add_preopen(c, copy, copy);
        free(copy);
        return r;
    }
    char ***arr = which == LT_CFG_ARG ? &c->args : &c->envs;
    uint32_t *n = which == LT_CFG_ARG ? &c->nargs : &c->nenvs;
    pthread_mutex_lock(&c->wasi_lock);
    drop_wasi_share(c);
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (a) {
        *arr = a;
        a[(*n)++] = copy;
    }
    pthread_mutex_unlock(&c->wasi_lock);
    if (!a) {
        free(copy);
        return -1;
    }
    return 0;
}

int lt_config_add_preopen(lt_config *c, const char *host, const char *name)
{
    char *h = strdup(host), *g = strdup(name);
    pthread_mutex_lock(&c->wasi_lock);
    drop_wasi_share(c);
    char **hs = h && g ? realloc(c->preopens, (c->npreopens + 1) * sizeof *hs) : NULL;
    if (hs)
        c->preopens = hs;
    char **gs = hs ? realloc(c->preopen_names, (c->npreopens + 1) * sizeof *gs) : NULL;
    if (gs) {
        c->preopen_names = gs;
        c->preopens[c->npreopens] = h;
        c->preopen_names[c->npreopens++] = g;
    }
    pthread_mutex_unlock(&c->wasi_lock);
    if (!gs) {
        free(h);
        free(g);
        return -1;
    }
    return 0;
}

/* Whether resolved path p is d or lies below it. */
static bool path_within(const char *p, const char *d)
{
    size_t n = strlen(d);
    if (n == 1 && d[0] == '/')
        return true;
    return !strncmp(p, d, n) && (p[n] == 0 || p[n] == '/');
}

int lt_config_check_within(const lt_config *spawner, const lt_config *c, char *why, size_t size)
{
    static const struct {
        size_t off;
        const char *name;
    } perms[] = {
        {offsetof(lt_config, can_compile), "can_compile_modules"},
        {offsetof(lt_config, can_create_configs), "can_create_configs"},
        {offsetof(lt_config, can_spawn), "can_spawn_processes"},
    };
    for (size_t i = 0; i < sizeof perms / sizeof *perms; i++) {
        bool mine = *(const bool *)((const char *)spawner + perms[i].off);
        bool asked = *(const bool *)((const char *)c + perms[i].off);
        if (asked && !mine) {
            snprintf(why, size, "the config grants %s, which the spawning process does not have",
                     perms[i].name);
            return -1;
        }
    }
    if (spawner->no_network && !c->no_network) {
        snprintf(why, size, "the config grants networking, which the spawning process does not have");
        return -1;
    }
    for (uint32_t i = 0; i < c->npreopens; i++) {
        char want[PATH_MAX], have[PATH_MAX];
        if (!realpath(c->preopens[i], want)) {
            snprintf(why, size, "cannot open directory '%s': %s", c->preopens[i], strerror(errno));
            return -1;
        }
        bool inside = false;
        for (uint32_t k = 0; k < spawner->npreopens && !inside; k++)
            inside = realpath(spawner->preopens[k], have) && path_within(want, have);
        if (!inside) {
            snprintf(why, size,
                     "the config preopens '%s', which is not inside a directory the spawning "
                     "process has",
                     c->preopens[i]);
            return -1;
        }
    }
    return 0;
}

int lt_config_set_stdio(lt_config *c, int out, int err)
{
    int fds[2] = {0, 0}, src[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        if (src[i] <= 0)
            continue;
        fds[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
        if (fds[i] < 0) {
            int e = errno;
            if (i && fds[0] > 0)
                close(fds[0]);
            errno = e;
            return -1;
        }
    }
    pthread_mutex_lock(&c->wasi_lock);
    drop_wasi_share(c);
    if (c->stdout_fd > 0)
        close(c->stdout_fd);
    if (c->stderr_fd > 0)
        close(c->stderr_fd);
    c->stdout_fd = fds[0];
    c->stderr_fd = fds[1];
    pthread_mutex_unlock(&c->wasi_lock);
    return 0;
}

lwasi_shared *lt_config_wasi(lt_config *c, char *err, size_t errsize)
{
    pthread_mutex_lock(&c->wasi_lock);
    if (!c->wasi) {
        lwasi_preopen *pre = calloc(c->npreopens + 1, sizeof *pre);
        if (pre) {
            for (uint32_t i = 0; i < c->npreopens; i++) {
                pre[i].name = c->preopen_names[i];
                pre[i].path = c->preopens[i];
            }
            lwasi_config wc = {
                .argc = (int)c->nargs, .argv = (const char *const *)c->args,
                .envc = (int)c->nenvs, .env = (const char *const *)c->envs,
                .npreopens = (int)c->npreopens, .preopens = pre,
                .stdout_fd = c->stdout_fd, .stderr_fd = c->stderr_fd,
            };
            c->wasi = lwasi_shared_new(&wc, err, errsize);
            free(pre);
        } else {
            snprintf(err, errsize, "out of memory");
        }
    }
    lwasi_shared *w = c->wasi;
    if (w)
        lwasi_shared_retain(w);
    pthread_mutex_unlock(&c->wasi_lock);
    return w;
}
