/*
 * bench.h - what the two sides of the SQLite benchmark share (native.c on
 * libsqlite3, guest.c on lunatic::sqlite): the schema, the pragmas, the
 * row values and the sequence of keys read, so both do the same work.
 */
#ifndef SQLBENCH_H
#define SQLBENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define DB_FILE "bench.db"
/* WAL without syncs: the benchmark measures the cost of the calls, not of
 * the disk (fdatasync takes 1-30 ms on this VM and swamps everything) */
#define PRAGMAS "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA busy_timeout = 60000"
#define SCHEMA "CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
#define INSERT_SQL "INSERT INTO kv (id, v) VALUES (?1, ?2)"
#define SELECT_SQL "SELECT v FROM kv WHERE id = ?1"
#define READ_ROWS 100000   /* rows in the table the reads look up */

/* The 32-byte text stored under every key. The same for all rows on
 * purpose: the benchmark measures the SQLite calls, and computing a value
 * per row costs a guest about ten times what it costs native code (our
 * interpreter; bench/run.sh measures that): formatting one with snprintf
 * takes a guest 1.3 us, as long as a whole insert. */
#define BENCH_VALUE "value-0123456789abcdefghijklmnop"

/* The i-th key worker w looks up: a pseudo-random key in [0, READ_ROWS). */
static inline int64_t bench_key(uint64_t w, uint64_t i)
{
    uint64_t x = (w + 1) * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull;
    x ^= x >> 31;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 29;
    return (int64_t)(x % READ_ROWS);
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole OS process, all threads (for a guest: the
 * runtime's, through WASI's process CPU-time clock). On a machine shared
 * with other work, operations per CPU second compare the two sides better
 * than wall time, which depends on how much of a core each one got. */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The result line both sides print: per wall second, per CPU second. */
static inline void bench_report(const char *what, double ops, double wall, double cpu, char *out, size_t n)
{
    snprintf(out, n, "%s %.0f %.0f\n", what, ops / wall, ops / cpu);
}

#endif
