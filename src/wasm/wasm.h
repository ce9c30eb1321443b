/*
 * wasm.h - the public interface of the WebAssembly engine layer.
 *
 * The engine decodes, validates and compiles a module once (wasm_module),
 * instantiates it many times (wasm_instance), and runs code on an execution
 * context (wasm_exec) that never recurses on the C stack for Wasm-to-Wasm
 * calls. A run stops with one of four statuses:
 *
 *   WASM_OK       the called function returned; results via wasm_exec_results
 *   WASM_YIELD    the reduction budget ran out; wasm_exec_resume continues
 *   WASM_SUSPEND  a host function asked to block; wasm_exec_resume calls the
 *                 same host function again with the same arguments
 *   WASM_TRAP     the run failed; wasm_exec_trap_* describe why and where
 *
 * Everything above this layer (WASI, processes, the CLI) uses only this file.
 *
 * Values cross the API as 64-bit cells (wasm_val): i32 in the low 32 bits,
 * f32/f64 as their IEEE bit patterns, references as a uint64 where 0 is null;
 * a funcref is the address of a wasm_func.
 *
 * Threads: a module and its interned types may be used from any thread at
 * once. An instance and an exec context belong to one thread at a time.
 */
#ifndef LUNATIC_WASM_H
#define LUNATIC_WASM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t wasm_val;

typedef enum wasm_valtype {
    WASM_I32 = 0x7f,
    WASM_I64 = 0x7e,
    WASM_F32 = 0x7d,
    WASM_F64 = 0x7c,
    WASM_V128 = 0x7b,
    WASM_FUNCREF = 0x70,
    WASM_EXTERNREF = 0x6f
} wasm_valtype;

typedef enum wasm_externkind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3
} wasm_externkind;

enum {
    WASM_OK = 0,
    WASM_YIELD = 1,
    WASM_SUSPEND = 2,
    WASM_TRAP = 3,
    WASM_CALL = 4    /* host functions only: see wasm_exec_continue_with */
};

/* Trap kinds. The message of each is the spec test suite's wording. */
#define WASM_TRAP_LIST(X)                                              \
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

typedef enum wasm_trapkind {
#define WASM_TRAP_ENUM(name, msg) WASM_TRAP_##name,
    WASM_TRAP_LIST(WASM_TRAP_ENUM)
#undef WASM_TRAP_ENUM
    WASM_TRAP_COUNT
} wasm_trapkind;

/* Returns the fixed message of a trap kind ("integer divide by zero"). */
const char *wasm_trapkind_message(wasm_trapkind k);

/* An error from decoding, validation, linking or instantiation. */
typedef struct wasm_error {
    int failed;        /* nonzero once an error was recorded */
    size_t offset;     /* byte offset in the module binary, when relevant */
    char msg[240];     /* one line, no trailing newline */
} wasm_error;

typedef struct wasm_module wasm_module;
typedef struct wasm_instance wasm_instance;
typedef struct wasm_func wasm_func;
typedef struct wasm_table wasm_table;
typedef struct wasm_memory wasm_memory;
typedef struct wasm_global wasm_global;
typedef struct wasm_exec wasm_exec;

/* ---- Function types ------------------------------------------------------
 * Types are interned: two equal signatures give the same pointer, so a type
 * check is a pointer comparison. Interned types live until exit. */
typedef struct wasm_functype {
    uint32_t nparams, nresults;
    const uint8_t *params;   /* wasm_valtype codes */
    const uint8_t *results;
} wasm_functype;

const wasm_functype *wasm_functype_get(uint32_t nparams, const uint8_t *params,
                                       uint32_t nresults, const uint8_t *results);

/* ---- Externals: what an import is satisfied with and an export yields --- */
typedef struct wasm_extern {
    wasm_externkind kind;
    union {
        wasm_func *func;
        wasm_table *table;
        wasm_memory *memory;
        wasm_global *global;
    } u;
} wasm_extern;

/* The type of an import or an export, as declared by the module. */
typedef struct wasm_externtype {
    wasm_externkind kind;
    const wasm_functype *func;            /* kind FUNC */
    uint8_t elemtype;                     /* kind TABLE: WASM_FUNCREF / EXTERNREF */
    uint8_t valtype, mut;                 /* kind GLOBAL */
    uint8_t has_max;                      /* TABLE, MEMORY */
    uint32_t min, max;                    /* TABLE (elements), MEMORY (pages) */
} wasm_externtype;

typedef struct wasm_import {
    const char *module, *name;            /* NUL-terminated, owned by the module */
    uint32_t module_len, name_len;        /* lengths (names may hold NUL bytes) */
    wasm_externtype type;
} wasm_import;

typedef struct wasm_export {
    const char *name;
    uint32_t name_len;
    wasm_externtype type;
} wasm_export;

