/*
 * native.c - the SQLite benchmark's work done by native C on libsqlite3:
 *   native insert P N B   P threads, each inserting N rows in transactions
 *                         of B rows (BEGIN IMMEDIATE ... COMMIT) through
 *                         its own connection; prints "rows X Y"
 *   native read P Q       P threads, each doing Q point reads by primary
 *                         key (bind, step, copy the text, reset) on a
 *                         table of READ_ROWS rows; prints "reads X Y"
 * in the current directory's DB_FILE (made afresh). X is per second,
 * Y per CPU second of the process (bench_cpu); time runs from the moment
 * every thread is ready to the end of the last.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int mode_insert;
static int64_t n_per, batch;
static pthread_barrier_t start;
static long failures;

static sqlite3 *open_db(void)
{
    sqlite3 *db;
    if (sqlite3_open_v2(DB_FILE, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(db, PRAGMAS, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "open: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

static void *worker(void *arg)
{
    uint64_t w = (uint64_t)(uintptr_t)arg;
    sqlite3 *db = open_db();
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, mode_insert ? INSERT_SQL : SELECT_SQL, -1, &st, NULL);
    long bad = 0;
    pthread_barrier_wait(&start);
    if (mode_insert) {
        for (int64_t i = 0; i < n_per; i += batch) {
            bad += sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK;
            for (int64_t k = i; k < i + batch && k < n_per; k++) {
                sqlite3_bind_int64(st, 1, (int64_t)w * n_per + k);
                sqlite3_bind_text(st, 2, BENCH_VALUE, 32, SQLITE_TRANSIENT);
                bad += sqlite3_step(st) != SQLITE_DONE;
                sqlite3_reset(st);
            }
            bad += sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
        }
    } else {
        char got[64];
        for (int64_t i = 0; i < n_per; i++) {
            sqlite3_bind_int64(st, 1, bench_key(w, (uint64_t)i));
            if (sqlite3_step(st) == SQLITE_ROW) {
                int n = sqlite3_column_bytes(st, 0);
                memcpy(got, sqlite3_column_text(st, 0), n < 64 ? (size_t)n : 64);
                bad += n != 32;
            } else {
                bad++;
            }
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    __atomic_add_fetch(&failures, bad, __ATOMIC_RELAXED);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: native insert P N B | native read P Q\n");
        return 2;
    }
    mode_insert = !strcmp(argv[1], "insert");
    int p = atoi(argv[2]);
    n_per = atoll(argv[3]);
    batch = argc > 4 ? atoll(argv[4]) : 1000;
    unlink(DB_FILE);
    /* as lunatic configures it (sqlite_vfs.c): no memory statistics */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = open_db();
    sqlite3_exec(db, SCHEMA, NULL, NULL, NULL);
    if (!mode_insert) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, INSERT_SQL, -1, &st, NULL);
        for (int64_t k = 0; k < READ_ROWS; k++) {
            sqlite3_bind_int64(st, 1, k);
            sqlite3_bind_text(st, 2, BENCH_VALUE, 32, SQLITE_TRANSIENT);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    pthread_barrier_init(&start, NULL, (unsigned)p + 1);
    pthread_t *t = calloc((size_t)p, sizeof *t);
    for (int i = 0; i < p; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    pthread_barrier_wait(&start);
    double t0 = bench_now(), c0 = bench_cpu();
    for (int i = 0; i < p; i++)
        pthread_join(t[i], NULL);
    double dt = bench_now() - t0, dc = bench_cpu() - c0;
    sqlite3_close(db);
    if (failures) {
        fprintf(stderr, "%ld failed calls\n", failures);
        return 1;
    }
    char line[100];
    bench_report(mode_insert ? "rows" : "reads", (double)p * (double)n_per, dt, dc, line, sizeof line);
    fputs(line, stdout);
    free(t);
    return 0;
}
