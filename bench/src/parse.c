/* parse: generates JSON-like text (an array of records with strings, escapes,
 * integers, decimals, booleans, nested arrays and objects) and parses it with
 * a recursive-descent parser several times, folding what it sees into a
 * checksum. Byte-at-a-time branches, small function calls, recursion. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

#define RECORDS 12000
#define ROUNDS 32

/* ---- generator ---- */
static char *out;
static size_t olen, ocap;

static void put(const char *s, size_t n)
{
    if (olen + n + 1 > ocap) {
        ocap = (ocap + n + 1) * 2;
        out = realloc(out, ocap);
    }
    memcpy(out + olen, s, n);
    olen += n;
    out[olen] = 0;
}
static void puts_(const char *s) { put(s, strlen(s)); }
static void putnum(long long v)
{
    char b[32];
    int n = 0;
    unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;
    do { b[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) b[n++] = '-';
    char r[32];
    for (int i = 0; i < n; i++) r[i] = b[n - 1 - i];
    put(r, (size_t)n);
}
static void putword(void)
{
    static const char *syl[] = {"ka", "lu", "na", "ti", "co", "re", "mo", "zu", "\\n", "\\\"", "x", "q"};
    put("\"", 1);
    int n = 1 + (int)(bench_rand32() % 6);
    for (int i = 0; i < n; i++) puts_(syl[bench_rand32() % 12]);
    put("\"", 1);
}
static void gen(void)
{
    puts_("[\n");
    for (int i = 0; i < RECORDS; i++) {
        if (i) puts_(",\n");
        puts_("  {\"id\": "); putnum(i * 7 + 3);
        puts_(", \"name\": "); putword();
        puts_(", \"score\": "); putnum((long long)(bench_rand32() % 200000) - 100000);
        put(".", 1); putnum(bench_rand32() % 100);
        puts_(", \"ok\": "); puts_(bench_rand32() & 1 ? "true" : "false");
        puts_(", \"tags\": [");
        int nt = (int)(bench_rand32() % 5);
        for (int t = 0; t < nt; t++) { if (t) puts_(", "); putword(); }
        puts_("], \"pos\": {\"x\": "); putnum((long long)(bench_rand32() % 2000) - 1000);
        puts_(", \"y\": "); putnum((long long)(bench_rand32() % 2000) - 1000);
        puts_(", \"extra\": null}}");
    }
    puts_("\n]\n");
}

/* ---- parser ---- */
typedef struct {
    const char *p;
    uint64_t hash;
    long long ints, fixed;   /* sum of integers, sum of decimals in 1/100 */
    unsigned strings, objects, arrays, trues, nulls, depth_max;
    int err;
} parser;

static void ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
}
static void value(parser *ps, unsigned depth);

static void string(parser *ps)
{
    if (*ps->p != '"') { ps->err = 1; return; }
    ps->p++;
    uint64_t h = ps->hash;
    for (;;) {
        char c = *ps->p++;
        if (c == '"') break;
        if (c == 0) { ps->err = 1; return; }
        if (c == '\\') {
            char e = *ps->p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            default: ps->err = 1; return;
            }
        }
        h = (h ^ (unsigned char)c) * 0x100000001B3ull;
    }
    ps->hash = h;
    ps->strings++;
}
static void number(parser *ps)
{
    int neg = 0;
    if (*ps->p == '-') { neg = 1; ps->p++; }
    long long v = 0;
    if (*ps->p < '0' || *ps->p > '9') { ps->err = 1; return; }
    while (*ps->p >= '0' && *ps->p <= '9') v = v * 10 + (*ps->p++ - '0');
    if (*ps->p == '.') {
        ps->p++;
        long long frac = 0;
        int digits = 0;
        while (*ps->p >= '0' && *ps->p <= '9') { frac = frac * 10 + (*ps->p++ - '0'); digits++; }
        while (digits < 2) { frac *= 10; digits++; }
        long long f = v * 100 + frac;
        ps->fixed += neg ? -f : f;
    } else {
        ps->ints += neg ? -v : v;
    }
}
static void lit(parser *ps, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(ps->p, w, n) != 0) { ps->err = 1; return; }
    ps->p += n;
}
static void value(parser *ps, unsigned depth)
{
    if (depth > ps->depth_max) ps->depth_max = depth;
    ws(ps);
    switch (*ps->p) {
    case '{':
        ps->p++; ps->objects++; ws(ps);
        if (*ps->p == '}') { ps->p++; return; }
        for (;;) {
            ws(ps); string(ps); ws(ps);
            if (ps->err || *ps->p != ':') { ps->err = 1; return; }
            ps->p++;
            value(ps, depth + 1);
            if (ps->err) return;
            ws(ps);
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == '}') { ps->p++; return; }
            ps->err = 1; return;
        }
    case '[':
        ps->p++; ps->arrays++; ws(ps);
        if (*ps->p == ']') { ps->p++; return; }
        for (;;) {
            value(ps, depth + 1);
            if (ps->err) return;
            ws(ps);
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == ']') { ps->p++; return; }
            ps->err = 1; return;
        }
    case '"': string(ps); return;
    case 't': lit(ps, "true"); ps->trues++; return;
    case 'f': lit(ps, "false"); return;
    case 'n': lit(ps, "null"); ps->nulls++; return;
    default: number(ps); return;
    }
}

int main(void)
{
    bench_seed(777);
    gen();
    parser ps;
    uint64_t total = BENCH_FNV_INIT;
    for (int r = 0; r < ROUNDS; r++) {
        memset(&ps, 0, sizeof ps);
        ps.p = out;
        ps.hash = BENCH_FNV_INIT + (uint64_t)r;
        value(&ps, 0);
        ws(&ps);
        if (ps.err || *ps.p) {
            printf("parse error at offset %ld\n", (long)(ps.p - out));
            return 1;
        }
        total = bench_fnv(total, &ps.hash, sizeof ps.hash);
    }
    printf("parse %zu bytes: strings=%u objects=%u arrays=%u trues=%u nulls=%u depth=%u "
           "ints=%lld fixed=%lld hash=%016llx\n",
           olen, ps.strings, ps.objects, ps.arrays, ps.trues, ps.nulls, ps.depth_max,
           ps.ints, ps.fixed, (unsigned long long)total);
    free(out);
    return 0;
}
