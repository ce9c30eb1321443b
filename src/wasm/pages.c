/*
 * pages.c - linear memory for many instances: size-class slots carved from
 * large shared mappings, recycled without page faults.
 *
 * Why not one mmap per instance: Linux limits a process to ~65,530
 * mappings (vm.max_map_count), far below a million instances, and a fresh
 * mapping pays a first-touch fault (~2.3 us here) for every page used.
 *
 * So a memory of up to SLAB_MAX_PAGES lives in a slot of a power-of-two
 * number of Wasm pages, carved from 64 MiB chunks reserved with
 * MAP_NORESERVE (untouched pages cost nothing). Invariant: every byte of a
 * free slot is zero, and so is every byte of a live slot beyond the
 * memory's current size; growing within the slot is then free. A freed
 * slot has only its resident pages (mincore) zeroed, so the next instance
 * finds them resident and zero. Freed slots are zeroed in batches: a
 * mincore call costs ~1 us whatever the range (it allocates a page and
 * looks up the mapping), over half of a short-lived process's life when
 * made per slot, so one call covers a batch of neighbouring slots.
 * Growing past the slot moves the memory to a larger slot, copying only
 * its resident pages. Past the largest class a
 * memory gets its own mapping, grown with mremap.
 *
 * When more than 1/16 of the machine's memory (at least 256 MiB) in freed
 * slots would stay resident, freed slots are released to the kernel
 * (MADV_DONTNEED) instead of zeroed, bounding what a burst of instances
 * leaves behind. The bound is generous on purpose: in a multithreaded
 * process each MADV_DONTNEED costs a TLB shootdown on every other CPU
 * (measured: with 8 processes spawning short-lived children, 132,801
 * madvise calls took 2.6 s of 2.9 s).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "wasm/internal.h"

#define NCLASSES 7                         /* 1, 2, 4, ... 64 Wasm pages */
#define SLAB_MAX_PAGES (1u << (NCLASSES - 1))
#define CHUNK_BYTES (64ull << 20)
#define POOL_RESIDENT_MIN (256ull << 20)
#define MIN_OS_PAGE 4096u

/* The OS page size, and whether mincore tells which pages of a freed slot
 * may hold data: not where pages can be swapped out (a swapped-out page
 * reads as not resident, yet comes back with its old bytes), so there a
 * freed slot is released with MADV_DONTNEED and a growing memory is
 * copied whole. */
static uint64_t os_page = MIN_OS_PAGE;
static bool by_mincore;
#define OS_PAGE os_page

static void pages_init_once(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    if (ps >= (long)MIN_OS_PAGE && ps <= (long)LW_PAGE_SIZE && (ps & (ps - 1)) == 0)
        os_page = (uint64_t)ps;
    struct sysinfo si;
    by_mincore = os_page <= LW_PAGE_SIZE && sysinfo(&si) == 0 && si.totalswap == 0;
}

static void pages_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pages_init_once);
}

void lw_pages_use_mincore(int on)
{
    pages_init();
    by_mincore = on;
}

/* A free slot's first bytes hold its list link and how many of its bytes
 * are resident; they are zeroed when the slot is handed out. */
typedef struct slot {
    struct slot *next;
    uint64_t resident;
} slot;

typedef struct size_class {
    slot *free;               /* zero but for their first 16 bytes */
    slot *dirty;              /* freed, not yet zeroed */
    uint32_t ndirty;
    uint8_t *chunk;           /* current chunk being carved */
    uint64_t used;            /* bytes carved from it */
} size_class;

#define DIRTY_BATCH 64u           /* freed slots zeroed together */
#define SPAN_MAX (16u << 20)      /* bytes one mincore call covers */
#define GAP_MAX (256u << 10)      /* bigger gaps between slots split a batch */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static size_class classes[NCLASSES];
static uint64_t pool_resident;    /* bytes of freed slots kept resident */
static uint64_t pool_resident_max;

static uint64_t resident_max(void)
{
    if (!pool_resident_max) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        uint64_t ram = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
        pool_resident_max = ram / 16 > POOL_RESIDENT_MIN ? ram / 16 : POOL_RESIDENT_MIN;
    }
    return pool_resident_max;
}

