#!/usr/bin/env bash
# bench/proc/run.sh - process benchmarks, side by side with Erlang/OTP in the
# same run: the six shapes of bench/proc/README.md, on Erlang (erl, Debian's
# erlang-base) and on our runtime (lunatic run), then a table with ratios and
# the targets.
#
# Usage: bench/proc/run.sh [SHAPE]...   SHAPE: spawn ring pingpong selective million
#                                              parspawn (default: all six)
# Environment:
#   LUNATIC=path        our runtime (default build/lunatic)
#   ERL=path            erl (default erl)
#   RUNS=n              runs of each shape per runtime, best kept (default 3;
#                       the million shape runs once)
#   SPAWN_N=100000      idle processes for the spawn shape
#   RING_N=10000 RING_M=1000000      ring size (main included), hops
#   PP_M=1000000        ping-pong round trips
#   SEL_Q=10000 SEL_R=1000           queued unmatched messages, selective receives
#   MILLION_N=1000000   idle processes alive at once
#   PARSPAWN_N=200000   short-lived children spawned in all by the parspawn shape
#   PARSPAWN_K="1 8"    numbers of spawners (one metric parspawnK_mps each)
#   HOLD_MS=500         pause of the C guests at each RSS marker
#   TIMEOUT=300         seconds per run
#   MEM_LIMIT_MB=...    a run whose resident set exceeds this is killed
#                       (default: MemAvailable minus 1 GiB)
#   OUT=dir             build and log directory (default build/bench/proc)
#   NO_ERLANG=1 / NO_OURS=1          skip a runtime
#   NO_METRICS_OFF=1    skip the runs of ours with its metrics off
#                       (LUNATIC_METRICS=off; by default each shape also runs
#                       that way, and a second table shows what recording
#                       the runtime's metrics costs, measured in this run)
#
# Memory figures are the OS resident set of the runtime's OS process
# (/proc/PID/status): Erlang reads its own VmRSS/VmHWM; for ours this script
# samples VmRSS when the guest prints "# base" (before spawning) and
# "# idle N" (all N children alive and blocked in receive), and VmHWM
# (peak) at the "# idle" marker and until exit.
#
# Exit status: 0 if every run that was attempted succeeded (targets missed do
# not count), 1 otherwise.
set -u
if [ -n "${LUNATIC:-}" ] && [ "${LUNATIC#/}" = "$LUNATIC" ] && [ -e "$PWD/$LUNATIC" ]; then
    LUNATIC=$PWD/$LUNATIC
fi
cd "$(dirname "$0")/../.."
ROOT=$PWD

LUNATIC=${LUNATIC:-build/lunatic}
ERL=${ERL:-erl}
RUNS=${RUNS:-3}
SPAWN_N=${SPAWN_N:-100000}
RING_N=${RING_N:-10000}
RING_M=${RING_M:-1000000}
PP_M=${PP_M:-1000000}
SEL_Q=${SEL_Q:-10000}
SEL_R=${SEL_R:-1000}
MILLION_N=${MILLION_N:-1000000}
PARSPAWN_N=${PARSPAWN_N:-200000}
PARSPAWN_K=${PARSPAWN_K:-1 8}
HOLD_MS=${HOLD_MS:-500}
TIMEOUT=${TIMEOUT:-300}
OUT=${OUT:-build/bench/proc}
SHAPES=${*:-spawn ring pingpong selective million parspawn}
CC_WASM=${CC_WASM:-$ROOT/scripts/wasm-cc}   # clang without a wasm-opt pass
WASM_FLAGS="-O2 -Wall -Wextra -Wl,--strip-debug"
ERL_FLAGS="-noshell +P 2000000"
if [ -z "${MEM_LIMIT_MB:-}" ]; then
    MEM_LIMIT_MB=$(awk '/^MemAvailable:/{printf "%d", $2/1024 - 1024}' /proc/meminfo)
fi

