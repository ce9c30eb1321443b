/*
 * cli.h - the subcommands of the lunatic binary. Each returns the process
 * exit status.
 */
#ifndef LUNATIC_CLI_H
#define LUNATIC_CLI_H

#include <stdbool.h>

#define LUNATIC_VERSION "0.13.2"

/* lunatic wast FILE.wast: runs one spec test script (cli/wast.c). */
int cli_wast(int argc, char **argv);
/* lunatic run [--dir DIR]... FILE.wasm [ARGS]...  (cli/run.c) */
int cli_run(int argc, char **argv);
/* lunatic test [OPTIONS] FILE.wasm [FILTER] [ARGS]...  (cli/test.c) */
int cli_test(int argc, char **argv);
/* Is `lunatic run ARGS` cargo's test runner invocation (ABI.md 3.4:
 * CARGO_MANIFEST_DIR set, the file under target/wasm32-wasi/(debug|
 * release)/deps/, no --bench)? argv[0] is "run" (or the program). */
bool cli_is_cargo_test(int argc, char **argv);

#endif
