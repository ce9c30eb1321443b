/*
 * lw.h - the public interface of the WebAssembly engine layer ("lw": the
 * lunatic wasm engine; every public name has the prefix lw_ or LW_, so the
 * engine links beside any implementation of the standard Wasm C API).
 *
 * The engine decodes, validates and compiles a module once (lw_module),
 * instantiates it many times (lw_instance), and runs code on an execution
 * context (lw_exec) that never recurses on the C stack for Wasm-to-Wasm
 * calls. A run stops with one of four statuses:
 *
 *   LW_OK       the called function returned; results via lw_exec_results
 *   LW_YIELD    the reduction budget ran out; lw_exec_resume continues
 *   LW_SUSPEND  a host function asked to block; lw_exec_resume calls the
 *               same host function again with the same arguments
 *   LW_TRAP     the run failed; lw_exec_trap_* describe why and where
 *
 * Everything above this layer (WASI, processes, the CLI) uses only this file.
 *
 * Values cross the API as 64-bit cells (lw_val): i32 in the low 32 bits,
 * f32/f64 as their IEEE bit patterns, references as a uint64 where 0 is null;
 * a funcref is the address of a lw_func.
 *
 * Threads: a module and its interned types may be used from any thread at
 * once. An instance and an exec context belong to one thread at a time.
 *
 * Errors: a run ends with one of the statuses above (a trap is a status,
 * never an abort); a constructor returns NULL and fills an lw_error (byte
 * offset and a one-line reason) or, for allocations alone, returns NULL;
 * other calls that can fail return 0 or -1. Nothing in the engine prints,
 * exits or aborts.
 */
#ifndef LUNATIC_LW_H
#define LUNATIC_LW_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t lw_val;

typedef enum lw_valtype {
    LW_I32 = 0x7f,
    LW_I64 = 0x7e,
    LW_F32 = 0x7d,
    LW_F64 = 0x7c,
    LW_V128 = 0x7b,
    LW_FUNCREF = 0x70,
    LW_EXTERNREF = 0x6f
} lw_valtype;

typedef enum lw_externkind {
    LW_EXTERN_FUNC = 0,
    LW_EXTERN_TABLE = 1,
    LW_EXTERN_MEMORY = 2,
    LW_EXTERN_GLOBAL = 3
} lw_externkind;

enum {
    LW_OK = 0,
    LW_YIELD = 1,
    LW_SUSPEND = 2,
    LW_TRAP = 3,
    LW_CALL = 4    /* host functions only: see lw_exec_continue_with */
};

/* Trap kinds. The message of each is the spec test suite's wording. */
#define LW_TRAP_LIST(X)                                                \
    X(NONE, "no trap")                                                 \
    X(UNREACHABLE, "unreachable")                                      \
    X(DIV_ZERO, "integer divide by zero")                              \
    X(INT_OVERFLOW, "integer overflow")                                \
    X(BAD_CONVERSION, "invalid conversion to integer")                 \
    X(MEM_OOB, "out of bounds memory access")                          \
    X(TABLE_OOB, "out of bounds table access")                         \
    X(UNDEF_ELEM, "undefined element")                                 \
    X(UNINIT_ELEM, "uninitialized element")                            \
    X(SIG_MISMATCH, "indirect call type mismatch")                     \
    X(STACK_EXHAUSTED, "call stack exhausted")                         \
    X(OUT_OF_FUEL, "out of fuel")                                      \
    X(OUT_OF_MEMORY, "out of memory")                                  \
    X(HOST, "host error")                                              \
    X(EXIT, "exit")

typedef enum lw_trapkind {
#define LW_TRAP_ENUM(name, msg) LW_TRAP_##name,
    LW_TRAP_LIST(LW_TRAP_ENUM)
#undef LW_TRAP_ENUM
    LW_TRAP_COUNT
} lw_trapkind;

/* Whether s[0..n) is valid UTF-8 as the spec requires of names: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
int lw_utf8_valid(const uint8_t *s, size_t n);

/* Returns the fixed message of a trap kind ("integer divide by zero"). */
const char *lw_trapkind_message(lw_trapkind k);