LOG=$OUT/logs
mkdir -p "$LOG"
say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash >= 5 (EPOCHREALTIME)"
for s in $SHAPES; do
    case $s in spawn|ring|pingpong|selective|million|parspawn) ;; *) die "unknown shape '$s'" ;; esac
done
for k in $PARSPAWN_K; do
    case $k in ''|*[!0-9]*|0) die "PARSPAWN_K: '$k' is not a number >= 1" ;; esac
done
PARSPAWN_K=$(echo $PARSPAWN_K)   # single spaces, none at the ends

status=0
FAILURES=""
fail_note() { FAILURES+="$*"$'\n'; }

# ---- build --------------------------------------------------------------------
have_ours=0
if [ -z "${NO_OURS:-}" ]; then
    command -v "$CC_WASM" >/dev/null || die "$CC_WASM not found"
    for b in smoke spawn ring pingpong selective parspawn; do
        src=bench/proc/$b.c
        wasm=$OUT/$b.wasm
        if [ ! -e "$wasm" ] || [ "$src" -nt "$wasm" ] || [ bench/proc/abi.h -nt "$wasm" ]; then
            $CC_WASM $WASM_FLAGS -o "$wasm" "$src" || die "cannot build $wasm"
        fi
    done
fi
have_erl=0
if [ -z "${NO_ERLANG:-}" ]; then
    if command -v "$ERL" >/dev/null && command -v erlc >/dev/null; then
        if [ ! -e "$OUT/shapes.beam" ] || [ bench/proc/shapes.erl -nt "$OUT/shapes.beam" ]; then
            erlc -o "$OUT" bench/proc/shapes.erl || die "cannot compile shapes.erl"
        fi
        have_erl=1
        ERL_VERSION=$("$ERL" -noshell -eval 'io:format("OTP ~s, erts ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().' 2>/dev/null)
    else
        say "erl/erlc not found (apt-get install -y erlang-base): Erlang column skipped"
    fi
fi

# ---- is our runtime ready? ------------------------------------------------------
OURS_WHY=""
if [ -z "${NO_OURS:-}" ]; then
    if [ ! -x "$LUNATIC" ]; then
        OURS_WHY="$LUNATIC not found (make)"
    else
        timeout 30 "$LUNATIC" run "$OUT/smoke.wasm" >"$LOG/smoke.out" 2>"$LOG/smoke.err"
        rc=$?
        if [ $rc -eq 0 ] && grep -q '^smoke ok' "$LOG/smoke.out"; then
            have_ours=1
        else
            OURS_WHY="smoke test failed (exit $rc): $(head -c 300 "$LOG/smoke.err" | tr '\n' ' ')"
            status=1
            fail_note "ours: not ready: $OURS_WHY"
            fail_note "  reproduce: $LUNATIC run $OUT/smoke.wasm"
        fi
    fi
    [ -z "$OURS_WHY" ] || say "our runtime: n/a ($OURS_WHY)"
fi

