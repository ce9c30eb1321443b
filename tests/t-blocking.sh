#!/usr/bin/env bash
# Blocking WASI calls suspend only the calling process: a child blocked in
# read(0) and one in nanosleep while main exchanges messages with a third,
# on one worker thread, in the default and the budget-1 modes. Last line:
# "N passed, M failed". BUILD names the build directory (default build).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
LUNATIC=$BUILD/lunatic
out=$BUILD/blocking-tests
mkdir -p "$out"
pass=0 fail=0
wasm=$out/stdin_others.wasm
if ! "$root/scripts/wasm-cc" -O2 -Wall -Werror -I "$root/sdk" \
        -o "$wasm" "$root/tests/blocking/stdin_others.c"; then
    echo "FAIL build stdin_others"
    echo "0 passed, 1 failed"
    exit 1
fi
want=$'round trips: 2000, stdin already read: no\nsleeper woke\nread: hello'
for mode in default red1; do
    envs=()
    [ "$mode" = red1 ] && envs=(LUNATIC_REDUCTIONS=1)
    got=$( (sleep 1; echo hello) | env "${envs[@]}" timeout 30 "$LUNATIC" run --threads 1 "$wasm" 2>&1)
    rc=$?
    if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
        echo "ok   stdin_others [$mode]"; pass=$((pass + 1))
    else
        echo "FAIL stdin_others [$mode] (exit $rc)"; printf '%s\n' "$got" | head -5 | sed 's/^/     /'
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
