/*
 * internal.h - data structures shared by the engine's pipeline:
 * decode.c (binary -> lw_module), compile.c (validate + translate each
 * function body to internal code), instance.c (instantiate), interp.c (run).
 *
 * Internal code is an array of 32-bit cells. Each instruction starts with
 * its handler's offset from a base label in the interpreter (so dispatch is
 * one add and an indirect jump) followed by operands. Operands are mostly
 * slot indices relative to the frame pointer fp: a frame is
 *   [params][declared locals][operand stack temporaries]
 * with 64-bit slots. The compiler resolves every Wasm stack position to a
 * fixed slot, so no instruction pushes or pops at run time. Branch offsets
 * are in cells, relative to the first cell of the branching instruction.
 */
#ifndef LUNATIC_WASM_INTERNAL_H
#define LUNATIC_WASM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/lw.h"

#define LW_PAGE_SIZE 65536u
#define LW_MAX_PAGES 65536u

/* One value slot. 32-bit values live in the low half; the high half of a
 * slot holding an i32/f32 is undefined. */
typedef union lw_slot {
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
    float f32;
    double f64;
} lw_slot;

/* ---- Constant expressions (global inits, segment offsets, elem items) --- */
enum { CEXPR_CONST, CEXPR_GLOBAL, CEXPR_REFNULL, CEXPR_REFFUNC };
typedef struct lw_cexpr {
    uint8_t kind;
    uint8_t type;       /* value type produced */
    uint32_t index;     /* global or function index */
    uint64_t value;     /* CEXPR_CONST bits */
} lw_cexpr;

typedef struct lw_globaltype {
    uint8_t valtype, mut;
} lw_globaltype;

typedef struct lw_limits_decl {
    uint32_t min, max;
    uint8_t has_max;
} lw_limits_decl;

typedef struct lw_tabletype {
    uint8_t elemtype;
    lw_limits_decl lim;
} lw_tabletype;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct lw_elemseg {
    uint8_t mode, elemtype;
    uint32_t table;
    lw_cexpr offset;
    uint32_t n;
    lw_cexpr *items;
} lw_elemseg;

typedef struct lw_dataseg {
    uint8_t mode;
    uint32_t mem;
    lw_cexpr offset;
    uint32_t len;
    const uint8_t *bytes;   /* into the binary while decoding, then into lw_module.blob */
} lw_dataseg;

typedef struct lw_importdecl {
    char *module, *name;
    uint32_t module_len, name_len;
    uint8_t kind;
    uint32_t index;          /* type index (func) */
    lw_tabletype table;
    lw_limits_decl mem;
    lw_globaltype global;
} lw_importdecl;

typedef struct lw_exportdecl {
    char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} lw_exportdecl;

/* A compiled function body. */
typedef struct lw_code {
    uint32_t *code;          /* internal code (NULL until compiled) */
    uint32_t ncode;
    uint32_t funcidx;
    uint32_t nparams, nresults;
    uint32_t nlocals;        /* slots of params + declared locals */
    uint32_t nslots;         /* whole frame */
    const lw_functype *type;
    uint8_t *local_types;    /* declared locals only (after params) */
    uint32_t body_off, body_len;   /* into the binary, during compilation */
} lw_code;

struct lw_module {
    atomic_int refs;
    uint8_t *blob;           /* the data segments' bytes, copied out of the binary */

    uint32_t ntypes;
    const lw_functype **types;

    uint32_t nimports;
    lw_importdecl *imports;

    uint32_t nfuncs, nfuncimports;
    uint32_t *functypes;     /* type index per function (imports first) */
    lw_code *codes;        /* nfuncs - nfuncimports */

    uint32_t ntables, ntableimports;
    lw_tabletype *tables;

    uint32_t nmems, nmemimports;
    lw_limits_decl *mems;

    uint32_t nglobals, nglobalimports;
    lw_globaltype *globals;
    lw_cexpr *global_inits;  /* defined globals only */

    uint32_t nexports;
    lw_exportdecl *exports;

    int64_t start;             /* -1: none */

    uint32_t nelems;
    lw_elemseg *elems;

    uint32_t ndatas;
    int64_t datacount;         /* -1: no data count section */
    lw_dataseg *datas;

    /* Functions that may become references (exports, elements, start,
     * ref.func in globals) get a lw_func object in each instance; funcref
     * maps a function index to its object slot, or -1. */
    int32_t *funcref;
    uint32_t *funcref_func;    /* the inverse: object slot -> function index */
    uint32_t nfuncrefs;

