#!/usr/bin/env bash
# Builds the libFuzzer target (build-fuzz/fuzz_engine) and regenerates the
# full seed corpus (build-fuzz/seeds) from the spec test suite with wast2json.
#   tests/fuzz/build.sh            build the fuzzer and the seeds
#   NO_SEEDS=1 tests/fuzz/build.sh build the fuzzer only
#   SRC=dir tests/fuzz/build.sh    fuzz dir/wasm/*.c instead of src/wasm
# then, from build-fuzz/:
#   ./fuzz_engine -dict=../tests/fuzz/wasm.dict -max_total_time=600 \
#       -timeout=10 -rss_limit_mb=2048 -artifact_prefix=artifacts/ \
#       corpus seeds ../tests/fuzz/corpus
# (corpus/ is the growing working corpus; mkdir it and artifacts/ first).
# A crash: ./fuzz_engine -minimize_crash=1 -runs=100000 artifacts/crash-...
# then add the input to tests/fuzz/regress/ (see tests/t-fuzz-regress.sh).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${FUZZ_BUILD:-build-fuzz}
mkdir -p "$out"
# SRC may name a tree holding a patched copy of wasm/ (e.g. to fuzz past a
# known bug); it defaults to src.
srcdir=${SRC:-src}
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$srcdir" -Isrc -D_GNU_SOURCE tests/fuzz/fuzz_engine.c "$srcdir"/wasm/*.c -lm -lpthread \
    -o "$out/fuzz_engine"
echo "built $out/fuzz_engine from $srcdir/wasm"
[ -n "${NO_SEEDS:-}" ] && exit 0
suite=$root/../shared/wasm-testsuite
if [ -d "$suite" ] && command -v wast2json >/dev/null; then
    tmp=$out/wast2json; rm -rf "$tmp" "$out/seeds"; mkdir -p "$tmp" "$out/seeds"
    for w in "$suite"/*.wast; do
        case $(basename "$w") in simd*) continue ;; esac
        b=$(basename "$w" .wast)
        wast2json "$w" -o "$tmp/$b.json" >/dev/null 2>&1 || true
    done
    for f in "$tmp"/*.wasm; do
        [ -e "$f" ] || continue
        cp "$f" "$out/seeds/$(sha1sum "$f" | cut -c1-16).wasm"   # dedups too
    done
    echo "seeds: $(ls "$out/seeds" | wc -l) files in $out/seeds"
fi
