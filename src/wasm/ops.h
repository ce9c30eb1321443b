/*
 * ops.h - the internal instruction set, as X-macro lists.
 *
 * Operand notation: d = destination slot, a/b/c = source slots, imm = a
 * 32-bit immediate cell, off = branch offset (cells, from the instruction's
 * first cell), idx = an index into a module or instance table. Slots are
 * frame-relative. Every instruction is [handler][operands...].
 *
 * Numeric ops whose semantics is one C expression are listed with that
 * expression in LW_UNOPS / LW_BINOPS: the interpreter generates their
 * handlers and the compiler maps Wasm opcodes to them by table.
 */
#ifndef LUNATIC_WASM_OPS_H
#define LUNATIC_WASM_OPS_H

/* X(NAME, wasm opcode, operand field, result field, expression of a, b,
 *   IMM, BR): IMM = Y gives an immediate form NAME_I (d a imm; the
 *   immediate sign-extended for i64); BR = Y gives compare-and-branch forms
 *   BR_NAME (a b off) and BR_NAME_I (a imm off), taken when the comparison
 *   holds. */
#define LW_BINOPS(X)                                                             \
    X(I32_EQ, 0x46, u32, u32, a == b, Y, Y)                                      \
    X(I32_NE, 0x47, u32, u32, a != b, Y, Y)                                      \
    X(I32_LT_S, 0x48, i32, u32, a < b, Y, Y)                                     \
    X(I32_LT_U, 0x49, u32, u32, a < b, Y, Y)                                     \
    X(I32_GT_S, 0x4a, i32, u32, a > b, Y, Y)                                     \
    X(I32_GT_U, 0x4b, u32, u32, a > b, Y, Y)                                     \
    X(I32_LE_S, 0x4c, i32, u32, a <= b, Y, Y)                                    \
    X(I32_LE_U, 0x4d, u32, u32, a <= b, Y, Y)                                    \
    X(I32_GE_S, 0x4e, i32, u32, a >= b, Y, Y)                                    \
    X(I32_GE_U, 0x4f, u32, u32, a >= b, Y, Y)                                    \
    X(I64_EQ, 0x51, u64, u32, a == b, Y, Y)                                      \
    X(I64_NE, 0x52, u64, u32, a != b, Y, Y)                                      \
    X(I64_LT_S, 0x53, i64, u32, a < b, Y, Y)                                     \
    X(I64_LT_U, 0x54, u64, u32, a < b, Y, Y)                                     \
    X(I64_GT_S, 0x55, i64, u32, a > b, Y, Y)                                     \
    X(I64_GT_U, 0x56, u64, u32, a > b, Y, Y)                                     \
    X(I64_LE_S, 0x57, i64, u32, a <= b, Y, Y)                                    \
    X(I64_LE_U, 0x58, u64, u32, a <= b, Y, Y)                                    \
    X(I64_GE_S, 0x59, i64, u32, a >= b, Y, Y)                                    \
    X(I64_GE_U, 0x5a, u64, u32, a >= b, Y, Y)                                    \
    X(F32_EQ, 0x5b, f32, u32, a == b, N, N)                                      \
    X(F32_NE, 0x5c, f32, u32, a != b, N, N)                                      \
    X(F32_LT, 0x5d, f32, u32, a < b, N, N)                                       \
    X(F32_GT, 0x5e, f32, u32, a > b, N, N)                                       \
    X(F32_LE, 0x5f, f32, u32, a <= b, N, N)                                      \
    X(F32_GE, 0x60, f32, u32, a >= b, N, N)                                      \
    X(F64_EQ, 0x61, f64, u32, a == b, N, N)                                      \
    X(F64_NE, 0x62, f64, u32, a != b, N, N)                                      \
    X(F64_LT, 0x63, f64, u32, a < b, N, N)                                       \
    X(F64_GT, 0x64, f64, u32, a > b, N, N)                                       \
    X(F64_LE, 0x65, f64, u32, a <= b, N, N)                                      \
    X(F64_GE, 0x66, f64, u32, a >= b, N, N)                                      \
    X(I32_ADD, 0x6a, u32, u32, a + b, Y, N)                                      \
    X(I32_SUB, 0x6b, u32, u32, a - b, Y, N)                                      \
    X(I32_MUL, 0x6c, u32, u32, a * b, Y, N)                                      \
    X(I32_AND, 0x71, u32, u32, a & b, Y, N)                                      \
    X(I32_OR, 0x72, u32, u32, a | b, Y, N)                                       \
    X(I32_XOR, 0x73, u32, u32, a ^ b, Y, N)                                      \
    X(I32_SHL, 0x74, u32, u32, a << (b & 31), Y, N)                              \
    X(I32_SHR_S, 0x75, i32, i32, a >> (b & 31), Y, N)                            \
    X(I32_SHR_U, 0x76, u32, u32, a >> (b & 31), Y, N)                            \
    X(I32_ROTL, 0x77, u32, u32, rotl32(a, b), N, N)                              \
    X(I32_ROTR, 0x78, u32, u32, rotr32(a, b), N, N)                              \
    X(I64_ADD, 0x7c, u64, u64, a + b, Y, N)                                      \
    X(I64_SUB, 0x7d, u64, u64, a - b, Y, N)                                      \
    X(I64_MUL, 0x7e, u64, u64, a * b, Y, N)                                      \
    X(I64_AND, 0x83, u64, u64, a & b, Y, N)                                      \
    X(I64_OR, 0x84, u64, u64, a | b, Y, N)                                       \
    X(I64_XOR, 0x85, u64, u64, a ^ b, Y, N)                                      \
    X(I64_SHL, 0x86, u64, u64, a << (b & 63), Y, N)                              \
    X(I64_SHR_S, 0x87, i64, i64, a >> (b & 63), Y, N)                            \
    X(I64_SHR_U, 0x88, u64, u64, a >> (b & 63), Y, N)                            \
    X(I64_ROTL, 0x89, u64, u64, rotl64(a, b), N, N)                              \
    X(I64_ROTR, 0x8a, u64, u64, rotr64(a, b), N, N)                              \
    X(F32_ADD, 0x92, f32, f32, a + b, N, N)                                      \
    X(F32_SUB, 0x93, f32, f32, a - b, N, N)                                      \
    X(F32_MUL, 0x94, f32, f32, a * b, N, N)                                      \
    X(F32_DIV, 0x95, f32, f32, a / b, N, N)                                      \
    X(F32_MIN, 0x96, f32, f32, fmin32(a, b), N, N)                               \
    X(F32_MAX, 0x97, f32, f32, fmax32(a, b), N, N)                               \
    X(F32_COPYSIGN, 0x98, u32, u32, (a & 0x7fffffffu) | (b & 0x80000000u), N, N) \
    X(F64_ADD, 0xa0, f64, f64, a + b, N, N)                                      \
    X(F64_SUB, 0xa1, f64, f64, a - b, N, N)                                      \
    X(F64_MUL, 0xa2, f64, f64, a * b, N, N)                                      \
    X(F64_DIV, 0xa3, f64, f64, a / b, N, N)                                      \
    X(F64_MIN, 0xa4, f64, f64, fmin64(a, b), N, N)                               \
    X(F64_MAX, 0xa5, f64, f64, fmax64(a, b), N, N)                               \
    X(F64_COPYSIGN, 0xa6, u64, u64,                                              \
      (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull), N, N)

