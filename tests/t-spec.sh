#!/usr/bin/env bash
# The spec conformance group: runs `lunatic wast` on every non-SIMD .wast of
# the official test suite (../shared/wasm-testsuite beside the repo), once
# normally and once with WAST_BUDGET=1 so that every run is stopped and
# resumed at every possible point, and data segments are copied at their
# first access (WAST_DEFER=1, as processes do). Prints one line per failing file and
# ends with the total "N passed, M failed" over all files and both modes.
# A file that crashes, times out or prints no result line counts as at least
# one failure. BUILD names the build directory (default build).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
suite=$root/../shared/wasm-testsuite
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/lunatic
total_p=0; total_f=0

if [ ! -x "$bin" ] || [ ! -d "$suite" ]; then
    echo "missing $bin or $suite"
    echo "0 passed, 1 failed"
    exit 1
fi

run_file() {   # run_file MODE FILE [ENV...]
    local mode=$1 f=$2; shift 2
    local out rc line p f_
    out=$(env "$@" timeout 120 "$bin" wast "$f" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | tail -n 1)
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]}; f_=${BASH_REMATCH[2]}
    else
        p=0; f_=0
    fi
    # A crash or timeout after some commands still counts as a failure.
    if [ "$rc" -ne 0 ] && [ "$f_" -eq 0 ]; then f_=1; fi
    total_p=$((total_p + p)); total_f=$((total_f + f_))
    if [ "$f_" -ne 0 ]; then
        local why=""
        [ "$rc" -eq 124 ] && why=" (timeout)"
        [ "$rc" -gt 128 ] && [ "$rc" -ne 124 ] && why=" (killed by signal $((rc - 128)))"
        echo "FAIL [$mode] $(basename "$f"): $p passed, $f_ failed, exit $rc$why"
    fi
}

# the official files, then our own (tests/wast: cases the suite lacks)
for f in "$suite"/*.wast "$root"/tests/wast/*.wast; do
    case $(basename "$f") in simd_*) continue ;; esac
    run_file plain "$f"
    run_file budget=1,defer "$f" WAST_BUDGET=1 WAST_DEFER=1
done
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
