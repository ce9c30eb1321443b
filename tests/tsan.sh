#!/usr/bin/env bash
# tsan.sh - the runtime under ThreadSanitizer. Builds the library, the CLI,
# and the unit tests that use threads (test_embed, test_engine_threads;
# test_observe and test_obs, which read processes, metrics and HTTP
# clients from other threads) with -fsanitize=thread -O1 -g into
# build-tsan/ (through the Makefile's own variables: BUILD, CC, OPT,
# EXTRA_CFLAGS, LDFLAGS), then runs them, every process guest program
# (tests/proc, including the stress_* ones) under t-proc.sh in the modes
# default, red1 and t4, the networking tests (t-net.sh), the SQLite tests
# (t-sqlite.sh), the observability endpoints (t-obs.sh: HTTP clients,
# SIGUSR1, snapshots) and the cluster tests (t-dist.sh: the node thread,
# direct writes from workers, node-down, Erlang peers).
#
# TSan writes its reports to build-tsan/tsan-logs/<program>.<pid> (not to
# the programs' stderr, which t-proc.sh compares); each program is one
# check "no data races" besides its t-proc.sh results, and every distinct
# report (its SUMMARY line) is listed at the end with the programs that
# produced it. Last line: "N passed, M failed".
#
#   TSAN_BUILD=dir         build directory (default build-tsan)
#   TSAN_CC=clang|gcc      compiler (default clang if present, else gcc)
#   PROC_MODES, PROC_ONLY  passed on to t-proc.sh (default modes: default red1 t4)
#   PROC_TIMEOUT           per run (default 120 s: TSan is 5-15x slower)
#   TSAN_SKIP_BUILD=1      reuse the build as it is
set -u
. "$(dirname "$0")/lib.sh"
B=${TSAN_BUILD:-build-tsan}
if [ -n "${TSAN_CC:-}" ]; then CC=$TSAN_CC
elif command -v clang >/dev/null; then CC=clang
else CC=gcc; fi
LOGS=$ROOT/$B/tsan-logs

# ---- build ---------------------------------------------------------------------
if [ -z "${TSAN_SKIP_BUILD:-}" ]; then
    echo "== building $B with $CC -fsanitize=thread -O1 -g"
    if ! make -j"$(nproc)" BUILD="$B" CC="$CC" OPT=-O1 EXTRA_CFLAGS="-fsanitize=thread" \
            LDFLAGS="-fsanitize=thread" "$B/lunatic" "$B/tests/test_embed" "$B/tests/test_engine_threads" \
            "$B/tests/test_observe" "$B/tests/test_obs" "$B/tests/test_dist_peer" >"$B.make.log" 2>&1; then
        tail -n 20 "$B.make.log"
        bad "build ($B.make.log)"
        echo "$pass passed, $fail failed"
        exit 1
    fi
    rm -f "$B.make.log"
fi
rm -rf "$LOGS"
mkdir -p "$LOGS"

# halt_on_error=0: report every race and go on; atexit_sleep_ms=0: TSan
# otherwise sleeps 1 s at every exit.
TSAN_BASE="halt_on_error=0 atexit_sleep_ms=0 second_deadlock_stack=1 history_size=4"

# races NAME: one check, "no TSan reports in NAME's logs"
races() {
    local n=$1 files
    files=$(ls "$LOGS/$n".* 2>/dev/null)
    if [ -z "$files" ]; then
        ok "$n: no TSan reports"
        return
    fi
    local cnt lines=()
    cnt=$(cat $files | grep -c '^WARNING: ThreadSanitizer')
    while IFS= read -r l; do lines+=("$l"); done < <(cat $files | grep '^SUMMARY: ThreadSanitizer' |
        sed 's/^SUMMARY: ThreadSanitizer: //' | sort | uniq -c | sed 's/^ *//' | head -n 10)
    bad "$n: $cnt TSan report(s) (count, summary):" "${lines[@]}"
}