static int class_of(uint64_t size)
{
    uint64_t pages = (size + LW_PAGE_SIZE - 1) / LW_PAGE_SIZE;
    for (int c = 0; c < NCLASSES; c++)
        if (pages <= (1u << c))
            return c;
    return -1;
}

static uint64_t class_bytes(int c) { return (uint64_t)LW_PAGE_SIZE << c; }

uint64_t lw_pages_capacity(uint64_t size)
{
    int c = class_of(size);
    return c < 0 ? size : class_bytes(c);
}

static void clean_batch(int c, slot *list);

void *lw_pages_get(uint64_t size)
{
    int c = size ? class_of(size) : 0;
    if (c < 0) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    pages_init();
    size_class *k = &classes[c];
    uint64_t bytes = class_bytes(c);
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        slot *s = k->free;
        if (s) {
            k->free = s->next;
            pool_resident -= s->resident;
            pthread_mutex_unlock(&pool_lock);
            memset(s, 0, sizeof *s); /* restore the all-zero invariant */
            return s;
        }
        if (!k->dirty)
            break;
        slot *batch = k->dirty; /* zero what is there rather than map more */
        k->dirty = NULL;
        k->ndirty = 0;
        pthread_mutex_unlock(&pool_lock);
        clean_batch(c, batch);
        pthread_mutex_lock(&pool_lock);
    }
    if (!k->chunk || k->used + bytes > CHUNK_BYTES) {
        void *p = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            pthread_mutex_unlock(&pool_lock);
            return NULL;
        }
        k->chunk = p; /* the old chunk stays: its slots are in use or free */
        k->used = 0;
    }
    void *p = k->chunk + k->used;
    k->used += bytes;
    pthread_mutex_unlock(&pool_lock);
    return p;
}

/* In a mincore vector of n pages: moves *i to the next resident page at
 * or after it and returns how many resident pages follow (0: none left). */
static uint64_t next_run(const unsigned char *vec, uint64_t n, uint64_t *i)
{
    while (*i < n && !(vec[*i] & 1))
        (*i)++;
    uint64_t e = *i;
    while (e < n && (vec[e] & 1))
        e++;
    return e - *i;
}

/* Calls fn on each run of resident pages in [base, base+size). */
static void for_resident(uint8_t *base, uint64_t size, void (*fn)(uint8_t *, uint64_t, void *),
                         void *arg)
{
    unsigned char vec[256];
    for (uint64_t off = 0; off < size;) {
        uint64_t span = size - off;
        if (span > sizeof vec * (uint64_t)OS_PAGE)
            span = sizeof vec * (uint64_t)OS_PAGE;
        uint64_t n = (span + OS_PAGE - 1) / OS_PAGE;
        if (mincore(base + off, span, vec) != 0) {
            fn(base + off, span, arg); /* cannot tell: treat all as resident */
            off += span;
            continue;
        }
        for (uint64_t i = 0, k; (k = next_run(vec, n, &i)) != 0; i += k) {
            uint64_t len = k * OS_PAGE;
            if (i * OS_PAGE + len > span)
                len = span - i * OS_PAGE;
            fn(base + off + i * OS_PAGE, len, arg);
        }
        off += span;
    }
}

static void zero_run(uint8_t *p, uint64_t len, void *arg)
{
    uint64_t *count = arg;
    memset(p, 0, len);
    *count += len;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(slot *const *)a, y = (uintptr_t)*(slot *const *)b;
    return x < y ? -1 : x > y;
}

/* Zeroes the resident pages of slots [0, n) of class c, all within one
 * mapped span, with one mincore call; false if that call failed. */
static bool zero_span(slot **v, uint32_t n, uint64_t bytes)
{
    uint8_t *lo = (uint8_t *)v[0];
    uint64_t span = (uint64_t)((uint8_t *)v[n - 1] - lo) + bytes;
    unsigned char vec[SPAN_MAX / MIN_OS_PAGE];
    if (mincore(lo, span, vec) != 0)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *base = (uint8_t *)v[i];
        uint64_t first = (uint64_t)(base - lo) / OS_PAGE, npages = bytes / OS_PAGE, resident = 0;
        for (uint64_t j = 0, k; (k = next_run(vec + first, npages, &j)) != 0; j += k) {
            memset(base + j * OS_PAGE, 0, k * OS_PAGE);
            resident += k * OS_PAGE;
        }
        v[i]->resident = resident ? resident : OS_PAGE; /* the link is written */
    }
    return true;
}