/* An error from decoding, validation, linking or instantiation. */
typedef struct lw_error {
    int failed;        /* nonzero once an error was recorded */
    size_t offset;     /* byte offset in the module binary, when relevant */
    char msg[240];     /* one line, no trailing newline */
} lw_error;

typedef struct lw_module lw_module;
typedef struct lw_instance lw_instance;
typedef struct lw_func lw_func;
typedef struct lw_table lw_table;
typedef struct lw_memory lw_memory;
typedef struct lw_global lw_global;
typedef struct lw_exec lw_exec;

/* ---- Function types ------------------------------------------------------
 * Types are interned: two equal signatures give the same pointer, so a type
 * check is a pointer comparison. Interned types live until exit. */
typedef struct lw_functype {
    uint32_t nparams, nresults;
    const uint8_t *params;   /* lw_valtype codes */
    const uint8_t *results;
} lw_functype;

const lw_functype *lw_functype_get(uint32_t nparams, const uint8_t *params,
                                       uint32_t nresults, const uint8_t *results);

/* ---- Externals: what an import is satisfied with and an export yields --- */
typedef struct lw_extern {
    lw_externkind kind;
    union {
        lw_func *func;
        lw_table *table;
        lw_memory *memory;
        lw_global *global;
    } u;
} lw_extern;

/* The type of an import or an export, as declared by the module. */
typedef struct lw_externtype {
    lw_externkind kind;
    const lw_functype *func;            /* kind FUNC */
    uint8_t elemtype;                     /* kind TABLE: LW_FUNCREF / EXTERNREF */
    uint8_t valtype, mut;                 /* kind GLOBAL */
    uint8_t has_max;                      /* TABLE, MEMORY */
    uint32_t min, max;                    /* TABLE (elements), MEMORY (pages) */
} lw_externtype;

typedef struct lw_import {
    const char *module, *name;            /* NUL-terminated, owned by the module */
    uint32_t module_len, name_len;        /* lengths (names may hold NUL bytes) */
    lw_externtype type;
} lw_import;

typedef struct lw_export {
    const char *name;
    uint32_t name_len;
    lw_externtype type;
} lw_export;

/* ---- Modules ------------------------------------------------------------ */

/* Decodes, validates and compiles a binary module. Returns NULL and fills
 * err (byte offset and reason) on a malformed or invalid module. The bytes
 * are not kept: the caller may free them after the call. The module starts
 * with one reference. */
lw_module *lw_module_new(const uint8_t *bytes, size_t len, lw_error *err);
void lw_module_retain(lw_module *m);
/* Drops one reference; the last one frees the module. Instances hold a
 * reference, so a module may be released while instances still run. */
void lw_module_release(lw_module *m);

uint32_t lw_module_num_imports(const lw_module *m);
void lw_module_import(const lw_module *m, uint32_t i, lw_import *out);
uint32_t lw_module_num_exports(const lw_module *m);
void lw_module_export(const lw_module *m, uint32_t i, lw_export *out);
/* Returns the function's name from the name section, or NULL. */
const char *lw_module_func_name(const lw_module *m, uint32_t funcidx);

/* ---- Instances ---------------------------------------------------------- */

typedef struct lw_limits {
    uint64_t max_memory_bytes;   /* memory.grow beyond this returns -1; 0 = 4 GiB */
    uint32_t max_table_elems;    /* table.grow beyond this returns -1; 0 = 10,000,000 */
    /* Check the data segments now but copy them into the instance's own
     * memory only when something first touches the bytes they cover (a
     * load, store or bulk operation, lw_exec_mem, lw_memory_data, a
     * lookup of the memory): a process that never reads its data pays no
     * page faults for it (an idle C process then touches only its stack
     * page), and a spawner none for its children's. While they are pending
     * each access takes the bounds check's slow path (the first 65,536
     * only: then they are copied in anyway). Ignored (copied at
     * once) with a start function, an imported memory or an offset read
     * from a global. */
    int defer_data;
    /* Asked before memory.grow takes the instance's memory from `from` to
     * `to` bytes (a larger size) and, if the grow then fails for lack of
     * address space, told again with the two swapped: nonzero refuses the
     * grow (memory.grow returns -1). For an embedder that counts other
     * memory against the same limit (wasmtime's ResourceLimiter). NULL:
     * only max_memory_bytes applies. */
    int (*memory_growing)(void *ud, uint64_t from, uint64_t to);
    void *growing_ud;
} lw_limits;

