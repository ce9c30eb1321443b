#!/usr/bin/env bash
# t-fuzz-hostcalls.sh - the host-call fuzzer's regressions:
#   - the seeds in tests/fuzz/hostcalls/seeds.txt under `$BUILD/lunatic run`:
#     the guest driver (driver.c) makes its random sequence of lunatic::*
#     calls and spawns children that do the same; the runtime must not
#     crash, hang, leak or report a sanitizer error (check.sh; under
#     BUILD=build-asan with ASan+UBSan+LSan). A seed with "xN" runs N times
#     (its failure does not show every time);
#   - the reproducers of tests/fuzz/hostcalls/FINDINGS.md (repro/*.c).
# Known bugs of the host layer, recorded in FINDINGS.md and not fixed here,
# are reported as failures (with the entry they belong to) until they are.
# Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
root=$ROOT b=$B
if [ ! -x "$LUNATIC" ]; then
    bad "no $LUNATIC (run make first)"
    echo "$pass passed, $fail failed"
    exit 1
fi
if ! . tests/fuzz/hostcalls/build.sh; then
    bad "build the driver ($B/hostcalls/driver.wasm)"
    echo "$pass passed, $fail failed"
    exit 1
fi
. tests/fuzz/hostcalls/check.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- seeds ------------------------------------------------------------------------
while read -r seed count rest; do
    case $seed in ''|'#'*) continue ;; esac
    times=1
    case $rest in x[0-9]*) times=${rest%% *}; times=${times#x}; rest=${rest#x$times} ;; esac
    why=${rest#*# }
    [ "$why" = "$rest" ] && why=
    bads=0 verdict=
    for ((k = 0; k < times; k++)); do
        if ! hc_run "$seed" "$count" "$TMP/run" 30; then
            bads=$((bads + 1)) verdict=$hc_verdict
        fi
    done
    name="seed $seed count $count ($hc_mode)"
    [ "$times" -gt 1 ] && name="$name, $times runs"
    if [ $bads -eq 0 ]; then
        ok "$name"
    else
        bad "$name: $bads failed: $verdict" ${why:+"$why"}
    fi
done <tests/fuzz/hostcalls/seeds.txt

# ---- FINDINGS.md reproducers --------------------------------------------------------
# 3: the OS process exits while workers run OpenSSL code (a third of the
# runs crash or hang): 10 runs, each must end with status 0
crashes=0 detail=
for ((k = 0; k < 10; k++)); do
    timeout -k 2 20 "$LUNATIC" run --threads 4 "$B/hostcalls/exit_during_tls.wasm" >"$TMP/o" 2>"$TMP/e"
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q '^main returns$' "$TMP/o" || grep -q 'Sanitizer' "$TMP/e"; then
        crashes=$((crashes + 1))
        detail="exit status $rc $(grep -m 1 -E 'ERROR|DEADLY' "$TMP/e")"
    fi
done
if [ $crashes -eq 0 ]; then
    ok "exit while children run TLS code, 10 runs"
else
    bad "exit while children run TLS code: $crashes of 10 runs failed ($detail)" \
        "known bug, see tests/fuzz/hostcalls/FINDINGS.md 3"
fi
# 4 (fixed on main by 57d2f63; a regression test now): an expensive host
# call in a loop must not hold its worker for a whole slice
out=$(timeout -k 2 30 "$LUNATIC" run --threads 1 "$B/hostcalls/starve.wasm" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
    ok "a loop of expensive host calls does not starve the others ($out)"
else
    bad "a loop of expensive host calls starves the others: exit $rc: $out" \
        "a regression of tests/fuzz/hostcalls/FINDINGS.md 4 (fixed by 57d2f63)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
