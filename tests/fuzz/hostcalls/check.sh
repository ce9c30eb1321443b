# check.sh - sourced by run.sh and tests/t-fuzz-hostcalls.sh, with root,
# b (the build directory) and driver set (see build.sh). Defines
#
#   hc_run SEED COUNT OUTDIR [TIMEOUT]
#
# which runs `$b/lunatic run driver.wasm SEED COUNT` in OUTDIR/cwd (made
# empty first; stdout and stderr to OUTDIR/out.txt and OUTDIR/err.txt) and sets hc_verdict to "ok" or to the
# reason the run failed. The seed also picks the runtime's mode, so that a
# seed always reproduces the same run (up to scheduling): worker threads
# (default, 1 or 4: seed % 3) and reduction budget (default, 1 or 50:
# seed / 3 % 3); hc_mode describes it. Verdicts:
#   hang             not done within TIMEOUT seconds (default 60)
#   sanitizer: ...   an ASan, LSan or UBSan report (the first line)
#   crash: ...       the runtime died of a signal or exited with a status
#                    other than the driver's 0
#   main trapped     the main process failed: it makes every call inside
#                    trap::catch, so that is a trap the catch did not stop
#   no end           the main process did not print its last line
# Returns 0 for "ok".
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
hc_run() {
    local seed=$1 count=$2 out=$3 to=${4:-60} rc first
    local threads=() reds=
    case $((seed % 3)) in 1) threads=(--threads 1) ;; 2) threads=(--threads 4) ;; esac
    case $((seed / 3 % 3)) in 1) reds=1 ;; 2) reds=50 ;; esac
    hc_mode="${threads[*]:-default threads}, reductions ${reds:-default}"
    # in a scratch working directory: "." is the main process's preopen, where
    # SQLite databases and files the guest names are made
    rm -rf "$out/cwd"
    mkdir -p "$out/cwd"
    (cd "$out/cwd" && LUNATIC_REDUCTIONS=$reds timeout -k 5 "$to" "$b/lunatic" run "${threads[@]}" \
        "$driver" "$seed" "$count" >"$out/out.txt" 2>"$out/err.txt")
    rc=$?
    first=$(grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$out/err.txt")
    if [ -n "$first" ]; then
        hc_verdict="sanitizer: $first"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ] && ! grep -q "^lunatic: Process .* was killed" "$out/err.txt"; then
        hc_verdict="hang"
    elif grep -qE "^lunatic: Process ('fuzz.main'|1) failed" "$out/err.txt"; then
        hc_verdict="main trapped: $(grep -m 1 -E "^lunatic: Process ('fuzz.main'|1) failed" "$out/err.txt")"
    elif [ $rc -ne 0 ]; then
        hc_verdict="crash: exit status $rc: $(grep -v '^lunatic: Process\|^wasm backtrace\|^  #' "$out/err.txt" | head -n 1)"
    elif main=$(sed -n 's/^P\([0-9]*\) start main.*/\1/p' "$out/out.txt" | head -n 1) &&
            ! grep -qx "P${main:-x} end" "$out/out.txt"; then
        hc_verdict="no end"
    else
        hc_verdict=ok
        return 0
    fi
    return 1
}