# ---- unit tests that use threads -------------------------------------------------------
for t in test_embed test_engine_threads test_observe test_obs test_dist_peer; do
    echo "== $t"
    out=$(TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/$t" timeout -k 5 300 "$B/tests/$t" 2>/dev/null)
    rc=$?
    printf '%s\n' "$out" | grep -E '^(FAIL|[0-9]+ passed)' | tail -n 20
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then
        bad "$t printed no result line (exit $rc)"
    else
        p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
        pass=$((pass + p)); fail=$((fail + f))
    fi
    races $t
done

# ---- the guest programs ------------------------------------------------------------
export BUILD=$B
export PROC_MODES=${PROC_MODES:-default red1 t4}
export PROC_TIMEOUT=${PROC_TIMEOUT:-120}
# build the guests once (and check the SDK's imports)
out=$(PROC_BUILD_ONLY=1 bash tests/t-proc.sh 2>&1)
printf '%s\n' "$out" | grep -E '^(ok|FAIL|     )' | head -n 40
line=$(printf '%s\n' "$out" | tail -n 1)
p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))

progs=()
for c in tests/proc/*.c; do
    n=$(basename "$c" .c)
    if [ -n "${PROC_ONLY:-}" ]; then
        case " $PROC_ONLY " in *" $n "*) ;; *) continue ;; esac
    fi
    [ -f "$B/proc-tests/$n.wasm" ] && progs+=("$n")
done
for n in "${progs[@]}"; do
    # one t-proc.sh run per program, so that its TSan logs carry its name;
    # its results are counted from its ok/FAIL lines, without the SDK
    # check that t-proc.sh repeats (it was counted above)
    out=$(PROC_ONLY=$n TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/$n" bash tests/t-proc.sh 2>&1)
    printf '%s\n' "$out" | grep -E '^(ok|FAIL|     )' | grep -v '^ok   sdk:' | head -n 30
    if ! printf '%s\n' "$out" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
        bad "$n: t-proc.sh printed no result line"
    fi
    p=$(printf '%s\n' "$out" | grep -E '^ok   ' | grep -vc '^ok   sdk:')
    f=$(printf '%s\n' "$out" | grep -E '^FAIL ' | grep -vc '^FAIL sdk:')
    pass=$((pass + p)); fail=$((fail + f))
    races "$n"
done

# ---- networking (tests/t-net.sh: the poller, sockets shared between processes, TLS) ----
echo "== t-net.sh"
out=$(TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/t-net" TIMEOUT=180 BUILD=$B bash tests/t-net.sh 2>&1)
printf '%s\n' "$out" | grep -E '^(FAIL|     )' | head -n 30
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -z "$line" ]; then
    bad "t-net.sh printed no result line"
else
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
fi
races t-net

# ---- SQLite (tests/t-sqlite.sh: connections on worker threads, hand-offs) ----
echo "== t-sqlite.sh"
out=$(TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/t-sqlite" BUILD=$B bash tests/t-sqlite.sh 2>&1)
printf '%s\n' "$out" | grep -E '^(FAIL|     )' | head -n 30
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -z "$line" ]; then
    bad "t-sqlite.sh printed no result line"
else
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
fi
races t-sqlite

# ---- observability (tests/t-obs.sh: HTTP clients, scrapes, snapshots, SIGUSR1) ----------
echo "== t-obs.sh"
out=$(TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/t-obs" BUILD=$B bash tests/t-obs.sh 2>&1)
printf '%s\n' "$out" | grep -E '^(FAIL|     )' | head -n 30
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -z "$line" ]; then
    bad "t-obs.sh printed no result line"
else
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
fi
races t-obs

# ---- clusters (tests/t-dist.sh: nodes, connections, signals across nodes) ----------
echo "== t-dist.sh"
out=$(TSAN_OPTIONS="$TSAN_BASE log_path=$LOGS/t-dist" BUILD=$B bash tests/t-dist.sh 2>&1)
printf '%s\n' "$out" | grep -E '^(FAIL|     )' | head -n 30
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -z "$line" ]; then
    bad "t-dist.sh printed no result line"
else
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
fi
races t-dist

# ---- every distinct report -------------------------------------------------------------
if ls "$LOGS"/* >/dev/null 2>&1; then
    echo "== distinct TSan reports (count, summary, programs); full reports in $LOGS"
    for f in "$LOGS"/*; do
        prog=$(basename "$f"); prog=${prog%.*}
        grep '^SUMMARY: ThreadSanitizer' "$f" | sed "s|^SUMMARY: ThreadSanitizer: ||; s|\$|\t$prog|"
    done | sort | awk -F'\t' '{ c[$1]++; if (index(p[$1], $2) == 0) p[$1] = p[$1] " " $2 }
                              END { for (k in c) printf "%5d  %s  [%s ]\n", c[k], k, p[k] }' | sort -rn
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