# ---- running one measurement ------------------------------------------------------
# run_one LOGNAME SAMPLE(0/1) CMD...: runs CMD in the background with stdout
# and stderr in $LOG/LOGNAME.{out,err}. With SAMPLE=1 it watches the output for
# the "# base" / "# idle" markers and samples /proc/PID/status then. Sets
# R_RC (124 on timeout, 137 when killed for memory), R_RSS_BASE, R_RSS_IDLE,
# R_HWM (KiB), R_SECS.
read_status() { # PID -> ST_RSS ST_HWM ST_STATE
    ST_RSS="" ST_HWM="" ST_STATE=""
    local k v rest
    [ -r "/proc/$1/status" ] || return 0
    while read -r k v rest; do
        case $k in
            VmRSS:) ST_RSS=$v ;;
            VmHWM:) ST_HWM=$v ;;
            State:) ST_STATE=$v ;;
        esac
    done 2>/dev/null <"/proc/$1/status"
}
run_one() {
    local name=$1 sample=$2; shift 2
    local out=$LOG/$name.out err=$LOG/$name.err
    R_RSS_BASE="" R_RSS_IDLE="" R_HWM="" R_RC=0
    local t0=$EPOCHREALTIME
    "$@" >"$out" 2>"$err" &
    local pid=$! killed=""
    local period=0.05
    [ "$sample" = 1 ] || period=0.2
    while :; do
        local seen_base=0 seen_idle=0
        if [ "$sample" = 1 ]; then
            grep -q '^# base' "$out" 2>/dev/null && seen_base=1
            grep -q '^# idle' "$out" 2>/dev/null && seen_idle=1
        fi
        read_status $pid
        [ -n "$ST_STATE" ] && [ "$ST_STATE" != Z ] || break
        [ -n "$ST_HWM" ] && R_HWM=$ST_HWM
        [ $seen_base = 1 ] && [ -z "$R_RSS_BASE" ] && R_RSS_BASE=$ST_RSS
        [ $seen_idle = 1 ] && [ -z "$R_RSS_IDLE" ] && R_RSS_IDLE=$ST_RSS
        if [ -n "$ST_RSS" ] && [ "$ST_RSS" -gt $((MEM_LIMIT_MB * 1024)) ]; then
            killed="memory: resident ${ST_RSS} KiB > MEM_LIMIT_MB=$MEM_LIMIT_MB"
            kill -9 $pid 2>/dev/null
            break
        fi
        if awk -v a="$t0" -v b="$EPOCHREALTIME" -v t="$TIMEOUT" 'BEGIN{exit !(b-a > t)}'; then
            killed="timeout after ${TIMEOUT}s"
            kill -9 $pid 2>/dev/null
            break
        fi
        sleep $period
    done
    wait $pid
    R_RC=$?
    R_SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
    if [ -n "$killed" ]; then
        echo "run.sh: killed: $killed" >>"$err"
        case $killed in timeout*) R_RC=124 ;; *) R_RC=137 ;; esac
    fi
}
key() { awk -v k="$2" '$1==k{print $2; exit}' "$LOG/$1.out"; }
kib() { awk -v v="$1" 'BEGIN{printf "%.0f", v*1024}'; }

# results: RES[runner.metric] = value
declare -A RES
better() { # METRIC(lower|higher) OLD NEW -> the better one
    if [ -z "$2" ]; then echo "$3"; return; fi
    awk -v d="$1" -v a="$2" -v b="$3" 'BEGIN{ if ((d=="lower" && b<a) || (d=="higher" && b>a)) print b; else print a }'
}
put() { # RUNNER METRIC DIR VALUE
    [ -n "$4" ] || return 0
    RES[$1.$2]=$(better "$3" "${RES[$1.$2]:-}" "$4")
}
declare -A DEAD   # runner.shape -> 1 after a failure (no further runs)
note_failure() { # RUNNER SHAPE LOGNAME CMD...
    local r=$1 s=$2 n=$3; shift 3
    DEAD[$r.$s]=1
    status=1
    fail_note "$r $s: exit $R_RC after ${R_SECS}s; stderr: $(head -c 400 "$LOG/$n.err" | tr '\n' ' ')"
    fail_note "  reproduce: $*"
}

