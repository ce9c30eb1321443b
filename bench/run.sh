#!/usr/bin/env bash
# bench/run.sh - the CPU benchmark suite: native (gcc -O2) vs node/V8 (WASI)
# vs our engine (lunatic run), all in one run, with output verification.
#
# Usage: bench/run.sh [BENCH]...        (default: every benchmark)
#
# Environment:
#   LUNATIC=path     our engine binary (default build/lunatic)
#   RUNS=n           runs per benchmark and runner; the best wall time is kept (default 3)
#   TIMEOUT=s        per-run time limit for each runner (default 60)
#   OUT=dir          build/log directory (default build/bench)
#   NO_NODE=1        skip node
#   NO_OURS=1        skip our engine
#   NO_INST=1        skip the instantiation benchmark (bench/instantiate.c)
#   SLOW=s           a run longer than this is not repeated (default 15), so a
#                    slow engine does not make the suite take forever
#
# Results also go to $OUT/results.tsv (bench, runner, best seconds or FAIL).
#
# Exit status: 0 when every runner that ran agreed with native on every
# benchmark; 1 otherwise (a table is printed in either case).
set -u
# a relative LUNATIC given by the caller is relative to the caller's directory
if [ -n "${LUNATIC:-}" ] && [ "${LUNATIC#/}" = "$LUNATIC" ] && [ -e "$PWD/$LUNATIC" ]; then
    LUNATIC=$PWD/$LUNATIC
fi
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD

ALL_BENCHES="fib sieve sha256 matmul nbody parse hashtab sort minimark lz"
BENCHES=${*:-$ALL_BENCHES}
LUNATIC=${LUNATIC:-build/lunatic}
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-60}
SLOW=${SLOW:-15}
OUT=${OUT:-build/bench}
NODE=${NODE:-node}
CC_NATIVE=${CC_NATIVE:-gcc}
CC_WASM=${CC_WASM:-$ROOT/scripts/wasm-cc}   # clang without a wasm-opt pass
WASM_FLAGS="-O2 -Wl,--strip-debug"   # keeps the name section
NATIVE_FLAGS="-O2"

mkdir -p "$OUT/logs"
LOG=$OUT/logs
status=0

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

[ -n "${EPOCHREALTIME:-}" ] || die "needs bash >= 5 (EPOCHREALTIME)"
command -v "$CC_NATIVE" >/dev/null || die "$CC_NATIVE not found"
command -v "$CC_WASM" >/dev/null || die "$CC_WASM not found"
command -v awk >/dev/null || die "awk not found"

# ---- which runners are available --------------------------------------------
have_node=0
if [ -z "${NO_NODE:-}" ]; then
    if command -v "$NODE" >/dev/null && "$NODE" -e 'require("node:wasi")' 2>/dev/null; then
        have_node=1
    else
        say "!! node with node:wasi not found: node column skipped"
    fi
fi
have_ours=0
ours_why=""
LUNATIC_ORIG=$LUNATIC
if [ -n "${NO_OURS:-}" ]; then
    ours_why="skipped (NO_OURS)"
elif [ ! -x "$LUNATIC" ]; then
    ours_why="not available: $LUNATIC does not exist (run make, or set LUNATIC=)"
else
    have_ours=1
    # run a private copy, so that a rebuild during the run cannot mix two builds
    mkdir -p "$OUT"
    cp "$LUNATIC" "$OUT/lunatic.snapshot" && LUNATIC_ORIG=$LUNATIC && LUNATIC=$OUT/lunatic.snapshot ||
        die "cannot copy $LUNATIC"
fi