/* Instantiates m. imports[i] satisfies import i (in module order) and must
 * match its declared type, else the error names the import. Applies element
 * and data segments. Does NOT run the start function: the caller runs
 * lw_instance_start_func() on an exec so that it is suspendable.
 * Imported objects are borrowed: they must outlive the instance.
 * Returns NULL and fills err on a link error or a segment that does not fit
 * ("out of bounds memory access" / "out of bounds table access"). */
lw_instance *lw_instance_new(lw_module *m, const lw_extern *imports,
                                 uint32_t nimports, const lw_limits *limits,
                                 lw_error *err);
void lw_instance_free(lw_instance *inst);
/* Copies deferred data segments in now (see lw_limits.defer_data). */
void lw_instance_init_data(lw_instance *inst);
lw_module *lw_instance_module(const lw_instance *inst);
/* Start function of the instance or NULL. */
lw_func *lw_instance_start_func(lw_instance *inst);
/* Looks up an export by name; returns 0 when found. The _n form takes a
 * length, for names that hold NUL bytes. */
int lw_instance_export(lw_instance *inst, const char *name, lw_extern *out);
int lw_instance_export_n(lw_instance *inst, const char *name, size_t len, lw_extern *out);
/* The instance's (first) memory, or NULL. */
lw_memory *lw_instance_memory(lw_instance *inst);
/* The size in bytes of inst's memory (0 without one). Unlike
 * lw_instance_memory it copies no deferred data in, so an observer may
 * ask while nobody runs the instance without touching its pages. */
uint64_t lw_instance_memory_bytes(const lw_instance *inst);
/* Host memory of the instance block (tables, globals, function objects;
 * not the linear memory). */
size_t lw_instance_host_bytes(const lw_instance *inst);
/* User data slot, e.g. the owning process. */
void lw_instance_set_user(lw_instance *inst, void *user);
void *lw_instance_user(const lw_instance *inst);

/* ---- Per-process objects ------------------------------------------------ */

/* Zeroed memory for an object every process has (exec context, instance
 * block, the runtime's process struct): from per-thread free lists up to
 * LW_OBJ_MAX bytes, so that objects made on one thread and freed on
 * another cost no lock per object (objpool.c). NULL when out of memory.
 * Free with lw_obj_free and the same size. Thread-safe. */
#define LW_OBJ_MAX 2048
void *lw_obj_alloc(size_t size);
void lw_obj_free(void *p, size_t size);

/* ---- Functions ---------------------------------------------------------- */

/* A host function. args holds the parameters on entry; on LW_OK the
 * function writes its results over args[0..nresults-1]. It may return
 * LW_TRAP (after lw_exec_trap*), or LW_SUSPEND to park the caller:
 * the next lw_exec_resume calls it again with the same args. LW_YIELD
 * means the call is complete (results written) and the run stops after it
 * as if the budget had run out (a host call that did much work gives the
 * others their turn); lw_exec_resume continues after the call (called
 * directly by lw_exec_call, it simply completes with LW_OK). The
 * instance that called it is lw_exec_instance(x). */
typedef int (*lw_host_fn)(lw_exec *x, void *env, lw_val *args);

/* Creates a host function. The result is owned by the caller. */
lw_func *lw_func_new_host(const lw_functype *type, lw_host_fn fn, void *env);
void lw_func_free(lw_func *f);   /* host functions only */
const lw_functype *lw_func_type(const lw_func *f);
/* The name of an export of f's module that is f (the first one), with its
 * length in *len, owned by the module; NULL for a host function or one
 * that is not exported. */
const char *lw_func_export_name(const lw_func *f, uint32_t *len);

/* ---- Memories, tables, globals (standalone or exported) ------------------ */

lw_memory *lw_memory_new(uint32_t min_pages, uint32_t max_pages, int has_max);
void lw_memory_free(lw_memory *mem);   /* standalone memories only */
uint8_t *lw_memory_data(lw_memory *mem);
uint64_t lw_memory_size(const lw_memory *mem);   /* bytes */
/* Grows by delta pages; returns the old size in pages or -1. */
int64_t lw_memory_grow(lw_memory *mem, uint32_t delta);

