/*
 * test_engine_types.c - interned function types (lw_functype_get): equal
 * signatures give one pointer, different ones differ, and empty parameter or
 * result lists may be passed as NULL. Kept apart from the other engine tests
 * because a UBSan abort here would otherwise hide their results.
 * Prints "N passed, M failed".
 */
#include "check.h"

int main(void)
{
    const uint8_t i32 = LW_I32, i64 = LW_I64;
    const uint8_t two[2] = {LW_I32, LW_I64};
    const uint8_t two_copy[2] = {LW_I32, LW_I64};

    const lw_functype *a = lw_functype_get(2, two, 1, &i32);
    const lw_functype *b = lw_functype_get(2, two_copy, 1, &i32);
    CHECK(a && a == b, "equal signatures interned to %p and %p", (const void *)a, (const void *)b);
    CHECK(a && a->nparams == 2 && a->nresults == 1 && a->params[1] == LW_I64 &&
              a->results[0] == LW_I32,
          "interned type contents");
    CHECK(lw_functype_get(2, two, 1, &i64) != a, "different result type, same pointer");
    CHECK(lw_functype_get(1, two, 1, &i32) != a, "fewer params, same pointer");
    CHECK(lw_functype_get(1, &i32, 2, two) != lw_functype_get(2, two, 1, &i32),
          "params/results swapped, same pointer");

    /* empty lists as NULL (a natural call; memcmp(NULL, ..., 0) is UB) */
    /* (the non-NULL form first, so the NULL form is compared with it) */
    const lw_functype *v2 = lw_functype_get(0, &i32, 0, &i64);
    const lw_functype *v1 = lw_functype_get(0, NULL, 0, NULL);
    CHECK(v1 && v1 == v2 && v1->nparams == 0 && v1->nresults == 0, "() -> () interning");
    const lw_functype *p2 = lw_functype_get(1, &i32, 0, &i32);
    const lw_functype *p1 = lw_functype_get(1, &i32, 0, NULL);
    CHECK(p1 && p1 == p2, "(i32) -> () with NULL results");
    const lw_functype *r2 = lw_functype_get(0, &i64, 1, &i64);
    const lw_functype *r1 = lw_functype_get(0, NULL, 1, &i64);
    CHECK(r1 && r1 == r2, "() -> (i64) with NULL params");

    /* many distinct types (forces rehashing); each stays stable */
    const lw_functype *first[300];
    uint8_t sig[8];
    for (int i = 0; i < 300; i++) {
        for (int k = 0; k < 8; k++)
            sig[k] = (i >> k) & 1 ? LW_I64 : LW_I32;
        first[i] = lw_functype_get(8, sig, (uint32_t)(i % 3), sig);
    }
    int unstable = 0;
    for (int i = 0; i < 300; i++) {
        for (int k = 0; k < 8; k++)
            sig[k] = (i >> k) & 1 ? LW_I64 : LW_I32;
        unstable += lw_functype_get(8, sig, (uint32_t)(i % 3), sig) != first[i];
    }
    CHECK(unstable == 0, "%d of 300 types changed pointer after rehashing", unstable);
    CHECK(lw_functype_get(2, two, 1, &i32) == a, "first type moved after rehashing");
    return check_report();
}
