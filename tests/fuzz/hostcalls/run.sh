#!/usr/bin/env bash
# run.sh - the host-call fuzzing campaign: runs driver.wasm (see driver.c)
# under `$BUILD/lunatic run` for one seed after another and reports every
# run that crashed, hung, leaked or made a sanitizer report (check.sh).
#
#   tests/fuzz/hostcalls/run.sh [-t SECONDS] [-n SEEDS] [-c COUNT] [-s FIRST] [-o DIR]
#
# Seeds FIRST, FIRST+1, ... (default: from the clock, so that campaigns
# cover new ones) with COUNT calls each (default 300), until SECONDS have
# passed (default 600) or SEEDS were run. Each failing run is kept in
# DIR/fail-SEED/ (its output ends with the calls that led to it); DIR
# (default $BUILD/fuzz-hostcalls) gets campaign.log, a line per 50 seeds
# and a summary. BUILD=build-asan (ASan+UBSan+LSan) is recommended.
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
case $BUILD in /*) b=$BUILD ;; *) b=$root/$BUILD ;; esac
secs=600 max=0 count=300 first=$(( $(date +%s) % 1000000 * 1000 )) dir=
while getopts t:n:c:s:o: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    n) max=$OPTARG ;;
    c) count=$OPTARG ;;
    s) first=$OPTARG ;;
    o) dir=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-n SEEDS] [-c COUNT] [-s FIRST] [-o DIR]" >&2; exit 2 ;;
    esac
done
dir=${dir:-$b/fuzz-hostcalls}
[ -x "$b/lunatic" ] || { echo "no $b/lunatic: run make first" >&2; exit 2; }
. tests/fuzz/hostcalls/build.sh || exit 2
. tests/fuzz/hostcalls/check.sh
mkdir -p "$dir"
log=$dir/campaign.log
work=$dir/work.$$
trap 'rm -rf "$work"' EXIT

n=0 fails=0 seed=$first start=$SECONDS
status() {
    printf '%s seeds=%d (%d..%d) count=%d failures=%d elapsed=%ds\n' "$(date -u +%FT%TZ)" \
        $n "$first" $((seed - 1)) "$count" $fails $((SECONDS - start))
}
while [ $((SECONDS - start)) -lt "$secs" ] && { [ "$max" -eq 0 ] || [ $n -lt "$max" ]; }; do
    if ! hc_run "$seed" "$count" "$work"; then
        fails=$((fails + 1))
        rm -rf "$dir/fail-$seed"
        mv "$work" "$dir/fail-$seed"
        echo "FAIL seed $seed count $count ($hc_mode): $hc_verdict" | tee -a "$log"
    fi
    n=$((n + 1)) seed=$((seed + 1))
    [ $((n % 50)) -eq 0 ] && status >>"$log"
done
echo "summary: $(status)" | tee -a "$log"
[ $fails -eq 0 ]
