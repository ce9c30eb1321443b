/*
 * bench/proc/abi.h - the raw lunatic imports the process benchmarks use,
 * declared exactly as docs/ABI.md §2.2-2.3 gives them, plus small
 * helpers shared by the shapes (timing, argv, spawning by export name).
 *
 * Guests are built with
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -o X.wasm X.c
 * Children are exported functions spawned by name (module -1, config -1:
 * the caller's module and config), their parameters 17-byte records
 * [type:u8][value:u128 LE].
 */
#ifndef BENCH_PROC_ABI_H
#define BENCH_PROC_ABI_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LT_IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define LT_EXPORT(name) __attribute__((export_name(name)))

/* lunatic::process */
LT_IMPORT("lunatic::process", "spawn")
int32_t lt_spawn(int64_t link, int64_t config_id, int64_t module_id, uint32_t func_ptr,
                 uint32_t func_len, uint32_t params_ptr, uint32_t params_len, uint32_t id_ptr);
LT_IMPORT("lunatic::process", "kill") void lt_kill(int64_t pid);
LT_IMPORT("lunatic::process", "link") void lt_link(int64_t tag, int64_t pid);
LT_IMPORT("lunatic::process", "process_id") int64_t lt_process_id(void);
LT_IMPORT("lunatic::process", "sleep_ms") void lt_sleep_ms(int64_t ms);

/* lunatic::message */
LT_IMPORT("lunatic::message", "create_data") void lt_create_data(int64_t tag, int64_t capacity);
LT_IMPORT("lunatic::message", "write_data") int32_t lt_write_data(uint32_t ptr, uint32_t len);
LT_IMPORT("lunatic::message", "read_data") int32_t lt_read_data(uint32_t ptr, uint32_t len);
LT_IMPORT("lunatic::message", "get_tag") int64_t lt_get_tag(void);
LT_IMPORT("lunatic::message", "send") int32_t lt_send(int64_t pid);
LT_IMPORT("lunatic::message", "receive")
int32_t lt_receive(uint32_t tags_ptr, uint32_t tags_count, int64_t timeout_ms);

/* lunatic::error */
LT_IMPORT("lunatic::error", "string_size") int32_t lt_error_string_size(int64_t id);
LT_IMPORT("lunatic::error", "to_string") void lt_error_to_string(int64_t id, uint32_t ptr);

#define LT_NO_TIMEOUT ((int64_t)-1) /* u64::MAX */
#define LT_TIMEOUT 9027

#define PTR(p) ((uint32_t)(uintptr_t)(p))

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline long arg_long(int argc, char **argv, int i, long def)
{
    return argc > i ? strtol(argv[i], NULL, 10) : def;
}

/* One i64 parameter record (type 0x7E, value as u128 LE). */
static inline void param_i64(uint8_t rec[17], int64_t v)
{
    memset(rec, 0, 17);
    rec[0] = 0x7E;
    memcpy(rec + 1, &v, 8);
    if (v < 0) memset(rec + 9, 0xFF, 8); /* sign-extend into the high half */
}

static void die_spawn_error(const char *what, uint64_t err)
{
    char buf[256] = "(message too long)";
    int32_t n = lt_error_string_size((int64_t)err);
    if (n >= 0 && n < (int32_t)sizeof buf) {
        lt_error_to_string((int64_t)err, PTR(buf));
        buf[n] = 0;
    }
    fprintf(stderr, "%s: spawn failed: %s\n", what, buf);
    exit(2);
}

/* Spawns export `func` (NUL-terminated name) with `nparams` i64 params,
 * unlinked, with the caller's module and config. Returns the pid. */
static inline uint64_t spawn_fn(const char *func, const int64_t *params, int nparams)
{
    uint8_t rec[4 * 17];
    uint64_t id = 0;
    for (int i = 0; i < nparams; i++) param_i64(rec + 17 * i, params[i]);
    int32_t rc = lt_spawn(0, -1, -1, PTR(func), (uint32_t)strlen(func), PTR(rec),
                          (uint32_t)(17 * nparams), PTR(&id));
    if (rc != 0) die_spawn_error(func, id);
    return id;
}

/* Sends a data message with `tag` and one i64 payload to pid. */
static inline void send_i64(uint64_t pid, int64_t tag, int64_t v)
{
    lt_create_data(tag, 8);
    lt_write_data(PTR(&v), 8);
    lt_send((int64_t)pid);
}

/* Receives the next message (only tag `tag` if tag != 0); returns its
 * payload (0 if none) and stores its tag in *tag_out when not NULL. */
static inline int64_t recv_i64(int64_t tag, int64_t *tag_out)
{
    int64_t v = 0;
    int32_t rc = tag ? lt_receive(PTR(&tag), 1, LT_NO_TIMEOUT) : lt_receive(0, 0, LT_NO_TIMEOUT);
    if (rc != 0) {
        fprintf(stderr, "receive returned %d\n", (int)rc);
        exit(3);
    }
    if (tag_out) *tag_out = lt_get_tag();
    lt_read_data(PTR(&v), 8);
    return v;
}

/* Prints "key value" and flushes (the runner watches stdout for markers). */
static inline void out(const char *key, double v)
{
    if (v >= 1000) printf("%s %.0f\n", key, v);
    else printf("%s %.4f\n", key, v);
    fflush(stdout);
}

static inline void marker(const char *m)
{
    printf("# %s\n", m);
    fflush(stdout);
}

#endif
