#!/usr/bin/env bash
# run.sh - differential fuzzing of the engine (src/wasm) against V8 (node).
#
#   tests/fuzz/diff/run.sh [-t SECONDS] [-n MODULES] [-o DIR]
#
# Each round turns random bytes into a valid module with binaryen's
# translate-to-fuzz (`wasm-opt -ttf`), runs it with run_ours.c (our engine,
# linked against $BUILD/liblunatic.a) and run_node.mjs (node), which print
# the same normalized transcript (export calls, every value the
# fuzzing-support loggers get, results, trap classes; see run_ours.c), and
# compares the two with compare.sh. Runs until SECONDS have passed
# (default 600) or MODULES were tried. Needs binaryen (wasm-opt), wabt
# (wasm-validate, wast2json) and node.
#
# Each round also picks, at random:
#   - the features: Wasm 2.0 without SIMD and without reference types (most
#     rounds), or with reference types (binaryen 108 then mostly makes
#     modules that use typed function references, which are not Wasm 2.0:
#     we must reject those as wabt's validator does, and only the valid
#     ones are run);
#   - whether binaryen starts from a module of the spec test suite
#     (`--initial-fuzz`, a third of the rounds: the suite's functions with
#     fuzzed code added) and whether it also runs a random set of
#     optimization passes (`--fuzz-passes`);
#   - the arguments the exports are called with (one of run_ours.c's five
#     sets: zeros, ones, -1/-0, minimums, maximums);
#   - our reduction budget (unlimited, 1, or 2..64: every run is suspended
#     and resumed that often, which must not change the transcript) and
#     whether data segments are deferred.
#
# Legitimate differences, handled here (README.md lists them):
#   - NaN payloads and signs: printed floats are canonical ("nan"), but an
#     arithmetic NaN's bits can reach integers (reinterpret, stores); a
#     difference that goes away under binaryen's --denan is counted as
#     nan-only (a few kept in DIR/nan/), not as a find;
#   - call-stack depth: compare.sh stops at a call both ended with "trap
#     stack" (our "call stack exhausted", V8's RangeError);
#   - time: our fuel (per call) and node's timeout (10 s) both print
#     "timeout"; both timing out is agreement. When only one side timed
#     out, that side runs again with 100 times the fuel or 12 times the
#     time (a slower engine is not a bug) and the round is compared anew.
#
# A find (outputs differ, our runner crashed or reported a sanitizer error)
# is kept in DIR/finds/N/: the random input, the module, both transcripts
# and the command lines; DIR (default $BUILD/fuzz-diff) also gets
# campaign.log, one line per 100 modules and a summary at the end. Use
# BUILD=build-asan to run our side under ASan+UBSan (recommended).
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
case $BUILD in /*) b=$BUILD ;; *) b=$root/$BUILD ;; esac
secs=600 max=0 dir=
while getopts t:n:o: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    n) max=$OPTARG ;;
    o) dir=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-n MODULES] [-o DIR]" >&2; exit 2 ;;
    esac
done
dir=${dir:-$b/fuzz-diff}
for tool in wasm-opt wasm-validate wast2json node; do
    command -v $tool >/dev/null || { echo "$0: needs $tool (binaryen, wabt, nodejs)" >&2; exit 2; }
done
. tests/fuzz/diff/build.sh || exit 2
mkdir -p "$dir/finds"
work=$dir/work.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
log=$dir/campaign.log

FEAT_BASE="--enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
           --enable-bulk-memory --enable-multivalue --disable-simd --disable-threads
           --disable-exception-handling --disable-tail-call --disable-gc --disable-memory64
           --disable-typed-function-references --disable-relaxed-simd --disable-extended-const"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The initial modules: every module of the non-SIMD spec files that
# instantiates without imports (made once, in DIR/seeds).
seeds=$dir/seeds
if [ ! -d "$seeds" ]; then
    mkdir -p "$seeds.tmp"
    for w in "$root"/../shared/wasm-testsuite/*.wast; do
        case $(basename "$w") in simd*) continue ;; esac
        wast2json "$w" -o "$seeds.tmp/$(basename "$w" .wast).json" >/dev/null 2>&1
    done
    for m in "$seeds.tmp"/*.wasm; do
        [ -f "$m" ] || continue
        case $(timeout 10 "$runner" -f 10000000 "$m" 2>/dev/null | head -n 1) in
        invalid*|link-error*|instantiate-trap*|timeout) ;;
        *) cp "$m" "$seeds.tmp/ok.$(basename "$m")" ;;
        esac
    done
    mkdir -p "$seeds.new"
    mv "$seeds.tmp"/ok.* "$seeds.new"/ 2>/dev/null
    rm -rf "$seeds.tmp"
    mv "$seeds.new" "$seeds"
fi
seed_files=("$seeds"/*.wasm)
[ -f "${seed_files[0]}" ] || seed_files=()

# rand N: a random number in 0..N-1 (N < 2^30)
rand() { echo $(( ((RANDOM << 15) | RANDOM) % $1 )); }

n=0 valid=0 invalid=0 agree=0 timeouts=0 stackcut=0 finds=0 reftypes=0 nandiff=0 seeded=0 slow=0
start=$SECONDS
status() {
    printf '%s modules=%d valid=%d invalid-both=%d agree=%d both-timeout=%d stack-cut=%d nan-only=%d one-side-slow=%d from-spec=%d reftypes-run=%d finds=%d elapsed=%ds\n' \
        "$(date -u +%FT%TZ)" $n $valid $invalid $agree $timeouts $stackcut $nandiff $slow $seeded \
        $reftypes $finds $((SECONDS - start))
}
keep() {   # keep WHY: save this round as a find
    finds=$((finds + 1))
    local d=$dir/finds/$(date +%s)-$$-$n
    mkdir -p "$d"
    cp "$work"/in.bin "$work"/m.wasm "$d"/ 2>/dev/null
    cp "$work"/ours.txt "$work"/node.txt "$work"/ours.err "$d"/ 2>/dev/null
    printf '%s\n' "$1" "wasm-opt -ttf in.bin $feat $passes $initial -o m.wasm" \
        "$runner $ours_opts m.wasm" "node run_node.mjs $node_opts m.wasm" >"$d"/why.txt
    echo "FIND $d: $1" | tee -a "$log"
}

# ours FILE OUT [FUEL [TIME]] / node_run FILE OUT [TIME]: one run each; a
# timeout appends "timeout" to OUT. Return 1 when our runner failed.
ours() {
    timeout -k 5 "${4:-60}" "$runner" $ours_opts ${3:+-f $3} "$1" >"$2" 2>"$work"/ours.err
    local rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo timeout >>"$2"
    elif [ $rc -ne 0 ] || [ -s "$work"/ours.err ]; then return 1; fi
    return 0
}
node_run() {
    timeout -k 5 "${3:-10}" node tests/fuzz/diff/run_node.mjs $node_opts "$1" >"$2" 2>"$work"/node.err
    local rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo timeout >>"$2"
    elif [ $rc -ne 0 ]; then return 1; fi
    return 0
}

# nan_only: whether this round's difference goes away when binaryen's
# --denan pass makes every float operation that yields a NaN yield 0
# instead (see the top; e.g. f32.min of a non-canonical NaN: we return
# that NaN, V8 the canonical negative one).
nan_only() {
    timeout 60 wasm-opt "$work"/m.wasm $feat --denan -o "$work"/dn.wasm >/dev/null 2>&1 || return 1
    ours "$work"/dn.wasm "$work"/dn-ours.txt || return 1
    node_run "$work"/dn.wasm "$work"/dn-node.txt || return 1
    bash tests/fuzz/diff/compare.sh "$work"/dn-ours.txt "$work"/dn-node.txt >/dev/null
}

while [ $((SECONDS - start)) -lt "$secs" ] && { [ "$max" -eq 0 ] || [ $n -lt "$max" ]; }; do
    [ $n -gt 0 ] && [ $((n % 100)) -eq 0 ] && status >>"$log"
    n=$((n + 1))
    head -c $((100 + $(rand 30000))) /dev/urandom >"$work"/in.bin
    feat=$FEAT_BASE
    ref=0
    if [ "$(rand 5)" -eq 0 ]; then feat="$feat --enable-reference-types"; ref=1
    else feat="$feat --disable-reference-types"; fi
    passes=
    [ "$(rand 2)" -eq 0 ] && passes=--fuzz-passes
    initial=
    if [ ${#seed_files[@]} -gt 0 ] && [ "$(rand 3)" -eq 0 ]; then
        initial=--initial-fuzz=${seed_files[$(rand ${#seed_files[@]})]}
    fi
    if ! timeout 60 wasm-opt -ttf "$work"/in.bin $feat $passes $initial -o "$work"/m.wasm \
            >/dev/null 2>"$work"/opt.err; then
        n=$((n - 1)); continue
    fi
    case $(rand 4) in
    0) ours_opts="-b 1" ;;
    1) ours_opts="-b $((2 + $(rand 63)))" ;;
    *) ours_opts="" ;;
    esac
    [ "$(rand 2)" -eq 0 ] && ours_opts="$ours_opts -d"
    aset=0
    [ "$(rand 5)" -ge 2 ] && aset=$((1 + $(rand 4)))
    ours_opts="$ours_opts -a $aset" node_opts="-a $aset"

    if ! ours "$work"/m.wasm "$work"/ours.txt; then keep "our runner failed (see ours.err)"; continue; fi

    if [ $ref -eq 1 ] && ! timeout 60 wasm-validate "$work"/m.wasm >/dev/null 2>&1; then
        # not Wasm 2.0 (see above): we must reject it as wabt does
        if grep -q '^invalid' "$work"/ours.txt; then invalid=$((invalid + 1))
        else keep "wabt rejects the module, we accept it"; fi
        continue
    fi
    [ $ref -eq 1 ] && reftypes=$((reftypes + 1))
    [ -n "$initial" ] && seeded=$((seeded + 1))

    if ! node_run "$work"/m.wasm "$work"/node.txt; then
        keep "node failed: $(head -c 300 "$work"/node.err)"; continue
    fi

    verdict=$(bash tests/fuzz/diff/compare.sh "$work"/ours.txt "$work"/node.txt)
    # one side out of time: give it much more and compare again
    ot=$(tail -n 1 "$work"/ours.txt) nt=$(tail -n 1 "$work"/node.txt)
    if [ "${verdict%%:*}" = differ ] && { [ "$ot" = timeout ] || [ "$nt" = timeout ]; }; then
        slow=$((slow + 1))
        if [ "$ot" = timeout ]; then
            ours "$work"/m.wasm "$work"/ours.txt 20000000000 600 || { keep "our runner failed (see ours.err)"; continue; }
        else
            node_run "$work"/m.wasm "$work"/node.txt 120 || { keep "node failed: $(head -c 300 "$work"/node.err)"; continue; }
        fi
        verdict=$(bash tests/fuzz/diff/compare.sh "$work"/ours.txt "$work"/node.txt)
    fi
    if [ "${verdict%%:*}" = differ ] && nan_only; then
        nandiff=$((nandiff + 1))
        if [ $nandiff -le 20 ]; then   # a few samples to look at
            mkdir -p "$dir/nan/$nandiff"
            cp "$work"/in.bin "$work"/m.wasm "$work"/ours.txt "$work"/node.txt "$dir/nan/$nandiff"/
            printf '%s\n' "$verdict" "$ours_opts" >"$dir/nan/$nandiff/why.txt"
        fi
        continue
    fi
    case $verdict in
    same) agree=$((agree + 1)) ;;
    invalid) invalid=$((invalid + 1)) ;;
    timeout) timeouts=$((timeouts + 1)) ;;
    stack-cut) stackcut=$((stackcut + 1)) ;;
    *) keep "$verdict" ;;
    esac
    grep -q '^invalid' "$work"/ours.txt || valid=$((valid + 1))
done
echo "summary: $(status)" | tee -a "$log"
[ $finds -eq 0 ]
