/* sort: a generic quicksort (median-of-three, insertion sort for small
 * ranges, recursion on the smaller half) that takes a comparator function
 * pointer like qsort(3), so every comparison is an indirect call. Sorts
 * random integers, then records by (string key, integer), and checks order. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

typedef int (*cmp_fn)(const void *, const void *);

static void swap_bytes(char *a, char *b, size_t size)
{
    while (size--) { char t = *a; *a++ = *b; *b++ = t; }
}

static void gsort(void *base, size_t n, size_t size, cmp_fn cmp)
{
    char *a = base;
    while (n > 12) {
        char *lo = a, *mid = a + (n / 2) * size, *hi = a + (n - 1) * size;
        if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
        if (cmp(hi, mid) < 0) {
            swap_bytes(hi, mid, size);
            if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
        }
        swap_bytes(mid, a, size);   /* pivot to the front */
        char *i = a + size, *j = a + (n - 1) * size;
        for (;;) {
            while (i <= j && cmp(i, a) < 0) i += size;
            while (i <= j && cmp(j, a) > 0) j -= size;
            if (i >= j) break;
            swap_bytes(i, j, size);
            i += size;
            j -= size;
        }
        swap_bytes(a, j, size);
        size_t left = (size_t)(j - a) / size, right = n - left - 1;
        if (left < right) {
            gsort(a, left, size, cmp);
            a = j + size;
            n = right;
        } else {
            gsort(j + size, right, size, cmp);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && cmp(a + (k - 1) * size, a + k * size) > 0; k--)
            swap_bytes(a + (k - 1) * size, a + k * size, size);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

typedef struct { char key[12]; int32_t n; } rec;

static int cmp_rec(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    return (a->n > b->n) - (a->n < b->n);
}

#define NINT 600000
#define NREC 120000

int main(void)
{
    uint32_t *v = malloc(NINT * sizeof *v);
    rec *r = malloc(NREC * sizeof *r);
    bench_seed(99);
    for (int i = 0; i < NINT; i++) v[i] = bench_rand32();
    for (int i = 0; i < NREC; i++) {
        int len = 3 + (int)(bench_rand32() % 8);
        for (int k = 0; k < len; k++) r[i].key[k] = (char)('a' + bench_rand32() % 6);
        r[i].key[len] = 0;
        r[i].n = (int32_t)(bench_rand32() % 1000);
    }
    gsort(v, NINT, sizeof *v, cmp_u32);
    gsort(r, NREC, sizeof *r, cmp_rec);
    for (int i = 1; i < NINT; i++)
        if (v[i - 1] > v[i]) { printf("sort: integers out of order at %d\n", i); return 1; }
    for (int i = 1; i < NREC; i++)
        if (cmp_rec(&r[i - 1], &r[i]) > 0) { printf("sort: records out of order at %d\n", i); return 1; }
    uint64_t h = BENCH_FNV_INIT;
    for (int i = 0; i < NINT; i += 97) h = bench_fnv(h, &v[i], 4);
    for (int i = 0; i < NREC; i += 31) { h = bench_fnv(h, r[i].key, strlen(r[i].key)); h = bench_fnv(h, &r[i].n, 4); }
    printf("sort: %d ints, %d records, min=%u max=%u first=%s last=%s h=%016llx\n", NINT, NREC,
           (unsigned)v[0], (unsigned)v[NINT - 1], r[0].key, r[NREC - 1].key, (unsigned long long)h);
    free(v); free(r);
    return 0;
}
