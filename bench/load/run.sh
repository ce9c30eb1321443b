#!/usr/bin/env bash
# bench/load/run.sh - starting a large module: a program of about 70 KB of
# code carrying 5.8 MB in all with its debug sections (the shape of a
# typical Rust service: bench/load/gen.awk writes the C, clang -g builds it,
# bench/load/addsec.c pads the debug information to size), run end to end
# with `lunatic run`, against the same program stripped of its custom
# sections, in the same run, and against node (V8) on both.
#
# Usage: bench/load/run.sh   (RUNS=30 hyperfine runs each; OUT=build/bench/load)
# Target: the 5.8 MB file starts no slower than wasm3 (31 ms on this machine
# class, measured outside this script), and within 10% of the stripped one.
set -u
if [ -n "${LUNATIC:-}" ] && [ "${LUNATIC#/}" = "$LUNATIC" ] && [ -e "$PWD/$LUNATIC" ]; then
    LUNATIC=$PWD/$LUNATIC
fi
cd "$(dirname "$0")/../.."
LUNATIC=${LUNATIC:-build/lunatic}
OUT=${OUT:-build/bench/load}
RUNS=${RUNS:-30}
mkdir -p "$OUT"
die() { echo "run.sh: $*" >&2; exit 2; }
[ -x "$LUNATIC" ] || die "$LUNATIC not found (make)"
command -v hyperfine >/dev/null || die "hyperfine not found (sh scripts/setup.sh --bench)"

awk -v N=280 -f bench/load/gen.awk >"$OUT/big.c"
cc -O2 -o "$OUT/addsec" bench/load/addsec.c || die "cannot build addsec"
scripts/wasm-cc -O2 -g -o "$OUT/debug.wasm" "$OUT/big.c" || die "cannot build the program"
scripts/wasm-cc -O2 -Wl,--strip-debug -o "$OUT/stripped.wasm" "$OUT/big.c" || die "cannot build the program"
size=$(stat -c %s "$OUT/debug.wasm")
"$OUT/addsec" "$OUT/debug.wasm" "$OUT/big.wasm" .debug_extra $((5800000 - size)) || die "addsec failed"
want=$("$LUNATIC" run "$OUT/stripped.wasm")
[ "$("$LUNATIC" run "$OUT/big.wasm")" = "$want" ] || die "the two builds disagree"
code=$(printf '%d bytes' "$(wasm-objdump -h "$OUT/big.wasm" 2>/dev/null | sed -n 's/.* Code .*(size=\(0x[0-9a-f]*\)).*/\1/p')")

# mean ms of a command, by hyperfine
mean_ms() {
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/h.json" "$@" >/dev/null 2>&1 || return 1
    awk -F: '/"mean"/{gsub(/[ ,]/, "", $2); printf "%.1f", $2 * 1000; exit}' "$OUT/h.json"
}
echo "bench/load: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "program: $(stat -c %s "$OUT/big.wasm") bytes with debug sections, $(stat -c %s "$OUT/stripped.wasm") stripped ($code of code)"
ours_big=$(mean_ms "$LUNATIC run $OUT/big.wasm")
ours_small=$(mean_ms "$LUNATIC run $OUT/stripped.wasm")
node_big="" node_small=""
if command -v node >/dev/null; then
    node_big=$(mean_ms "node --no-warnings bench/wasi-run.mjs $OUT/big.wasm")
    node_small=$(mean_ms "node --no-warnings bench/wasi-run.mjs $OUT/stripped.wasm")
fi
printf '%-26s %12s %12s %8s\n' "end to end, mean of $RUNS" "5.8 MB" stripped ratio
printf '%-26s %10s ms %10s ms %8s\n' "lunatic run" "$ours_big" "$ours_small" \
    "$(awk -v a="$ours_big" -v b="$ours_small" 'BEGIN{printf "%.2f", a/b}')"
[ -n "$node_big" ] && printf '%-26s %10s ms %10s ms %8s\n' "node (V8)" "$node_big" "$node_small" \
    "$(awk -v a="$node_big" -v b="$node_small" 'BEGIN{printf "%.2f", a/b}')"
printf '%-26s %10s ms   (recorded on this machine class, not this run)\n' "wasm3 (5.8 MB Rust program)" 31
awk -v a="$ours_big" -v b="$ours_small" 'BEGIN{ok = a <= 31 && a <= b * 1.1; print "targets met: " (ok ? "yes" : "no")}'
