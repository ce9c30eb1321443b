/* common.h - helpers shared by the WASI test programs. They are built both
 * for wasm32-wasi and natively, and must print the same bytes in both. */
#ifndef TESTS_WASI_COMMON_H
#define TESTS_WASI_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* errno names, not numbers: they differ between wasi-libc and glibc. */
static inline const char *errname(int e)
{
    switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EXDEV: return "EXDEV";
    case ESPIPE: return "ESPIPE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
#ifdef ENOTCAPABLE
    case ENOTCAPABLE: return "ENOTCAPABLE";
#endif
    default: return "E?";
    }
}

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("FAIL %s:%d: %s (errno %s)\n", __FILE__, __LINE__, #cond,      \
                   errname(errno));                                              \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Prints the outcome of a call that returns -1/NULL on failure. */
#define SHOW(what, ok)                                                           \
    do {                                                                         \
        errno = 0;                                                               \
        int ok_ = (ok);                                                          \
        printf("%s: %s\n", what, ok_ ? "ok" : errname(errno));                   \
    } while (0)

#endif