# measure RUNNER SHAPE ROUND   (SHAPE parspawnK: the parspawn shape with K spawners)
measure() {
    local r=$1 s=$2 i=$3 n="$2.$1.$3"
    [ -z "${DEAD[$r.$s]:-}" ] || return 0
    local cmd=()
    if [ "$r" = erlang ]; then
        cmd=("$ERL" $ERL_FLAGS -pa "$OUT" -run shapes main)
        case $s in
            spawn) cmd+=(spawn "$SPAWN_N") ;;
            million) cmd+=(million "$MILLION_N") ;;
            ring) cmd+=(ring "$RING_N" "$RING_M") ;;
            pingpong) cmd+=(pingpong "$PP_M") ;;
            selective) cmd+=(selective "$SEL_Q" "$SEL_R") ;;
            parspawn*) cmd+=(parspawn "${s#parspawn}" "$PARSPAWN_N") ;;
        esac
    else
        cmd=("$LUNATIC" run)
        [ "$r" = ours_off ] && cmd=(env LUNATIC_METRICS=off "$LUNATIC" run)
        case $s in
            spawn) cmd+=("$OUT/spawn.wasm" "$SPAWN_N" "$HOLD_MS") ;;
            million) cmd+=("$OUT/spawn.wasm" "$MILLION_N" "$HOLD_MS" million_) ;;
            ring) cmd+=("$OUT/ring.wasm" "$RING_N" "$RING_M") ;;
            pingpong) cmd+=("$OUT/pingpong.wasm" "$PP_M") ;;
            selective) cmd+=("$OUT/selective.wasm" "$SEL_Q" "$SEL_R") ;;
            parspawn*) cmd+=("$OUT/parspawn.wasm" "${s#parspawn}" "$PARSPAWN_N") ;;
        esac
    fi
    local sample=0
    [ "$r" != erlang ] && { [ $s = spawn ] || [ $s = million ]; } && sample=1
    run_one "$n" $sample "${cmd[@]}"
    local want
    case $s in
        spawn) want=spawn_us ;; million) want=million_spawn_us ;; ring) want=ring_hops_per_s ;;
        pingpong) want=pingpong_rtt_us ;; selective) want=selective_us ;;
        parspawn*) want=parspawn_mps ;;
    esac
    if [ $R_RC -ne 0 ] || [ -z "$(key "$n" $want)" ]; then
        note_failure "$r" "$s" "$n" "${cmd[*]}"
        return 0
    fi
    printf '  %-8s %-10s run %d: %ss\n' "$r" "$s" "$i" "$R_SECS"
    case $s in
        spawn|million)
            local p="" cnt=$SPAWN_N
            [ $s = million ] && { p=million_; cnt=$MILLION_N; }
            put $r ${p}spawn_us lower "$(key "$n" ${p}spawn_us)"
            if [ $r = erlang ]; then
                put $r ${p}idle_bytes lower "$(key "$n" ${p}idle_bytes)"
                put $r ${p}peak_rss_mb lower "$(key "$n" ${p}peak_rss_mb)"
            else
                if [ -n "$R_RSS_BASE" ] && [ -n "$R_RSS_IDLE" ]; then
                    put $r ${p}idle_bytes lower "$(awk -v a="$R_RSS_BASE" -v b="$R_RSS_IDLE" -v n="$cnt" 'BEGIN{printf "%.0f", (b-a)*1024/(n>0?n:1)}')"
                else
                    fail_note "ours $s: RSS markers not sampled (base '${R_RSS_BASE}' idle '${R_RSS_IDLE}' KiB); raise HOLD_MS"
                fi
                [ -n "$R_HWM" ] && put $r ${p}peak_rss_mb lower "$(awk -v k="$R_HWM" 'BEGIN{printf "%.1f", k/1024}')"
            fi ;;
        ring) put $r ring_hops_per_s higher "$(key "$n" ring_hops_per_s)" ;;
        pingpong) put $r pingpong_rtt_us lower "$(key "$n" pingpong_rtt_us)" ;;
        selective)
            put $r selective_us lower "$(key "$n" selective_us)"
            put $r selective_empty_us lower "$(key "$n" selective_empty_us)" ;;
        parspawn*) put $r ${s}_mps higher "$(key "$n" parspawn_mps)" ;;
    esac
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
RUNNERS=""
[ $have_erl = 1 ] && RUNNERS+=" erlang"
[ $have_ours = 1 ] && RUNNERS+=" ours"
[ $have_ours = 1 ] && [ -z "${NO_METRICS_OFF:-}" ] && RUNNERS+=" ours_off"
say "shapes: $SHAPES; runners:${RUNNERS:- none}; best of $RUNS (million: 1 run)"
for s in $SHAPES; do
    rounds=$RUNS
    [ $s = million ] && rounds=1
    subs=$s
    [ $s = parspawn ] && subs=$(for k in $PARSPAWN_K; do printf 'parspawn%s ' "$k"; done)
    for ((i = 1; i <= rounds; i++)); do
        for t in $subs; do
            for r in $RUNNERS; do measure $r $t $i; done
        done
    done
