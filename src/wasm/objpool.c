/*
 * objpool.c - a thread-caching allocator for the objects every process
 * has (its process struct, exec context and instance block), up to 2 KiB.
 *
 * Why not malloc: a spawner allocates these on one worker and its children
 * often die on another, so frees flow one way. glibc with one arena then
 * serialises both workers on the arena lock; with an arena per thread,
 * each non-main arena grows its heap by one mprotect call per page (37,137
 * calls for 100,000 spawns), and an mprotect in a threaded process stalls
 * the other thread's page faults: spawning 100,000 idle processes went
 * from 4.3 to 8 us each.
 *
 * Here each thread keeps a free list per size class (64-byte steps) and
 * trades batches of BATCH objects with a shared depot (a thread that ends
 * hands over what it holds, fewer maybe), so the lock is taken once per
 * BATCH frees or allocations whichever way objects flow. New objects are
 * carved from per-thread 4 MiB chunks reserved with MAP_NORESERVE (pages
 * are committed as they are touched). Memory goes
 * back to the pool, never to the OS: the pool stays as large as the most
 * objects alive at once, ready for the next burst.
 *
 * Under AddressSanitizer or ThreadSanitizer the pool passes everything to
 * malloc/free, so that the sanitizers see every object's life; the pool's
 * own test (tests/unit/test_objpool.c) forces it on.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wasm/internal.h"

#define GRAIN 64u
#define NCLASSES (LW_OBJ_MAX / GRAIN)
#define BATCH 64u                  /* objects moved to or from the depot at once */
#define CHUNK_BYTES (4u << 20)

/* A free object: the list link; a batch's first object also holds the
 * next batch and its length. Objects are at least GRAIN bytes. */
typedef struct free_obj {
    struct free_obj *next;
    struct free_obj *next_batch;
    uint32_t n;
} free_obj;

typedef struct tcache {
    free_obj *head[NCLASSES];
    uint32_t n[NCLASSES];
    uint8_t *bump;                 /* the rest of this thread's chunk */
    size_t left;
    bool registered;               /* thread_exit will run */
} tcache;

static struct {
    pthread_mutex_t lock;
    free_obj *batches;
} depot[NCLASSES];

static _Thread_local tcache tc;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BYPASS_DEFAULT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BYPASS_DEFAULT 1
#endif
#endif
#ifndef BYPASS_DEFAULT
#define BYPASS_DEFAULT 0
#endif
static int bypass = BYPASS_DEFAULT;

void lw_obj_pool_force(int on) { bypass = !on; }

static void put_batch(unsigned c, free_obj *head, uint32_t n)
{
    head->n = n;
    pthread_mutex_lock(&depot[c].lock);
    head->next_batch = depot[c].batches;
    depot[c].batches = head;
    pthread_mutex_unlock(&depot[c].lock);
}

/* A thread that ends gives its free objects back to the depot. */
static void thread_exit(void *unused)
{
    (void)unused;
    for (unsigned c = 0; c < NCLASSES; c++) {
        if (tc.head[c])
            put_batch(c, tc.head[c], tc.n[c]);
        tc.head[c] = NULL;
        tc.n[c] = 0;
    }
    tc.registered = false; /* a later free registers again */
}

static void init_once(void)
{
    for (unsigned c = 0; c < NCLASSES; c++)
        pthread_mutex_init(&depot[c].lock, NULL);
    pthread_key_create(&exit_key, thread_exit);
}

static void register_thread(void)
{
    pthread_once(&once, init_once);
    pthread_setspecific(exit_key, &tc); /* non-NULL: thread_exit runs */
    tc.registered = true;
}

static void *carve(size_t bytes)
{
    if (tc.left < bytes) {
        /* the tail of the old chunk stays unused: at most LW_OBJ_MAX */
        void *p = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        tc.bump = p;
        tc.left = CHUNK_BYTES;
    }
    void *o = tc.bump;
    tc.bump += bytes;
    tc.left -= bytes;
    return o;
}

void *lw_obj_alloc(size_t size)
{
    if (bypass || size > LW_OBJ_MAX)
        return calloc(1, size ? size : 1);
    unsigned c = size ? (unsigned)((size - 1) / GRAIN) : 0;
    free_obj *o = tc.head[c];
    if (!o) {
        if (!tc.registered)
            register_thread();
        pthread_mutex_lock(&depot[c].lock);
        o = depot[c].batches;
        if (o)
            depot[c].batches = o->next_batch;
        pthread_mutex_unlock(&depot[c].lock);
        if (!o)
            return carve((c + 1) * GRAIN); /* fresh memory is zero */
        tc.n[c] = o->n;
    }
    tc.head[c] = o->next;
    tc.n[c]--;
    memset(o, 0, (c + 1) * GRAIN);
    return o;
}

void lw_obj_free(void *p, size_t size)
{
    if (!p)
        return;
    if (bypass || size > LW_OBJ_MAX) {
        free(p);
        return;
    }
    unsigned c = size ? (unsigned)((size - 1) / GRAIN) : 0;
    if (!tc.registered)
        register_thread();
    free_obj *o = p;
    o->next = tc.head[c];
    tc.head[c] = o;
    if (++tc.n[c] < 2 * BATCH)
        return;
    /* keep BATCH, hand the other BATCH to the depot */
    free_obj *last = o;
    for (unsigned i = 1; i < BATCH; i++)
        last = last->next;
    free_obj *rest = last->next;
    last->next = NULL;
    tc.head[c] = rest;
    tc.n[c] -= BATCH;
    put_batch(c, o, BATCH);
}