    char **func_names;         /* from the name section; may be NULL */
    const uint8_t *declared;   /* during loading: functions ref.func may name */
};

/* Function objects: what a funcref points to. */
enum { FUNC_WASM, FUNC_HOST };
struct lw_func {
    uint8_t kind;
    const lw_functype *type;
    union {
        struct { lw_instance *inst; lw_code *code; } w;
        struct { lw_host_fn fn; void *env; } h;
    } u;
};

struct lw_memory {
    uint8_t *data;
    uint64_t size;             /* bytes = pages * 64 KiB */
    uint64_t mapped;           /* bytes mapped (>= size) */
    uint32_t pages, max_pages; /* max_pages: declared max, capped by limits */
    uint8_t has_max;
    /* Deferred data segments (lw_limits.defer_data): the active segments
     * of lazy_mod belong in [lazy_lo, lazy_hi) and are copied in at the
     * first access there; lazy_hi = 0 when nothing is pending. */
    uint64_t lazy_lo, lazy_hi;
    const lw_module *lazy_mod;
    uint32_t lazy_accesses;    /* accesses while pending (interp.c) */
};

/* Copies deferred data segments in (lazy_hi becomes 0). */
void lw_memory_materialize(lw_memory *mem);

/* Whether [off, off+len) touches deferred data: then materialize first. */
static inline bool lw_memory_lazy(const lw_memory *mem, uint64_t off, uint64_t len)
{
    return off < mem->lazy_hi && off + len > mem->lazy_lo;
}

struct lw_table {
    uint64_t *elems;           /* in the instance block while inline_elems */
    uint32_t size, max;
    uint8_t elemtype, has_max, inline_elems;
};

struct lw_global {
    lw_slot v;
    uint8_t valtype, mut;
};

struct lw_instance {
    lw_module *module;
    lw_func **funcimports;   /* nfuncimports, borrowed */
    lw_func *funcs;          /* nfuncrefs own function objects */
    lw_table **tables;
    lw_memory *mem;          /* memory 0 or NULL */
    lw_global **globals;
    uint8_t *elem_dropped, *data_dropped;
    void *user;
    /* own objects live after the struct, in the same allocation */
    lw_table *own_tables;
    lw_global *own_globals;
    lw_memory own_mem;
    uint64_t max_memory_bytes;
    uint32_t max_table_elems;
    uint32_t block_size;       /* bytes of this allocation (lw_obj_alloc) */
    int (*memory_growing)(void *ud, uint64_t from, uint64_t to);   /* lw_limits */
    void *growing_ud;
};

/* The object pool is bypassed (plain malloc) under ASan and TSan; its test
 * turns it on. */
void lw_obj_pool_force(int on);

/* ---- Execution context -------------------------------------------------- */

typedef struct lw_frame {
    const uint32_t *ret_pc;    /* where the caller continues */
    const lw_code *code;     /* the function of this frame */
    lw_instance *inst;
    uint32_t fp;               /* slot index of this frame's fp in stack */
    uint32_t catches;          /* 1: a trap below unwinds to here */
    lw_val on_trap;          /* the result then */
} lw_frame;

#define LW_BT_MAX 32
#define LW_INLINE_SLOTS 32
#define LW_INLINE_FRAMES 4

/* A trap's message and backtrace: apart from the exec, which a million
 * idle processes each hold, because few runs ever trap. */
typedef struct lw_trapinfo {
    char msg[160];
    uint32_t bt_n;
    uint32_t bt_func[LW_BT_MAX];
    const lw_module *bt_mod[LW_BT_MAX];
} lw_trapinfo;

struct lw_exec {
    lw_slot *stack;          /* inline_stack until it grows */
    uint32_t stack_cap, stack_max;     /* slots */
    lw_frame *frames;
    uint32_t nframes, frames_cap, frames_max;

    /* suspended state */
    const uint32_t *pc;
    int state;                 /* LW_OK / LW_YIELD / LW_SUSPEND / LW_TRAP */
    lw_func *host_pending;   /* host function to re-call on resume */
    uint32_t host_argbase;     /* its argument slots (from stack base) */
    lw_instance *host_inst;  /* instance that called the host function */
    lw_func *cont;           /* lw_exec_continue_with: the function */
    uint32_t cont_catch;
    lw_val cont_on_trap;

