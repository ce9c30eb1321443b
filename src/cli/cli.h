/*
 * cli.h - the subcommands of the lunatic binary. Each returns the process
 * exit status.
 */
#ifndef LUNATIC_CLI_H
#define LUNATIC_CLI_H

#define LUNATIC_VERSION "0.13.2"

/* lunatic wast FILE.wast: runs one spec test script (cli/wast.c). */
int cli_wast(int argc, char **argv);
/* lunatic run [--dir DIR]... FILE.wasm [ARGS]...  (cli/run.c) */
int cli_run(int argc, char **argv);

#endif
