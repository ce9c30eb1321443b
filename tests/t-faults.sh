#!/usr/bin/env bash
# t-faults.sh - fault injection as a test stage: tests/faults/sweep.sh (read
# its header for what each run must do) over a build made with FI=1, whose
# allocations in the runtime and host layers can be failed one by one
# (src/rt/fi.h).
#
# The build: FAULTS_BUILD if set; else $BUILD itself if it is an FI=1
# build; else build-fi-asan (SAN=1 FI=1) when $BUILD is an ASan build (so
# `make check`, which tests build-asan, sweeps under ASan and
# LeakSanitizer), and build-fi (FI=1) otherwise. It is made or brought up
# to date here.
#
# Two strided sweeps, every FAULTS_STRIDE-th k (default 3): one with the
# k-th allocation failing alone, one with every allocation from the k-th on
# failing (the paths that clean up after a failure meet failures too). About
# 150 runs, two or three minutes on 2 cores with ASan.
#   FAULTS_FULL=1     every k of both, and a third sweep with --threads 2
#                     (some 660 runs: 8 minutes or so with ASan)
#   FAULTS_STRIDE=n   the stride of the strided sweeps
#   FAULTS=skip       nothing (make check sweeps in its ASan stage only)
# Last line: "N passed, M failed", the sum of the sweeps'.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${FAULTS:-}" = skip ]; then
    echo "# skipped (FAULTS=skip)"
    echo "$pass passed, $fail failed"
    exit 0
fi

is_fi() { nm "$1" 2>/dev/null | grep -q ' T lt_fi_malloc$'; }
is_asan() { nm "$1" 2>/dev/null | grep -q ' __asan_init$'; }
if [ -n "${FAULTS_BUILD:-}" ]; then FB=$FAULTS_BUILD
elif is_fi "$LUNATIC"; then FB=$BUILD
elif is_asan "$LUNATIC"; then FB=build-fi-asan
else FB=build-fi; fi
case $FB in /*) FBP=$FB ;; *) FBP=$ROOT/$FB ;; esac
san=0
case $FB in *asan*) san=1 ;; esac
is_asan "$LUNATIC" && [ "$FB" = "$BUILD" ] && san=1

echo "# building $FB (FI=1 SAN=$san)"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" -j"$(nproc)" BUILD="$FB" FI=1 SAN="$san" "$FB/lunatic" >"$FBP.make.log" 2>&1; then
    tail -n 20 "$FBP.make.log"
    bad "build $FB ($FBP.make.log)"
    echo "$pass passed, $fail failed"
    exit 1
fi
rm -f "$FBP.make.log"

STRIDE=${FAULTS_STRIDE:-3}
[ -n "${FAULTS_FULL:-}" ] && STRIDE=1

# sweep NAME VAR=VALUE...: one sweep, its results added to ours
sweep() {
    local name=$1 out line p f
    shift
    echo "# sweep: $name"
    out=$(env BUILD="$FB" OUT="$FBP/faults-$name" "$@" bash "$ROOT/tests/faults/sweep.sh" 2>&1)
    # the summary, and the runs that went wrong
    printf '%s\n' "$out" | grep -E '^(#|FAIL|     )' | head -n 60
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        bad "sweep $name printed no result line" "$(printf '%s\n' "$out" | tail -n 5)"
        return
    fi
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
}

sweep one STRIDE="$STRIDE" FROM=1 FAIL_N=1
sweep from-k STRIDE="$STRIDE" FROM=$((STRIDE > 1 ? 2 : 1)) FAIL_N=0
[ -n "${FAULTS_FULL:-}" ] && sweep threads2 STRIDE=1 FAIL_N=1 THREADS=2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
