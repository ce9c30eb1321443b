/*
 * fi.c - the allocation wrappers of fault injection (fi.h), compiled only
 * in `make FI=1` builds.
 *
 * fail() decides for each allocation: it takes the next number and says
 * whether that one fails. The settings are read once, before main, while
 * there is one thread.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* This file calls the real functions that fi.h renames. */
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#undef strndup
#undef posix_memalign
#undef aligned_alloc
#undef lw_obj_alloc

#include "rt/fi.h"
#include "wasm/lw.h"

static atomic_uint_fast64_t count;      /* allocations so far */
static uint64_t fail_from, fail_to;     /* [from, to) fail; from 0: none */
static bool report;

/* ASan's own stack printer (symbolized), when the build has it. */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static void say(const char *what, uint64_t n, size_t size)
{
    char line[160];
    int len = snprintf(line, sizeof line, "lunatic-fi: failing allocation %llu (%s, %zu bytes)\n",
                       (unsigned long long)n, what, size);
    if (len > 0 && write(2, line, (size_t)len) < 0)
        return;
    if (__sanitizer_print_stack_trace) {
        __sanitizer_print_stack_trace();
    } else {
        void *frames[32];
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
}

static bool fail(const char *what, size_t size)
{
    uint64_t n = atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) + 1;
    if (!fail_from || n < fail_from || n >= fail_to)
        return false;
    if (report)
        say(what, n, size);
    errno = ENOMEM;   /* as the real one */
    return true;
}

static void at_exit(void)
{
    char line[80];
    int len = snprintf(line, sizeof line, "lunatic-fi: %llu allocations\n",
                       (unsigned long long)atomic_load(&count));
    if (len > 0 && write(2, line, (size_t)len) < 0)
        return;
}

__attribute__((constructor)) static void setup(void)
{
    const char *k = getenv("LUNATIC_FAIL_ALLOC"), *n = getenv("LUNATIC_FAIL_ALLOC_N"),
               *r = getenv("LUNATIC_FAIL_ALLOC_REPORT");
    fail_from = k ? strtoull(k, NULL, 10) : 0;
    uint64_t len = n ? strtoull(n, NULL, 10) : 1;
    fail_to = len == 0 || fail_from > UINT64_MAX - len ? UINT64_MAX : fail_from + len;
    report = r && *r && *r != '0';
    if (report) {
        atexit(at_exit);
        /* backtrace() loads its unwinder on first use, which allocates:
         * better now than inside a failing allocation */
        void *frame;
        backtrace(&frame, 1);
    }
}

void *lt_fi_malloc(size_t size) { return fail("malloc", size) ? NULL : malloc(size); }

void *lt_fi_calloc(size_t n, size_t size)
{
    return fail("calloc", n * size) ? NULL : calloc(n, size);
}

void *lt_fi_realloc(void *p, size_t size) { return fail("realloc", size) ? NULL : realloc(p, size); }

char *lt_fi_strdup(const char *s) { return fail("strdup", strlen(s) + 1) ? NULL : strdup(s); }

char *lt_fi_strndup(const char *s, size_t n)
{
    return fail("strndup", strnlen(s, n) + 1) ? NULL : strndup(s, n);
}

int lt_fi_posix_memalign(void **p, size_t align, size_t size)
{
    return fail("posix_memalign", size) ? ENOMEM : posix_memalign(p, align, size);
}

void *lt_fi_aligned_alloc(size_t align, size_t size)
{
    return fail("aligned_alloc", size) ? NULL : aligned_alloc(align, size);
}

void *lt_fi_obj_alloc(size_t size) { return fail("lw_obj_alloc", size) ? NULL : lw_obj_alloc(size); }
