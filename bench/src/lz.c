/* lz: an LZ77 compressor (hash of the next 4 bytes, a single candidate per
 * bucket, greedy matching, varint-coded literal runs and matches) and its
 * decompressor, run over generated English-like text; the round trip is
 * verified. Byte loads/stores, hashing, unpredictable branches, memcpy. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define TEXT_SIZE (1u << 20)
#define HBITS 14
#define MINMATCH 4
#define ROUNDS 12

static uint8_t *put_varint(uint8_t *o, uint32_t v)
{
    while (v >= 0x80) { *o++ = (uint8_t)(v | 0x80); v >>= 7; }
    *o++ = (uint8_t)v;
    return o;
}
static const uint8_t *get_varint(const uint8_t *i, uint32_t *v)
{
    uint32_t r = 0;
    int s = 0;
    for (;;) {
        uint8_t b = *i++;
        r |= (uint32_t)(b & 0x7f) << s;
        if (!(b & 0x80)) break;
        s += 7;
    }
    *v = r;
    return i;
}
static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* token stream: varint(literal count) literals varint(match len - MINMATCH + 1 or 0 at end)
 * varint(distance) */
static size_t compress(const uint8_t *in, size_t n, uint8_t *out)
{
    static uint32_t table[1 << HBITS];
    memset(table, 0xff, sizeof table);
    uint8_t *o = out;
    size_t i = 0, lit = 0;
    while (i + MINMATCH <= n) {
        uint32_t h = (load32(in + i) * 2654435761u) >> (32 - HBITS);
        uint32_t cand = table[h];
        table[h] = (uint32_t)i;
        if (cand != 0xffffffffu && i - cand < (1u << 20) && load32(in + cand) == load32(in + i)) {
            size_t len = MINMATCH;
            while (i + len < n && in[cand + len] == in[i + len]) len++;
            o = put_varint(o, (uint32_t)(i - lit));
            memcpy(o, in + lit, i - lit);
            o += i - lit;
            o = put_varint(o, (uint32_t)(len - MINMATCH + 1));
            o = put_varint(o, (uint32_t)(i - cand));
            i += len;
            lit = i;
        } else {
            i++;
        }
    }
    o = put_varint(o, (uint32_t)(n - lit));
    memcpy(o, in + lit, n - lit);
    o += n - lit;
    o = put_varint(o, 0);
    return (size_t)(o - out);
}

static size_t decompress(const uint8_t *in, uint8_t *out)
{
    uint8_t *o = out;
    for (;;) {
        uint32_t nl, ml, dist;
        in = get_varint(in, &nl);
        memcpy(o, in, nl);
        o += nl;
        in += nl;
        in = get_varint(in, &ml);
        if (ml == 0) break;
        in = get_varint(in, &dist);
        size_t len = ml + MINMATCH - 1;
        const uint8_t *src = o - dist;
        for (size_t k = 0; k < len; k++) o[k] = src[k];   /* may overlap */
        o += len;
    }
    return (size_t)(o - out);
}

int main(void)
{
    static const char *words[] = {"the ", "quick ", "lunatic ", "process ", "sends ", "a ",
                                  "message ", "to ", "another ", "mailbox ", "and ", "waits ",
                                  "for ", "reply, ", "while ", "scheduler ", "runs ", "others. ",
                                  "WebAssembly ", "instance "};
    uint8_t *text = malloc(TEXT_SIZE);
    uint8_t *comp = malloc(TEXT_SIZE + TEXT_SIZE / 2);
    uint8_t *back = malloc(TEXT_SIZE + 64);
    bench_seed(2024);
    size_t n = 0;
    while (n < TEXT_SIZE - 16) {
        uint32_t r = bench_rand32();
        if (r % 29 == 0) {   /* some noise so not everything matches */
            text[n++] = (uint8_t)('0' + (r >> 8) % 10);
            continue;
        }
        const char *w = words[(r >> 8) % 20];
        size_t l = strlen(w);
        memcpy(text + n, w, l);
        n += l;
    }
    size_t clen = 0, dlen = 0;
    uint64_t h = BENCH_FNV_INIT;
    for (int r = 0; r < ROUNDS; r++) {
        text[r] ^= 0x20;
        clen = compress(text, n, comp);
        dlen = decompress(comp, back);
        if (dlen != n || memcmp(text, back, n) != 0) {
            printf("lz: round trip FAILED\n");
            return 1;
        }
        h = bench_fnv(h, comp, clen);
    }
    printf("lz: %zu -> %zu bytes, hash=%016llx\n", n, clen, (unsigned long long)h);
    free(text); free(comp); free(back);
    return 0;
}
