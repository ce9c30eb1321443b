#!/usr/bin/env bash
# t-fuzz-hostcalls.sh - replays the host-call fuzzer's seeds
# (tests/fuzz/hostcalls/seeds.txt) under `$BUILD/lunatic run`: for each, the
# guest driver (driver.c) makes its random sequence of lunatic::* calls and
# spawns children that do the same, and the runtime must not crash, hang,
# leak or report a sanitizer error (check.sh; under BUILD=build-asan with
# ASan+UBSan+LSan). A seed whose failure is a known, recorded bug
# (FINDINGS.md) is still run and reported as a failure.
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
while read -r seed count why; do
    case $seed in ''|'#'*) continue ;; esac
    if hc_run "$seed" "$count" "$TMP/run" 30; then
        ok "seed $seed count $count ($hc_mode)"
    else
        bad "seed $seed count $count ($hc_mode): $hc_verdict" ${why:+"$why"} \
            "$(tail -n 3 "$TMP/run/out.txt" | tr '\n' '|')"
    fi
done <tests/fuzz/hostcalls/seeds.txt
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
