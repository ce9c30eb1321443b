/*
 * main.c - the lunatic command line: dispatches to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "lunatic " LUNATIC_VERSION " - an Erlang-style runtime for WebAssembly\n"
            "\n"
            "Usage:\n"
            "  lunatic run [OPTIONS] FILE.wasm [ARGS]...        run a WASI program\n"
            "      --dir DIR | HOST::GUEST  preopen a directory (\".\" is, unless --no-cwd)\n"
            "      --no-cwd                 do not preopen the current directory\n"
            "      --env KEY=VALUE          set an environment variable\n"
            "      --no-host-env            do not pass on the host's environment\n"
            "      --max-memory SIZE        memory limit of the main process, host objects\n"
            "                               and mailbox included (e.g. 64M; default 4G)\n"
            "      --max-fuel UNITS         fuel of the main process (x 100,000 instructions)\n"
            "      --deny spawn,compile,configs,net  what the main process (and so every\n"
            "                               process) does not get\n"
            "      --threads N              worker threads (default: one per core)\n"
            "      --prometheus [--prometheus-http ADDR]  serve /metrics (default 0.0.0.0:9927)\n"
            "      --dashboard ADDR         serve the process dashboard (e.g. 127.0.0.1:9928)\n"
            "  lunatic FILE.wasm [ARGS]...                      same as run\n"
            "  lunatic node --name NAME@HOST [CLUSTER OPTIONS]  run a node of a cluster (no main\n"
            "                                 process) until SIGINT/SIGTERM\n"
            "  lunatic run --name NAME@HOST [CLUSTER OPTIONS] FILE.wasm [ARGS]...\n"
            "                                 run FILE.wasm as the main process of a node\n"
            "    CLUSTER OPTIONS (Erlang distribution; ABI.md 3.5):\n"
            "      --cookie C           the shared secret (default: ~/.erlang.cookie)\n"
            "      --peer NAME@HOST     connect to a node at start (repeatable); NAME@HOST:PORT\n"
            "                           for a node without EPMD\n"
            "      --tag KEY=VALUE      a tag other nodes can look this one up by (repeatable)\n"
            "      --tick-time S        a peer silent for S seconds is down (default 60)\n"
            "      --no-epmd --port P   do not register with EPMD; listen on port P\n"
            "      --tls-cert F --tls-key F --tls-ca F\n"
            "                           TLS distribution (as inet_tls_dist), mutual verification\n"
            "  lunatic test [OPTIONS] FILE.wasm [FILTER] [ARGS]...\n"
            "                                 run the module's #lunatic_test_ exports, each\n"
            "                                 as its own process, and report as libtest\n"
            "      --dir DIR | HOST::GUEST  preopen a directory (\".\" always is)\n"
            "      --ignored                run only the ignored tests\n"
            "      --exact                  FILTER must match the whole name (default: substring)\n"
            "      --nocapture              print the tests' output as it is written\n"
            "      --show-output            print the output of passing tests too\n"
            "      --list                   list the tests (with --format terse)\n"
            "    `lunatic run` is `lunatic test` when CARGO_MANIFEST_DIR is set and FILE.wasm\n"
            "    is under target/wasm32-wasi/{debug,release}/deps/ (cargo test's runner)\n"
            "  lunatic wast FILE.wast                           run a spec test script\n"
            "  lunatic --version | --help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("lunatic " LUNATIC_VERSION "\n");
        return 0;
    }
    if (!strcmp(cmd, "wast"))
        return cli_wast(argc - 1, argv + 1);
    if (!strcmp(cmd, "test"))
        return cli_test(argc - 1, argv + 1);
    if (!strcmp(cmd, "node"))
        return cli_node(argc - 1, argv + 1);
    /* The original accepted `lunatic FILE.wasm`: treat any other first
     * argument as the file to run. */
    if (strcmp(cmd, "run")) {
        argc++;
        argv--;   /* argv[0] stands for "run" */
    }
    /* cargo test runs `lunatic [run] target/wasm32-wasi/debug/deps/X.wasm` */
    if (cli_is_cargo_test(argc - 1, argv + 1))
        return cli_test(argc - 1, argv + 1);
    return cli_run(argc - 1, argv + 1);
}
