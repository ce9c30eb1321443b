/*
 * fuzz_engine.c - libFuzzer target over the Wasm engine: decode + validate
 * + instantiate + run (start and all exported functions) with a small
 * fuel/budget. The logic is in harness.h; tests/fuzz/build.sh builds it.
 */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(data, size);
    return 0;
}
