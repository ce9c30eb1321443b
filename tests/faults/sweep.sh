#!/usr/bin/env bash
# sweep.sh - the fault-injection sweep: runs tests/faults/workload.c under
# `lunatic run` once for each k, with the k-th allocation of the runtime and
# host layers failing (src/rt/fi.h), and checks how each run ends.
#
# Usage: tests/faults/sweep.sh            every k, 1..N
# Environment:
#   BUILD=build-fi-asan   a build made with FI=1, normally with SAN=1 too:
#                         make BUILD=build-fi-asan SAN=1 FI=1
#   FROM=1 TO=N           the range of k (N: the allocations of a run without
#                         failures, counted first)
#   STRIDE=1              every STRIDE-th k of the range
#   FAIL_N=1              allocations that fail from the k-th on
#                         (LUNATIC_FAIL_ALLOC_N; 0: every one from k on)
#   THREADS=1             --threads of lunatic run (1: the k-th allocation
#                         is the same one from run to run)
#   TIMEOUT=30            seconds before a run counts as hung
#   OUT=$BUILD/faults     the workload, the logs of runs that went wrong
#
# Each run must end in one of these ways, with no sanitizer report (ASan,
# LeakSanitizer, UBSan) and within TIMEOUT:
#   done     exit 0, last line "faults workload: done"
#   error    exit 3: a call returned an error id, whose text says "out of memory"
#   died     exit 4: a child failed; the runtime's report of it, or the child's
#            own report of an error id ("workload: child: ..."), says
#            "out of memory"
#   trap     exit 134: the main process trapped "out of memory"
#   runtime  exit 1: lunatic could not start the program, saying "out of memory"
# and a run that did not complete must have had an allocation fail. Anything
# else (a BUG line of the workload: a message or notification lost; a hang;
# a crash; a leak; a failure with another reason) is a problem. One line per
# run ("ok   k=..." or "FAIL k=..."), a summary, and the last line
# "N passed, M failed". Exit status 0 when every run was fine.
#
# What makes this hold (issue 12): a link or monitor carries the LinkDied or
# ProcessDied its process will send, made when the link or monitor is
# (src/rt/process.h, lt_link), and the exit record of a watched process is
# made at spawn, so a process that dies allocates nothing to say so (one
# with no room left to record a link or monitor dies "out of memory" and
# answers it with the signal it got); a wake (timer, I/O, blocking work) is
# a number in the process, not a signal; a host call whose allocation fails
# traps "out of memory" or returns an error id saying so (u64::MAX when
# even the error's text cannot be kept).
#
# To look at one k: its logs (OUT/logs/k*.err hold the backtrace of the
# failed allocation), or by hand, in a directory of its own:
#   LUNATIC_FAIL_ALLOC=k LUNATIC_FAIL_ALLOC_REPORT=1 \
#       build-fi-asan/lunatic run --threads 1 --no-host-env OUT/workload.wasm
# The guest gets no host environment (--no-host-env): each variable would
# be one more uninteresting allocation at start, and N would depend on the
# machine. tests/t-faults.sh runs a strided sweep as a test stage.
set -u
BUILD_FI=${BUILD:-build-fi-asan}
. "$(dirname "$0")/../lib.sh"
case $BUILD_FI in /*) B=$BUILD_FI ;; *) B=$ROOT/$BUILD_FI ;; esac
LUNATIC=$B/lunatic
OUT=${OUT:-$B/faults}
STRIDE=${STRIDE:-1}
FAIL_N=${FAIL_N:-1}
THREADS=${THREADS:-1}
TIMEOUT=${TIMEOUT:-30}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

if ! nm "$LUNATIC" 2>/dev/null | grep -q ' T lt_fi_malloc$'; then
    bad "$LUNATIC is not a fault-injection build (make BUILD=$BUILD_FI SAN=1 FI=1)"
    echo "$pass passed, $fail failed"
    exit 1
fi
mkdir -p "$OUT/logs"
rm -f "$OUT"/logs/*
WASM=$OUT/workload.wasm
if [ ! -e "$WASM" ] || [ "$ROOT/tests/faults/workload.c" -nt "$WASM" ] ||
        [ "$ROOT/sdk/lunatic_guest.h" -nt "$WASM" ]; then
    "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror -I "$ROOT/sdk" -o "$WASM" \
        "$ROOT/tests/faults/workload.c" || { bad "build the workload"; echo "$pass passed, $fail failed"; exit 1; }
fi
RUN=$OUT/run
# run K: one run with allocation K failing (0: none); leaves $RUN.{out,err,rc,secs}
run() {
    rm -rf "$RUN.d"; mkdir -p "$RUN.d"
    local t0=$EPOCHREALTIME
    (cd "$RUN.d" && LUNATIC_FAIL_ALLOC=$1 LUNATIC_FAIL_ALLOC_N=$FAIL_N LUNATIC_FAIL_ALLOC_REPORT=1 \
        timeout -k 5 "$TIMEOUT" "$LUNATIC" run --threads "$THREADS" --no-host-env "$WASM" \
        </dev/null >"$RUN.out" 2>"$RUN.err"; echo $? >"$RUN.rc")
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }' >"$RUN.secs"
}

# The allocations of a run without failures: how far k goes.
run 0
n=$(sed -n 's/^lunatic-fi: \([0-9]*\) allocations$/\1/p' "$RUN.err" | tail -n 1)
if [ "$(cat "$RUN.rc")" != 0 ] || [ "$(tail -n 1 "$RUN.out")" != "faults workload: done" ] || [ -z "$n" ]; then
    bad "the workload without failures" "exit $(cat "$RUN.rc")" "$(tail -n 5 "$RUN.out" "$RUN.err")"
    echo "$pass passed, $fail failed"
    exit 1
fi
FROM=${FROM:-1}
TO=${TO:-$n}
if [ "$FAIL_N" = 0 ]; then failing="every one from k on failing"; else failing="$FAIL_N failing at a time"; fi
echo "# the workload makes $n allocations; k = $FROM..$TO, every $STRIDE, $failing, --threads $THREADS"

declare -A outcomes=()
t_start=$EPOCHREALTIME
for ((k = FROM; k <= TO; k += STRIDE)); do
    run "$k"
    rc=$(cat "$RUN.rc") secs=$(cat "$RUN.secs")
    out=$(tail -n 1 "$RUN.out")
    # where the failed allocation was: the first frame below the wrappers
    site=$(awk '/^lunatic-fi: failing allocation/ { on = 1; next }
                on && / in / && !/fi\.c:|__sanitizer|asan_stack/ {
                    for (i = 1; i <= NF; i++) if ($i == "in") { f = $(i + 1); s = $(i + 2) }
                    sub(/.*\//, "", s); print f " (" s ")"; exit }' "$RUN.err")
    injected=0
    grep -q '^lunatic-fi: failing allocation' "$RUN.err" && injected=1
    problem="" what=""
    oom=0
    grep -q 'out of memory' "$RUN.out" "$RUN.err" && oom=1
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)' "$RUN.err"; then
        problem="sanitizer: $(grep -m1 -E 'ERROR: |runtime error:' "$RUN.err")"
    elif [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "${secs%.*}" -ge "$TIMEOUT" ]; }; then
        problem="hung (no end after ${TIMEOUT}s)"
    elif [ "$rc" = 0 ] && [ "$out" = "faults workload: done" ]; then
        what=done
    elif [ "$injected" = 0 ]; then
        problem="did not complete, but no allocation failed (exit $rc): $out"
    elif [ "$rc" = 3 ] && [[ $out == workload:*": error: "* ]]; then
        what=error; [ $oom = 1 ] || problem="an error that does not say out of memory: $out"
    elif [ "$rc" = 4 ] && [[ $out == workload:*": child died" ]]; then
        what=died
        grep -qE '^lunatic: Process .* failed, notifying: .*out of memory' "$RUN.err" ||
            grep -qE '^workload: child: .*out of memory' "$RUN.out" ||
            problem="a child died without saying out of memory: $(grep -v 'notifying: 1 links: unreachable' "$RUN.err" | grep -m1 'Process')"
    elif [ "$rc" = 134 ] && grep -q '^lunatic: Process 1 failed, notifying: ' "$RUN.err"; then
        what=trap
        grep -qE '^lunatic: Process 1 failed, notifying: .*out of memory' "$RUN.err" ||
            problem="main trapped without saying out of memory: $(grep -m1 '^lunatic: Process 1' "$RUN.err")"
    elif [ "$rc" = 1 ] && grep -q '^lunatic: ' "$RUN.err"; then
        what=runtime; [ $oom = 1 ] || problem="lunatic failed without saying out of memory: $(grep -m1 '^lunatic: ' "$RUN.err")"
    else
        problem="unexpected end (exit $rc): ${out:-no output} / $(grep -m1 -v '^lunatic-fi\|^    #' "$RUN.err")"
    fi
    if [ -z "$problem" ]; then
        ok "k=$k $what${site:+ at $site} (${secs}s)"
        outcomes[$what]=$((${outcomes[$what]:-0} + 1))
    else
        cp "$RUN.out" "$OUT/logs/k$k.out"; cp "$RUN.err" "$OUT/logs/k$k.err"
        bad "k=$k${site:+ at $site} (${secs}s)" "$problem" "logs: $OUT/logs/k$k.{out,err}"
    fi
done
t_all=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
summary=""
for w in done error died trap runtime; do summary+=" $w ${outcomes[$w]:-0},"; done
echo "# $((pass + fail)) runs in ${t_all}s:${summary%,}; problems $fail"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
