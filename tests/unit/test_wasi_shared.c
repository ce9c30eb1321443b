/*
 * test_wasi_shared.c - one lwasi_shared, many contexts: no per-context
 * descriptors, guest-visible close/renumber of a borrowed preopen stays in
 * its context, the sandbox still holds through a borrowed preopen, the
 * refcount frees everything (run it under ASan), the context resolver, and
 * the cost of a context (time and bytes, printed). The WASI host functions
 * are called from a real guest (WAT) so the whole path is exercised.
 * Prints "N passed, M failed".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "wasm/host.h"
#include "wasi/wasi_int.h"

#define NCTX 10000

static const char *wat =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_renumber\" (func $renum (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_prestat_get\" (func $prestat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_set_flags\" (func $setfl (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_readdir\" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $asz (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_sizes_get\" (func $esz (param i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  (func (export \"renumber\") (param i32 i32) (result i32) (call $renum (local.get 0) (local.get 1)))\n"
    "  (func (export \"setfl\") (param i32 i32) (result i32) (call $setfl (local.get 0) (local.get 1)))\n"
    "  ;; errno, name length at [4]\n"
    "  (func (export \"prestat\") (param i32) (result i32) (call $prestat (local.get 0) (i32.const 0)))\n"
    "  ;; errno, bytes used at [8]\n"
    "  (func (export \"readdir\") (param i32) (result i32)\n"
    "    (call $readdir (local.get 0) (i32.const 1024) (i32.const 4096) (i64.const 0) (i32.const 8)))\n"
    "  ;; open(dirfd, path ptr, path len, follow) -> errno, new fd at [8]\n"
    "  (func (export \"open\") (param i32 i32 i32 i32) (result i32)\n"
    "    (call $open (local.get 0) (local.get 3) (local.get 1) (local.get 2) (i32.const 0)\n"
    "      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 8)))\n"
    "  (func (export \"args\") (result i32) (drop (call $asz (i32.const 16) (i32.const 20)))\n"
    "    (i32.add (i32.mul (i32.load (i32.const 16)) (i32.const 1000)) (i32.load (i32.const 20))))\n"
    "  (func (export \"envs\") (result i32) (drop (call $esz (i32.const 16) (i32.const 20)))\n"
    "    (i32.add (i32.mul (i32.load (i32.const 16)) (i32.const 1000)) (i32.load (i32.const 20))))\n"
    "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0)))\n"
    "  (data (i32.const 100) \"inside.txt\")\n"      /* 10 */
    "  (data (i32.const 200) \"../outside.txt\")\n"  /* 14 */
    "  (data (i32.const 300) \"rel_link\")\n"        /* 8 */
    "  (data (i32.const 400) \"/etc/passwd\")\n"     /* 11 */
    "  (data (i32.const 500) \"sub/../../outside.txt\")\n" /* 21 */
    "  (data (i32.const 600) \"..\")\n"              /* 2 */
    "  (data (i32.const 700) \"sub_file\")\n"        /* 8 */
    ")\n";

enum { P_INSIDE = 100, P_OUT = 200, P_LINK = 300, P_ABS = 400, P_SUBOUT = 500, P_UP = 600,
       P_SUBFILE = 700 };

static lw_exec *X;
static lw_instance *INST;
static lwasi_ctx *current;

static lwasi_ctx *resolve_current(lw_exec *x)
{
    (void)x;
    return current;
}

/* Calls export `name` with up to 4 i32 args in ctx; returns its i32 result
 * or -1000 - status when it did not return normally. */
static int64_t call(lwasi_ctx *ctx, const char *name, int n, ...)
{
    lw_extern ex;
    if (lw_instance_export(INST, name, &ex) || ex.kind != LW_EXTERN_FUNC)
        return -2000;
    lw_val args[4] = {0};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        args[i] = (uint32_t)va_arg(ap, int);
    va_end(ap);
    current = ctx;
    int st = lw_exec_call(X, ex.u.func, args);
    current = NULL;
    if (st != LW_OK)
        return -1000 - st;
    return (int32_t)(uint32_t)lw_exec_results(X)[0];
}

