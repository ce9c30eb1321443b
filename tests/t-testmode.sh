#!/usr/bin/env bash
# t-testmode.sh - `lunatic test` and cargo's implied test mode (ABI.md 3.4)
# with the guest tests/testmode/tests.c: libtest-like report, exit status,
# per-test captured output (children included), #ignore_ / #panic_
# handling, filter, --exact, --ignored, --list, --nocapture, --show-output,
# one environment per test, and the CARGO_MANIFEST_DIR + target/wasm32-wasi/
# debug/deps/ detection. Last line: "N passed, M failed".
# BUILD names the build directory (default build).
set -u
. "$(dirname "$0")/lib.sh"
TIMEOUT=${TESTMODE_TIMEOUT:-60}
# check NAME COMMAND...: ok when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
WASM=$TMP/tests.wasm
if ! "$ROOT/scripts/wasm-cc" -O2 -Wall -Werror -I "$ROOT/sdk" \
        -o "$WASM" "$ROOT/tests/testmode/tests.c" 2>"$TMP/cc.err"; then
    bad "build tests/testmode/tests.c" "$(head -n 10 "$TMP/cc.err")"
    echo "$pass passed, $fail failed"
    exit 1
fi
cd "$TMP"

# lt OUT_NAME ARGS...: runs lunatic with a timeout; stdout in OUT_NAME.out,
# stderr in OUT_NAME.err, status in $rc
lt() {
    local name=$1; shift
    timeout "$TIMEOUT" "$LUNATIC" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
}
# section FILE TEST: the captured output printed for TEST
section() {
    awk -v h="---- $2 stdout ----" '
        $0 == h { on = 1; next }
        on && (/^---- .* stdout ----$/ || /^(successes|failures):$/) { exit }
        on { print }' "$1"
}
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }

EXPECTED_LINES='test basic::exit_nonzero ... FAILED
test basic::exit_zero ... ok
test basic::fails ... FAILED
test basic::ignored ... ignored
test basic::passes ... ok
test env::own_environment ... ok
test output::large ... ok
test panics::any - should panic ... ok
test panics::new_format - should panic ... ok
test panics::no_panic - should panic ... FAILED
test panics::old_format - should panic ... ok
test panics::wrong_message - should panic ... FAILED
test spawn::child_prints ... ok
test spawn::child_prints_then_fail ... FAILED
test spawn::linked_child_fails ... FAILED
test spawn::new_config_child ... FAILED'
RESULT_ALL='test result: FAILED. 8 passed; 7 failed; 1 ignored; 0 measured; 0 filtered out; finished in '

# ---- the whole module, in several scheduler modes --------------------------------
full_run() {   # full_run LABEL [ENV...] : runs every test and checks the report
    local label=$1; shift
    env "$@" timeout "$TIMEOUT" "$LUNATIC" test "$WASM" >"$TMP/full.out" 2>"$TMP/full.err"
    rc=$?
    local lines
    lines=$(grep '^test .* \.\.\. ' "$TMP/full.out" | sort)
    if [ "$rc" = 1 ] && [ "$lines" = "$EXPECTED_LINES" ] && has "$TMP/full.out" "$RESULT_ALL" &&
        [ "$(sed -n 2p "$TMP/full.out")" = "running 16 tests" ] && [ ! -s "$TMP/full.err" ]; then
        ok "$label: 16 tests, 8 passed, 7 failed, 1 ignored, exit 1, nothing on stderr"
    else
        bad "$label: report" "exit $rc" "$(diff <(echo "$EXPECTED_LINES") <(echo "$lines") | head -n 10)" \
            "$(tail -n 3 "$TMP/full.out")" "$(head -n 5 "$TMP/full.err")"
    fi
}
full_run default
full_run "reductions=1, 1 thread" LUNATIC_REDUCTIONS=1 LUNATIC_THREADS=1
full_run "4 threads" LUNATIC_THREADS=4
full_run default   # leaves full.out for the checks below

F=$TMP/full.out
check "result line is the last non-empty line" \
    bash -c "grep -v '^\$' '$F' | tail -n 1 | grep -qF 'test result: FAILED.'"
check "failures list names every failed test once" \
    bash -c "[ \"\$(awk '/^failures:\$/ { n++ } n == 2 && /^    / { print \$1 }' '$F' | sort | tr '\n' ' ')\" = \
'basic::exit_nonzero basic::fails panics::no_panic panics::wrong_message spawn::child_prints_then_fail spawn::linked_child_fails spawn::new_config_child ' ]"
section "$F" basic::fails >"$TMP/s"
check "a failure's stdout and stderr are captured and shown" \
    bash -c "grep -qx 'about to fail in basic::fails' '$TMP/s' && grep -qx 'on stderr too' '$TMP/s'"
