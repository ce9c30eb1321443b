#!/usr/bin/env bash
# Runs every test group and prints one total line "N passed, M failed".
# Each group is tests/t-*.sh (or a unit test binary) whose last line is
# "N passed, M failed". BUILD names the build directory (default build).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
total_p=0; total_f=0; status=0
run_group() {
    local name=$1; shift
    local out
    echo "== $name"
    out=$("$@" 2>&1); local rc=$?
    # every failure with its details (indented lines after FAIL), then the end
    printf '%s\n' "$out" | awk '/^FAIL/ { d = 1; n++ } d && !/^(FAIL|     )/ { d = 0 }
                                d && n <= 10 { print }'
    printf '%s\n' "$out" | tail -n 15
    local line p f
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        echo "!! $name printed no result line (exit $rc)"; total_f=$((total_f + 1)); status=1; return
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    total_p=$((total_p + p)); total_f=$((total_f + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then status=1; fi
}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && run_group "$(basename "$t")" "$t"
done
for s in tests/t-*.sh; do
    [ -f "$s" ] && run_group "$(basename "$s")" bash "$s"
done
echo "$total_p passed, $total_f failed"
exit $status
