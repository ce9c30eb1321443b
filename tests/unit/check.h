/*
 * check.h - a tiny shared helper for the unit tests.
 *
 *   CHECK(cond, fmt, ...)   counts a pass, or prints "FAIL file:line: ..."
 *                           and counts a failure (a statement)
 *   check_report()          prints the last line "N passed, M failed" and
 *                           returns the exit status (0 only if none failed)
 *   wat_to_wasm(wat, &len)  runs `wat2wasm --debug-names` on the text (extra
 *                           flags via wat_to_wasm_flags) and returns the
 *                           malloc'ed binary, or NULL after a FAIL
 *   wat_module(wat)         the same, then lw_module_new; NULL after a FAIL
 *   check_begin(name, secs) names the test about to run and gives it secs
 *                           seconds (alarm): past them the binary prints
 *                           "FAIL name: timed out (hang)", the result line,
 *                           and exits 1 (check_begin(NULL, 0) disarms)
 *
 * Everything is static: include it from exactly one .c file per test binary.
 */
#ifndef LUNATIC_TESTS_CHECK_H
#define LUNATIC_TESTS_CHECK_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasm/lw.h"

static int check_passed, check_failed;

static void check_fail_(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_fail_(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    check_failed++;
    printf("FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond)                                                             \
            check_passed++;                                                   \
        else                                                                  \
            check_fail_(__FILE__, __LINE__, __VA_ARGS__);                     \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    fflush(stdout);
    return check_failed ? 1 : 0;
}

/* The test check_begin named last, for the alarm handler. */
static inline const char *volatile *check_current_(void)
{
    static const char *volatile name = "setup";
    return &name;
}

static inline void check_on_alarm_(int sig)
{
    (void)sig;
    char buf[256];
    int n = snprintf(buf, sizeof buf, "FAIL %s: timed out (hang)\n%d passed, %d failed\n",
                     *check_current_(), check_passed, check_failed + 1);
    ssize_t r = write(1, buf, (size_t)n);
    (void)r;
    _exit(1);
}

static inline void check_begin(const char *name, unsigned secs)
{
    signal(SIGALRM, check_on_alarm_);
    if (name)
        *check_current_() = name;
    alarm(secs);
}

/* Reads a whole file; returns malloc'ed bytes or NULL. */
static inline uint8_t *check_read_file_(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Assembles WAT text with wat2wasm (flags e.g. "--no-check"). */
static inline uint8_t *wat_to_wasm_flags(const char *wat, size_t *len, const char *flags)
{
    char in[] = "/tmp/lunatic-test-XXXXXX.wat";
    int fd = mkstemps(in, 4);
    if (fd < 0) {
        check_fail_(__FILE__, __LINE__, "mkstemps failed");
        return NULL;
    }
    size_t wl = strlen(wat);
    int ok = write(fd, wat, wl) == (ssize_t)wl;
    close(fd);
    char out[sizeof in + 8];
    snprintf(out, sizeof out, "%.*s.wasm", (int)(sizeof in - 5), in);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "wat2wasm --debug-names %s -o '%s' '%s' 2>&1", flags ? flags : "",
             out, in);
    uint8_t *bin = NULL;
    if (ok && system(cmd) == 0)
        bin = check_read_file_(out, len);
    unlink(in);
    unlink(out);
    if (!bin)
        check_fail_(__FILE__, __LINE__, "wat2wasm failed on:\n%s", wat);
    return bin;
}

static inline uint8_t *wat_to_wasm(const char *wat, size_t *len)
{
    return wat_to_wasm_flags(wat, len, "");
}

/* Assembles and loads a module; on failure prints why and returns NULL. */
static inline lw_module *wat_module(const char *wat)
{
    size_t len = 0;
    uint8_t *bin = wat_to_wasm(wat, &len);
    if (!bin)
        return NULL;
    lw_error err;
    memset(&err, 0, sizeof err);
    lw_module *m = lw_module_new(bin, len, &err);
    free(bin);
    if (!m)
        check_fail_(__FILE__, __LINE__, "lw_module_new failed at %zu: %s\n%s", err.offset,
                    err.msg, wat);
    return m;
}

/* Instantiates m with the given imports and default limits; NULL after a FAIL. */
static inline lw_instance *check_instance(lw_module *m, const lw_extern *imports,
                                          uint32_t n, const lw_limits *limits)
{
    lw_error err;
    memset(&err, 0, sizeof err);
    lw_instance *inst = lw_instance_new(m, imports, n, limits, &err);
    if (!inst)
        check_fail_(__FILE__, __LINE__, "lw_instance_new failed: %s", err.msg);
    return inst;
}

/* The exported function `name` of inst, or NULL after a FAIL. */
static inline lw_func *check_export_func(lw_instance *inst, const char *name)
{
    lw_extern ex;
    if (!inst || lw_instance_export(inst, name, &ex) != 0 || ex.kind != LW_EXTERN_FUNC) {
        check_fail_(__FILE__, __LINE__, "no exported function \"%s\"", name);
        return NULL;
    }
    return ex.u.func;
}

#endif
