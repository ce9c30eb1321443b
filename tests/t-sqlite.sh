#!/usr/bin/env bash
# t-sqlite.sh - lunatic::sqlite: the C guests of tests/sqlite/ (built with
# the SDK) under `lunatic run`, each in a fresh empty working directory
# (its preopen "."), stdout compared with tests/sqlite/NAME.expected,
# exit status 0. Each runs in the modes of SQLITE_MODES (default: all):
#   default  lunatic run X.wasm
#   red1     LUNATIC_REDUCTIONS=1 (preempted at every point)
#   t1       --threads 1
# except handoff, which is about one worker thread and runs only in t1.
# Extra checks: files.c's symlinks are planted before it runs and nothing
# may appear outside its data/ directory; guestname.c runs with
# --dir store::/db and its database must be in store/; errors.c's traps must be logged
# with the function's name. Each run has a 60 s timeout. SQLITE_ONLY="a b"
# restricts the programs. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
OUT=$B/sqlite-tests
SRC=$ROOT/tests/sqlite
MODES=${SQLITE_MODES:-default red1 t1}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# build (only when the program or a header changed)
progs=()
for c in "$SRC"/*.c; do
    n=$(basename "$c" .c)
    if [ -n "${SQLITE_ONLY:-}" ]; then
        case " $SQLITE_ONLY " in *" $n "*) ;; *) continue ;; esac
    fi
    w=$OUT/$n.wasm
    stale=0
    [ -e "$w" ] || stale=1
    for dep in "$c" "$SRC"/*.h "$ROOT"/tests/proc/proc_test.h "$ROOT"/sdk/*.h; do
        [ "$dep" -nt "$w" ] && stale=1
    done
    if [ $stale = 1 ] && ! "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror -I "$ROOT/sdk" \
            -I "$ROOT/tests/proc" -I "$SRC" -o "$w" "$c" 2>"$TMP/cc.err"; then
        bad "build $n" "$(head -n 20 "$TMP/cc.err")"
        rm -f "$w"
        continue
    fi
    progs+=("$n")
done

# run NAME MODE: in a fresh directory; sets $dir, $out, $err, $status
run() {
    local n=$1 mode=$2
    dir=$TMP/run-$n-$mode
    rm -rf "$dir" && mkdir -p "$dir"
    out=$dir.out err=$dir.err
    case $n in
    files)
        mkdir "$dir/data"
        ln -s ../outside.db "$dir/data/link.db"
        ln -s "$dir/outside2.db" "$dir/data/abs.db"
        ln -s .. "$dir/data/up" ;;
    guestname)
        mkdir "$dir/store" ;;
    esac
    local env=() args=()
    [ "$n" = guestname ] && args=(--dir store::/db)
    case $mode in
    red1) env=(LUNATIC_REDUCTIONS=1) ;;
    t1) args+=(--threads 1) ;;
    esac
    (cd "$dir" && env "${env[@]}" timeout 60 "$LUNATIC" run "${args[@]}" "$OUT/$n.wasm") >"$out" 2>"$err"
    status=$?
}

for n in "${progs[@]}"; do
    for mode in $MODES; do
        [ "$n" = handoff ] && [ "$mode" != t1 ] && continue
        run "$n" "$mode"
        what="$n [$mode]"
        if [ $status -ne 0 ]; then
            bad "$what: exit status $status" "$(tail -n 5 "$err")"
            continue
        fi
        if ! diff -u "$SRC/$n.expected" "$out" >"$TMP/diff"; then
            bad "$what: output differs" "$(grep '^[-+][^-+]' "$TMP/diff" | head -n 10)"
            continue
        fi
        case $n in
        files)
            extra=$(cd "$dir" && find . -newer "$OUT/$n.wasm" ! -path './data/*' ! -path './data' ! -path '.')
            if [ -n "$extra" ] || [ -e /tmp/lunatic-sqlite-vacuum-escape.db ]; then
                bad "$what: files appeared outside data/" "$extra"
                continue
            fi
            if [ ! -s "$dir/data/app.db" ] || [ ! -s "$dir/data/att.db" ]; then
                bad "$what: the databases are not in data/"
                continue
            fi ;;
        guestname)
            if [ ! -s "$dir/store/named.db" ]; then
                bad "$what: the database is not in store/"
                continue
            fi ;;
        errors)
            missing=""
            for m in "lunatic::sqlite::execute: SQL out of bounds" \
                     "lunatic::sqlite::last_error: len_ptr out of bounds" \
                     "lunatic::sqlite::sqlite3_finalize: unknown statement id 0"; do
                grep -qF "$m" "$err" || missing="$missing [$m]"
            done
            if [ -n "$missing" ]; then
                bad "$what: traps not logged:$missing"
                continue
            fi ;;
        esac
        ok "$what"
    done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
