/*
 * pages.c - a recycling pool of zeroed anonymous mappings for linear memory.
 *
 * On these machines the first touch of a fresh page costs ~2.3 us while
 * re-zeroing a resident page costs ~0.1 us, so instantiating by mmap and
 * freeing by munmap makes every instance pay page faults again. Instead a
 * freed mapping is kept: the pages mincore() reports resident (the only
 * ones that can hold data) are zeroed, and the mapping goes on a free list
 * for its size. The next instance of that size gets it back with its pages
 * still resident and zero.
 *
 * Only mappings up to POOL_MAX_PAGES are pooled, and at most POOL_MAX_BYTES
 * in all; the rest are unmapped. One mutex guards the lists: instantiation
 * is not the scheduler's hot path, and the critical sections are a few
 * pointer moves.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wasm/internal.h"

#define POOL_MAX_PAGES 64                 /* 4 MiB */
#define POOL_MAX_BYTES (256ull << 20)
#define OS_PAGE 4096u

typedef struct pooled {
    struct pooled *next;
} pooled;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled *pool_free[POOL_MAX_PAGES + 1];
static uint64_t pool_bytes;

static void *map_fresh(uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *wasm_pages_get(uint64_t size)
{
    uint64_t pages = size / WASM_PAGE_SIZE;
    if (size % WASM_PAGE_SIZE == 0 && pages <= POOL_MAX_PAGES) {
        pthread_mutex_lock(&pool_lock);
        pooled *p = pool_free[pages];
        if (p) {
            pool_free[pages] = p->next;
            pool_bytes -= size;
        }
        pthread_mutex_unlock(&pool_lock);
        if (p) {
            p->next = NULL; /* the only byte written while pooled */
            return p;
        }
    }
    return map_fresh(size);
}

/* Zeroes the resident pages of a mapping, leaving the others untouched. */
static void zero_resident(uint8_t *base, uint64_t size)
{
    unsigned char vec[POOL_MAX_PAGES * (WASM_PAGE_SIZE / OS_PAGE)];
    uint64_t n = size / OS_PAGE;
    if (mincore(base, size, vec) != 0) {
        memset(base, 0, size); /* cannot tell: zero it all */
        return;
    }
    for (uint64_t i = 0; i < n;) {
        if (!(vec[i] & 1)) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < n && (vec[j] & 1))
            j++;
        memset(base + i * OS_PAGE, 0, (j - i) * OS_PAGE);
        i = j;
    }
}

void wasm_pages_put(void *mem, uint64_t size)
{
    if (!mem)
        return;
    uint64_t pages = size / WASM_PAGE_SIZE;
    if (size % WASM_PAGE_SIZE == 0 && pages <= POOL_MAX_PAGES && pages > 0) {
        pthread_mutex_lock(&pool_lock);
        bool room = pool_bytes + size <= POOL_MAX_BYTES;
        if (room)
            pool_bytes += size; /* reserve before zeroing outside the lock */
        pthread_mutex_unlock(&pool_lock);
        if (room) {
            zero_resident(mem, size);
            pooled *p = mem;
            pthread_mutex_lock(&pool_lock);
            p->next = pool_free[pages];
            pool_free[pages] = p;
            pthread_mutex_unlock(&pool_lock);
            return;
        }
    }
    munmap(mem, size);
}