/* ---- Modules ------------------------------------------------------------ */

/* Decodes, validates and compiles a binary module. Returns NULL and fills
 * err (byte offset and reason) on a malformed or invalid module. The bytes
 * are not kept: the caller may free them after the call. The module starts
 * with one reference. */
wasm_module *wasm_module_new(const uint8_t *bytes, size_t len, wasm_error *err);
void wasm_module_retain(wasm_module *m);
/* Drops one reference; the last one frees the module. Instances hold a
 * reference, so a module may be released while instances still run. */
void wasm_module_release(wasm_module *m);

uint32_t wasm_module_num_imports(const wasm_module *m);
void wasm_module_import(const wasm_module *m, uint32_t i, wasm_import *out);
uint32_t wasm_module_num_exports(const wasm_module *m);
void wasm_module_export(const wasm_module *m, uint32_t i, wasm_export *out);
/* Returns the function's name from the name section, or NULL. */
const char *wasm_module_func_name(const wasm_module *m, uint32_t funcidx);

/* ---- Instances ---------------------------------------------------------- */

typedef struct wasm_limits {
    uint64_t max_memory_bytes;   /* memory.grow beyond this returns -1; 0 = 4 GiB */
    uint32_t max_table_elems;    /* table.grow beyond this returns -1; 0 = 10,000,000 */
    /* Check the data segments now but copy them into the instance's own
     * memory only when something first touches the bytes they cover (a
     * load, store or bulk operation, wasm_exec_mem, wasm_memory_data, a
     * lookup of the memory): a process that never reads its data pays no
     * page faults for it (an idle C process then touches only its stack
     * page), and a spawner none for its children's. While they are pending
     * each access takes the bounds check's slow path (the first 65,536
     * only: then they are copied in anyway). Ignored (copied at
     * once) with a start function, an imported memory or an offset read
     * from a global. */
    int defer_data;
} wasm_limits;

/* Instantiates m. imports[i] satisfies import i (in module order) and must
 * match its declared type, else the error names the import. Applies element
 * and data segments. Does NOT run the start function: the caller runs
 * wasm_instance_start_func() on an exec so that it is suspendable.
 * Imported objects are borrowed: they must outlive the instance.
 * Returns NULL and fills err on a link error or a segment that does not fit
 * ("out of bounds memory access" / "out of bounds table access"). */
wasm_instance *wasm_instance_new(wasm_module *m, const wasm_extern *imports,
                                 uint32_t nimports, const wasm_limits *limits,
                                 wasm_error *err);
void wasm_instance_free(wasm_instance *inst);
/* Copies deferred data segments in now (see wasm_limits.defer_data). */
void wasm_instance_init_data(wasm_instance *inst);
wasm_module *wasm_instance_module(const wasm_instance *inst);
/* Start function of the instance or NULL. */
wasm_func *wasm_instance_start_func(wasm_instance *inst);
/* Looks up an export by name; returns 0 when found. The _n form takes a
 * length, for names that hold NUL bytes. */
int wasm_instance_export(wasm_instance *inst, const char *name, wasm_extern *out);
int wasm_instance_export_n(wasm_instance *inst, const char *name, size_t len, wasm_extern *out);
/* The instance's (first) memory, or NULL. */
wasm_memory *wasm_instance_memory(wasm_instance *inst);
/* User data slot, e.g. the owning process. */
void wasm_instance_set_user(wasm_instance *inst, void *user);
void *wasm_instance_user(const wasm_instance *inst);

/* ---- Per-process objects ------------------------------------------------ */

/* Zeroed memory for an object every process has (exec context, instance
 * block, the runtime's process struct): from per-thread free lists up to
 * WASM_OBJ_MAX bytes, so that objects made on one thread and freed on
 * another cost no lock per object (objpool.c). NULL when out of memory.
 * Free with wasm_obj_free and the same size. Thread-safe. */
#define WASM_OBJ_MAX 2048
void *wasm_obj_alloc(size_t size);
void wasm_obj_free(void *p, size_t size);

/* ---- Functions ---------------------------------------------------------- */

/* A host function. args holds the parameters on entry; on WASM_OK the
 * function writes its results over args[0..nresults-1]. It may return
 * WASM_TRAP (after wasm_exec_trap*), or WASM_SUSPEND to park the caller:
 * the next wasm_exec_resume calls it again with the same args. WASM_YIELD
 * means the call is complete (results written) and the run stops after it
 * as if the budget had run out (a host call that did much work gives the
 * others their turn); wasm_exec_resume continues after the call (called
 * directly by wasm_exec_call, it simply completes with WASM_OK). The
 * instance that called it is wasm_exec_instance(x). */
typedef int (*wasm_host_fn)(wasm_exec *x, void *env, wasm_val *args);

