#!/usr/bin/env bash
# bench/net/run.sh - network servers side by side, in one run: our echo and
# HTTP servers (examples/*.c under `lunatic run`, one process per
# connection), the same servers on Erlang/OTP (bench/net/servers.erl:
# gen_tcp, one process per connection) and a native C epoll server
# (bench/net/native.c: the physical limit here), driven by the same
# closed-loop load generator (bench/net/load.c) at 100 and 1,000
# connections, plus wrk for HTTP when it is installed. Then each server
# holds 10,000 idle connections and we read its resident memory.
#
# Usage: bench/net/run.sh
# Environment: SECS=5 (measured seconds per shape, after 1 s of warm-up),
#   RUNS=3 (best kept), CONNS="100 1000", IDLE=10000, LUNATIC=build/lunatic,
#   OUT=build/bench/net, NO_ERLANG=1 / NO_WRK=1 to skip those.
# Targets: throughput at least Erlang's at both shapes and at least half of
# the native server's; 10,000 idle connections, each with its own process,
# in under 300 MiB resident.
set -u
if [ -n "${LUNATIC:-}" ] && [ "${LUNATIC#/}" = "$LUNATIC" ] && [ -e "$PWD/$LUNATIC" ]; then
    LUNATIC=$PWD/$LUNATIC
fi
cd "$(dirname "$0")/../.."
ROOT=$PWD
LUNATIC=${LUNATIC:-build/lunatic}
SECS=${SECS:-5}
RUNS=${RUNS:-3}
CONNS=${CONNS:-100 1000}
IDLE=${IDLE:-10000}
OUT=${OUT:-build/bench/net}
LOG=$OUT/logs
mkdir -p "$LOG"
die() { echo "run.sh: $*" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((IDLE + 500)) ] || die "ulimit -n $(ulimit -n) is too low for IDLE=$IDLE"
[ -x "$LUNATIC" ] || die "$LUNATIC not found (make)"

# ---- build ------------------------------------------------------------------------
cc -O2 -Wall -o "$OUT/load" bench/net/load.c || die "cannot build load.c"
cc -O2 -Wall -pthread -o "$OUT/native" bench/net/native.c || die "cannot build native.c"
for e in echo_server http_server; do
    scripts/wasm-cc -O2 -I sdk -o "$OUT/$e.wasm" "examples/$e.c" || die "cannot build $e"
done
SERVERS="ours native"
if [ -z "${NO_ERLANG:-}" ] && command -v erlc >/dev/null; then
    erlc -o "$OUT" bench/net/servers.erl || die "cannot compile servers.erl"
    SERVERS="ours erlang native"
else
    echo "erlang-base not installed (sh scripts/setup.sh --bench): Erlang skipped"
fi
WRK=""
[ -z "${NO_WRK:-}" ] && command -v wrk >/dev/null && WRK=wrk

# start SERVER MODE: starts a server, sets SPID and SPORT
start() {
    local s=$1 mode=$2 out=$LOG/$1.$2.server
    case $s in
    ours) "$LUNATIC" run "$OUT/${mode}_server.wasm" 0 >"$out" 2>&1 & ;;
    erlang) erl -noshell -pa "$OUT" -run servers main "$mode" >"$out" 2>&1 & ;;
    native) "$OUT/native" "$mode" >"$out" 2>&1 & ;;
    esac
    SPID=$!
    SPORT=""
    for _ in $(seq 200); do
        SPORT=$(grep -soE '(port |127\.0\.0\.1:)[0-9]+' "$out" | grep -oE '[0-9]+$' | head -n 1)
        [ -n "$SPORT" ] && break
        sleep 0.05
    done
    [ -n "$SPORT" ] || die "$s $mode did not start: $(cat "$out")"
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

declare -A R
better() { awk -v a="${1:-}" -v b="$2" 'BEGIN{ if (a == "" || b > a) print b; else print a }'; }
lower() { awk -v a="${1:-}" -v b="$2" 'BEGIN{ if (a == "" || b < a) print b; else print a }'; }

echo "bench/net: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, best of $RUNS, ${SECS}s each; servers: $SERVERS"
for mode in echo http; do
    for c in $CONNS; do
        for ((i = 1; i <= RUNS; i++)); do
            for s in $SERVERS; do
                start $s $mode
                line=$("$OUT/load" $mode "$SPORT" "$c" "$SECS" 2>"$LOG/load.err")
                stop
                read -r _ rps _ p50 _ p99 _ errs <<<"$line"
                [ -n "${rps:-}" ] || { echo "  $s $mode c=$c: no result ($(cat "$LOG/load.err"))"; continue; }
                printf '  %-7s %-5s c=%-5s run %d: %8s req/s  p50 %6s us  p99 %6s us  errors %s\n' \
                    $s $mode "$c" "$i" "$rps" "$p50" "$p99" "$errs"
                k=$s.$mode.$c
                if [ -z "${R[$k.rps]:-}" ] || [ "$rps" -gt "${R[$k.rps]}" ]; then
                    R[$k.rps]=$rps R[$k.p50]=$p50 R[$k.p99]=$p99
                fi
            done
        done
    done
