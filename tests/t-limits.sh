#!/usr/bin/env bash
# t-limits.sh - resource governance (src/rt/account.h): what a process holds
# outside its linear memory (messages, the message it writes, configs,
# timers) counts against its memory limit. tests/limits/flood.c under
# `lunatic run --max-memory 64M` for each mode: the child that floods dies
# with a named reason in stderr, the runtime's peak memory stays bounded,
# and a ping-pong pair beside it goes on. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
OUT=$B/limits-tests
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

W=$OUT/flood.wasm
if ! "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror -I "$ROOT/sdk" -o "$W" \
        "$ROOT/tests/limits/flood.c" 2>"$TMP/cc.err"; then
    bad "build flood.c" "$(head -n 20 "$TMP/cc.err")"
    echo "$pass passed, $fail failed"
    exit 1
fi

# flood MODE REASON [THREADS]: runs the mode; the child must die with REASON
# in stderr (a failure line naming it), ping-pong must go on during and
# after, and the process's peak resident memory stay under 400 MiB (64 MiB
# per process: before accounting, the self flood took 1 GB in 4 s).
flood() {
    local mode=$1 reason=$2 threads=${3:-} f=$TMP/$1
    local targs=()
    [ -n "$threads" ] && targs=(--threads "$threads")
    timeout 60 /usr/bin/time -f '%M' -o "$f.rss" "$LUNATIC" run "${targs[@]}" --max-memory 64M \
        "$W" "$mode" >"$f.out" 2>"$f.err"
    local rc=$? rss
    rss=$(tail -n 1 "$f.rss" 2>/dev/null)
    local name="$mode${threads:+ (--threads $threads)}"
    if [ $rc -ne 0 ]; then bad "$name: exit $rc" "$(tail -n 5 "$f.out" "$f.err")"; return; fi
    if ! grep -q "^$mode: the child died$" "$f.out"; then bad "$name: the child dies" "$(cat "$f.out")"; return; fi
    if ! grep -q '^ping-pong while it ran: went on$' "$f.out" ||
       ! grep -q '^ping-pong after: 100 of 100 rounds$' "$f.out"; then
        bad "$name: ping-pong goes on" "$(cat "$f.out")" "$(grep '^flood' "$f.err")"; return
    fi
    if ! grep -q "failed.*$reason" "$f.err"; then
        bad "$name: reason '$reason' in stderr" "$(grep -v '^flood' "$f.err" | head -n 5)"; return
    fi
    if [ -z "$rss" ] || [ "$rss" -gt $((400 * 1024)) ]; then
        bad "$name: peak memory ${rss:-?} KiB over 400 MiB"; return
    fi
    ok "$name: dies with \"$reason\", ping-pong went on ($(grep '^flood' "$f.err" | sed 's/^flood [a-z]*: //')), peak $((rss / 1024)) MiB"
}

LIMIT="over the process's memory limit of 67108864 bytes"
# (the self flood may hit the limit in its own create_data, or as mailbox)
flood self "memory limit of 67108864 bytes"
flood self "memory limit of 67108864 bytes" 1
flood victim "mailbox limit exceeded"
if grep -q '^the flooder sent 4000 messages and lives on$' "$TMP/victim.out"; then
    ok "victim: the flooder itself lives on"
else bad "victim: the flooder lives on" "$(cat "$TMP/victim.out")"; fi
flood write "write_data: out of memory: $LIMIT"
flood configs "out of memory: $LIMIT"
flood timers "out of memory: $LIMIT"

# grow: messages and linear memory share the limit
timeout 60 "$LUNATIC" run --max-memory 64M "$W" grow >"$TMP/grow.out" 2>"$TMP/grow.err"
if grep -q 'refused$' "$TMP/grow.out"; then ok "grow: $(cat "$TMP/grow.out")"
else bad "grow: memory.grow refused when messages fill the limit" "$(cat "$TMP/grow.out" "$TMP/grow.err")"; fi
# and without the messages the same allocation is granted (the limit is not simply too small)
# What the operator grants: --deny takes permissions from the main process.
timeout 30 "$LUNATIC" run --deny spawn "$W" self >"$TMP/deny.out" 2>"$TMP/deny.err"
rc=$?
if [ $rc = 134 ] && grep -q 'may not spawn processes' "$TMP/deny.err"; then
    ok "--deny spawn: the main process's first spawn traps"
else
    bad "--deny spawn" "status $rc" "$(tail -n 3 "$TMP/deny.err")"
fi
timeout 30 "$LUNATIC" run --deny spawn,root "$W" self >"$TMP/deny.out" 2>"$TMP/deny.err"
rc=$?
if [ $rc = 2 ] && grep -q "bad value 'spawn,root'" "$TMP/deny.err"; then ok "--deny with an unknown permission: usage error"
else bad "--deny spawn,root" "status $rc" "$(head -n 2 "$TMP/deny.err")"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