/* X(NAME, wasm opcode, operand field, result field, expression of a) */
#define LW_UNOPS(X)                                                   \
    X(I32_EQZ, 0x45, u32, u32, a == 0)                                \
    X(I64_EQZ, 0x50, u64, u32, a == 0)                                \
    X(I32_CLZ, 0x67, u32, u32, a ? (uint32_t)__builtin_clz(a) : 32)   \
    X(I32_CTZ, 0x68, u32, u32, a ? (uint32_t)__builtin_ctz(a) : 32)   \
    X(I32_POPCNT, 0x69, u32, u32, (uint32_t)__builtin_popcount(a))    \
    X(I64_CLZ, 0x79, u64, u64, a ? (uint64_t)__builtin_clzll(a) : 64) \
    X(I64_CTZ, 0x7a, u64, u64, a ? (uint64_t)__builtin_ctzll(a) : 64) \
    X(I64_POPCNT, 0x7b, u64, u64, (uint64_t)__builtin_popcountll(a))  \
    X(F32_ABS, 0x8b, u32, u32, a & 0x7fffffffu)                       \
    X(F32_NEG, 0x8c, u32, u32, a ^ 0x80000000u)                       \
    X(F32_CEIL, 0x8d, f32, f32, q_ceilf(a))                           \
    X(F32_FLOOR, 0x8e, f32, f32, q_floorf(a))                         \
    X(F32_TRUNC, 0x8f, f32, f32, q_truncf(a))                         \
    X(F32_NEAREST, 0x90, f32, f32, q_nearbyintf(a))                   \
    X(F32_SQRT, 0x91, f32, f32, sqrtf(a))                             \
    X(F64_ABS, 0x99, u64, u64, a & 0x7fffffffffffffffull)             \
    X(F64_NEG, 0x9a, u64, u64, a ^ 0x8000000000000000ull)             \
    X(F64_CEIL, 0x9b, f64, f64, q_ceil(a))                            \
    X(F64_FLOOR, 0x9c, f64, f64, q_floor(a))                          \
    X(F64_TRUNC, 0x9d, f64, f64, q_trunc(a))                          \
    X(F64_NEAREST, 0x9e, f64, f64, q_nearbyint(a))                    \
    X(F64_SQRT, 0x9f, f64, f64, sqrt(a))                              \
    X(I32_WRAP_I64, 0xa7, u64, u32, (uint32_t)a)                      \
    X(I64_EXTEND_I32_S, 0xac, i32, i64, (int64_t)a)                   \
    X(I64_EXTEND_I32_U, 0xad, u32, u64, (uint64_t)a)                  \
    X(F32_CONVERT_I32_S, 0xb2, i32, f32, (float)a)                    \
    X(F32_CONVERT_I32_U, 0xb3, u32, f32, (float)a)                    \
    X(F32_CONVERT_I64_S, 0xb4, i64, f32, (float)a)                    \
    X(F32_CONVERT_I64_U, 0xb5, u64, f32, (float)a)                    \
    X(F32_DEMOTE_F64, 0xb6, f64, f32, (float)a)                       \
    X(F64_CONVERT_I32_S, 0xb7, i32, f64, (double)a)                   \
    X(F64_CONVERT_I32_U, 0xb8, u32, f64, (double)a)                   \
    X(F64_CONVERT_I64_S, 0xb9, i64, f64, (double)a)                   \
    X(F64_CONVERT_I64_U, 0xba, u64, f64, (double)a)                   \
    X(F64_PROMOTE_F32, 0xbb, f32, f64, (double)a)                     \
    X(I32_EXTEND8_S, 0xc0, u32, i32, (int32_t)(int8_t)a)              \
    X(I32_EXTEND16_S, 0xc1, u32, i32, (int32_t)(int16_t)a)            \
    X(I64_EXTEND8_S, 0xc2, u64, i64, (int64_t)(int8_t)a)              \
    X(I64_EXTEND16_S, 0xc3, u64, i64, (int64_t)(int16_t)a)            \
    X(I64_EXTEND32_S, 0xc4, u64, i64, (int64_t)(int32_t)a)            \
    X(I32_TRUNC_SAT_F32_S, 0xfc00, f32, i32, sat_i32_f32(a))          \
    X(I32_TRUNC_SAT_F32_U, 0xfc01, f32, u32, sat_u32_f32(a))          \
    X(I32_TRUNC_SAT_F64_S, 0xfc02, f64, i32, sat_i32_f64(a))          \
    X(I32_TRUNC_SAT_F64_U, 0xfc03, f64, u32, sat_u32_f64(a))          \
    X(I64_TRUNC_SAT_F32_S, 0xfc04, f32, i64, sat_i64_f32(a))          \
    X(I64_TRUNC_SAT_F32_U, 0xfc05, f32, u64, sat_u64_f32(a))          \
    X(I64_TRUNC_SAT_F64_S, 0xfc06, f64, i64, sat_i64_f64(a))          \
    X(I64_TRUNC_SAT_F64_U, 0xfc07, f64, u64, sat_u64_f64(a))