# ---- build ------------------------------------------------------------------
# Rebuild when the source, common.h or this script is newer than the output.
build_one() {   # name
    local b=$1 src=bench/src/$1.c
    [ -f "$src" ] || die "no such benchmark: $b ($src)"
    if [ ! -x "$OUT/$b.native" ] || [ "$src" -nt "$OUT/$b.native" ] ||
       [ bench/src/common.h -nt "$OUT/$b.native" ]; then
        $CC_NATIVE $NATIVE_FLAGS -o "$OUT/$b.native" "$src" -lm 2>"$LOG/$b.build-native.txt" ||
            { cat "$LOG/$b.build-native.txt" >&2; die "native build of $b failed"; }
    fi
    if [ ! -f "$OUT/$b.wasm" ] || [ "$src" -nt "$OUT/$b.wasm" ] ||
       [ bench/src/common.h -nt "$OUT/$b.wasm" ]; then
        $CC_WASM $WASM_FLAGS -o "$OUT/$b.wasm" "$src" 2>"$LOG/$b.build-wasm.txt" ||
            { cat "$LOG/$b.build-wasm.txt" >&2
              die "wasm build of $b failed (needs wasi-libc and libclang-rt-14-dev-wasm32)"; }
    fi
}
say "building into $OUT ..."
# a change of compilers or flags rebuilds everything
stamp="$CC_NATIVE $NATIVE_FLAGS | $CC_WASM $WASM_FLAGS"
if [ "$(cat "$OUT/.flags" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$OUT"/*.native "$OUT"/*.wasm
    printf '%s\n' "$stamp" >"$OUT/.flags"
fi
for b in hello $BENCHES; do build_one "$b"; done

# ---- timing -----------------------------------------------------------------
# run_timed RUNNER NAME: runs once, sets T (seconds) and RC; stdout/stderr go
# to $LOG/NAME.RUNNER.{out,err}.
run_timed() {
    local r=$1 b=$2 t0 t1
    local out=$LOG/$b.$r.out err=$LOG/$b.$r.err
    t0=$EPOCHREALTIME
    case $r in
    native) timeout -k 5 "$TIMEOUT" "$OUT/$b.native" >"$out" 2>"$err" ;;
    node)   timeout -k 5 "$TIMEOUT" "$NODE" --no-warnings bench/wasi-run.mjs "$OUT/$b.wasm" >"$out" 2>"$err" ;;
    ours)   timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/$b.wasm" >"$out" 2>"$err" ;;
    esac
    RC=$?
    t1=$EPOCHREALTIME
    T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
}

# best-of-RUNS per (benchmark, runner); runners interleaved within a round so
# that drift in machine load hits all of them alike.
declare -A BEST STATE LONG   # STATE: ok | fail:<why>
runners="native"
[ $have_node = 1 ] && runners="$runners node"
[ $have_ours = 1 ] && runners="$runners ours"

measure() {   # name
    local b=$1 r i
    for r in $runners; do BEST[$b.$r]=""; STATE[$b.$r]=ok; LONG[$b.$r]=""; done
    for ((i = 0; i < RUNS; i++)); do
        for r in $runners; do
            [ "${STATE[$b.$r]}" = ok ] && [ -z "${LONG[$b.$r]}" ] || continue
            run_timed "$r" "$b"
            if awk -v t="$T" -v s="$SLOW" 'BEGIN { exit !(t > s) }'; then LONG[$b.$r]=1; fi
            if [ $RC -eq 124 ]; then
                STATE[$b.$r]="fail:timeout after ${TIMEOUT}s"; continue
            elif [ $RC -ne 0 ]; then
                STATE[$b.$r]="fail:exit status $RC"; continue
            fi
            if [ "$r" != native ] && ! cmp -s "$LOG/$b.$r.out" "$LOG/$b.native.out"; then
                STATE[$b.$r]="fail:output differs from native"; continue
            fi
            if [ -z "${BEST[$b.$r]}" ] || awk -v t="$T" -v b="${BEST[$b.$r]}" 'BEGIN { exit !(t < b) }'; then
                BEST[$b.$r]=$T
            fi
        done
    done
    [ "${STATE[$b.native]}" = ok ] || die "native $b failed: ${STATE[$b.native]} (see $LOG/$b.native.err)"
    for r in $runners; do
        if [ "${STATE[$b.$r]}" = ok ]; then printf '%s\t%s\t%s\n' "$b" "$r" "${BEST[$b.$r]}"
        else printf '%s\t%s\tFAIL\t%s\n' "$b" "$r" "${STATE[$b.$r]#fail:}"; fi
    done >>"$OUT/results.tsv"
}

say "runners: $runners   (best of $RUNS wall times; logs in $LOG)"
[ $have_ours = 1 ] && say "ours: $LUNATIC_ORIG ($(stat -c '%y' "$LUNATIC_ORIG" | cut -d. -f1)), run from a copy"
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
ncpu=$(nproc 2>/dev/null || echo 1)
if [ -n "$load" ] && awk -v l="$load" -v n="$ncpu" 'BEGIN { exit !(l > n / 2) }'; then
    say "!! load average is $load on $ncpu CPUs: other jobs are running, timings will be noisy"
fi
[ $have_ours = 1 ] || say "our engine: $ours_why"
say ""

printf 'bench\trunner\tseconds\n' >"$OUT/results.tsv"
# start-up cost of each runner (a trivial hello program)
measure hello

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b <= 0) print ""; else printf "%.2f", a / b }'; }
cell() {   # bench runner -> time or failure marker
    local s=${STATE[$1.$2]:-}
    if [ -z "$s" ]; then printf '%s' "-"
    elif [ "$s" = ok ]; then printf '%s' "${BEST[$1.$2]}"
    else printf '%s' "FAIL"; fi
}

hdr=$(printf '%-10s %9s %9s %9s %9s %9s %9s' bench native node ours node/nat ours/nat node-su/nat)
say "$hdr"
say "$(printf '%s' "$hdr" | tr -c '\n' '-')"

node_su=${BEST[hello.node]:-}
ours_su=${BEST[hello.ours]:-}
failures=()
ln_node=0; n_node=0; ln_ours=0; n_ours=0; ln_nodesu=0; n_nodesu=0
for b in $BENCHES; do
    measure "$b"
    nat=${BEST[$b.native]}
    rn=""; ro=""; rnsu=""
    if [ $have_node = 1 ] && [ "${STATE[$b.node]}" = ok ]; then
        rn=$(ratio "${BEST[$b.node]}" "$nat")
        # node minus its own start-up time (hello), floored at native
        rnsu=$(awk -v n="${BEST[$b.node]}" -v s="${node_su:-0}" -v t="$nat" \
            'BEGIN { x = n - s; if (x < t) x = t; printf "%.2f", x / t }')
        ln_node=$(awk -v a="$ln_node" -v r="$rn" 'BEGIN { print a + log(r) }'); n_node=$((n_node + 1))
        ln_nodesu=$(awk -v a="$ln_nodesu" -v r="$rnsu" 'BEGIN { print a + log(r) }'); n_nodesu=$((n_nodesu + 1))
    fi
    if [ $have_ours = 1 ] && [ "${STATE[$b.ours]}" = ok ]; then
        ro=$(ratio "${BEST[$b.ours]}" "$nat")
        ln_ours=$(awk -v a="$ln_ours" -v r="$ro" 'BEGIN { print a + log(r) }'); n_ours=$((n_ours + 1))
    fi
    for r in node ours; do
        s=${STATE[$b.$r]:-}
        if [ -n "$s" ] && [ "$s" != ok ]; then
            failures+=("$r $b: ${s#fail:}  (stdout $LOG/$b.$r.out, stderr $LOG/$b.$r.err)")
            status=1
        fi
    done
    say "$(printf '%-10s %9s %9s %9s %9s %9s %9s' "$b" "$nat" "$(cell "$b" node)" "$(cell "$b" ours)" \
        "${rn:--}" "${ro:--}" "${rnsu:--}")"
done

gm() { awk -v s="$1" -v n="$2" 'BEGIN { if (n == 0) print "-"; else printf "%.2f", exp(s / n) }'; }
nb=$(echo $BENCHES | wc -w)
say "$(printf '%s' "$hdr" | tr -c '\n' '-')"
say "$(printf '%-10s %9s %9s %9s %9s %9s %9s' geomean "" "" "" "$(gm "$ln_node" $n_node)" \
    "$(gm "$ln_ours" $n_ours)" "$(gm "$ln_nodesu" $n_nodesu)")"
say ""
say "slowdown = best wall time / native best wall time (process start to exit)."
[ $have_node = 1 ] && say "node-su/nat: node time minus node's start-up (hello: ${node_su:-?} s), over native."
[ $have_node = 1 ] && [ "$n_node" -lt "$nb" ] && say "node geomean covers $n_node of $nb benchmarks."
if [ $have_ours = 1 ]; then
    say "our start-up (hello): ${ours_su:-FAIL} s"
    [ "$n_ours" -lt "$nb" ] && say "our geomean covers only $n_ours of $nb benchmarks (failures excluded)."
else
    say "ours: $ours_why"
fi
if [ -n "${STATE[hello.ours]:-}" ] && [ "${STATE[hello.ours]}" != ok ]; then
    failures+=("ours hello: ${STATE[hello.ours]#fail:}  (stderr $LOG/hello.ours.err)")
    status=1
fi
if [ ${#failures[@]} -gt 0 ]; then
    say ""
    say "FAILURES:"
    for f in "${failures[@]}"; do
        say "  $f"
        set -- $f
        r=$1; b=${2%:}
        if [ -s "$LOG/$b.$r.err" ]; then head -n 5 "$LOG/$b.$r.err" | sed 's/^/      | /'; fi
        if [ "$r" != native ] && [ -f "$LOG/$b.$r.out" ]; then
            diff "$LOG/$b.native.out" "$LOG/$b.$r.out" | head -n 4 | sed 's/^/      diff: /'
        fi
        case $r in
        ours) say "      reproduce: $LUNATIC_ORIG run $OUT/$b.wasm" ;;
        node) say "      reproduce: $NODE --no-warnings bench/wasi-run.mjs $OUT/$b.wasm" ;;
        esac
    done
fi

# ---- instantiation benchmark ------------------------------------------------
if [ -z "${NO_INST:-}" ]; then
    say ""
    if [ -f build/liblunatic.a ]; then
        if make -s -C bench instantiate OUT="$ROOT/$OUT" >"$LOG/instantiate.build.txt" 2>&1; then
            say "instantiation benchmark ($OUT/instantiate):"
            timeout -k 5 "$TIMEOUT" "$OUT/instantiate" || { say "!! instantiate failed (exit $?)"; status=1; }
        else
            say "!! instantiate did not build (engine library incomplete?):"
            grep -E 'error|undefined reference' "$LOG/instantiate.build.txt" | head -n 8 | sed 's/^/   /'
        fi
    else
        say "instantiation benchmark skipped: build/liblunatic.a not built yet"
    fi
fi
exit $status
