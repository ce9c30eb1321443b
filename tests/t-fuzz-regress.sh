#!/usr/bin/env bash
# The fuzz regression group: replays every input under tests/fuzz/regress/
# (minimized inputs that once crashed the engine) and the in-repo seed
# corpus tests/fuzz/corpus/ through the fuzz harness (tests/fuzz/harness.h:
# decode, validate, instantiate with dummy imports, run the start function
# and every export with a small fuel and budget). An input passes when the
# replayer exits 0 within the time limit: no crash, sanitizer report or hang.
# Prints one line per failing input and ends with "N passed, M failed".
# BUILD names the build directory (default build); the replayer is linked
# against $BUILD/liblunatic.a (with the sanitizers when that archive was
# built with them, e.g. BUILD=build-asan) or else compiled from src/wasm.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/fuzz-replay
cc=${CC:-cc}
lib=$build/liblunatic.a

build_replay() {
    mkdir -p "$build" || return 1
    local flags=(-std=gnu11 -O1 -g -Isrc -D_GNU_SOURCE) srcs
    if [ -f "$lib" ]; then
        srcs=("$lib")
        if nm "$lib" 2>/dev/null | grep -q '__asan_report'; then
            flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
        fi
    else
        srcs=(src/wasm/*.c)
    fi
    "$cc" "${flags[@]}" -o "$bin" tests/fuzz/replay.c "${srcs[@]}" -lm -lpthread
}

newest_dep() { ls -t tests/fuzz/replay.c tests/fuzz/harness.h src/wasm/*.[ch] $( [ -f "$lib" ] && echo "$lib") 2>/dev/null | head -n 1; }
if [ ! -x "$bin" ] || [ "$(newest_dep)" -nt "$bin" ]; then
    if ! build_replay; then
        echo "cannot build $bin"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

files=()
for f in tests/fuzz/regress/* tests/fuzz/corpus/*; do
    case $f in *.wat|*.md|*.txt) continue ;; esac
    [ -f "$f" ] && files+=("$f")
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0; fail=0
run_one() {   # run_one FILE: 0 on pass
    local out rc
    out=$(timeout 30 "$bin" "$1" 2>&1); rc=$?
    [ "$rc" -eq 0 ] && return 0
    local why="exit $rc"
    [ "$rc" -eq 124 ] && why="timeout"
    [ "$rc" -gt 128 ] && [ "$rc" -ne 124 ] && why="killed by signal $((rc - 128))"
    echo "FAIL $1: $why"
    printf '%s\n' "$out" | grep -m 3 -E 'ERROR|runtime error|SUMMARY' | sed 's/^/    /'
    return 1
}
# Regression inputs one process each, so a failure names its input; the
# corpus in batches, replaying a failing batch one file at a time.
batch=()
flush() {
    [ ${#batch[@]} -eq 0 ] && return
    if timeout 120 "$bin" "${batch[@]}" >/dev/null 2>&1; then
        pass=$((pass + ${#batch[@]}))
    else
        for f in "${batch[@]}"; do
            if run_one "$f"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
        done
    fi
    batch=()
}
for f in "${files[@]}"; do
    case $f in
    tests/fuzz/regress/*)
        if run_one "$f"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi ;;
    *)
        batch+=("$f"); [ ${#batch[@]} -ge 100 ] && flush ;;
    esac
done
flush
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