done
if [ -n "$WRK" ]; then
    for c in $CONNS; do
        for s in $SERVERS; do
            start $s http
            rps=$(wrk -t2 -c"$c" -d"${SECS}s" "http://127.0.0.1:$SPORT/" 2>&1 | awk '/Requests\/sec/{printf "%.0f", $2}')
            stop
            R[$s.wrk.$c.rps]=${rps:-}
            printf '  %-7s wrk   c=%-5s: %8s req/s\n' $s "$c" "${rps:-n/a}"
        done
    done
fi
# idle connections: resident memory before and after IDLE connections
for s in $SERVERS; do
    start $s echo
    sleep 0.5
    base=$(rss_kib "$SPID")
    coproc IDLER { "$OUT/load" idle "$SPORT" "$IDLE"; }
    read -r -t 120 line <&"${IDLER[0]}"
    sleep 2   # every connection accepted and its process parked
    held=$(rss_kib "$SPID")
    exec {IDLER[1]}>&-
    wait $IDLER_PID 2>/dev/null
    stop
    R[$s.idle]=$(awk -v a="$base" -v b="$held" -v n="$IDLE" 'BEGIN{printf "%.0f", (b-a)*1024/n}')
    R[$s.idlemb]=$(awk -v b="$held" 'BEGIN{printf "%.1f", b/1024}')
    printf '  %-7s %d idle connections: %s MiB resident (%s before), %s bytes each\n' $s "$IDLE" \
        "${R[$s.idlemb]}" "$(awk -v a="$base" 'BEGIN{printf "%.1f", a/1024}')" "${R[$s.idle]}"
done

# ---- the table -------------------------------------------------------------------------
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN{ if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a/b }'; }
echo ""
echo "req/s, best of $RUNS (ratios: ours / peer; targets: vs erlang >= 1, vs native >= 0.5)"
printf '%-22s %10s %10s %10s %9s %9s %8s %8s\n' shape ours erlang native "/erlang" "/native" p99-ours p99-erl
met=yes
for mode in echo http; do
    for c in $CONNS; do
        k=$mode.$c
        re=$(ratio "${R[ours.$k.rps]:-}" "${R[erlang.$k.rps]:-}")
        rn=$(ratio "${R[ours.$k.rps]:-}" "${R[native.$k.rps]:-}")
        printf '%-22s %10s %10s %10s %9s %9s %8s %8s\n' "$mode, $c conns" "${R[ours.$k.rps]:-n/a}" \
            "${R[erlang.$k.rps]:-n/a}" "${R[native.$k.rps]:-n/a}" "$re" "$rn" "${R[ours.$k.p99]:-}" "${R[erlang.$k.p99]:-}"
        awk -v r="$re" 'BEGIN{exit !(r != "n/a" && r < 1)}' && met=no
        awk -v r="$rn" 'BEGIN{exit !(r != "n/a" && r < 0.5)}' && met=no
    done
done
if [ -n "$WRK" ]; then
    for c in $CONNS; do
        printf '%-22s %10s %10s %10s %9s %9s\n' "http (wrk), $c conns" "${R[ours.wrk.$c.rps]:-n/a}" \
            "${R[erlang.wrk.$c.rps]:-n/a}" "${R[native.wrk.$c.rps]:-n/a}" \
            "$(ratio "${R[ours.wrk.$c.rps]:-}" "${R[erlang.wrk.$c.rps]:-}")" \
            "$(ratio "${R[ours.wrk.$c.rps]:-}" "${R[native.wrk.$c.rps]:-}")"
    done
fi
printf '%-22s %10s %10s %10s   (bytes per idle connection; ours: target %s MiB in all < 300)\n' \
    "$IDLE idle conns" "${R[ours.idle]:-n/a}" "${R[erlang.idle]:-n/a}" "${R[native.idle]:-n/a}" "${R[ours.idlemb]:-n/a}"
awk -v m="${R[ours.idlemb]:-999999}" 'BEGIN{exit !(m >= 300)}' && met=no
echo "targets met: $met"