static int open_at(lwasi_ctx *ctx, int dirfd, int path, int follow)
{
    return (int)call(ctx, "open", 4, dirfd, path, (int)strlen((char *)lw_memory_data(
                                                         lw_instance_memory(INST)) + path),
                     follow);
}

static int mem32(int off)
{
    return (int)call(NULL, "load", 1, off);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int host_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void plant(void)
{
    mkdir("box", 0755);
    mkdir("box/sub", 0755);
    close(open("outside.txt", O_CREAT | O_WRONLY, 0644));
    close(open("box/inside.txt", O_CREAT | O_WRONLY, 0644));
    close(open("box/sub/sub_file", O_CREAT | O_WRONLY, 0644));
    if (symlink("../outside.txt", "box/rel_link"))
        perror("symlink");
}

static const char *const gargv[] = {"prog", "hello"};          /* 5 + 6 = 11 bytes */
static const char *const genv[] = {"A=1", "LONGER=value"};     /* 4 + 13 = 17 bytes */
static const lwasi_preopen pre[] = {{"/box", "box"}, {"/sub", "box/sub"}};
static const lwasi_config cfg = {.argc = 2, .argv = gargv, .envc = 2, .env = genv, .npreopens = 2,
                                 .preopens = pre};

/* The sandbox through a borrowed preopen (fd 3 = box, fd 4 = box/sub). */
static void escapes(lwasi_ctx *c, const char *mode)
{
    CHECK(open_at(c, 3, P_INSIDE, 1) == WE_SUCCESS, "%s: inside.txt", mode);
    CHECK(open_at(c, 3, P_OUT, 1) == WE_PERM, "%s: ../outside.txt", mode);
    CHECK(open_at(c, 3, P_LINK, 1) == WE_PERM, "%s: rel_link", mode);
    CHECK(open_at(c, 3, P_ABS, 1) == WE_PERM, "%s: /etc/passwd", mode);
    CHECK(open_at(c, 3, P_SUBOUT, 1) == WE_PERM, "%s: sub/../../outside.txt", mode);
    CHECK(open_at(c, 4, P_UP, 1) == WE_PERM, "%s: .. of /sub", mode);
    CHECK(open_at(c, 4, P_SUBFILE, 1) == WE_SUCCESS, "%s: sub_file in /sub", mode);
}

static lwasi_shared *THREAD_SH;

static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < NCTX; i++) {
        lwasi_ctx *c = lwasi_ctx_new_shared(THREAD_SH);
        int err = 0;
        if (i % 16 == 0)   /* sometimes build the table too */
            (void)lwasi_fd_get(c, 3, 0, &err);
        lwasi_ctx_free(c);
    }
    return NULL;
}

