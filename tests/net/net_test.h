/*
 * net_test.h - helpers of the networking test guests (the programs in
 * tests/net, run by tests/t-net.sh): checks that print "ok"/"FAIL" lines
 * and count, and error texts.
 */
#ifndef NET_TEST_H
#define NET_TEST_H

#include "lunatic_guest.h"
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static int failures;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            lg_printf("ok   " __VA_ARGS__);                                                    \
            lg_printf("\n");                                                                   \
        } else {                                                                               \
            failures++;                                                                        \
            lg_printf("FAIL %s:%d: ", __FILE__, __LINE__);                                     \
            lg_printf(__VA_ARGS__);                                                            \
            lg_printf("\n");                                                                   \
        }                                                                                      \
    } while (0)

static inline uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The text of an error id (dropped), in a static buffer. */
static inline const char *err_text(uint64_t id)
{
    static char buf[512];
    lg_error_string(id, buf, sizeof buf);
    lg_error_drop(id);
    return buf;
}

/* Reads exactly len bytes (or until EOF/error); returns the count. */
static inline size_t read_n(uint64_t stream, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t n;
        if (lg_tcp_read(stream, (char *)buf + got, len - got, &n, NULL) != LG_OK || n == 0)
            break;
        got += n;
    }
    return got;
}

static inline int finish(void)
{
    lg_printf("%s\n", failures ? "some checks failed" : "all checks passed");
    return failures ? 1 : 0;
}

#endif