/* Creates a host function. The result is owned by the caller. */
wasm_func *wasm_func_new_host(const wasm_functype *type, wasm_host_fn fn, void *env);
void wasm_func_free(wasm_func *f);   /* host functions only */
const wasm_functype *wasm_func_type(const wasm_func *f);

/* ---- Memories, tables, globals (standalone or exported) ------------------ */

wasm_memory *wasm_memory_new(uint32_t min_pages, uint32_t max_pages, int has_max);
void wasm_memory_free(wasm_memory *mem);   /* standalone memories only */
uint8_t *wasm_memory_data(wasm_memory *mem);
uint64_t wasm_memory_size(const wasm_memory *mem);   /* bytes */
/* Grows by delta pages; returns the old size in pages or -1. */
int64_t wasm_memory_grow(wasm_memory *mem, uint32_t delta);

wasm_table *wasm_table_new(uint8_t elemtype, uint32_t min, uint32_t max, int has_max);
void wasm_table_free(wasm_table *t);       /* standalone tables only */
uint32_t wasm_table_size(const wasm_table *t);
wasm_val wasm_table_get(const wasm_table *t, uint32_t i);

wasm_global *wasm_global_new(uint8_t valtype, int mut, wasm_val v);
void wasm_global_free(wasm_global *g);     /* standalone globals only */
wasm_val wasm_global_get(const wasm_global *g);
void wasm_global_set(wasm_global *g, wasm_val v);

/* ---- Execution ---------------------------------------------------------- */

/* An execution context: value stack, call frames and the state of a run.
 * max_stack_bytes bounds the value stack (0 = default 8 MiB); it starts
 * small and grows on demand. */
wasm_exec *wasm_exec_new(size_t max_stack_bytes);
void wasm_exec_free(wasm_exec *x);

/* Allocates the value stack for f and a few frames now rather than at the
 * first call (so they can sit next to the caller's other allocations).
 * Returns 0, or -1 when out of memory. */
int wasm_exec_reserve(wasm_exec *x, const wasm_func *f);

/* Reductions granted to each run or resume (charged at function entry and
 * loop back-edges); 0 = unlimited (the default). */
void wasm_exec_set_budget(wasm_exec *x, uint64_t reductions);
/* Fuel, counted in the same units across all runs; running out traps with
 * WASM_TRAP_OUT_OF_FUEL. UINT64_MAX = unlimited (the default). */
void wasm_exec_set_fuel(wasm_exec *x, uint64_t fuel);
uint64_t wasm_exec_fuel(const wasm_exec *x);

/* Starts calling f with args (f's params). Returns a status (see top). */
int wasm_exec_call(wasm_exec *x, wasm_func *f, const wasm_val *args);
/* Continues a run stopped with WASM_YIELD or WASM_SUSPEND. */
int wasm_exec_resume(wasm_exec *x);
/* After WASM_OK: the results of the call (valid until the next call). */
const wasm_val *wasm_exec_results(const wasm_exec *x);

/* In a host function: the calling instance and its memory. */
wasm_instance *wasm_exec_instance(const wasm_exec *x);
/* Bounds-checked pointer into the caller's memory: NULL unless
 * [offset, offset+len) lies inside it. Valid until the guest runs again. */
void *wasm_exec_mem(wasm_exec *x, uint64_t offset, uint64_t len);

/* In a host function called from Wasm: continue by calling the Wasm
 * function f with args[0..nparams-1] (write them into the host call's args
 * first: f's params must fit where the host call's params were), and
 * return what wasm_exec_continue_with returns (WASM_CALL). f's results
 * become the host call's results. With catch_traps, a trap inside f (or
 * anything it calls) is caught: the host call then returns on_trap as its
 * single result and the run goes on (process exits are not caught). The
 * run stays suspendable inside f. Returns WASM_TRAP if f is not a Wasm
 * function. */
int wasm_exec_continue_with(wasm_exec *x, wasm_func *f, int catch_traps, wasm_val on_trap);

/* Records a trap; a host function then returns WASM_TRAP. */
void wasm_exec_trap(wasm_exec *x, wasm_trapkind kind, const char *msg);
/* Records a WASI proc_exit: the run ends with WASM_TRAP, kind EXIT. */
void wasm_exec_exit(wasm_exec *x, int code);

wasm_trapkind wasm_exec_trap_kind(const wasm_exec *x);
const char *wasm_exec_trap_message(const wasm_exec *x);
int wasm_exec_exit_code(const wasm_exec *x);
/* Writes "kind: message" plus a backtrace, one frame a line
 * ("  #0 func_name (func 12)"), into buf; returns the length. */
size_t wasm_exec_trap_format(const wasm_exec *x, char *buf, size_t size);

/* User data slot, e.g. the process running on this exec. */
void wasm_exec_set_user(wasm_exec *x, void *user);
void *wasm_exec_user(const wasm_exec *x);

#endif
