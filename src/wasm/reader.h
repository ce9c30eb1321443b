/*
 * reader.h - a bounds-checked cursor over a module binary, with the LEB128
 * decoders of the spec (strict about length and unused bits).
 *
 * On the first error the reader records it in err (with the byte offset)
 * and every later read returns 0, so callers check r->bad once per item.
 */
#ifndef LUNATIC_WASM_READER_H
#define LUNATIC_WASM_READER_H

#include <string.h>

#include "wasm/internal.h"

typedef struct reader {
    const uint8_t *base, *p, *end;
    lw_error *err;
    bool bad;
} reader;

static inline size_t rd_off(const reader *r) { return (size_t)(r->p - r->base); }

static inline bool rd_fail(reader *r, const char *msg)
{
    if (!r->bad) {
        r->bad = true;
        lw_error_set(r->err, rd_off(r), "%s", msg);
    }
    return false;
}

static inline uint8_t rd_u8(reader *r)
{
    if (r->bad)
        return 0;
    if (r->p >= r->end) {
        rd_fail(r, "unexpected end");
        return 0;
    }
    return *r->p++;
}

/* Unsigned LEB128 of at most `bits` bits. */
static inline uint64_t rd_uleb(reader *r, unsigned bits)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->bad)
            return 0;
        if (r->p >= r->end) {
            rd_fail(r, "unexpected end of section or function");
            return 0;
        }
        uint8_t b = *r->p++;
        if (shift + 7 >= bits) {
            /* last possible byte: no continuation, unused bits zero */
            unsigned left = bits - shift;
            if ((b & 0x80) || (left < 7 && (b >> left) != 0)) {
                rd_fail(r, (b & 0x80) ? "integer representation too long"
                                      : "integer too large");
                return 0;
            }
            return v | ((uint64_t)b << shift);
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
}

/* Signed LEB128 of at most `bits` bits, sign-extended to 64. */
static inline int64_t rd_sleb(reader *r, unsigned bits)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->bad)
            return 0;
        if (r->p >= r->end) {
            rd_fail(r, "unexpected end of section or function");
            return 0;
        }
        uint8_t b = *r->p++;
        if (shift + 7 >= bits) {
            unsigned left = bits - shift; /* bits that carry value */
            if (b & 0x80) {
                rd_fail(r, "integer representation too long");
                return 0;
            }
            /* the unused high bits must all equal the sign bit */
            int sign = (b >> (left - 1)) & 1;
            uint8_t unused = (uint8_t)((b & 0x7f) >> left);
            uint8_t want = sign ? (uint8_t)(0x7f >> left) : 0;
            if (left < 7 && unused != want) {
                rd_fail(r, "integer too large");
                return 0;
            }
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (shift < 64 && sign)
                v |= ~0ull << shift;
            return (int64_t)v;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~0ull << shift;
            return (int64_t)v;
        }
    }
}

static inline uint32_t rd_u32(reader *r) { return (uint32_t)rd_uleb(r, 32); }

static inline const uint8_t *rd_bytes(reader *r, uint64_t n)
{
    if (r->bad)
        return NULL;
    if ((uint64_t)(r->end - r->p) < n) {
        rd_fail(r, "unexpected end");
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static inline uint32_t rd_fixed32(reader *r)
{
    const uint8_t *p = rd_bytes(r, 4);
    uint32_t v = 0;
    if (p)
        memcpy(&v, p, 4);
    return v;
}

static inline uint64_t rd_fixed64(reader *r)
{
    const uint8_t *p = rd_bytes(r, 8);
    uint64_t v = 0;
    if (p)
        memcpy(&v, p, 8);
    return v;
}

static inline bool is_valtype(uint8_t t)
{
    return t == LW_I32 || t == LW_I64 || t == LW_F32 || t == LW_F64 ||
           t == LW_FUNCREF || t == LW_EXTERNREF;
}

static inline bool is_reftype(uint8_t t) { return t == LW_FUNCREF || t == LW_EXTERNREF; }

static inline uint8_t rd_valtype(reader *r)
{
    uint8_t t = rd_u8(r);
    if (!r->bad && !is_valtype(t))
        rd_fail(r, "malformed value type");
    return t;
}


#endif
