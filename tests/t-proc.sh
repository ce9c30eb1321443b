#!/usr/bin/env bash
# t-proc.sh - guest programs for the process runtime (tests/proc/*.c, built
# with the C guest SDK in sdk/) under `lunatic run`. Each program's stdout
# must equal tests/proc/NAME.expected and its exit status NAME.status (a
# number or "nonzero"; default 0). Extra clang flags may be given in
# NAME.cflags. Every program runs in each mode of PROC_MODES (default: all):
#   default  lunatic run X.wasm
#   red1     LUNATIC_REDUCTIONS=1 lunatic run X.wasm   (preempt at every point)
#   t1       lunatic run --threads 1 X.wasm
#   t4       lunatic run --threads 4 X.wasm
# PROC_ONLY="basic links" restricts the programs; PROC_BUILD_ONLY=1 only
# builds them (and checks the SDK's imports against ABI.md). Each run has a
# 30 s timeout (PROC_TIMEOUT) and a fresh working directory. Last line:
# "N passed, M failed".
# BUILD names the build directory (default build).
set -u
. "$(dirname "$0")/lib.sh"
OUT=$B/proc-tests
SRC=$ROOT/tests/proc
MODES=${PROC_MODES:-default red1 t1 t4}
TIMEOUT=${PROC_TIMEOUT:-30}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- the SDK declares every lunatic::* import exactly as ABI.md --------------
# A program taking the address of every raw import; its import section must
# list the functions and signatures of tests/proc/abi_imports.txt.
sdk_imports() {
    local names
    names=$(grep -ohE '\blgi_[a-z0-9]+_[a-z0-9_]+\(' "$ROOT/sdk/lunatic_guest.h" | tr -d '(' | sort -u)
    {
        echo '#include "lunatic_guest.h"'
        echo 'void *volatile lg_all[] = {'
        for n in $names; do echo "    (void *)$n,"; done
        echo '};'
        echo 'int main(void) { return lg_all[0] == 0; }'
    } >"$TMP/all_imports.c"
    if ! "$ROOT/scripts/wasm-cc" -O2 -Wall -Werror -I "$ROOT/sdk" \
            -o "$TMP/all_imports.wasm" "$TMP/all_imports.c" 2>"$TMP/cc.err"; then
        bad "sdk: every import compiles" "$(head -n 10 "$TMP/cc.err")"
        return
    fi
    wasm-objdump -x "$TMP/all_imports.wasm" | awk '
        /^ - type\[/ { i = $2; gsub(/type\[|\]/, "", i); l = $0; sub(/^ - type\[[0-9]+\] /, "", l)
                       split(l, pr, / -> /); p = pr[1]; r = pr[2]; gsub(/[(),]/, "", p)
                       if (r == "nil") r = ""; t[i] = "(" p ") -> (" r ")"; next }
        /^ - func\[[0-9]+\] sig=[0-9]+ .* <- lunatic::/ { s = $3; sub(/sig=/, "", s); n = $NF
                       sub(/\./, "::", n); print n, t[s] }' | sort >"$TMP/imports.got"
    grep '^lunatic' "$SRC/abi_imports.txt" | sort >"$TMP/imports.want"
    if cmp -s "$TMP/imports.want" "$TMP/imports.got"; then
        ok "sdk: all $(wc -l <"$TMP/imports.want") lunatic::* imports match ABI.md"
    else
        bad "sdk: imports differ from abi_imports.txt (- ABI, + SDK)" \
            "$(diff "$TMP/imports.want" "$TMP/imports.got" | grep '^[<>]' | head -n 20)"
    fi
}
if command -v wasm-objdump >/dev/null; then sdk_imports; fi

# ---- build (only when the program or a header changed) ---------------------
mkdir -p "$OUT"
progs=()
for c in "$SRC"/*.c; do
    n=$(basename "$c" .c)
    if [ -n "${PROC_ONLY:-}" ]; then
        case " $PROC_ONLY " in *" $n "*) ;; *) continue ;; esac
    fi
    w=$OUT/$n.wasm
    flags=()
    [ -f "$SRC/$n.cflags" ] && read -r -a flags <"$SRC/$n.cflags"
    stale=0
    [ -e "$w" ] || stale=1
    for dep in "$c" "$SRC"/*.h "$ROOT"/sdk/*.h "$SRC/$n.cflags"; do
        [ -e "$dep" ] && [ "$dep" -nt "$w" ] && stale=1
    done
    if [ $stale = 1 ]; then
        if ! "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror \
                -I "$ROOT/sdk" -I "$SRC" "${flags[@]}" -o "$w" "$c" 2>"$TMP/cc.err"; then
            bad "build $n" "$(head -n 20 "$TMP/cc.err")"
            rm -f "$w"
            continue
        fi
    fi
    progs+=("$n")
done

# ---- run -------------------------------------------------------------------
if [ -n "${PROC_BUILD_ONLY:-}" ]; then
    progs=()
elif [ ! -x "$LUNATIC" ]; then
    bad "no $LUNATIC (run make first)"
    progs=()
fi
# run_one NAME MODE: runs the program in a fresh directory.
run_one() {
    local n=$1 mode=$2 dir=$TMP/run
    rm -rf "$dir"; mkdir -p "$dir"
    local envs=() opts=()
    case $mode in
    default) ;;
    red1) envs=(LUNATIC_REDUCTIONS=1) ;;
    t1) opts=(--threads 1) ;;
    t4) opts=(--threads 4) ;;
    *) echo "unknown mode $mode" >"$dir.err"; echo 255 >"$dir.rc"; : >"$dir.out"; return ;;
    esac
    (cd "$dir" && env "${envs[@]}" timeout -k 5 "$TIMEOUT" "$LUNATIC" run "${opts[@]}" "$OUT/$n.wasm" \
        </dev/null >"$dir.out" 2>"$dir.err"; echo $? >"$dir.rc")
}

for n in "${progs[@]}"; do
    want_rc=0
    [ -f "$SRC/$n.status" ] && want_rc=$(tr -d ' \n' <"$SRC/$n.status")
    for mode in $MODES; do
        t0=$(date +%s.%N)
        run_one "$n" "$mode"
        t1=$(date +%s.%N)
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
        rc=$(cat "$TMP/run.rc")
        why=()
        # timeout(1) gives 124, or 137 if it had to send SIGKILL; a killed
        # main process may also end with 137, so look at the time too.
        if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "${secs%.*}" -ge "$TIMEOUT" ]; }; then
            why+=("timed out after ${TIMEOUT}s")
        elif [ "$want_rc" = nonzero ]; then
            [ "$rc" != 0 ] || why+=("exit status 0, want non-zero")
        elif [ "$rc" != "$want_rc" ]; then
            why+=("exit status $rc, want $want_rc")
        fi
        if ! cmp -s "$SRC/$n.expected" "$TMP/run.out"; then
            why+=("stdout differs (- expected, + got):")
            while IFS= read -r l; do why+=("$l"); done \
                < <(diff -u "$SRC/$n.expected" "$TMP/run.out" | tail -n +3 | head -n 40)
        fi
        if [ ${#why[@]} -eq 0 ]; then
            ok "$n [$mode] (${secs}s)"
        else
            while IFS= read -r l; do why+=("stderr: $l"); done < <(tail -n 8 "$TMP/run.err")
            bad "$n [$mode] (${secs}s)" "${why[@]}"
        fi
    done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