lw_table *lw_table_new(uint8_t elemtype, uint32_t min, uint32_t max, int has_max);
void lw_table_free(lw_table *t);       /* standalone tables only */
uint32_t lw_table_size(const lw_table *t);
lw_val lw_table_get(const lw_table *t, uint32_t i);

lw_global *lw_global_new(uint8_t valtype, int mut, lw_val v);
void lw_global_free(lw_global *g);     /* standalone globals only */
lw_val lw_global_get(const lw_global *g);
void lw_global_set(lw_global *g, lw_val v);

/* ---- Execution ---------------------------------------------------------- */

/* An execution context: value stack, call frames and the state of a run.
 * max_stack_bytes bounds the value stack (0 = default 8 MiB); it starts
 * small and grows on demand. */
lw_exec *lw_exec_new(size_t max_stack_bytes);
void lw_exec_free(lw_exec *x);

/* Allocates the value stack for f and a few frames now rather than at the
 * first call (so they can sit next to the caller's other allocations).
 * Returns 0, or -1 when out of memory. */
int lw_exec_reserve(lw_exec *x, const lw_func *f);

/* Reductions granted to each run or resume (charged at function entry and
 * loop back-edges); 0 = unlimited (the default). */
void lw_exec_set_budget(lw_exec *x, uint64_t reductions);
/* Fuel, counted in the same units across all runs; running out traps with
 * LW_TRAP_OUT_OF_FUEL. UINT64_MAX = unlimited (the default). */
void lw_exec_set_fuel(lw_exec *x, uint64_t fuel);
uint64_t lw_exec_fuel(const lw_exec *x);
/* Reductions charged by every run of x so far. Any thread may read it
 * while another runs x (it is updated once per run, atomically). */
uint64_t lw_exec_reductions(const lw_exec *x);
/* Host memory held by x: the struct, its stacks once they have grown. */
size_t lw_exec_host_bytes(const lw_exec *x);

/* Starts calling f with args (f's params). Returns a status (see top). */
int lw_exec_call(lw_exec *x, lw_func *f, const lw_val *args);
/* Continues a run stopped with LW_YIELD or LW_SUSPEND. */
int lw_exec_resume(lw_exec *x);
/* After LW_OK: the results of the call (valid until the next call). */
const lw_val *lw_exec_results(const lw_exec *x);

/* In a host function: the calling instance and its memory. */
lw_instance *lw_exec_instance(const lw_exec *x);
/* Bounds-checked pointer into the caller's memory: NULL unless
 * [offset, offset+len) lies inside it. Valid until the guest runs again. */
void *lw_exec_mem(lw_exec *x, uint64_t offset, uint64_t len);

/* In a host function called from Wasm: continue by calling the Wasm
 * function f with args[0..nparams-1] (write them into the host call's args
 * first: f's params must fit where the host call's params were), and
 * return what lw_exec_continue_with returns (LW_CALL). f's results
 * become the host call's results. With catch_traps, a trap inside f (or
 * anything it calls) is caught: the host call then returns on_trap as its
 * single result and the run goes on (process exits are not caught). The
 * run stays suspendable inside f. Returns LW_TRAP if f is not a Wasm
 * function. */
int lw_exec_continue_with(lw_exec *x, lw_func *f, int catch_traps, lw_val on_trap);

/* Records a trap; a host function then returns LW_TRAP. */
void lw_exec_trap(lw_exec *x, lw_trapkind kind, const char *msg);
/* Records a WASI proc_exit: the run ends with LW_TRAP, kind EXIT. */
void lw_exec_exit(lw_exec *x, int code);

lw_trapkind lw_exec_trap_kind(const lw_exec *x);
const char *lw_exec_trap_message(const lw_exec *x);
int lw_exec_exit_code(const lw_exec *x);
/* Writes "kind: message" plus a backtrace, one frame a line
 * ("  #0 func_name (func 12)"), into buf; returns the length. */
size_t lw_exec_trap_format(const lw_exec *x, char *buf, size_t size);

/* User data slot, e.g. the process running on this exec. */
void lw_exec_set_user(lw_exec *x, void *user);
void *lw_exec_user(const lw_exec *x);

#endif