/* Zeroes a list of freed slots of class c and makes them free. */
static void clean_batch(int c, slot *list)
{
    slot *v[DIRTY_BATCH];
    uint64_t bytes = class_bytes(c);
    while (list) {
        uint32_t n = 0;
        for (; list && n < DIRTY_BATCH; list = list->next)
            v[n++] = list;
        qsort(v, n, sizeof *v, by_address);
        for (uint32_t i = 0; i < n;) {
            /* neighbours within SPAN_MAX and without a wide gap: one call
             * (they may lie in different chunks: then it can fail) */
            uint32_t j = i + 1;
            while (j < n && (uint64_t)((uint8_t *)v[j] - (uint8_t *)v[i]) + bytes <= SPAN_MAX &&
                   (uint64_t)((uint8_t *)v[j] - (uint8_t *)v[j - 1]) <= bytes + GAP_MAX)
                j++;
            if (!zero_span(v + i, j - i, bytes)) {
                for (uint32_t k = i; k < j; k++) {
                    uint64_t resident = 0;
                    for_resident((uint8_t *)v[k], bytes, zero_run, &resident);
                    v[k]->resident = resident ? resident : OS_PAGE;
                }
            }
            i = j;
        }
        pthread_mutex_lock(&pool_lock);
        for (uint32_t i = 0; i < n; i++) {
            pool_resident += v[i]->resident;
            pool_resident -= bytes; /* counted at full size while dirty */
            v[i]->next = classes[c].free;
            classes[c].free = v[i];
        }
        pthread_mutex_unlock(&pool_lock);
    }
}

void lw_pages_put(void *mem, uint64_t capacity)
{
    if (!mem)
        return;
    int c = class_of(capacity);
    if (c < 0 || class_bytes(c) != capacity) {
        munmap(mem, capacity);
        return;
    }
    pages_init();
    slot *s = mem;
    size_class *k = &classes[c];
    pthread_mutex_lock(&pool_lock);
    if (by_mincore && pool_resident < resident_max()) {
        /* zeroed later, with its neighbours */
        pool_resident += capacity;
        s->next = k->dirty;
        k->dirty = s;
        slot *batch = NULL;
        if (++k->ndirty >= DIRTY_BATCH) {
            batch = k->dirty;
            k->dirty = NULL;
            k->ndirty = 0;
        }
        pthread_mutex_unlock(&pool_lock);
        if (batch)
            clean_batch(c, batch);
        return;
    }
    pthread_mutex_unlock(&pool_lock);
    madvise(mem, capacity, MADV_DONTNEED); /* zero and not resident */
    s->resident = OS_PAGE;
    pthread_mutex_lock(&pool_lock);
    pool_resident += s->resident;
    s->next = k->free;
    k->free = s;
    pthread_mutex_unlock(&pool_lock);
}

typedef struct copy_ctx {
    const uint8_t *from;
    uint8_t *to;
    uint64_t limit;
} copy_ctx;

static void copy_run(uint8_t *p, uint64_t len, void *arg)
{
    copy_ctx *c = arg;
    uint64_t off = (uint64_t)(p - c->from);
    if (off >= c->limit)
        return;
    if (off + len > c->limit)
        len = c->limit - off;
    memcpy(c->to + off, p, len);
}

void *lw_pages_grow(void *old, uint64_t old_cap, uint64_t used, uint64_t new_size,
                    uint64_t *new_cap)
{
    if (old && class_of(old_cap) < 0) {
        /* a large memory has its own mapping */
        void *p = mremap(old, old_cap, new_size, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return NULL;
        *new_cap = new_size;
        return p;
    }
    void *p = lw_pages_get(new_size);
    if (!p)
        return NULL;
    *new_cap = lw_pages_capacity(new_size);
    if (old) {
        if (by_mincore) {
            copy_ctx c = {old, p, used};
            for_resident(old, old_cap, copy_run, &c);
        } else {
            memcpy(p, old, used);
        }
        lw_pages_put(old, old_cap);
    }
    return p;
}