    uint64_t budget;           /* reductions per run, 0 = unlimited */
    uint64_t fuel;             /* remaining, UINT64_MAX = unlimited */
    /* Charges made by every run so far. Written only by the thread that
     * runs x, once per run; an atomic so that other threads may read it
     * while x runs (lw_exec_reductions). */
    _Atomic uint64_t reductions;
    uint32_t nresults;

    lw_trapkind trap;
    int exit_code;
    lw_trapinfo *ti;         /* made at the first trap that needs it */

    void *user;
    /* The first stack and frames live in the exec itself: most processes
     * never need more, and that saves two allocations per process. */
    lw_slot inline_stack[LW_INLINE_SLOTS];
    lw_frame inline_frames[LW_INLINE_FRAMES];
};

/* Grows a buffer that may still be the exec's inline one (which must not
 * be passed to realloc). Returns NULL on failure, leaving old intact. */
static inline void *lw_grow_buf(void *old, const void *inline_buf, size_t old_bytes,
                                size_t new_bytes)
{
    if (old != inline_buf)
        return realloc(old, new_bytes);
    void *p = malloc(new_bytes);
    if (p && old_bytes)
        memcpy(p, old, old_bytes);
    return p;
}

/* ---- Internal code ------------------------------------------------------- */
#include "wasm/ops.h"

enum {
#define OP_ENUM(name) OP_##name,
#define OP_ENUM_N(name, ...) OP_##name,
#define OP_ENUM_I(n, c, f, rf, e, imm, br) OP_ENUM_I_##imm(n)
#define OP_ENUM_I_Y(n) OP_##n##_I,
#define OP_ENUM_I_N(n)
#define OP_ENUM_B(n, c, f, rf, e, imm, br) OP_ENUM_B_##br(n)
#define OP_ENUM_B_Y(n) OP_BR_##n,
#define OP_ENUM_B_N(n)
#define OP_ENUM_BI(n, c, f, rf, e, imm, br) OP_ENUM_BI_##br(n)
#define OP_ENUM_BI_Y(n) OP_BR_##n##_I,
#define OP_ENUM_BI_N(n)
    LW_ALL_OPS(OP_ENUM, OP_ENUM_N, OP_ENUM_I, OP_ENUM_B, OP_ENUM_BI)
#undef OP_ENUM
#undef OP_ENUM_N
#undef OP_ENUM_I
#undef OP_ENUM_B
#undef OP_ENUM_BI
    OP_COUNT
};

/* Offsets of the interpreter's handlers, indexed by OP_*. */
extern const int32_t *lw_op_offsets;
void lw_interp_init(void);

/* compile.c: validates and translates one function body. */
int lw_compile_function(lw_module *m, const uint8_t *bin, size_t binlen,
                        lw_code *c, lw_error *err);

/* error helpers (decode.c) */
int lw_error_set(lw_error *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* instance.c */
int lw_cexpr_eval(const lw_instance *inst, const lw_cexpr *e, lw_val *out);
int lw_table_grow_internal(lw_table *t, uint32_t delta, uint64_t init, uint32_t limit);
int64_t lw_memory_grow_internal(lw_memory *mem, uint32_t delta);
/* memory.grow of the instance's memory 0, asking its memory_growing hook. */
int64_t lw_instance_grow_memory(lw_instance *inst, uint32_t delta);

/* dump.c: prints internal code to stderr (LUNATIC_DUMP_CODE=1). */
void lw_dump_code(const lw_module *m, const lw_code *c);

/* pages.c: zeroed linear memory in recycled size-class slots. get returns
 * a zeroed block of lw_pages_capacity(size) bytes; put takes it back
 * with that capacity; grow moves a memory to a block for new_size,
 * keeping its first `used` bytes, and releases the old one. */
void *lw_pages_get(uint64_t size);
uint64_t lw_pages_capacity(uint64_t size);
void lw_pages_put(void *mem, uint64_t capacity);
/* Tests: whether freed slots are zeroed by mincore (the default without
 * swap) or released with MADV_DONTNEED (with swap). */
void lw_pages_use_mincore(int on);
void *lw_pages_grow(void *old, uint64_t old_cap, uint64_t used, uint64_t new_size,
                    uint64_t *new_cap);

/* exec.c: grows the value stack to at least `slots` (doubling, within
 * stack_max); 0, or -1 at the limit or out of memory. */
int lw_exec_grow_stack(lw_exec *x, uint64_t slots);

/* interp.c */
int lw_interp_run(lw_exec *x);

#endif
