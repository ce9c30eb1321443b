/*
 * log.c - the CLI's logging helper (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/log.h"

static int level = -1;

static int mentions_debug(const char *v)
{
    return v && (strstr(v, "debug") || strstr(v, "trace"));
}

int log_debug_enabled(void)
{
    if (level < 0)
        level = mentions_debug(getenv("LUNATIC_LOG")) || mentions_debug(getenv("RUST_LOG"));
    return level;
}

void log_debug(const char *fmt, ...)
{
    if (!log_debug_enabled())
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("[debug] ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lunatic: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