static void setup_engine(void)
{
    lw_module *m = wat_module(wat);
    if (!m)
        exit(1);
    lw_extern imports[16];
    char err[256];
    const lw_host_table *tables[] = {lwasi_host_table()};
    if (lw_module_num_imports(m) > 16 || lw_host_resolve(tables, 1, m, imports, err, sizeof err)) {
        printf("FAIL lw_host_resolve: %s\n", err);
        exit(1);
    }
    INST = check_instance(m, imports, lw_module_num_imports(m), NULL);
    lw_module_release(m);
    X = lw_exec_new(0);
    if (!INST || !X)
        exit(1);
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/lunatic-shared-XXXXXX";
    int walker = argc > 1 && !strcmp(argv[1], "--walker");
    if (walker) {
        /* Child: the escapes again with the fallback resolver. */
        if (chdir(argv[2]))
            return 1;
        setup_engine();
        lwasi_set_ctx_resolver(resolve_current);
        char err[256];
        lwasi_shared *sh = lwasi_shared_new(&cfg, err, sizeof err);
        lwasi_ctx *c = sh ? lwasi_ctx_new_shared(sh) : NULL;
        CHECK(c, "walker: ctx: %s", err);
        if (c) {
            escapes(c, "walker");
            lwasi_ctx_free(c);
        }
        lwasi_shared_release(sh);
        lw_exec_free(X);
        lw_instance_free(INST);
        printf("walker: %d ok, %d bad\n", check_passed, check_failed);
        return check_failed ? 1 : 0;
    }

    char *root = mkdtemp(tmpl);
    if (!root || chdir(root)) {
        perror("mkdtemp");
        return 1;
    }
    plant();
    setup_engine();
    lwasi_set_ctx_resolver(resolve_current);
    char err[256];

    /* ---- errors: a missing preopen leaks nothing ---- */
    int base = count_fds();
    {
        lwasi_preopen bad[] = {{"/box", "box"}, {"/nope", "no/such/dir"}};
        lwasi_config bc = {.npreopens = 2, .preopens = bad};
        err[0] = 0;
        CHECK(!lwasi_shared_new(&bc, err, sizeof err), "missing preopen accepted");
        CHECK(strstr(err, "cannot open directory 'no/such/dir'"), "error text: %s", err);
        CHECK(count_fds() == base, "fd leak after a failed lwasi_shared_new");
    }

    /* ---- one share: one descriptor per preopen, once ---- */
    lwasi_shared *sh = lwasi_shared_new(&cfg, err, sizeof err);
    CHECK(sh, "lwasi_shared_new: %s", err);
    if (!sh)
        return check_report();
    CHECK(count_fds() == base + 2, "share opened %d fds, want 2", count_fds() - base);
    int box_host = sh->tmpl[3].host, sub_host = sh->tmpl[4].host;

    /* ---- 10,000 contexts: no descriptors, all usable ---- */
    lwasi_ctx **ctxs = calloc(NCTX, sizeof *ctxs);
    for (int i = 0; i < NCTX; i++)
        ctxs[i] = lwasi_ctx_new_shared(sh);
    int all = 1;
    for (int i = 0; i < NCTX; i++)
        all &= ctxs[i] != NULL;
    CHECK(all, "lwasi_ctx_new_shared returned NULL");
    CHECK(count_fds() == base + 2, "%d contexts opened %d fds", NCTX, count_fds() - base - 2);
    CHECK(atomic_load(&sh->refs) == NCTX + 1, "refs %lu", (unsigned long)atomic_load(&sh->refs));
    /* Every context sees both preopens ("/box" and "/sub": 4 bytes each)
     * and the shared args/env; that builds every table, still no fds. */
    int ok = 1;
    for (int i = 0; i < NCTX; i++) {
        ok &= call(ctxs[i], "prestat", 1, 3) == 0 && mem32(4) == 4;
        ok &= call(ctxs[i], "prestat", 1, 4) == 0 && mem32(4) == 4;
        ok &= call(ctxs[i], "prestat", 1, 5) == WE_BADF;
    }
    CHECK(ok, "prestat of the preopens");
    CHECK(call(ctxs[7], "args", 0) == 2 * 1000 + 11, "args_sizes_get: %lld",
          (long long)call(ctxs[7], "args", 0));
    CHECK(call(ctxs[9], "envs", 0) == 2 * 1000 + 17, "environ_sizes_get");
    CHECK(count_fds() == base + 2, "tables of %d contexts opened %d fds", NCTX,
          count_fds() - base - 2);

    /* ---- close of a preopen is per context ---- */
    lwasi_ctx *a = ctxs[0], *b = ctxs[1], *c = ctxs[2];
    CHECK(call(a, "close", 1, 3) == 0, "close 3 in a");
    CHECK(call(a, "close", 1, 3) == WE_BADF, "second close 3 in a");
    CHECK(call(a, "prestat", 1, 3) == WE_BADF, "prestat 3 after close in a");
    CHECK(open_at(a, 3, P_INSIDE, 1) == WE_BADF, "open through closed 3 in a");
    CHECK(host_fd_open(box_host), "closing fd 3 in a closed the shared host fd");
    CHECK(call(b, "prestat", 1, 3) == 0, "prestat 3 in b after close in a");
    CHECK(open_at(b, 3, P_INSIDE, 1) == 0 && mem32(8) == 5, "open in b (fd %d)", mem32(8));
    CHECK(open_at(a, 4, P_SUBFILE, 1) == 0 && mem32(8) == 3, "a reuses fd 3 (got %d)",
          mem32(8));
    CHECK(call(a, "prestat", 1, 3) == WE_BADF, "a's new fd 3 is not a preopen");
    CHECK(count_fds() == base + 4, "two guest files open: %d", count_fds() - base - 2);
    /* Flags stay in the context. */
    int before = fcntl(box_host, F_GETFL);
    CHECK(call(b, "setfl", 2, 3, WFD_APPEND) == 0, "setfl on a preopen");
    CHECK(fcntl(box_host, F_GETFL) == before, "fdstat_set_flags changed the shared fd");

    /* ---- renumber a preopen; close in the guest after a readdir ---- */
    CHECK(call(c, "renumber", 2, 3, 4) == 0, "renumber 3 -> 4 in c");
    CHECK(call(c, "prestat", 1, 3) == WE_BADF, "3 free after renumber");
    CHECK(call(c, "prestat", 1, 4) == 0 && mem32(4) == 4, "4 is /box in c");
    CHECK(open_at(c, 4, P_INSIDE, 1) == 0, "open through renumbered preopen");
    CHECK(open_at(c, 4, P_OUT, 1) == WE_PERM, "escape through renumbered preopen");
    CHECK(host_fd_open(box_host) && host_fd_open(sub_host), "renumber closed a shared fd");
    CHECK(call(c, "readdir", 1, 4) == 0 && mem32(8) > 24, "readdir of a borrowed preopen");
    CHECK(call(c, "close", 1, 4) == 0, "close readdir'ed preopen");
    CHECK(host_fd_open(box_host), "closing a readdir'ed preopen closed the shared fd");
    CHECK(call(ctxs[3], "prestat", 1, 4) == 0, "other contexts keep fd 4");
    CHECK(open_at(ctxs[3], 4, P_SUBFILE, 1) == 0, "other contexts use fd 4");

    /* ---- the sandbox through borrowed preopens ---- */
    escapes(ctxs[4], "openat2");

    /* ---- table growth and cleanup ---- */
    for (int i = 0; i < 40; i++)
        ok &= open_at(ctxs[5], 3, P_INSIDE, 1) == 0;
    CHECK(ok && mem32(8) == 44, "40 opens (last fd %d)", mem32(8));

    /* ---- free every context: only the share's fds remain ---- */
    for (int i = 0; i < NCTX; i++)
        lwasi_ctx_free(ctxs[i]);
    free(ctxs);
    CHECK(count_fds() == base + 2, "after freeing the contexts: %d extra fds",
          count_fds() - base - 2);
    CHECK(atomic_load(&sh->refs) == 1, "refs after free %lu",
          (unsigned long)atomic_load(&sh->refs));

    /* ---- the resolver ---- */
    lwasi_ctx *d = lwasi_ctx_new_shared(sh);
    lwasi_set_ctx_resolver(NULL);      /* default: the instance's user pointer */
    lw_instance_set_user(INST, d);
    CHECK(call(NULL, "args", 0) == 2011, "default resolver finds the instance's context");
    lw_instance_set_user(INST, NULL);
    int64_t r = call(NULL, "args", 0);
    CHECK(r == -1000 - LW_TRAP && !strcmp(lw_exec_trap_message(X), "no WASI context"),
          "no context: %lld %s", (long long)r, lw_exec_trap_message(X));
    lwasi_set_ctx_resolver(resolve_current);
    CHECK(call(d, "args", 0) == 2011, "custom resolver");
    CHECK(lwasi_ctx_shared(d) == sh, "lwasi_ctx_shared");
    lwasi_ctx_free(d);

    /* ---- refcount across threads ---- */
    THREAD_SH = sh;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&sh->refs) == 1, "refs after threads %lu",
          (unsigned long)atomic_load(&sh->refs));

    /* ---- cost of a context ---- */
    {
        enum { N = 200000 };
        lwasi_ctx **v = malloc(N * sizeof *v);
        struct mallinfo2 m0 = mallinfo2();
        double t0 = now_s();
        for (int i = 0; i < N; i++)
            v[i] = lwasi_ctx_new_shared(sh);
        double t1 = now_s();
        struct mallinfo2 m1 = mallinfo2();
        for (int i = 0; i < N; i++)
            lwasi_ctx_free(v[i]);
        double t2 = now_s();
        for (int i = 0; i < N; i++)
            lwasi_ctx_free(lwasi_ctx_new_shared(sh));
        double t3 = now_s();
        lwasi_ctx *one = lwasi_ctx_new_shared(sh);
        int e2;
        size_t fresh = malloc_usable_size(one);
        (void)lwasi_fd_get(one, 0, 0, &e2);
        size_t table = malloc_usable_size(one->fds);
        lwasi_ctx_free(one);
        double heap = (double)(m1.uordblks - m0.uordblks) / N;
        printf("cost: sizeof(lwasi_ctx) %zu B, usable %zu B, heap per live ctx %.0f B; "
               "fd table on first use %zu B\n",
               sizeof(lwasi_ctx), fresh, heap, table);
        printf("cost: new %.0f ns, free %.0f ns, new+free pair %.0f ns (%d contexts)\n",
               (t1 - t0) / N * 1e9, (t2 - t1) / N * 1e9, (t3 - t2) / N * 1e9, N);
        CHECK(sizeof(lwasi_ctx) <= 128, "sizeof(lwasi_ctx) = %zu", sizeof(lwasi_ctx));
        CHECK(m1.uordblks == m0.uordblks /* ASan: no mallinfo */ || heap < 256,
              "heap per context %.0f B", heap);
        free(v);
    }

    /* ---- lwasi_ctx_new still works, alone ---- */
    {
        lwasi_ctx *solo = lwasi_ctx_new(&cfg, err, sizeof err);
        CHECK(solo, "lwasi_ctx_new: %s", err);
        CHECK(count_fds() == base + 4, "lwasi_ctx_new opened %d fds", count_fds() - base - 2);
        CHECK(solo && call(solo, "args", 0) == 2011, "lwasi_ctx_new args");
        CHECK(solo && open_at(solo, 3, P_OUT, 1) == WE_PERM, "lwasi_ctx_new sandbox");
        lwasi_ctx_free(solo);
        CHECK(count_fds() == base + 2, "lwasi_ctx_free left %d fds", count_fds() - base - 2);
    }

    /* ---- the last release closes the preopens ---- */
    lwasi_shared_retain(sh);
    lwasi_shared_release(sh);
    CHECK(host_fd_open(box_host), "release with refs left closed the fds");
    lwasi_shared_release(sh);
    CHECK(count_fds() == base, "after the last release: %d extra fds", count_fds() - base);

    /* ---- the escapes again with the fallback walker (a fresh process) ---- */
    {
        char cmd[PATH_MAX * 2];
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf(cmd, sizeof cmd, "LUNATIC_WASI_NO_OPENAT2=1 '%s' --walker '%s'", self, root);
        fflush(stdout);
        int st = system(cmd);
        CHECK(st == 0, "walker child failed (%d)", st);
    }

    lw_exec_free(X);
    lw_instance_free(INST);
    if (system("rm -rf box outside.txt"))
        printf("cannot clean up %s\n", root);
    if (chdir("/tmp") == 0)
        rmdir(root);
    return check_report();
}
