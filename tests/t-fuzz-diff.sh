#!/usr/bin/env bash
# t-fuzz-diff.sh - replays the differential fuzzer's keepers (tests/fuzz/diff,
# see its run.sh): every tests/fuzz/diff/{regress,corpus}/NAME.wasm has its
# expected transcript NAME.expected (run_ours.c's format, comments
# dropped). Each module must give exactly that transcript
#   - under our engine ($BUILD/fuzz-diff-ours, built from run_ours.c and
#     $BUILD/liblunatic.a, with the sanitizers when that has them) in three
#     modes: straight, reduction budget 1 (suspended and resumed at every
#     possible point) and deferred data segments;
#   - under node (V8), so that an expected file that drifted from what V8
#     says is caught too.
# Needs node (scripts/setup.sh installs nodejs), not binaryen.
# Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
root=$ROOT b=$B
if ! . tests/fuzz/diff/build.sh; then
    bad "build $B/fuzz-diff-ours"
    echo "$pass passed, $fail failed"
    exit 1
fi
have_node=1
command -v node >/dev/null || have_node=0
[ $have_node -eq 1 ] || bad "node is not installed (scripts/setup.sh installs nodejs)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# check NAME WANT CMD... : CMD's transcript (comments dropped) must be WANT
check() {
    local name=$1 want=$2; shift 2
    timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    sed 's/ #.*//' "$TMP/out" >"$TMP/got"
    if [ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && cmp -s "$TMP/got" "$want"; then
        ok "$name"
    else
        bad "$name" "exit $rc" "$(diff "$want" "$TMP/got" | head -n 6 | tr '\n' '|')" \
            "$(head -n 3 "$TMP/err" | tr '\n' '|')"
    fi
}

n=0
for w in tests/fuzz/diff/regress/*.wasm tests/fuzz/diff/corpus/*.wasm; do
    [ -f "$w" ] || continue
    n=$((n + 1))
    exp=${w%.wasm}.expected
    name=${w#tests/fuzz/diff/}
    if [ ! -f "$exp" ]; then
        bad "$name: no ${exp##*/}"
        continue
    fi
    args=()
    [ -f "${w%.wasm}.args" ] && read -ra args <"${w%.wasm}.args"
    check "$name: ours" "$exp" "$runner" "${args[@]}" "$w"
    check "$name: ours, budget 1" "$exp" "$runner" "${args[@]}" -b 1 "$w"
    check "$name: ours, deferred data" "$exp" "$runner" "${args[@]}" -d "$w"
    [ $have_node -eq 1 ] && check "$name: node" "$exp" node tests/fuzz/diff/run_node.mjs "${args[@]}" "$w"
done
[ $n -gt 0 ] || bad "no modules in tests/fuzz/diff/regress or corpus"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
