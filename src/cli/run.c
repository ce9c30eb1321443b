/*
 * run.c - `lunatic run [--dir DIR]... FILE.wasm [ARGS]...`: runs a WASI
 * command module as the main process.
 *
 * Exit status: the guest's proc_exit code; 0 when _start returns; 1 when
 * the module cannot be loaded (missing file, invalid module, unknown or
 * mistyped import, instantiation failure, no _start); 134 (as an abort)
 * when the guest traps; 2 for a usage error. Every failure prints one line
 * "lunatic: <cause>" on stderr (a trap adds its Wasm backtrace below).
 *
 * Blocking WASI calls suspend the exec (see wasi.h); with a single process
 * the run loop simply waits on what the context recorded and resumes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "wasi/host.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

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

/* Reads a whole file; returns NULL with errno set. */
static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return NULL;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = b;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            buf = NULL;
            errno = e;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* Runs f to completion, waiting out suspensions. Returns the status. */
static int run_func(wasm_exec *x, wasm_func *f, wasi_ctx *ctx)
{
    wasm_val noargs[1] = {0};
    int st = wasm_exec_call(x, f, noargs);
    for (;;) {
        if (st == WASM_YIELD) {
            st = wasm_exec_resume(x);
        } else if (st == WASM_SUSPEND) {
            wasi_ctx_wait(ctx);
            st = wasm_exec_resume(x);
        } else {
            return st;
        }
    }
}

/* Maps the end of a run to an exit status, printing the cause of a trap. */
static int finish(wasm_exec *x, int st, const char *file, int *done)
{
    *done = 1;
    if (st == WASM_OK) {
        *done = 0;
        return 0;
    }
    if (wasm_exec_trap_kind(x) == WASM_TRAP_EXIT) {
        log_debug("process exited with code %d", wasm_exec_exit_code(x));
        return wasm_exec_exit_code(x);
    }
    char buf[8192];
    size_t n = wasm_exec_trap_format(x, buf, sizeof buf);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    buf[n] = 0;
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    log_error("%s: trap: %s", file, buf);
    return EXIT_TRAP;
}

static void usage(void)
{
    fprintf(stderr, "usage: lunatic run [--dir DIR]... [--bench] FILE.wasm [ARGS]...\n");
}

int cli_run(int argc, char **argv)
{
    int ndirs = 0, i = 1, bench = 0;
    wasi_preopen *pre = calloc((size_t)argc + 1, sizeof *pre);
    if (!pre)
        return EXIT_LOAD;
    pre[ndirs++] = (wasi_preopen){".", "."};
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--dir")) {
            if (i + 1 >= argc) {
                log_error("--dir needs a directory");
                free(pre);
                return EXIT_USAGE;
            }
            pre[ndirs].name = pre[ndirs].path = argv[++i];
            ndirs++;
        } else if (!strncmp(a, "--dir=", 6)) {
            pre[ndirs].name = pre[ndirs].path = a + 6;
            ndirs++;
        } else if (!strcmp(a, "--bench")) {
            bench = 1;   /* the original passes it on to the guest */
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (a[0] == '-' && a[1] == '-') {
            log_error("unknown option '%s'", a);
            usage();
            free(pre);
            return EXIT_USAGE;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage();
        free(pre);
        return EXIT_USAGE;
    }
    const char *file = argv[i];
    int status = EXIT_LOAD;
    uint8_t *bytes = NULL;
    wasm_module *mod = NULL;
    wasm_extern *imports = NULL;
    wasi_ctx *ctx = NULL;
    wasm_instance *inst = NULL;
    wasm_exec *x = NULL;
    char err[512];
    double t0 = now_ms();

    size_t len;
    if (!(bytes = read_file(file, &len))) {
        log_error("cannot read '%s': %s", file, strerror(errno));
        goto out;
    }
    wasm_error werr;
    memset(&werr, 0, sizeof werr);
    mod = wasm_module_new(bytes, len, &werr);
    free(bytes);
    bytes = NULL;
    if (!mod) {
        log_error("invalid module '%s': at byte offset %zu: %s", file, werr.offset, werr.msg);
        goto out;
    }
    double t1 = now_ms();
    log_debug("compiled %s (%zu bytes) in %.3f ms", file, len, t1 - t0);

    uint32_t nimp = wasm_module_num_imports(mod);
    imports = calloc(nimp ? nimp : 1, sizeof *imports);
    const host_table *tables[] = {wasi_host_table()};
    if (!imports) {
        log_error("out of memory");
        goto out;
    }
    if (host_resolve(tables, 1, mod, imports, err, sizeof err)) {
        log_error("%s: %s", file, err);
        goto out;
    }

    int envc = 0;
    while (environ && environ[envc])
        envc++;
    /* The guest's argv: [file, args...] (+ "--bench", ABI 3.2). */
    int gargc = argc - i;
    const char **gargv = calloc((size_t)gargc + 2, sizeof *gargv);
    if (!gargv) {
        log_error("out of memory");
        goto out;
    }
    for (int k = 0; k < gargc; k++)
        gargv[k] = argv[i + k];
    if (bench)
        gargv[gargc++] = "--bench";
    wasi_config cfg = {
        .argc = gargc,
        .argv = gargv,
        .envc = envc,
        .env = (const char *const *)environ,
        .npreopens = ndirs,
        .preopens = pre,
    };
    ctx = wasi_ctx_new(&cfg, err, sizeof err);
    free(gargv);
    if (!ctx) {
        log_error("%s", err);
        goto out;
    }

    /* The main process config (ABI 3.2): memory below 4 GiB, tables under
     * 100 000 elements. */
    wasm_limits limits = {.max_memory_bytes = UINT32_MAX, .max_table_elems = 100000};
    memset(&werr, 0, sizeof werr);
    if (!(inst = wasm_instance_new(mod, imports, nimp, &limits, &werr))) {
        log_error("cannot instantiate '%s': %s", file, werr.msg);
        goto out;
    }
    wasm_instance_set_user(inst, ctx);
    if (!(x = wasm_exec_new(0))) {
        log_error("out of memory");
        goto out;
    }
    log_debug("instantiated in %.3f ms", now_ms() - t1);

    int done = 0;
    wasm_func *start = wasm_instance_start_func(inst);
    if (start) {
        status = finish(x, run_func(x, start, ctx), file, &done);
        if (done)
            goto out;
    }
    wasm_extern ex;
    if (wasm_instance_export(inst, "_start", &ex) || ex.kind != WASM_EXTERN_FUNC) {
        log_error("%s: no exported function '_start'", file);
        status = EXIT_LOAD;
        goto out;
    }
    const wasm_functype *ft = wasm_func_type(ex.u.func);
    if (ft->nparams || ft->nresults) {
        char tb[128];
        log_error("%s: '_start' has type %s, expected () -> ()", file,
                  host_type_format(ft, tb, sizeof tb));
        status = EXIT_LOAD;
        goto out;
    }
    status = finish(x, run_func(x, ex.u.func, ctx), file, &done);
    log_debug("main process finished with status %d after %.3f ms", status, now_ms() - t0);

out:
    if (x)
        wasm_exec_free(x);
    if (inst)
        wasm_instance_free(inst);
    wasi_ctx_free(ctx);
    free(imports);
    if (mod)
        wasm_module_release(mod);
    free(bytes);
    free(pre);
    return status;
}
