/*
 * test_objpool.c - the per-process object pool (src/wasm/objpool.c), forced
 * on also under the sanitizers: zeroed objects of every size class, reuse
 * of freed objects, large sizes passed to malloc, and objects made on one
 * thread and freed on another (the spawner/children pattern) without any
 * object handed out twice while alive, and the objects of ended threads
 * reused. Prints "N passed, M failed".
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "wasm/internal.h"

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_single_thread(void)
{
    static const size_t sizes[] = {1, 8, 63, 64, 65, 432, 568, 1000, 2047, 2048, 2049, 100000};
    int bad_zero = 0, bad_reuse = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        for (int round = 0; round < 3; round++) {
            uint8_t *v[300];
            for (int i = 0; i < 300; i++) {
                v[i] = lw_obj_alloc(n);
                if (!v[i] || !all_zero(v[i], n))
                    bad_zero++;
                if (v[i])
                    memset(v[i], 0xa5, n);
            }
            for (int i = 0; i < 300; i++)
                lw_obj_free(v[i], n);
        }
        /* a freed object comes back (small sizes only: the pool keeps them) */
        uint8_t *a = lw_obj_alloc(n);
        lw_obj_free(a, n);
        uint8_t *b = lw_obj_alloc(n);
        if (n <= LW_OBJ_MAX && a != b)
            bad_reuse++;
        if (b && !all_zero(b, n))
            bad_zero++;
        lw_obj_free(b, n);
    }
    CHECK(bad_zero == 0, "objects not zeroed: %d", bad_zero);
    CHECK(bad_reuse == 0, "freed objects not reused first: %d sizes", bad_reuse);
    lw_obj_free(NULL, 100); /* nothing */
}

/* Producer threads allocate objects, fill each with its serial number and
 * pass it on; consumers check the whole object and free it. An object
 * handed out twice while alive would be overwritten by its second owner. */
#define RING 1024
#define PER_PRODUCER 200000

typedef struct ring {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *slot[RING];
    uint32_t size[RING];
    unsigned head, tail;
    int producers_left;
} ring;

static ring q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, {0}, 0, 0, 2};
static atomic_uint serial;
static atomic_int corrupt, consumed;

static void fill(uint8_t *p, size_t n, uint32_t id)
{
    for (size_t i = 0; i + 4 <= n; i += 4)
        memcpy(p + i, &id, 4);
}

static int intact(const uint8_t *p, size_t n)
{
    uint32_t id;
    memcpy(&id, p, 4);
    for (size_t i = 0; i + 4 <= n; i += 4)
        if (memcmp(p + i, &id, 4))
            return 0;
    return 1;
}

static void *producer(void *arg)
{
    static const uint32_t sizes[] = {432, 568, 1000, 64, 2048};
    (void)arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        uint32_t n = sizes[i % 5];
        uint8_t *p = lw_obj_alloc(n);
        if (!p || !all_zero(p, n)) {
            atomic_fetch_add(&corrupt, 1);
            if (!p)
                continue;
        }
        fill(p, n, atomic_fetch_add(&serial, 1) + 1);
        pthread_mutex_lock(&q.lock);
        while (q.head - q.tail == RING)
            pthread_cond_wait(&q.cond, &q.lock);
        q.slot[q.head % RING] = p;
        q.size[q.head % RING] = n;
        q.head++;
        pthread_cond_broadcast(&q.cond);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    q.producers_left--;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.head == q.tail && q.producers_left > 0)
            pthread_cond_wait(&q.cond, &q.lock);
        if (q.head == q.tail) {
            pthread_mutex_unlock(&q.lock);
            return NULL;
        }
        uint8_t *p = q.slot[q.tail % RING];
        uint32_t n = q.size[q.tail % RING];
        q.tail++;
        pthread_cond_broadcast(&q.cond);
        pthread_mutex_unlock(&q.lock);
        if (!intact(p, n))
            atomic_fetch_add(&corrupt, 1);
        /* hold some objects a while, as a worker holds live processes */
        fill(p, n, 0xdead0000u);
        lw_obj_free(p, n);
        atomic_fetch_add(&consumed, 1);
    }
}

static void test_cross_thread(void)
{
    pthread_t t[4];
    pthread_create(&t[0], NULL, producer, NULL);
    pthread_create(&t[1], NULL, producer, NULL);
    pthread_create(&t[2], NULL, consumer, NULL);
    pthread_create(&t[3], NULL, consumer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(atomic_load(&consumed) == 2 * PER_PRODUCER, "consumed %d of %d", atomic_load(&consumed),
          2 * PER_PRODUCER);
    CHECK(atomic_load(&corrupt) == 0, "%d objects not zeroed or overwritten while alive",
          atomic_load(&corrupt));
}

/* Objects freed by threads that have ended are given out again. */
static void *free_some(void *arg)
{
    void **v = arg;
    for (int i = 0; i < 1000; i++)
        lw_obj_free(v[i], 700);
    return NULL;
}

static void test_thread_exit(void)
{
    static void *v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = lw_obj_alloc(700);
    pthread_t t;
    pthread_create(&t, NULL, free_some, v);
    pthread_join(t, NULL);
    int reused = 0;
    void *w[1000];
    for (int i = 0; i < 1000; i++) {
        w[i] = lw_obj_alloc(700);
        for (int j = 0; j < 1000; j++)
            if (w[i] == v[j]) {
                reused++;
                break;
            }
    }
    for (int i = 0; i < 1000; i++)
        lw_obj_free(w[i], 700);
    CHECK(reused >= 900, "objects of an ended thread reused: %d of 1000", reused);
}

int main(void)
{
    lw_obj_pool_force(1);
    test_single_thread();
    test_cross_thread();
    test_thread_exit();
    return check_report();
}
