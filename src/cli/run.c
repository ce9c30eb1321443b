/*
 * run.c - `lunatic run [OPTIONS] FILE.wasm [ARGS]...`: runs a WASI command
 * module as the main process.
 *
 * Exit status: the guest's proc_exit code; 0 when _start returns; 1 when
 * the module cannot be loaded (missing file, invalid module, unknown or
 * mistyped import, instantiation failure, no _start); 134 (as an abort)
 * when the guest traps; 2 for a usage error. Every failure prints one line
 * "lunatic: <cause>" on stderr (a trap adds its Wasm backtrace below).
 *
 * The program runs as the main process of a runtime (include/lunatic.h):
 * environment 1, pid 1, the main config of ABI.md 3.2. `lunatic run` ends
 * when the main process ends, whatever other processes still do.
 * The options (usage() lists them) restrict what the main process gets:
 * an operator runs an untrusted module with nothing but the directories,
 * environment, memory and fuel given here. --threads N sets the number of
 * workers (default: one per core);
 * LUNATIC_REDUCTIONS=N sets the reduction budget per slice (1 stops every
 * process at every call and loop iteration: a stress mode for tests).
 *
 * Observing it (README, "Observing a running program"): --prometheus
 * [--prometheus-http ADDR] serves GET /metrics (default 0.0.0.0:9927, as
 * the original); --dashboard ADDR serves the dashboard, /api/processes and
 * /metrics (a bare port binds 127.0.0.1); SIGUSR1 prints the process
 * table on stderr; LUNATIC_METRICS=off turns the runtime's own metrics off.
 * --name NAME@HOST and the other cluster options (cli/node.c) make the
 * runtime a node of a cluster before the main process starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "lunatic.h"

#define EXIT_LOAD 1
#define EXIT_USAGE 2
#define EXIT_TRAP 134

extern char **environ;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: lunatic run [OPTIONS] FILE.wasm [ARGS]...\n"
            "  --dir DIR | HOST::GUEST  preopen a directory (\".\" always is)\n"
            "  --env KEY=VALUE          set an environment variable\n"
            "  --no-host-env            do not pass on the host's environment\n"
            "  --max-memory SIZE        linear memory limit of the main process (e.g. 64M)\n"
            "  --max-fuel UNITS         fuel of the main process, in units of 100,000 instructions\n"
            "  --threads N              worker threads (default: one per core)\n"
            "  --prometheus             serve GET /metrics (Prometheus) on 0.0.0.0:9927\n"
            "  --prometheus-http ADDR   ... on ADDR instead (implies --prometheus)\n"
            "  --dashboard ADDR         serve the dashboard, /api/processes and /metrics on ADDR\n"
            "                           (HOST:PORT; a bare PORT or :PORT binds 127.0.0.1)\n"
            "  --name NAME@HOST [--cookie C] [--peer NAME@HOST]... [--tag K=V]... [--tick-time S]\n"
            "  [--no-epmd --port P] [--tls-cert F --tls-key F --tls-ca F]\n"
            "                           run as a node of a cluster (see lunatic --help)\n");
}

/* SIGUSR1 prints the process table, like Erlang's i(). The signal is
 * blocked in every thread (the runtime's inherit the mask) and taken by
 * this one thread with sigwait, so printing runs outside any signal
 * handler. */
static void *sigusr1_thread(void *arg)
{
    lunatic_runtime *rt = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) == 0 && sig == SIGUSR1 && lunatic_print_processes(rt, 2) < 0)
            log_error("cannot print the process table: out of memory");
    }
    return NULL;
}

/* Blocks SIGUSR1 in the calling thread (before the runtime's threads
 * start, so that they inherit it). */