done
# parspawn scaling, per runner: rate with the last K of PARSPAWN_K / rate
# with the first.
PS_K1=${PARSPAWN_K%% *} PS_K2=${PARSPAWN_K##* }
if [ "$PS_K1" != "$PS_K2" ]; then
    for r in $RUNNERS; do
        a=${RES[$r.parspawn${PS_K1}_mps]:-} b=${RES[$r.parspawn${PS_K2}_mps]:-}
        [ -n "$a" ] && [ -n "$b" ] && RES[$r.parspawn_scaling]=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", (a>0 ? b/a : 0)}')
    done
fi

# ---- the table -----------------------------------------------------------------
# row LABEL METRIC DIR UNIT TARGET-KIND TARGET-TEXT
#   DIR lower|higher (which is better); TARGET-KIND: vs_erlang, max:<v>, none
fmt() { # value -> compact
    [ -n "$1" ] || { echo "n/a"; return; }
    awk -v v="$1" 'BEGIN{ if (v >= 100000) printf "%.3g\n", v; else if (v >= 100) printf "%.0f\n", v; else if (v >= 10) printf "%.1f\n", v; else printf "%.3f\n", v }'
}
TSV=$OUT/results.tsv
printf 'metric\terlang\tours\n' >"$TSV"
say ""
say "Process benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${ERL_VERSION:-no erlang}, load at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
say "ratio = how many times better ours is than Erlang (>1: ours better, <1: Erlang better)"
printf '%-34s %-13s %10s %10s %7s  %-22s %s\n' shape metric erlang ours ratio target met
row() {
    local label=$1 m=$2 dir=$3 unit=$4 tk=$5 tt=$6
    local e=${RES[erlang.$m]:-} o=${RES[ours.$m]:-}
    local ratio="n/a" met="-"
    if [ -n "$e" ] && [ -n "$o" ]; then
        ratio=$(awk -v e="$e" -v o="$o" -v d="$dir" 'BEGIN{ if (d=="lower") r = (o>0 ? e/o : 0); else r = (e>0 ? o/e : 0); printf "%.2f", r }')
    fi
    case $tk in
        vs_erlang)
            if [ -n "$o" ] && [ -n "$e" ]; then
                met=$(awk -v e="$e" -v o="$o" -v d="$dir" 'BEGIN{ ok = (d=="lower") ? (o<=e) : (o>=e); print ok ? "yes" : "NO" }')
            elif [ $have_ours = 1 ]; then met=NO; fi ;;
        max:*)
            if [ -n "$o" ]; then
                met=$(awk -v o="$o" -v t="${tk#max:}" 'BEGIN{ print (o<=t) ? "yes" : "NO" }')
            elif [ $have_ours = 1 ]; then met=NO; fi ;;
    esac
    printf '%-34s %-13s %10s %10s %7s  %-22s %s\n' "$label" "$unit" "$(fmt "$e")" "$(fmt "$o")" "$ratio" "$tt" "$met"
    printf '%s\t%s\t%s\n' "$m" "${e:-n/a}" "${o:-n/a}" >>"$TSV"
}
for s in $SHAPES; do
    case $s in
        spawn)
            row "spawn $SPAWN_N idle" spawn_us lower "us/spawn" vs_erlang "<= Erlang (~2-3 us)"
            row "  resident per idle process" idle_bytes lower "bytes" max:16384 "< 16 KiB" ;;
        ring)
            row "ring $RING_N procs, $RING_M hops" ring_hops_per_s higher "hops/s" vs_erlang ">= Erlang" ;;
        pingpong)
            row "ping-pong, $PP_M round trips" pingpong_rtt_us lower "us/rtt" vs_erlang "<= Erlang" ;;
        selective)
            row "selective recv, $SEL_Q queued" selective_us lower "us/receive" none "-"
            row "  same, empty mailbox" selective_empty_us lower "us/receive" none "-" ;;
        million)
            row "$MILLION_N idle at once" million_peak_rss_mb lower "peak RSS MB" max:24576 "<= 24 GiB" 
            row "  resident per idle process" million_idle_bytes lower "bytes" max:16384 "< 16 KiB"
            row "  spawn" million_spawn_us lower "us/spawn" none "-" ;;
        parspawn)
            for k in $PARSPAWN_K; do
                row "parspawn $PARSPAWN_N, $k spawner$([ "$k" = 1 ] || echo s)" parspawn${k}_mps higher "M spawns/s" none "-"
            done
            [ "$PS_K1" = "$PS_K2" ] ||
                row "  ${PS_K2} vs ${PS_K1} spawners (scaling)" parspawn_scaling higher "x" none "- (must not collapse)" ;;
    esac
