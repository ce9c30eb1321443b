/*
 * buf.c - the growable buffer of the observability layer (buf.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/buf.h"

static bool reserve(lobs_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void lobs_buf_add(lobs_buf *b, const void *s, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void lobs_buf_str(lobs_buf *b, const char *s) { lobs_buf_add(b, s, strlen(s)); }

void lobs_buf_printf(lobs_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        lobs_buf_add(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lobs_buf_double(lobs_buf *b, double d)
{
    char tmp[40];
    if (isnan(d)) {
        lobs_buf_str(b, "NaN");
        return;
    }
    if (isinf(d)) {
        lobs_buf_str(b, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* as Go's strconv.FormatFloat(d, 'g', -1, 64), which Prometheus's
     * own clients use: the fewest digits that read back as d, in
     * exponent form when the exponent is below -4 or 6 and above */
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    int exp = atoi(strchr(tmp, 'e') + 1);
    if (exp >= -4 && exp < 6)
        snprintf(tmp, sizeof tmp, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
    lobs_buf_str(b, tmp);
}

void lobs_buf_u64(lobs_buf *b, uint64_t v) { lobs_buf_printf(b, "%llu", (unsigned long long)v); }

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (!len || len > n || (len == 2 && c < 0xc2) || c > 0xf4)
        return 0;   /* not a lead byte, cut short, overlong in two bytes, or > U+10FFFF */
    if (c == 0xf4 && s[1] > 0x8f)
        return 0;   /* > U+10FFFF */
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)))
        return 0;   /* overlong, or a surrogate */
    if (len == 4 && c == 0xf0 && s[1] < 0x90)
        return 0;   /* overlong */
    return len;
}

void lobs_buf_json_str(lobs_buf *b, const char *str, size_t n)
{
    const uint8_t *s = (const uint8_t *)str;
    lobs_buf_add(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_len(s + i, n - i);
            if (len) {
                lobs_buf_add(b, s + i, len);
                i += len;
            } else {
                lobs_buf_str(b, "\\ufffd");
                i++;
            }
            continue;
        }
        switch (c) {
        case '"': lobs_buf_str(b, "\\\""); break;
        case '\\': lobs_buf_str(b, "\\\\"); break;
        case '\n': lobs_buf_str(b, "\\n"); break;
        case '\r': lobs_buf_str(b, "\\r"); break;
        case '\t': lobs_buf_str(b, "\\t"); break;
        default:
            if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
                lobs_buf_printf(b, "\\u%04x", c);
            else
                lobs_buf_add(b, &c, 1);
        }
        i++;
    }
    lobs_buf_add(b, "\"", 1);
}

void lobs_buf_free(lobs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