static void block_sigusr1(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The value of option name at argv[*i], given as "--name VALUE" (then *i
 * moves past it) or "--name=VALUE"; NULL if argv[*i] is another option.
 * *missing is set for "--name" with nothing after it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* Whether "KEY=..." entry sets a key that one of envs[0..n) sets. */
static bool env_overridden(const char *entry, char **envs, int n)
{
    size_t kl = strcspn(entry, "=");
    for (int k = 0; k < n; k++)
        if (!strncmp(envs[k], entry, kl) && envs[k][kl] == '=')
            return true;
    return false;
}

int cli_run(int argc, char **argv)
{
    int i = 1, bench = 0, nenvs = 0, ndirs = 0, host_env = 1, cwd = 1, prometheus = 0;
    bool spawn = true, compile = true, configs = true, net = true;
    unsigned threads = 0;
    const char *prom_addr = "0.0.0.0:9927", *dash_addr = NULL;
    lunatic_server *prom = NULL, *dash = NULL;
    lunatic_node_options node = {0};
    /* --env and --dir values, in order (the directories are opened once
     * --no-cwd is known: "." comes first unless it is given) */
    char **envs = calloc((size_t)argc, sizeof *envs);
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    lunatic_config *cfg = lunatic_config_new();
    if (!cfg || !envs || !dirs) {
        log_error("out of memory");
        free(envs);
        free(dirs);
        lunatic_config_release(cfg);
        return EXIT_LOAD;
    }
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false, bad = false;
        uint64_t n;
        int c = cli_cluster_option(argc, argv, &i, &node);
        if (c < 0) {
            cli_cluster_free(&node);
            free(envs);
            free(dirs);
            lunatic_config_release(cfg);
            return EXIT_USAGE;
        }
        if (c)
            continue;
        if ((v = opt_value(argc, argv, &i, "--dir", &missing))) {
            dirs[ndirs++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--deny", &missing))) {
            /* a comma-separated list of permissions the main process lacks */
            for (const char *w = v; *w; w += strcspn(w, ","), w += *w == ',') {
                size_t wl = strcspn(w, ",");
                if (wl == 5 && !strncmp(w, "spawn", 5))
                    spawn = false;
                else if (wl == 7 && !strncmp(w, "compile", 7))
                    compile = false;
                else if (wl == 7 && !strncmp(w, "configs", 7))
                    configs = false;
                else if (wl == 3 && !strncmp(w, "net", 3))
                    net = false;
                else
                    bad = true;
            }
        } else if ((v = opt_value(argc, argv, &i, "--threads", &missing))) {
            threads = (unsigned)atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--env", &missing))) {
            bad = !strchr(v, '=') || v[0] == '=';
            envs[nenvs++] = (char *)v;
        } else if ((v = opt_value(argc, argv, &i, "--max-memory", &missing))) {
            bad = cli_parse_size(v, &n) < 0;
            lunatic_config_set_max_memory(cfg, n);
        } else if ((v = opt_value(argc, argv, &i, "--max-fuel", &missing))) {
            bad = cli_parse_size(v, &n) < 0;
            lunatic_config_set_max_fuel(cfg, n);
        } else if ((v = opt_value(argc, argv, &i, "--prometheus-http", &missing))) {
            prom_addr = v;   /* the original requires --prometheus too; we imply it */
            prometheus = 1;
        } else if ((v = opt_value(argc, argv, &i, "--dashboard", &missing))) {
            dash_addr = v;
        } else if (!strcmp(a, "--prometheus")) {
            prometheus = 1;
        } else if (!strcmp(a, "--no-host-env")) {
            host_env = 0;
        } else if (!strcmp(a, "--no-cwd")) {
            cwd = 0;
        } else if (!strcmp(a, "--bench")) {
            bench = 1; /* the original passes it on to the guest */
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (a[0] == '-' && a[1] == '-' && !missing) {
            log_error("unknown option '%s'", a);
            bad = true;
        } else if (!missing) {
            break;
        }
        if (missing || bad) {
            if (missing)
                log_error("%s needs a value", a);
            else if (v)
                log_error("%.*s: bad value '%s'", (int)strcspn(a, "="), a, v);
            usage();
            cli_cluster_free(&node);
            free(envs);
            free(dirs);
            lunatic_config_release(cfg);
            return EXIT_USAGE;
        }
    }
    if (cwd && lunatic_config_add_preopen(cfg, ".") < 0) {
        log_error("out of memory");
        free(envs);
        free(dirs);
        lunatic_config_release(cfg);
        return EXIT_LOAD;
    }
    for (int k = 0; k < ndirs && i < argc; k++) {
        if (cli_add_dir(cfg, dirs[k]) < 0) {
            log_error("--dir: bad value '%s'", dirs[k]);
            i = argc; /* usage, as for any bad option */
        }
    }
    free(dirs);
    if (i >= argc || (!node.name && (node.npeers || node.ntags || node.cookie))) {
        if (i < argc)
            log_error("the cluster options need --name NAME@HOST");
        usage();
        cli_cluster_free(&node);
        free(envs);
        lunatic_config_release(cfg);
        return EXIT_USAGE;
    }
    const char *file = argv[i];
    int status = EXIT_LOAD;
    lunatic_module *mod = NULL;
    char err[512];
    double t0 = now_ms();

    size_t len;
    mod = cli_load_module(file, node.name != NULL, &len, err, sizeof err);
    if (!mod) {
        log_error("%s", err);
        goto out;
    }
    log_debug("compiled %s (%zu bytes) in %.3f ms", file, len, now_ms() - t0);
    const char *slash = strrchr(file, '/');
    lunatic_module_set_name(mod, slash ? slash + 1 : file);
    if (lunatic_module_check_entry(mod, "_start", err, sizeof err) < 0) {
        log_error("%s: %s", file, err);
        goto out;
    }

    /* The main process config (ABI 3.2): every permission but those of
     * --deny, argv = [file, args...] (+ "--bench"), the host environment
     * (and --env), "." (unless --no-cwd) and --dir. */
    lunatic_config_set_permissions(cfg, compile, configs, spawn);
    lunatic_config_set_network(cfg, net);
    bool ok = true;
    for (int k = i; ok && k < argc; k++)
        ok = lunatic_config_add_arg(cfg, argv[k]) == 0;
    if (ok && bench)
        ok = lunatic_config_add_arg(cfg, "--bench") == 0;
    /* --env first, then the host's environment without the keys it sets */
    for (int k = 0; ok && k < nenvs; k++)
        ok = lunatic_config_add_env(cfg, envs[k]) == 0;
    for (int k = 0; ok && host_env && environ && environ[k]; k++)
        if (!env_overridden(environ[k], envs, nenvs))
            ok = lunatic_config_add_env(cfg, environ[k]) == 0;
    free(envs);
    envs = NULL;
    if (!ok) {
        log_error("%s: out of memory", file);
        goto out;
    }

    lunatic_options opt = cli_runtime_options(threads);
    const char *metrics = getenv("LUNATIC_METRICS");
    if (metrics && (!strcmp(metrics, "off") || !strcmp(metrics, "0") || !strcmp(metrics, "false")))
        lunatic_metrics_enable(0);
    block_sigusr1();
    lunatic_runtime *rt = lunatic_runtime_new(&opt);
    if (!rt) {
        log_error("cannot start the runtime: %s", errno == ENOMEM ? "out of memory" : strerror(errno));
        goto out;
    }
    /* a node before anything else runs on the runtime (the node's id is
     * in every pid) */
    if (node.name && lunatic_node_start(rt, &node, err, sizeof err) < 0) {
        log_error("%s", err);
        goto out;
    }
    pthread_t sigthread;
    if (pthread_create(&sigthread, NULL, sigusr1_thread, rt) == 0)
        pthread_detach(sigthread);
    /* The servers serve until the main process ends. */
    if (prometheus) {
        prom = lunatic_server_start(rt, prom_addr, "0.0.0.0", 0, 0, err, sizeof err);
        if (!prom) {
            log_error("--prometheus-http: %s", err);
            status = EXIT_USAGE;
            goto out;
        }
        fprintf(stderr, "lunatic: Prometheus metrics at http://%s/metrics\n",
                lunatic_server_address(prom));
    }
    if (dash_addr) {
        dash = lunatic_server_start(rt, dash_addr, "127.0.0.1", LUNATIC_SERVE_DASHBOARD, 0, err,
                                    sizeof err);
        if (!dash) {
            log_error("--dashboard: %s", err);
            status = EXIT_USAGE;
            goto out;
        }
        fprintf(stderr, "lunatic: dashboard at http://%s/\n", lunatic_server_address(dash));
    }
    uint64_t pid = lunatic_spawn(rt, 1, mod, cfg, "_start", NULL, 0, err, sizeof err);
    if (!pid) {
        log_error("%s: %s", file, err);
        goto out;
    }
    status = lunatic_wait(rt, 1, pid);
    log_debug("main process finished with status %d after %.3f ms", status, now_ms() - t0);
    /* The other processes end with the program, as in the original; they
     * must stop running first, or exit's handlers (OpenSSL's cleanup)
     * would free what a worker is still using. The runtime is not freed:
     * exit is faster than destroying a million processes. */
    lunatic_runtime_stop(rt);

out:
    lunatic_server_stop(prom);
    lunatic_server_stop(dash);
    cli_cluster_free(&node);
    free(envs);
    lunatic_module_release(mod);
    lunatic_config_release(cfg);
    return status;
}
