#!/usr/bin/env bash
# bench/sqlite/run.sh - lunatic::sqlite against native C on libsqlite3, in
# the same run: batched inserts per second and point reads per second,
# from 1 and from 16 processes (native: threads), each with its own
# connection to one database file in WAL mode (bench/sqlite/bench.h has
# the schema, the pragmas and the keys; native.c and guest.c do the same
# work). The native and our runs alternate, best of RUNS is kept, and the
# table gives ours/native (>= 0.80 is the target for one process), per
# second of wall time and per CPU second of the OS process (the machine
# is shared: wall time also measures how much of a core each side got).
#
# Usage: bench/sqlite/run.sh
# Environment:
#   LUNATIC=path   our runtime (default build/lunatic)
#   RUNS=n         runs of each case and side, best kept (default 3)
#   INSERT_N=n     rows each worker inserts (default 200000 / workers)
#   BATCH=n        rows per transaction (default 1000)
#   READ_Q=n       point reads each worker does (default 200000 / workers)
#   WORKERS="1 16" the process / thread counts
#   OUT=dir        build and run directory (default build/bench/sqlite)
# Exit status: 0 if every run succeeded.
set -u
if [ -n "${LUNATIC:-}" ] && [ "${LUNATIC#/}" = "$LUNATIC" ] && [ -e "$PWD/$LUNATIC" ]; then
    LUNATIC=$PWD/$LUNATIC
fi
cd "$(dirname "$0")/../.."
ROOT=$PWD
LUNATIC=${LUNATIC:-$ROOT/build/lunatic}
RUNS=${RUNS:-3}
BATCH=${BATCH:-1000}
WORKERS=${WORKERS:-1 16}
OUT=${OUT:-$ROOT/build/bench/sqlite}
mkdir -p "$OUT"
SRC=$ROOT/bench/sqlite

gcc -O2 -Wall -Wextra -o "$OUT/native" "$SRC/native.c" -lsqlite3 -lpthread || exit 2
"$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -I "$ROOT/sdk" -o "$OUT/guest.wasm" "$SRC/guest.c" || exit 2

status=0
# run SIDE ARGS...: one run in a fresh directory; prints "wall cpu" rates
run() {
    local side=$1
    shift
    local dir=$OUT/run
    rm -rf "$dir" && mkdir -p "$dir"
    local r
    if [ "$side" = native ]; then
        r=$(cd "$dir" && timeout 300 "$OUT/native" "$@" 2>"$OUT/$side.err")
    else
        r=$(cd "$dir" && timeout 300 "$LUNATIC" run "$OUT/guest.wasm" "$@" 2>"$OUT/$side.err")
    fi
    local st=$?
    set -- $r
    if [ $st -ne 0 ] || [ $# -ne 3 ]; then
        echo "run.sh: $side failed ($st): $r $(head -c 300 "$OUT/$side.err")" >&2
        status=1
        return
    fi
    echo "$2 $3"
}

best() { printf '%s\n' "$@" | sort -n | tail -n 1; }

printf '%-32s %11s %11s %6s  %11s %11s %6s\n' "" "native" "ours" "" "native" "ours" ""
printf '%-32s %11s %11s %6s  %11s %11s %6s\n' "case" "/s" "/s" "ratio" "/cpu-s" "/cpu-s" "ratio"
for w in $WORKERS; do
    n=${INSERT_N:-$((200000 / w))}
    q=${READ_Q:-$((200000 / w))}
    for kind in insert read; do
        nw=() nc=() ow=() oc=()
        for ((i = 0; i < RUNS; i++)); do
            if [ $kind = insert ]; then args=(insert "$w" "$n" "$BATCH"); else args=(read "$w" "$q"); fi
            r=$(run native "${args[@]}")
            if [ -n "$r" ]; then set -- $r; nw+=("$1"); nc+=("$2"); fi
            r=$(run ours "${args[@]}")
            if [ -n "$r" ]; then set -- $r; ow+=("$1"); oc+=("$2"); fi
        done
        [ ${#nw[@]} -gt 0 ] && [ ${#ow[@]} -gt 0 ] || continue
        a=$(best "${nw[@]}") b=$(best "${ow[@]}") c=$(best "${nc[@]}") d=$(best "${oc[@]}")
        if [ $kind = insert ]; then what="inserts ($BATCH/tx), $w proc"; else what="point reads, $w proc"; fi
        printf '%-32s %11s %11s %6.2f  %11s %11s %6.2f\n' "$what" "$a" "$b" "$(echo "$b / $a" | bc -l)" \
            "$c" "$d" "$(echo "$d / $c" | bc -l)"
    done
done
exit $status