/* The whole instruction set. */
#define LW_OPS(X)                                                            \
    /* control */                                                            \
    X(UNREACHABLE)      /* trap */                                           \
    X(NOP)              /* */                                                \
    X(BR)               /* off: jump; backward jumps charge a reduction */   \
    X(BR_IF)            /* a off: jump if a.u32 != 0 */                      \
    X(BR_UNLESS)        /* a off: jump if a.u32 == 0 */                      \
    X(BR_TABLE)         /* a n off*(n+1): jump to off[min(a, n)] */          \
    X(RETURN)           /* results already in fp[0..] */                     \
    X(RETURN1)          /* a: fp[0] = a; return */                           \
    X(CALL)             /* idx base: call defined function, args at base */  \
    X(CALL_IMPORT)      /* idx base: call imported function */               \
    X(CALL_INDIRECT)    /* type table base a: call table[a] */               \
    /* data movement */                                                      \
    X(COPY)             /* d a */                                            \
    X(COPY2)            /* d a d2 a2 */                                      \
    X(CONST32)          /* d imm */                                          \
    X(CONST64)          /* d lo hi */                                        \
    X(SELECT)           /* d a b c: d = c ? a : b */                         \
    X(GLOBAL_GET)       /* d idx */                                          \
    X(GLOBAL_SET)       /* idx a */                                          \
    /* trapping numeric ops: d a b / d a */                                  \
    X(I32_DIV_S) X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U)                      \
    X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U)                      \
    X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S)                 \
    X(I32_TRUNC_F64_U) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U)                 \
    X(I64_TRUNC_F64_S) X(I64_TRUNC_F64_U)                                    \
    /* memory: loads d a offset, stores a b offset */                        \
    X(LOAD32) X(LOAD64) X(LOAD8_S32) X(LOAD8_U32) X(LOAD16_S32)              \
    X(LOAD16_U32) X(LOAD8_S64) X(LOAD16_S64) X(LOAD32_S64)                   \
    X(STORE8) X(STORE16) X(STORE32) X(STORE64)                               \
    X(MEMORY_SIZE)      /* d */                                              \
    X(MEMORY_GROW)      /* d a */                                            \
    X(MEMORY_FILL)      /* d v n */                                          \
    X(MEMORY_COPY)      /* d s n */                                          \
    X(MEMORY_INIT)      /* seg d s n */                                      \
    X(DATA_DROP)        /* seg */                                            \
    /* tables and references */                                              \
    X(TABLE_GET)        /* d table a */                                      \
    X(TABLE_SET)        /* table a b */                                      \
    X(TABLE_SIZE)       /* d table */                                        \
    X(TABLE_GROW)       /* d table init n */                                 \
    X(TABLE_FILL)       /* table i v n */                                    \
    X(TABLE_COPY)       /* dt st d s n */                                    \
    X(TABLE_INIT)       /* table seg d s n */                                \
    X(ELEM_DROP)        /* seg */                                            \
    X(REF_IS_NULL)      /* d a */                                            \
    X(REF_FUNC)         /* d idx: funcref to instance function object idx */

/* Every op in enum order: plain ops (X), expression ops (XN), and from the
 * binary list the immediate forms (XI), compare-branches (XB) and their
 * immediate forms (XBI). Each of XI/XB/XBI receives the full entry and
 * selects with its flag, e.g. #define XI(n, c, f, rf, e, imm, br) XI_##imm(n). */
#define LW_ALL_OPS(X, XN, XI, XB, XBI)                                     \
    LW_OPS(X) LW_BINOPS(XN) LW_UNOPS(XN) LW_BINOPS(XI)                     \
    LW_BINOPS(XB) LW_BINOPS(XBI)

#endif