check "the trap is reported inside the capture" has "$TMP/s" "lunatic: Process 1 failed"
check "a passing test's output is hidden" hasnt "$F" "hello from basic::passes"
check "an ignored test does not run" hasnt "$F" "the ignored test ran"
section "$F" basic::exit_nonzero >"$TMP/s"
check "proc_exit(3) fails with a note" \
    bash -c "grep -qx 'exiting with 3' '$TMP/s' && grep -qx 'note: Process exited with status 3' '$TMP/s'"
section "$F" panics::wrong_message >"$TMP/s"
check "#panic_ with another message fails with a note" \
    bash -c "grep -qF 'panic message: \`\"something else\"\`' '$TMP/s' && grep -qF 'expected substring: \`\"expected text\"\`' '$TMP/s'"
section "$F" panics::no_panic >"$TMP/s"
check "#panic_ without a panic fails with a note" has "$TMP/s" "note: test did not panic as expected"
section "$F" spawn::child_prints_then_fail >"$TMP/s"
check "a child's output (inherited config) is in its test's capture" \
    grep -qE '^child of 1 says hi from env [0-9]+$' "$TMP/s"
section "$F" spawn::new_config_child >"$TMP/s"
check "a child's output (config created by the test) is in its test's capture" \
    grep -qE '^child of 1 says hi from env [0-9]+$' "$TMP/s"
section "$F" spawn::linked_child_fails >"$TMP/s"
check "a failing linked child: its output, its failure and the kill are captured" \
    bash -c "grep -qx 'the failing child prints' '$TMP/s' && grep -qF 'Process 2 failed' '$TMP/s' && grep -qF 'Process 1 was killed' '$TMP/s'"
check "failed tests without a panic message get a note" \
    bash -c "[ \"\$(grep -c '^note: Process trapped\$' '$F')\" = 3 ] && grep -qx 'note: Process was killed' '$F'"

# ---- --show-output ----------------------------------------------------------------
lt show test --show-output "$WASM"
S=$TMP/show.out
section "$S" spawn::child_prints >"$TMP/s"
check "--show-output: a passing test's output, its child's in between" \
    bash -c "[ \"\$(sed 's/env [0-9]*/env N/' '$TMP/s')\" = \"\$(printf 'parent before\nchild of 1 says hi from env N\nparent after')\" ]"
check "--show-output: successes are listed" \
    bash -c "grep -qx 'successes:' '$S' && grep -qx '    basic::passes' '$S' && grep -qx 'hello from basic::passes' '$S'"
nlines=$(section "$S" output::large | grep -c '^line ')
check "--show-output: 5000 lines of output (more than a pipe holds) all captured" [ "$nlines" = 5000 ]
envs=$(grep -ohE '(says hi from env |env=)[0-9]+' "$S" | grep -oE '[0-9]+$' | sort)
check "every test runs in its own environment (distinct ids, pid 1 in each)" \
    bash -c "[ -n '$envs' ] && [ \"\$(echo '$envs' | sort -u | wc -l)\" = \"\$(echo '$envs' | wc -l)\" ] && grep -qE '^pid=1 env=[0-9]+\$' '$S'"

# ---- filters ----------------------------------------------------------------------------
lt filt test "$WASM" panics::
check "filter: 5 tests run, 11 filtered out, exit 1 (two fail)" \
    bash -c "[ $rc = 1 ] && grep -qx 'running 5 tests' '$TMP/filt.out' && grep -qF '3 passed; 2 failed; 0 ignored; 0 measured; 11 filtered out' '$TMP/filt.out'"
lt filt2 test "$WASM" panics::old
check "filter with only passing tests: exit 0, 'test result: ok.'" \
    bash -c "[ $rc = 0 ] && grep -qF 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 15 filtered out' '$TMP/filt2.out'"
lt exact test --exact "$WASM" basic::pass
check "--exact: a substring matches nothing" \
    bash -c "[ $rc = 0 ] && grep -qx 'running 0 tests' '$TMP/exact.out' && grep -qF '16 filtered out' '$TMP/exact.out'"
lt exact2 test "$WASM" basic::passes --exact
check "--exact: the full name matches" \
    bash -c "[ $rc = 0 ] && grep -qx 'test basic::passes ... ok' '$TMP/exact2.out' && grep -qx 'running 1 test' '$TMP/exact2.out'"
lt ign test --ignored "$WASM"
check "--ignored: runs only the ignored test" \
    bash -c "[ $rc = 0 ] && grep -qx 'test basic::ignored ... ok' '$TMP/ign.out' && grep -qF '1 passed; 0 failed; 0 ignored; 0 measured; 15 filtered out' '$TMP/ign.out'"

# ---- --list ---------------------------------------------------------------------------
lt list test "$WASM" --list --format terse
check "--list --format terse: every test as 'NAME: test', in export order, exit 0" \
    bash -c "[ $rc = 0 ] && [ \"\$(wc -l <'$TMP/list.out')\" = 16 ] && [ \"\$(head -n 1 '$TMP/list.out')\" = 'basic::passes: test' ] && grep -qx 'panics::old_format: test' '$TMP/list.out' && grep -qx 'basic::ignored: test' '$TMP/list.out'"
