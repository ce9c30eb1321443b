/*
 * node.c - the cluster options of the command line, and `lunatic node`:
 *
 *   lunatic node --name NAME@HOST [CLUSTER OPTIONS]
 *       runs a node with no main process until SIGINT or SIGTERM; other
 *       nodes spawn processes on it;
 *   lunatic run --name NAME@HOST [CLUSTER OPTIONS] FILE.wasm [ARGS]...
 *       runs FILE.wasm as the main process of a node (run.c).
 *
 * CLUSTER OPTIONS: --cookie C, --peer NAME@HOST[:PORT] (repeatable),
 * --tag KEY=VALUE (repeatable), --tick-time SECONDS, --no-epmd, --port P,
 * --tls-cert FILE --tls-key FILE --tls-ca FILE, --threads N. An error
 * (name taken, EPMD unreachable, bad certificate, a peer refusing our
 * cookie) is one line on stderr and exit status 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "lunatic.h"

#define EXIT_START 1
#define EXIT_USAGE 2

/* The value of option argv[*i] ("--opt V" or "--opt=V"), or NULL after
 * a usage error. */
static const char *value(int argc, char **argv, int *i, const char *opt)
{
    size_t l = strlen(opt);
    if (argv[*i][l] == '=')
        return argv[*i] + l + 1;
    if (*i + 1 >= argc) {
        log_error("%s needs a value", opt);
        return NULL;
    }
    return argv[++*i];
}

static int push(const char ***list, size_t *n, const char *v)
{
    const char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return -1;
    l[(*n)++] = v;
    *list = l;
    return 0;
}

int cli_cluster_option(int argc, char **argv, int *i, lunatic_node_options *o)
{
    static const char *const opts[] = {"--name", "--cookie", "--peer", "--tag", "--tick-time",
                                       "--port", "--tls-cert", "--tls-key", "--tls-ca"};
    const char *a = argv[*i];
    if (!strcmp(a, "--no-epmd")) {
        o->no_epmd = 1;
        return 1;
    }
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        size_t l = strlen(opts[k]);
        if (strncmp(a, opts[k], l) || (a[l] && a[l] != '='))
            continue;
        const char *v = value(argc, argv, i, opts[k]);
        if (!v)
            return -1;
        switch (k) {
        case 0: o->name = v; break;
        case 1: o->cookie = v; break;
        case 2: return push((const char ***)&o->peers, &o->npeers, v) < 0 ? -1 : 1;
        case 3:
            if (!strchr(v, '=')) {
                log_error("--tag wants KEY=VALUE, got '%s'", v);
                return -1;
            }
            return push((const char ***)&o->tags, &o->ntags, v) < 0 ? -1 : 1;
        case 4:
            if (atoi(v) <= 0) {
                log_error("--tick-time wants a number of seconds, got '%s'", v);
                return -1;
            }
            o->tick_time = (unsigned)atoi(v);
            break;
        case 5:
            if (atoi(v) <= 0 || atoi(v) > 65535) {
                log_error("--port wants a port number, got '%s'", v);
                return -1;
            }
            o->port = (unsigned)atoi(v);
            break;
        case 6: o->tls_cert = v; break;
        case 7: o->tls_key = v; break;
        case 8: o->tls_ca = v; break;
        }
        return 1;
    }
    return 0;
}

void cli_cluster_free(lunatic_node_options *o)
{
    free((void *)o->peers);
    free((void *)o->tags);
    o->peers = o->tags = NULL;
    o->npeers = o->ntags = 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: lunatic node --name NAME@HOST [--cookie C] [--peer NAME@HOST[:PORT]]...\n"
                    "                    [--tag KEY=VALUE]... [--tick-time S] [--no-epmd --port P]\n"
                    "                    [--tls-cert F --tls-key F --tls-ca F] [--threads N]\n");
}

int cli_node(int argc, char **argv)
{
    lunatic_node_options o = {0};
    unsigned threads = 0;
    int status = EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        int r = cli_cluster_option(argc, argv, &i, &o);
        if (r < 0)
            goto out;
        if (r)
            continue;
        if (!strncmp(argv[i], "--threads", 9) && (!argv[i][9] || argv[i][9] == '=')) {
            const char *v = value(argc, argv, &i, "--threads");
            if (!v)
                goto out;
            threads = (unsigned)atoi(v);
            continue;
        }
        log_error("unknown argument '%s'", argv[i]);
        usage();
        goto out;
    }
    if (!o.name) {
        log_error("lunatic node needs --name NAME@HOST");
        usage();
        goto out;
    }
    /* SIGINT and SIGTERM end the node: blocked here, so that every thread
     * the runtime starts inherits the mask, and taken with sigwait */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    lunatic_options opt = cli_runtime_options(threads);
    lunatic_runtime *rt = lunatic_runtime_new(&opt);
    status = EXIT_START;
    if (!rt) {
        log_error("cannot start the runtime");
        goto out;
    }
    char err[512];
    if (lunatic_node_start(rt, &o, err, sizeof err) < 0) {
        log_error("%s", err);
        lunatic_runtime_free(rt);
        goto out;
    }
    log_debug("node %s is up", o.name);
    int sig;
    sigwait(&set, &sig);
    log_debug("node %s stops (signal %d)", o.name, sig);
    lunatic_runtime_free(rt);
    status = 0;
out:
    cli_cluster_free(&o);
    return status;
}
