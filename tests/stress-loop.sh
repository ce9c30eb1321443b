#!/usr/bin/env bash
# stress-loop.sh - runs the stress_* guest programs (tests/proc) many times
# to catch rare hangs and crashes. Each run: its own directory, a timeout,
# stdout compared with NAME.expected, exit status with NAME.status.
#   BUILD=build  STRESS_N=20  STRESS_TIMEOUT=60
#   STRESS_MODES="t4red1 t4 red1 t1"  (t4red1 = --threads 4 with LUNATIC_REDUCTIONS=1)
# The guests must be built (bash tests/t-proc.sh with PROC_BUILD_ONLY=1).
# A failing run's stdout/stderr are kept in $BUILD/stress-fail/. Last line:
# "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
N=${STRESS_N:-20}
TO=${STRESS_TIMEOUT:-60}
MODES=${STRESS_MODES:-t4red1 t4 red1 t1}
KEEP=$B/stress-fail
pass=0 fail=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -f "$B/proc-tests/stress_ring.wasm" ] || PROC_BUILD_ONLY=1 BUILD=$BUILD bash tests/t-proc.sh >/dev/null 2>&1
for mode in $MODES; do
    envs=() opts=()
    case $mode in
    t4red1) envs=(LUNATIC_REDUCTIONS=1); opts=(--threads 4) ;;
    t4) opts=(--threads 4) ;;
    t1) opts=(--threads 1) ;;
    red1) envs=(LUNATIC_REDUCTIONS=1) ;;
    default) ;;
    esac
    for w in "$B"/proc-tests/stress_*.wasm; do
        n=$(basename "$w" .wasm)
        want_rc=0
        [ -f "tests/proc/$n.status" ] && want_rc=$(tr -d ' \n' <"tests/proc/$n.status")
        bad=0 max=0
        for i in $(seq 1 "$N"); do
            d=$TMP/run; rm -rf "$d"; mkdir -p "$d"
            t0=$(date +%s%N)
            (cd "$d" && env "${envs[@]}" timeout -k 5 "$TO" "$B/lunatic" run "${opts[@]}" "$w" \
                </dev/null >"$d.out" 2>"$d.err"); rc=$?
            ms=$(( ($(date +%s%N) - t0) / 1000000 )); [ $ms -gt $max ] && max=$ms
            if [ "$rc" != "$want_rc" ] || ! cmp -s "tests/proc/$n.expected" "$d.out"; then
                bad=$((bad + 1))
                mkdir -p "$KEEP"
                cp "$d.out" "$KEEP/$n.$mode.$i.out"; cp "$d.err" "$KEEP/$n.$mode.$i.err"
                echo "     $n [$mode] run $i: exit $rc (want $want_rc) after ${ms} ms$([ "$rc" = 124 ] && echo ' TIMEOUT')"
            fi
        done
        if [ $bad = 0 ]; then pass=$((pass + 1)); echo "ok   $n [$mode] x$N (slowest ${max} ms)"
        else fail=$((fail + 1)); echo "FAIL $n [$mode] $bad of $N runs failed (slowest ${max} ms)"; fi
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
