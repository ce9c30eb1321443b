#!/usr/bin/env bash
# t-wasi.sh - WASI preview 1 programs under `lunatic run`, compared byte for
# byte (stdout, stderr, exit status) with the same C programs built natively;
# sandbox escapes; load failures. Last line: "N passed, M failed".
# BUILD names the build directory (default build).
set -u
. "$(dirname "$0")/lib.sh"
OUT=$B/wasi-tests
SRC=$ROOT/tests/wasi
WASI_ONLY="sandbox badptr fdops alloc"

if [ ! -x "$LUNATIC" ]; then
    echo "no $LUNATIC (run make first)"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- build the test programs (only when a source changed) ------------------
mkdir -p "$OUT"
build() {   # build SRC OUT CMD...
    local src=$1 out=$2; shift 2
    if [ ! -e "$out" ] || [ "$src" -nt "$out" ] || [ "$SRC/common.h" -nt "$out" ]; then
        "$@" || { bad "build $(basename "$out")"; return 1; }
    fi
}
for c in "$SRC"/*.c "$ROOT"/tests/hello.c; do
    n=$(basename "$c" .c)
    build "$c" "$OUT/$n.wasm" "$ROOT/scripts/wasm-cc" -O2 -o "$OUT/$n.wasm" "$c"
    case " $WASI_ONLY " in *" $n "*) continue ;; esac
    build "$c" "$OUT/$n.native" gcc -O2 -o "$OUT/$n.native" "$c"
done
for w in "$SRC"/*.wat; do
    n=$(basename "$w" .wat)
    build "$w" "$OUT/$n.wasm" wat2wasm "$w" -o "$OUT/$n.wasm"
done

TMP=$(mktemp -d)
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

# run DIR STDIN CMD... : runs CMD in a fresh DIR, output in DIR.{out,err,rc}
run() {
    local dir=$1 in=$2; shift 2
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && "$@" <"$in" >"$dir.out" 2>"$dir.err"; echo $? >"$dir.rc")
}

# same NAME STDIN PROG ARGS... : native and wasm must agree byte for byte.
same() {
    local name=$1 in=$2 prog=$3; shift 3
    run "$TMP/native" "$in" "$OUT/$prog.native" "$@"
    run "$TMP/wasm" "$in" "$LUNATIC" run ${LOPTS:-} "$OUT/$prog.wasm" "$@"
    local why=()
    cmp -s "$TMP/native.out" "$TMP/wasm.out" || why+=("stdout differs: $(diff "$TMP/native.out" "$TMP/wasm.out" | head -n 6 | tr '\n' '|')")
    cmp -s "$TMP/native.err" "$TMP/wasm.err" || why+=("stderr differs: $(diff "$TMP/native.err" "$TMP/wasm.err" | head -n 6 | tr '\n' '|')")
    cmp -s "$TMP/native.rc" "$TMP/wasm.rc" || why+=("status native $(cat "$TMP/native.rc") wasm $(cat "$TMP/wasm.rc")")
    if [ ${#why[@]} -eq 0 ]; then ok "$name"; else bad "$name" "${why[@]}"; fi
}

# ---- native comparisons ------------------------------------------------------
export WASI_T_ONE=one WASI_T_TWO='x=y z' WASI_T_EMPTY=
same "files: create/write/read/seek/pread/pwrite/stat/rename/link/symlink/readdir/unlink/rmdir" /dev/null files
same "args and environment" /dev/null args a 'b c' '' --dir ünïcödé
same "clocks and sleeps" /dev/null clocks
same "random bytes" /dev/null random
head -c 300000 /dev/urandom >"$TMP/bin.in"
same "stdin to stdout (300 KB binary file), exit 3" "$TMP/bin.in" stdio 3
same "stdin from /dev/null" /dev/null stdio
same "exit 0" /dev/null exit 0
same "exit 42" /dev/null exit 42
same "exit 255" /dev/null exit 255
same "return 7 from main" /dev/null exit return
same "hello world" /dev/null hello
mkdir -p "$TMP/data"; printf 'from --dir\n' >"$TMP/data/f.txt"
LOPTS="--dir $TMP/data" same "--dir with an absolute path" /dev/null cat "$TMP/data/f.txt"
LOPTS="--dir=$TMP/data" same "--dir=DIR, a missing file in it" /dev/null cat "$TMP/data/nope.txt"

# ---- what `lunatic run` gives the main process ---------------------------------
# --dir HOST::GUEST: the host directory under another name, "/" included
run "$TMP/f" /dev/null "$LUNATIC" run --dir "$TMP/data::/srv" "$OUT/cat.wasm" /srv/f.txt
if [ "$(cat "$TMP/f.out")" = "from --dir" ]; then ok "--dir HOST::/srv"; else bad "--dir HOST::/srv" "$(cat "$TMP/f.out" "$TMP/f.err")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run --dir "$TMP/data::/" "$OUT/cat.wasm" /f.txt
if [ "$(cat "$TMP/f.out")" = "from --dir" ]; then ok "--dir HOST::/ (as the guest's root)"; else bad "--dir HOST::/" "$(cat "$TMP/f.out" "$TMP/f.err")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run --dir "$TMP/data::/srv" "$OUT/cat.wasm" "$TMP/data/f.txt"
if [ "$(cat "$TMP/f.rc")" = 1 ] && grep -q 'cannot open' "$TMP/f.out"; then ok "--dir HOST::GUEST: the host path itself is not visible"
else bad "--dir HOST::GUEST hides the host path" "$(cat "$TMP/f.out" "$TMP/f.err")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run --dir ::/x "$OUT/hello.wasm"
if [ "$(cat "$TMP/f.rc")" = 2 ] && grep -q "bad value '::/x'" "$TMP/f.err"; then ok "--dir ::GUEST is a usage error"
else bad "--dir ::GUEST" "status $(cat "$TMP/f.rc")" "$(cat "$TMP/f.err")"; fi
# --no-cwd: the current directory is not preopened
(cd "$TMP/data" && "$LUNATIC" run "$OUT/cat.wasm" f.txt >"$TMP/c1.out" 2>&1)
(cd "$TMP/data" && "$LUNATIC" run --no-cwd "$OUT/cat.wasm" f.txt >"$TMP/c2.out" 2>&1; echo $? >"$TMP/c2.rc")
if [ "$(cat "$TMP/c1.out")" = "from --dir" ] && [ "$(cat "$TMP/c2.rc")" = 1 ] && grep -q 'cannot open' "$TMP/c2.out"; then
    ok "--no-cwd: relative paths reach nothing"
else
    bad "--no-cwd" "without: $(cat "$TMP/c1.out")" "with: $(cat "$TMP/c2.out") status $(cat "$TMP/c2.rc")"
fi
# --env and --no-host-env
run "$TMP/f" /dev/null "$LUNATIC" run --env WASI_T_ONE=mine --env WASI_T_NEW=new "$OUT/args.wasm"
if grep -q '^WASI_T_ONE: mine$' "$TMP/f.out" && grep -q '^env: WASI_T_NEW=new$' "$TMP/f.out" &&
    grep -q '^env: WASI_T_TWO=x=y z$' "$TMP/f.out" && [ "$(grep -c '^env: WASI_T_ONE' "$TMP/f.out")" = 1 ]; then
    ok "--env sets and overrides, the host's environment stays"
else
    bad "--env" "$(cat "$TMP/f.out")"
fi
run "$TMP/f" /dev/null "$LUNATIC" run --no-host-env --env WASI_T_NEW=new "$OUT/args.wasm"
if [ "$(grep -c '^env: ' "$TMP/f.out")" = 1 ] && grep -q '^env: WASI_T_NEW=new$' "$TMP/f.out"; then
    ok "--no-host-env: only what --env gives"
else
    bad "--no-host-env" "$(cat "$TMP/f.out")"
fi
# --max-memory and --max-fuel
run "$TMP/f" /dev/null "$LUNATIC" run --max-memory 16M "$OUT/alloc.wasm" 64
if grep -Eq '^allocated 1[0-5] of 64 MiB$' "$TMP/f.out"; then ok "--max-memory 16M: $(cat "$TMP/f.out")"
else bad "--max-memory 16M" "$(cat "$TMP/f.out" "$TMP/f.err")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/alloc.wasm" 64
if grep -q '^allocated 64 of 64 MiB$' "$TMP/f.out"; then ok "without --max-memory: 64 MiB"
else bad "without --max-memory" "$(cat "$TMP/f.out" "$TMP/f.err")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run --max-fuel 1 "$OUT/alloc.wasm" 64
if [ "$(cat "$TMP/f.rc")" = 134 ] && grep -q 'out of fuel' "$TMP/f.err"; then ok "--max-fuel 1: the program runs out of fuel"
else bad "--max-fuel" "status $(cat "$TMP/f.rc")" "$(cat "$TMP/f.err")"; fi

# Pipes that fill late: the reads and polls suspend instead of blocking.
pipe_same() {
    local name=$1 prog=$2
    (cd "$TMP" && { sleep 0.3; printf 'late line\n'; } | "$OUT/$prog.native" >n.out 2>n.err; echo $? >n.rc)
    (cd "$TMP" && { sleep 0.3; printf 'late line\n'; } | "$LUNATIC" run "$OUT/$prog.wasm" >w.out 2>w.err; echo $? >w.rc)
    if cmp -s "$TMP/n.out" "$TMP/w.out" && cmp -s "$TMP/n.err" "$TMP/w.err" && cmp -s "$TMP/n.rc" "$TMP/w.rc"; then
        ok "$name"
    else
        bad "$name" "native: $(cat "$TMP/n.out" "$TMP/n.err" | tr '\n' '|') $(cat "$TMP/n.rc")" \
            "wasm:   $(cat "$TMP/w.out" "$TMP/w.err" | tr '\n' '|') $(cat "$TMP/w.rc")"
    fi
}
pipe_same "stdin pipe written late" stdio
pipe_same "poll timeout, poll on a late pipe" poll
# A slow reader on stdout: writes to the full pipe suspend, nothing is lost.
got=$(cd "$TMP" && "$LUNATIC" run "$OUT/stdio.wasm" <"$TMP/bin.in" 2>/dev/null | { sleep 0.3; cat; } | cksum)
if [ "$got" = "$(cksum <"$TMP/bin.in")" ]; then ok "stdout into a slow pipe"; else bad "stdout into a slow pipe" "$got"; fi

# ---- failures that must be reported ------------------------------------------
# expect_fail NAME PATTERN CMD... : non-zero status and exactly one stderr
# line "lunatic: ..." (the cause), matching PATTERN.
expect_fail() {
    local name=$1 pat=$2; shift 2
    run "$TMP/f" /dev/null "$@"
    local rc first
    rc=$(cat "$TMP/f.rc"); first=$(grep '^lunatic: ' "$TMP/f.err")
    if [ "$rc" -ne 0 ] && [ "$(grep -c '^lunatic: ' "$TMP/f.err")" = 1 ] && [[ $first =~ $pat ]]; then
        ok "$name"
    else
        bad "$name" "status $rc, stderr: $(head -n 3 "$TMP/f.err" | tr '\n' '|')"
    fi
}
head -c 40 "$OUT/hello.wasm" >"$TMP/truncated.wasm"
printf 'this is not wasm' >"$TMP/garbage.wasm"
: >"$TMP/empty.wasm"
expect_fail "missing file" "cannot read .*No such file" "$LUNATIC" run "$TMP/nope.wasm"
expect_fail "truncated module" "invalid module .*byte offset" "$LUNATIC" run "$TMP/truncated.wasm"
expect_fail "garbage module" "invalid module .*byte offset" "$LUNATIC" run "$TMP/garbage.wasm"
expect_fail "empty module" "invalid module" "$LUNATIC" run "$TMP/empty.wasm"
expect_fail "unknown import module" "unknown import: env::foo" "$LUNATIC" run "$OUT/unknown_import.wasm"
expect_fail "unknown WASI function" "unknown import: wasi_snapshot_preview1::fd_foo" "$LUNATIC" run "$OUT/unknown_wasi.wasm"
expect_fail "mistyped import" "fd_write has the wrong type: expected \(i32, i32, i32, i32\) -> i32, got \(i32\) -> i32" "$LUNATIC" run "$OUT/mistyped_import.wasm"
expect_fail "no _start" "_start" "$LUNATIC" run "$OUT/no_start.wasm"
expect_fail "trap: unreachable with backtrace" "unreachable" "$LUNATIC" run "$OUT/exit.wasm" trap
expect_fail "trap: integer divide by zero" "integer divide by zero" "$LUNATIC" run "$OUT/div_zero.wasm"
expect_fail "missing --dir directory" "cannot open directory" "$LUNATIC" run --dir "$TMP/nodir" "$OUT/hello.wasm"
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/cat.wasm" "$TMP/data/f.txt"
if [ "$(cat "$TMP/f.rc")" = 1 ] && grep -q 'cannot open' "$TMP/f.out"; then
    ok "absolute path without --dir is not reachable"
else
    bad "absolute path without --dir is not reachable" "$(cat "$TMP/f.out")"
fi
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/exit.wasm" trap
if grep -q 'depth' "$TMP/f.err" && [ "$(cat "$TMP/f.out")" = "to stdout" ]; then
    ok "trap backtrace names functions, output before the trap kept"
else
    bad "trap backtrace names functions, output before the trap kept" "$(tr '\n' '|' <"$TMP/f.err")"
fi
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/start_exit.wasm"
if [ "$(cat "$TMP/f.rc")" = 9 ]; then ok "proc_exit in the start function"; else bad "proc_exit in the start function" "status $(cat "$TMP/f.rc")"; fi
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/no_memory.wasm"
if [ "$(cat "$TMP/f.rc")" = 21 ]; then ok "no memory: FAULT"; else bad "no memory: FAULT" "status $(cat "$TMP/f.rc")"; fi

# ---- guest pointers ------------------------------------------------------------
run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/badptr.wasm"
want="fd_write bad buffer: 21|fd_write bad iovs: 21|fd_write bad nwritten: 21|random_get bad: 21|args_sizes_get bad: 21|clock_time_get bad: 21|clock bad id: 28|path_open bad path: 21|fd_read bad fd: 8|poll_oneoff none: 28|poll_oneoff bad: 21|"
got=$(head -n 11 "$TMP/f.out" | tr '\n' '|')
if [ "$(cat "$TMP/f.rc")" = 0 ] && [ "$got" = "$want" ] && grep -q 'sched_yield: 0' "$TMP/f.out"; then
    ok "out-of-bounds guest pointers give FAULT"
else
    bad "out-of-bounds guest pointers give FAULT" "status $(cat "$TMP/f.rc")" "$got" "$(tr '\n' '|' <"$TMP/f.err")"
fi

run "$TMP/f" /dev/null "$LUNATIC" run "$OUT/fdops.wasm"
if [ "$(cat "$TMP/f.rc")" = 0 ] && grep -q '^failures: 0$' "$TMP/f.out"; then
    ok "fd table: renumber, rights, fdstat flags, prestat"
else
    bad "fd table: renumber, rights, fdstat flags, prestat" "$(grep WRONG "$TMP/f.out" | tr '\n' '|')" "$(cat "$TMP/f.err")"
fi

# ---- sandbox ---------------------------------------------------------------------
sandbox() {
    local name=$1; shift
    local S=$TMP/sb
    rm -rf "$S"; mkdir -p "$S/box/sub" "$S/box/swap" "$S/outside_dir"
    printf 'secret\n' >"$S/outside.txt"; printf 'secret\n' >"$S/outside_dir/file"
    printf 'inside\n' >"$S/box/inside.txt"; printf 'swap\n' >"$S/box/swap/file"
    ln -s "$S/outside.txt" "$S/box/abs_link"
    ln -s ../outside.txt "$S/box/rel_link"
    ln -s ../outside_dir "$S/box/dir_link"
    ln -s ../.. "$S/box/sub/up"
    ln -s sub/../inside.txt "$S/box/ok_link"
    ln -s loop "$S/box/loop"
    ln -s "$S/created_outside" "$S/box/dangling"
    (cd "$S/box" && env "$@" "$LUNATIC" run "$OUT/sandbox.wasm" >"$S.out" 2>"$S.err"; echo $? >"$S.rc")
    local why=()
    [ "$(cat "$S.rc")" = 0 ] || why+=("status $(cat "$S.rc")")
    grep -q '^failures: 0$' "$S.out" || why+=("$(tr '\n' '|' <"$S.out")")
    [ "$(ls "$S" | tr '\n' ' ')" = "box outside.txt outside_dir " ] || why+=("outside changed: $(ls "$S" | tr '\n' ' ')")
    [ "$(ls "$S/outside_dir")" = file ] || why+=("outside_dir changed: $(ls "$S/outside_dir" | tr '\n' ' ')")
    [ "$(cat "$S/outside.txt" "$S/outside_dir/file")" = "$(printf 'secret\nsecret')" ] || why+=("outside files changed")
    if [ ${#why[@]} -eq 0 ]; then ok "$name"; else bad "$name" "${why[@]}" "$(cat "$S.err")"; fi
}
sandbox "sandbox: absolute, ../, sub/../../, symlinks out, swapped dir (openat2)" LUNATIC_WASI_NO_OPENAT2=0
sandbox "sandbox: the same with the fallback resolver" LUNATIC_WASI_NO_OPENAT2=1
# The fallback resolver must also pass the file tests.
run "$TMP/native" /dev/null "$OUT/files.native"
run "$TMP/wasm" /dev/null env LUNATIC_WASI_NO_OPENAT2=1 "$LUNATIC" run "$OUT/files.wasm"
if cmp -s "$TMP/native.out" "$TMP/wasm.out" && cmp -s "$TMP/native.rc" "$TMP/wasm.rc"; then
    ok "files with the fallback resolver"
else
    bad "files with the fallback resolver" "$(diff "$TMP/native.out" "$TMP/wasm.out" | head -n 6 | tr '\n' '|')"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
