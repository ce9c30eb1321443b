/* common.h - tiny helpers shared by the benchmark programs (header only). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stdint.h>

/* xorshift64* pseudo-random generator: deterministic on every target. */
static uint64_t bench_rng_state = 0x9E3779B97F4A7C15ull;
static inline void bench_seed(uint64_t s) { bench_rng_state = s ? s : 1; }
static inline uint64_t bench_rand64(void)
{
    uint64_t x = bench_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    bench_rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
static inline uint32_t bench_rand32(void) { return (uint32_t)(bench_rand64() >> 32); }

/* FNV-1a over bytes, used to fold results into one checksum. */
static inline uint64_t bench_fnv(uint64_t h, const void *p, unsigned long n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (unsigned long i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001B3ull;
    }
    return h;
}
#define BENCH_FNV_INIT 0xCBF29CE484222325ull

#endif