done
[ $have_ours = 1 ] || say "(ours: n/a — ${OURS_WHY:-skipped})"

# ---- what the runtime's metrics cost: ours with them off and on, same run ------------
# mrow LABEL METRIC DIR UNIT: cost = on / off for "lower is better", off / on
# otherwise (>1: recording made it slower; runs vary by several percent)
mrow() {
    local off=${RES[ours_off.$2]:-} on=${RES[ours.$2]:-} cost="n/a"
    if [ -n "$off" ] && [ -n "$on" ]; then
        cost=$(awk -v a="$off" -v b="$on" -v d="$3" 'BEGIN{ if (d=="lower") r = (a>0 ? b/a : 0); else r = (b>0 ? a/b : 0); printf "%.3f", r }')
    fi
    printf '%-34s %-13s %10s %10s %7s\n' "$1" "$4" "$(fmt "$off")" "$(fmt "$on")" "$cost"
    printf 'metrics_off.%s\t%s\t%s\n' "$2" "${off:-n/a}" "${on:-n/a}" >>"$TSV"
}
if [ -z "${NO_METRICS_OFF:-}" ] && [ $have_ours = 1 ]; then
    say ""
    say "Runtime metrics: ours with LUNATIC_METRICS=off and with them on (the default), same run"
    say "cost = on relative to off (>1: recording made it slower)"
    printf '%-34s %-13s %10s %10s %7s\n' shape metric off on cost
    for s in $SHAPES; do
        case $s in
            spawn) mrow "spawn $SPAWN_N idle" spawn_us lower "us/spawn" ;;
            ring) mrow "ring $RING_N procs, $RING_M hops" ring_hops_per_s higher "hops/s" ;;
            pingpong) mrow "ping-pong, $PP_M round trips" pingpong_rtt_us lower "us/rtt" ;;
            selective) mrow "selective recv, $SEL_Q queued" selective_us lower "us/receive" ;;
            million) mrow "$MILLION_N idle at once" million_spawn_us lower "us/spawn" ;;
            parspawn)
                for k in $PARSPAWN_K; do
                    mrow "parspawn $PARSPAWN_N, $k spawner$([ "$k" = 1 ] || echo s)" parspawn${k}_mps higher "M spawns/s"
                done ;;
        esac
    done
fi
if [ -n "$FAILURES" ]; then
    say ""
    say "FAILURES / NOTES"
    printf '%s' "$FAILURES"
fi
say ""
say "logs: $LOG/  results: $TSV"
exit $status
