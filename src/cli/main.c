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
            "  lunatic run [--dir DIR]... FILE.wasm [ARGS]...   run a WASI program\n"
            "  lunatic FILE.wasm [ARGS]...                      same as run\n"
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
    if (!strcmp(cmd, "run"))
        return cli_run(argc - 1, argv + 1);
    /* The original accepted `lunatic FILE.wasm`: treat any other first
     * argument as the file to run. */
    return cli_run(argc, argv);
}