lt list2 test --list "$WASM" spawn
check "--list with a filter" \
    bash -c "[ $rc = 0 ] && [ \"\$(cat '$TMP/list2.out' | tr '\n' ' ')\" = 'spawn::child_prints: test spawn::child_prints_then_fail: test spawn::new_config_child: test spawn::linked_child_fails: test ' ]"
lt list3 test --list --format json "$WASM"
check "--format other than terse is a usage error" bash -c "[ $rc = 2 ] && grep -qF 'terse' '$TMP/list3.err'"

# ---- --nocapture ---------------------------------------------------------------------
lt noc test --nocapture "$WASM" basic::
check "--nocapture: output is printed, before the test's result line" \
    bash -c "[ $rc = 1 ] && awk '/^hello from basic::passes\$/ { h = NR } /^test basic::passes \\.\\.\\. ok\$/ { t = NR } END { exit !(h && t && h < t) }' '$TMP/noc.out'"
check "--nocapture: stderr of a test goes to stdout too (captured with it)" \
    grep -qx 'on stderr too' "$TMP/noc.out"
lt noc2 test --nocapture "$WASM" panics::
check "--nocapture: #panic_ expected text is still checked" \
    bash -c "[ $rc = 1 ] && grep -qx 'test panics::old_format - should panic ... ok' '$TMP/noc2.out' && grep -qx 'test panics::wrong_message - should panic ... FAILED' '$TMP/noc2.out'"

# ---- cargo's runner invocation ------------------------------------------------------------
mkdir -p "$TMP/proj/target/wasm32-wasi/debug/deps" "$TMP/proj/target/wasm32-wasi/release/deps"
DEP=$TMP/proj/target/wasm32-wasi/debug/deps/tests-0123456789abcdef.wasm
cp "$WASM" "$DEP"
cp "$WASM" "$TMP/proj/target/wasm32-wasi/release/deps/tests-0123456789abcdef.wasm"
cd "$TMP/proj"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo1 "$DEP" basic::passes
check "cargo: 'lunatic FILE' under target/wasm32-wasi/debug/deps/ is test mode" \
    bash -c "[ $rc = 0 ] && grep -qx 'test basic::passes ... ok' '$TMP/cargo1.out'"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo2 run target/wasm32-wasi/release/deps/tests-0123456789abcdef.wasm --nocapture basic::
check "cargo: 'lunatic run FILE' (relative, release) with options is test mode" \
    bash -c "[ $rc = 1 ] && grep -qx 'hello from basic::passes' '$TMP/cargo2.out' && grep -qF 'test result: FAILED. 2 passed; 2 failed; 1 ignored' '$TMP/cargo2.out'"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo3 run --dir . "$DEP" --list --format terse
check "cargo: --list through 'lunatic run --dir . FILE'" \
    bash -c "[ $rc = 0 ] && [ \"\$(wc -l <'$TMP/cargo3.out')\" = 16 ]"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo4 run "$DEP" --bench
check "cargo: --bench is not test mode (runs _start)" \
    bash -c "[ $rc = 0 ] && [ \"\$(cat '$TMP/cargo4.out')\" = 'main of the test module' ]"
lt cargo5 run "$DEP"
check "without CARGO_MANIFEST_DIR it is a plain run" \
    bash -c "[ $rc = 0 ] && [ \"\$(cat '$TMP/cargo5.out')\" = 'main of the test module' ]"
cp "$WASM" "$TMP/proj/tests.wasm"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo6 run "$TMP/proj/tests.wasm"
check "with CARGO_MANIFEST_DIR but elsewhere it is a plain run" \
    bash -c "[ $rc = 0 ] && [ \"\$(cat '$TMP/cargo6.out')\" = 'main of the test module' ]"
mkdir -p "$TMP/proj/mytarget/wasm32-wasi/debug/deps"
cp "$WASM" "$TMP/proj/mytarget/wasm32-wasi/debug/deps/x.wasm"
CARGO_MANIFEST_DIR=$TMP/proj lt cargo7 mytarget/wasm32-wasi/debug/deps/x.wasm
check "'mytarget/...' does not match target/" \
    bash -c "[ $rc = 0 ] && [ \"\$(cat '$TMP/cargo7.out')\" = 'main of the test module' ]"
cd "$TMP"

# ---- errors -------------------------------------------------------------------------------
lt e1 test
check "no file: usage, exit 2" bash -c "[ $rc = 2 ] && grep -qF 'usage: lunatic test' '$TMP/e1.err'"
lt e2 test "$TMP/missing.wasm"
check "missing file: exit 1 with a message" bash -c "[ $rc = 1 ] && grep -qF 'missing.wasm' '$TMP/e2.err'"
lt e3 test --bogus "$WASM"
check "unknown option: exit 2" bash -c "[ $rc = 2 ] && grep -qF 'bogus' '$TMP/e3.err'"
lt e4 --help
check "usage text mentions lunatic test" grep -qF 'lunatic test' "$TMP/e4.out"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
