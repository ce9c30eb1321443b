/*
 * test_engine_threads.c - the engine used from several threads at once
 * from its very first call: eight threads released together each decode,
 * compile, instantiate and run a module. Under ThreadSanitizer
 * (tests/tsan.sh) this checks that the engine's lazy one-time setup (the
 * interpreter's handler table) is published without a data race.
 */
#include <pthread.h>

#include "check.h"

#define THREADS 8

static uint8_t *bin;
static size_t len;
static pthread_barrier_t start;
static int results[THREADS];

static void *worker(void *arg)
{
    int i = (int)(intptr_t)arg;
    pthread_barrier_wait(&start);
    lw_error err;
    lw_module *m = lw_module_new(bin, len, &err);
    if (!m)
        return NULL;
    lw_instance *inst = lw_instance_new(m, NULL, 0, NULL, &err);
    lw_exec *x = lw_exec_new(0);
    lw_extern e;
    if (inst && x && lw_instance_export(inst, "fib", &e) == 0) {
        lw_val arg10 = 10;
        if (lw_exec_call(x, e.u.func, &arg10) == LW_OK)
            results[i] = (int)lw_exec_results(x)[0];
    }
    lw_exec_free(x);
    lw_instance_free(inst);
    lw_module_release(m);
    return NULL;
}

int main(void)
{
    /* the binary is made before any engine call (wat2wasm is a separate
     * program), so the threads below are the engine's first users */
    bin = wat_to_wasm("(module (func $fib (export \"fib\") (param i32) (result i32)\n"
                      "  (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))\n"
                      "    (then (local.get 0))\n"
                      "    (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))\n"
                      "                   (call $fib (i32.sub (local.get 0) (i32.const 2))))))))",
                      &len);
    if (!bin)
        return check_report();
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    int good = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        good += results[i] == 55;
    }
    CHECK(good == THREADS, "%d of %d threads compiled and ran fib(10) = 55", good, THREADS);
    free(bin);
    return check_report();
}
