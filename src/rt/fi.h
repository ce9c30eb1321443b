/*
 * fi.h - fault injection for the allocations of the runtime and host
 * layers (src/rt, src/api, src/obs, src/embed), in test builds only.
 *
 * `make FI=1` forces this header into every file of those layers with
 * -include (Makefile), so that malloc, calloc, realloc, strdup, strndup,
 * posix_memalign, aligned_alloc and lw_obj_alloc (the object pool the
 * process structs come from) name the counting wrappers of fi.c. The call
 * sites stay plain C; a normal build neither includes this header nor
 * compiles fi.c, so the wrappers cost nothing there. The engine (src/wasm)
 * and WASI keep the real allocator: the point is the runtime's own failure
 * paths, and the engine's are reached through it anyway (an instance or a
 * compile that fails reports NULL to the runtime).
 *
 * Every wrapped allocation counts, from 1, across all threads. At run time
 * (environment, read once at start):
 *   LUNATIC_FAIL_ALLOC=K        allocation number K returns NULL (0: none)
 *   LUNATIC_FAIL_ALLOC_N=N      ... and the N-1 after it too (default 1;
 *                               0: every allocation from K on)
 *   LUNATIC_FAIL_ALLOC_REPORT=1 at exit, "lunatic-fi: N allocations" on
 *                               stderr (how long a sweep must be), and a
 *                               line with a backtrace for each failed one
 * tests/faults/sweep.sh fails each K of a workload in turn.
 *
 * The count is global, so with several threads the K-th allocation is not
 * always the same one from run to run; a sweep runs with --threads 1 for
 * reproducible results, and the line printed for a failed allocation says
 * which it was.
 */
#ifndef LUNATIC_RT_FI_H
#define LUNATIC_RT_FI_H

/* The real declarations first: the macros below must not rename them. */
#include <stdlib.h>
#include <string.h>

void *lt_fi_malloc(size_t size);
void *lt_fi_calloc(size_t n, size_t size);
void *lt_fi_realloc(void *p, size_t size);
char *lt_fi_strdup(const char *s);
char *lt_fi_strndup(const char *s, size_t n);
int lt_fi_posix_memalign(void **p, size_t align, size_t size);
void *lt_fi_aligned_alloc(size_t align, size_t size);
void *lt_fi_obj_alloc(size_t size);

#define malloc lt_fi_malloc
#define calloc lt_fi_calloc
#define realloc lt_fi_realloc
#define strdup lt_fi_strdup
#define strndup lt_fi_strndup
#define posix_memalign lt_fi_posix_memalign
#define aligned_alloc lt_fi_aligned_alloc
#define lw_obj_alloc lt_fi_obj_alloc

#endif
