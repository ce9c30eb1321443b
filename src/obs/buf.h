/*
 * buf.h - a growable byte buffer for the text the observability layer
 * renders (Prometheus text, JSON, the process table, HTTP responses).
 *
 * Out of memory is sticky: later appends are ignored and `oom` stays set,
 * so a renderer appends without checking and its caller checks once.
 */
#ifndef LUNATIC_OBS_BUF_H
#define LUNATIC_OBS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lobs_buf {
    char *data;       /* NUL-terminated while not oom (NULL while empty) */
    size_t len, cap;
    bool oom;
} lobs_buf;

void lobs_buf_add(lobs_buf *b, const void *s, size_t n);
void lobs_buf_str(lobs_buf *b, const char *s);
void lobs_buf_printf(lobs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The shortest decimal that reads back as d, formatted as Prometheus's Go
 * clients do ("0.001", "200000", "1e+06"; "NaN", "+Inf", "-Inf"). */
void lobs_buf_double(lobs_buf *b, double d);
void lobs_buf_u64(lobs_buf *b, uint64_t v);
/* s (n bytes) as a JSON string with its quotes. Invalid UTF-8 becomes
 * U+FFFD; <, > and & are escaped too, so the text is safe inside HTML. */
void lobs_buf_json_str(lobs_buf *b, const char *s, size_t n);
/* Frees the bytes; b is empty and usable again. */
void lobs_buf_free(lobs_buf *b);

#endif
