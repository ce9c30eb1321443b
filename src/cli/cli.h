/*
 * cli.h - the subcommands of the lunatic binary. Each returns the process
 * exit status.
 */
#ifndef LUNATIC_CLI_H
#define LUNATIC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "lunatic.h"

#include "lunatic.h"

#define LUNATIC_VERSION "0.13.2"

/* lunatic wast FILE.wast: runs one spec test script (cli/wast.c). */
int cli_wast(int argc, char **argv);
/* lunatic run [--dir DIR]... FILE.wasm [ARGS]...  (cli/run.c) */
int cli_run(int argc, char **argv);
/* lunatic node --name NAME@HOST [CLUSTER OPTIONS]  (cli/node.c) */
int cli_node(int argc, char **argv);
/* Parses the cluster option at argv[*i] (and its value, advancing *i) into
 * o: 1 if it was one, 0 if not, -1 after a usage error (reported). The
 * lists in o point into argv; cli_cluster_free frees them. */
int cli_cluster_option(int argc, char **argv, int *i, lunatic_node_options *o);
void cli_cluster_free(lunatic_node_options *o);
/* lunatic test [OPTIONS] FILE.wasm [FILTER] [ARGS]...  (cli/test.c) */
int cli_test(int argc, char **argv);
/* Is `lunatic run ARGS` cargo's test runner invocation (ABI.md 3.4:
 * CARGO_MANIFEST_DIR set, the file under target/wasm32-wasi/(debug|
 * release)/deps/, no --bench)? argv[0] is "run" (or the program). */
bool cli_is_cargo_test(int argc, char **argv);

/* Compiles the module in file path (mapped, not read; its size in *len):
 * NULL with one line in err ("cannot read 'x': ..." or "x: <why it is
 * invalid>"). keep: the module keeps its bytes, to be spawned on other
 * nodes (lunatic_module_keep_bytes). */
lunatic_module *cli_load_module(const char *path, bool keep, size_t *len, char *err,
                                size_t errsize);
/* The runtime options: threads (0: LUNATIC_THREADS, else one per core)
 * and LUNATIC_REDUCTIONS, the budget per slice (1: the stress mode). */
lunatic_options cli_runtime_options(unsigned threads);
/* Adds a preopen given as DIR (the guest sees it as DIR) or HOST::GUEST
 * (the host directory HOST, seen as GUEST). 0, or -1 (malformed, out of
 * memory). (cli/options.c) */
int cli_add_dir(lunatic_config *c, const char *arg);
/* Parses a size in bytes with an optional K, M or G suffix (powers of
 * 1024, "64M", "64MiB"). 0, or -1 if malformed. */
int cli_parse_size(const char *s, uint64_t *out);

#endif
