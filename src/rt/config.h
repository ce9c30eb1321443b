/*
 * config.h - process configs (ABI.md §3.2): limits, permissions, and what a
 * process's WASI context is built from (arguments, environment, preopened
 * directories, stdio).
 *
 * Refcounted: a process holds the config it was spawned with, and children
 * spawned with config -1 share it. A config is immutable once a process
 * runs with it: the host API changes only configs no process uses (it
 * copies a shared one first). The WASI part is built once per config and
 * shared by every process spawned with it.
 */
#ifndef LUNATIC_RT_CONFIG_H
#define LUNATIC_RT_CONFIG_H

#include <pthread.h>

#include "rt/base.h"
#include "wasi/wasi.h"

struct lt_config {
    atomic_int refs;
    uint64_t max_memory;
    uint64_t max_fuel;          /* units of 100k instructions; 0 = unlimited */
    bool can_compile, can_create_configs, can_spawn;
    /* No new sockets and no DNS (`lunatic run --deny net`). Not in the
     * guest ABI: configs a process creates inherit it from the process's
     * own, so it only ever spreads down the tree. */
    bool no_network;
    char **args, **envs;
    uint32_t nargs, nenvs;
    char **preopens;            /* host paths */
    char **preopen_names;       /* the names the guest sees them by */
    uint32_t npreopens;
    /* Where the guest's stdout/stderr go (test mode's capture): host fds
     * owned by the config (duplicates, >= 3), 0 = the host's fd 1 / 2.
     * Clones and configs created by a process using it inherit them. */
    int stdout_fd, stderr_fd;
    /* what its lists were charged to the memory account of the process
     * whose table holds it (account.h; api/wasi.c), released when that
     * process drops it; a clone takes the charge over */
    uint64_t charged;
    lwasi_shared *wasi;         /* built on first spawn, then shared */
    pthread_mutex_t wasi_lock;
};

/* A config as create_config makes it: no permissions, 4 GiB - 1 memory, no
 * fuel limit, nothing else. One reference; NULL when out of memory. */
lt_config *lt_config_new(void);
/* A copy with one reference (the WASI share is not copied); NULL when out
 * of memory. */
lt_config *lt_config_clone(const lt_config *c);
void lt_config_retain(lt_config *c);
/* Drops a reference; the last one frees it. NULL is ignored. */
void lt_config_release(lt_config *c);
/* Appends an argument, "KEY=VALUE" environment entry or preopen (s is
 * copied; a preopen is seen by the guest under its host path). A change
 * drops the cached WASI share, so later spawns see it (running processes
 * keep the share they started with). 0, or -1 when out of memory. */
typedef enum lt_cfglist { LT_CFG_ARG, LT_CFG_ENV, LT_CFG_PREOPEN } lt_cfglist;
int lt_config_add(lt_config *c, lt_cfglist which, const char *s, size_t len);
/* Appends a preopen: the host directory host, seen by the guest as name. */
int lt_config_add_preopen(lt_config *c, const char *host, const char *name);

/* Whether a config a process made may be used by that process to spawn:
 * it grants nothing its spawner lacks (capabilities only narrow, never
 * widen). Each permission must be the spawner's too, and each preopened
 * directory must lie inside one of the spawner's, compared as resolved
 * host paths (symbolic links followed, so a link cannot lead out). 0, or
 * -1 with the violation in why. Memory and fuel are not checked here: a
 * spawn caps them at the spawner's (lt_spawn_opts). */
int lt_config_check_within(const lt_config *spawner, const lt_config *c, char *why, size_t size);
/* Sets stdout_fd / stderr_fd to duplicates of out / err (0 = the host's
 * own), closing the previous ones. 0, or -1 (errno set, nothing changed). */
int lt_config_set_stdio(lt_config *c, int out, int err);
/* The config's shared WASI part (args, env, open preopens, stdio), built
 * once and cached; returns a reference the caller must release, or NULL
 * with a reason (e.g. a preopen that cannot be opened). */
lwasi_shared *lt_config_wasi(lt_config *c, char *err, size_t errsize);

#endif
