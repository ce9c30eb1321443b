/*
 * guest.c - the SQLite benchmark's work done by lunatic processes through
 * lunatic::sqlite (C guest SDK), the same as native.c:
 *   lunatic run guest.wasm insert P N B   P processes inserting N rows
 *                                         each in transactions of B rows
 *   lunatic run guest.wasm read P Q       P processes doing Q point reads
 * The caller gives each run a fresh working directory. Each process opens its own connection and prepares its statement, says
 * it is ready, and starts at the main process's signal; time runs from
 * that signal to the last process's report. Values travel in the wire
 * formats (a BindList per call, a SqliteValue per column read).
 */
#include <stdlib.h>

#include "lunatic_guest.h"
#include "bench.h"

#define T_READY 1
#define T_GO 2
#define T_DONE 3

static uint64_t open_db(void)
{
    uint64_t c;
    if (lg_sqlite_open(DB_FILE, &c) != 0 || lg_sqlite_exec(c, PRAGMAS) != 0) {
        lg_printf("open failed\n");
        exit(1);
    }
    return c;
}

LG_EXPORT("worker")
void worker(int64_t parent, int32_t insert, int64_t w, int64_t n_per, int64_t batch)
{
    uint64_t c = open_db();
    uint64_t st = lg_sqlite_prepare(c, insert ? INSERT_SQL : SELECT_SQL);
    lg_send_u64((uint64_t)parent, T_READY, 0);
    lg_receive_tag(T_GO, LG_FOREVER);
    uint64_t bad = 0;
    /* The BindList is built once and its key patched in place for each
     * call, as a guest in a hot loop would. */
    uint8_t buf[128];
    lg_sqlbind b;
    lg_sqlbind_init(&b, buf, sizeof buf);
    lg_sqlbind_at(&b, 1), lg_sqlbind_u32(&b, 5); /* Int64 */
    uint32_t key_at = b.len;
    lg_sqlbind_u64(&b, 0);
    if (insert) {
        lg_sqlbind_at(&b, 2), lg_sqlbind_text(&b, BENCH_VALUE);
        for (int64_t i = 0; i < n_per; i += batch) {
            bad += lg_sqlite_exec(c, "BEGIN IMMEDIATE") != 0;
            for (int64_t k = i; k < i + batch && k < n_per; k++) {
                int64_t id = w * n_per + k;
                memcpy(buf + key_at, &id, 8);
                lg_sqlite_bind(st, &b);
                bad += lg_sqlite_step(st) != LG_SQLITE_DONE;
                lg_sqlite_reset(st);
            }
            bad += lg_sqlite_exec(c, "COMMIT") != 0;
        }
    } else {
        char got[64];
        for (int64_t i = 0; i < n_per; i++) {
            int64_t key = bench_key((uint64_t)w, (uint64_t)i);
            memcpy(buf + key_at, &key, 8);
            lg_sqlite_bind(st, &b);
            if (lg_sqlite_step(st) == LG_SQLITE_ROW) {
                lg_sqlval v;
                void *p = lg_sqlite_column(st, 0, &v);
                memcpy(got, v.data, v.len < 64 ? v.len : 64);
                bad += v.kind != LG_SQL_TEXT || v.len != 32;
                free(p);
            } else {
                bad++;
            }
            lg_sqlite_reset(st);
        }
    }
    lg_sqlite_finalize(st);
    lg_send_u64((uint64_t)parent, T_DONE, bad);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        lg_printf("usage: guest.wasm insert P N B | guest.wasm read P Q\n");
        return 2;
    }
    int insert = !strcmp(argv[1], "insert");
    int p = atoi(argv[2]);
    int64_t n_per = atoll(argv[3]);
    int64_t batch = argc > 4 ? atoll(argv[4]) : 1000;
    /* run.sh gives each run a fresh directory: no unlink() here, whose
     * file support would add wasi-libc's preopen constructor, which the
     * command-export wrapper of lunatic_alloc re-runs at every call */
    uint64_t c = open_db();
    lg_sqlite_exec(c, SCHEMA);
    if (!insert) {
        lg_sqlite_exec(c, "BEGIN");
        uint64_t st = lg_sqlite_prepare(c, INSERT_SQL);
        uint8_t buf[128];
        lg_sqlbind b;
        for (int64_t k = 0; k < READ_ROWS; k++) {
            lg_sqlbind_init(&b, buf, sizeof buf);
            lg_sqlbind_at(&b, 1), lg_sqlbind_int64(&b, k);
            lg_sqlbind_at(&b, 2), lg_sqlbind_text(&b, BENCH_VALUE);
            lg_sqlite_bind(st, &b);
            lg_sqlite_step(st);
            lg_sqlite_reset(st);
        }
        lg_sqlite_finalize(st);
        lg_sqlite_exec(c, "COMMIT");
    }
    uint64_t *pids = calloc((size_t)p, sizeof *pids);
    for (int i = 0; i < p; i++)
        pids[i] = lg_spawn("worker", LG_ARGS(LG_I64(lg_self()), LG_I32(insert), LG_I64(i), LG_I64(n_per),
                                             LG_I64(batch)));
    for (int i = 0; i < p; i++)
        lg_receive_tag(T_READY, LG_FOREVER);
    double t0 = bench_now(), c0 = bench_cpu();
    for (int i = 0; i < p; i++)
        lg_send_u64(pids[i], T_GO, 0);
    uint64_t bad = 0;
    for (int i = 0; i < p; i++) {
        lg_receive_tag(T_DONE, LG_FOREVER);
        bad += lg_msg_read_u64();
    }
    double dt = bench_now() - t0, dc = bench_cpu() - c0;
    if (bad) {
        lg_printf("%llu failed calls\n", (unsigned long long)bad);
        return 1;
    }
    char line[100];
    bench_report(insert ? "rows" : "reads", (double)p * (double)n_per, dt, dc, line, sizeof line);
    lg_printf("%s", line);
    return 0;
}
