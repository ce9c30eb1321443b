#!/usr/bin/env bash
# t-obs.sh - observing a running program from outside: `lunatic run` with
# --prometheus-http and --dashboard (both on 127.0.0.1, port 0) runs
# tests/obs/guest.c, and this script checks, while the guest works:
#   - GET /metrics: promtool accepts it; the runtime's metrics have the
#     values the guest's processes imply (processes alive, links alive,
#     messages in mailboxes) and move (messages sent, the guest's own
#     counter); after the guest stops its workers, processes and links
#     drop and normal exits rise by as many;
#   - GET /api/processes(/PID): each process in its known state (a worker
#     blocked in receive on tag 7 shows exactly that), mailbox, names,
#     links and monitors;
#   - SIGUSR1 prints the process table on stderr;
#   - bad clients (tests/obs/badclients.py: garbage, oversized requests, a
#     slow one, 500 idle connections) get errors or are closed, while the
#     guest keeps working;
#   - LUNATIC_METRICS=off leaves only the guest's metrics; a bad address is
#     a usage error;
#   - logging (tests/obs/storm.c): kills are info, not shown by default;
#     failures are warnings, rate limited, all shown at debug.
# Needs curl, python3 and promtool (scripts/setup.sh installs them). Every
# wait is bounded; only the lunatic processes started here are stopped, by
# pid. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d)
LPID=""
cleanup() {
    [ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in curl python3 promtool; do
    command -v $tool >/dev/null || { bad "$tool is missing (sh scripts/setup.sh)"; echo "$pass passed, $fail failed"; exit 1; }
done
GUEST=$B/obs-tests/guest.wasm
mkdir -p "$B/obs-tests"
if [ ! -e "$GUEST" ] || [ tests/obs/guest.c -nt "$GUEST" ] || [ sdk/lunatic_guest.h -nt "$GUEST" ]; then
    if ! scripts/wasm-cc -O2 -Wall -Wextra -Werror -I sdk -o "$GUEST" tests/obs/guest.c 2>"$TMP/cc.err"; then
        bad "build tests/obs/guest.c" "$(head -n 20 "$TMP/cc.err")"
        echo "$pass passed, $fail failed"
        exit 1
    fi
fi

# wait_for FILE REGEX SECONDS: until a line of FILE matches
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
get() { curl -sS --max-time 5 "$@"; }
# metric NAME{LABELS}: its value in $TMP/m (the last scrape)
metric() { awk -v s="$1" 'index($0, s " ") == 1 { print $2; exit }' "$TMP/m"; }
scrape() { get "http://$PROM/metrics" >"$TMP/m"; }
# json FILE PYTHON-EXPR: evaluates EXPR with d = the parsed file; prints it
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }
# expect NAME GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', wanted '$3'"; fi; }

# start ARGS...: runs lunatic with ARGS in the background, stdin from a fifo
# kept open on fd 3; sets LPID, DASH and PROM from its stderr
start() {
    rm -f "$TMP/in" "$TMP/out" "$TMP/err"
    mkfifo "$TMP/in"
    "$LUNATIC" run "$@" <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
    LPID=$!
    exec 3>"$TMP/in"
    DASH="" PROM=""
    if ! wait_for "$TMP/out" '^ready' 15; then
        bad "the guest started" "$(head -c 500 "$TMP/err")"
        return 1
    fi
    DASH=$(sed -n 's|^lunatic: dashboard at http://\([^/]*\)/$|\1|p' "$TMP/err")
    PROM=$(sed -n 's|^lunatic: Prometheus metrics at http://\([^/]*\)/metrics$|\1|p' "$TMP/err")
    return 0
}
# finish: "quit" to the guest; its exit status must be 0 within 10 s
finish() {
    echo quit >&3
    exec 3>&-
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$LPID" 2>/dev/null; then
        bad "$1: lunatic ended after quit"
        kill -9 "$LPID"
    fi
    wait "$LPID"
    expect "$1: exit status" "$?" 0
    LPID=""
}

N=5
if start --prometheus-http 127.0.0.1:0 --dashboard 127.0.0.1:0 "$GUEST" $N; then
    expect "addresses printed (127.0.0.1, real ports)" \
        "$(echo "$DASH $PROM" | grep -cE '^127\.0\.0\.1:[1-9][0-9]* 127\.0\.0\.1:[1-9][0-9]*$')" 1

    # ---- /metrics ------------------------------------------------------------------
    scrape
    if promtool check metrics <"$TMP/m" >"$TMP/promtool" 2>&1; then
        ok "promtool check metrics accepts /metrics"
    else
        bad "promtool check metrics accepts /metrics" "$(head -n 10 "$TMP/promtool")"
    fi
    expect "processes alive: main, $N workers and 5 others" \
        "$(metric 'lunatic_process_environment_processes{node_id="0"}')" $((N + 6))
    expect "links alive: main's to its $N workers" "$(metric 'lunatic_process_links_alive{node_id="0"}')" $N
    expect "messages waiting in mailboxes: the inbox's 5" \
        "$(metric 'lunatic_process_messages_outstanding{node_id="0"}')" 5
    expect "the guest's gauge" "$(metric 'obs_test_workers{node_id="0"}')" $N
    expect "environments" "$(metric 'lunatic_process_environments{node_id="0"}')" 1
    expect "the main module was compiled once" "$(metric 'lunatic_process_modules_compiled_total{node_id="0"}')" 1
    expect "names registered: main, $N workers and 5 others" \
        "$(metric 'lunatic_registry_registered{node_id="0"}')" $((N + 6))
    ticks1=$(metric 'obs_test_ticks_total{node_id="0"}')
    sent1=$(metric 'lunatic_process_messages_send_total{node_id="0"}')
    normal1=$(metric 'lunatic_process_exited_total{node_id="0",reason="normal"}')
    sleep 0.5
    scrape
    ticks2=$(metric 'obs_test_ticks_total{node_id="0"}')
    sent2=$(metric 'lunatic_process_messages_send_total{node_id="0"}')
    if [ -n "$ticks1" ] && [ -n "$ticks2" ] && [ "$ticks2" -gt "$ticks1" ]; then
        ok "the guest's counter moves ($ticks1 -> $ticks2)"
    else
        bad "the guest's counter moves" "'$ticks1' -> '$ticks2'"
    fi
    # the ticker and echo exchange 2 messages per tick
    if [ -n "$sent1" ] && [ -n "$sent2" ] && [ "$sent2" -ge $((sent1 + 2 * (ticks2 - ticks1) - 2)) ]; then
        ok "messages sent move with it ($sent1 -> $sent2)"
    else
        bad "messages sent move with it" "'$sent1' -> '$sent2' over $((ticks2 - ticks1)) ticks"
    fi
    expect "histograms count what counters count" \
        "$(metric 'lunatic_process_messages_data_size_count{node_id="0"}')" \
        "$(metric 'lunatic_process_messages_data_count_total{node_id="0"}')"
    expect "the Prometheus port serves only /metrics" \
        "$(get -o /dev/null -w '%{http_code}' "http://$PROM/api/processes")" 404
    expect "/metrics content type" \
        "$(get -o /dev/null -w '%{content_type}' "http://$PROM/metrics")" "text/plain; version=0.0.4; charset=utf-8"

    # ---- /api/processes --------------------------------------------------------------
    get "http://$DASH/api/processes" >"$TMP/all.json"
    pidof() { json "$TMP/all.json" "[p['pid'] for p in d['processes'] if p['names'] == ['$1']]"; }
    expect "totals" "$(json "$TMP/all.json" "(d['totals']['processes'], d['totals']['mailbox_len'], d['listed'])")" \
        "($((N + 6)), 5, $((N + 6)))"
    expect "worker-1 is blocked in receive on tag 7" \
        "$(json "$TMP/all.json" "[(p['state'], p['wait'], p['tags'], p['function'], p['module']) for p in d['processes'] if p['names'] == ['worker-1']]")" \
        "[('waiting', 'receive', [7], 'worker', 'guest.wasm')]"
    expect "every worker waits on tag 7" \
        "$(json "$TMP/all.json" "sorted(set(str(p['tags']) for p in d['processes'] if p['names'][0].startswith('worker-')))")" \
        "['[7]']"
    expect "the inbox: 5 messages of 10 bytes it does not take, waiting for tag 99" \
        "$(json "$TMP/all.json" "[(p['mailbox_len'], p['mailbox_bytes'], p['tags']) for p in d['processes'] if p['names'] == ['inbox']]")" \
        "[(5, 50, [99])]"
    expect "the sleeper sleeps, with most of its hour left" \
        "$(json "$TMP/all.json" "[(p['wait'], p['timeout_ms'] > 3500000) for p in d['processes'] if p['names'] == ['sleeper']]")" \
        "[('sleep', True)]"
    expect "main reads its stdin (I/O) and holds $N links" \
        "$(json "$TMP/all.json" "[(p['wait'], p['links']) for p in d['processes'] if p['pid'] == 1]")" \
        "[('io', $N)]"
    expect "markup in a name stays text (escaped in the JSON)" \
        "$(grep -c '\\u003cb\\u003ehtml\\u003c/b\\u003e' "$TMP/all.json")" 1
    get "http://$DASH/api/processes/1" >"$TMP/main.json"
    SLEEPER=$(pidof sleeper | tr -d '[]')
    expect "main's links: its workers" \
        "$(json "$TMP/main.json" "sorted(l['pid'] for l in d['link_list'])")" \
        "$(json "$TMP/all.json" "sorted(p['pid'] for p in d['processes'] if p['names'][0].startswith('worker-'))")"
    W3=$(pidof worker-3 | tr -d '[]')
    # a spawn link's tag is stored by the child: main gets it when the child dies
    expect "worker-3's link: to main, with the tag main gave it" \
        "$(get "http://$DASH/api/processes/$W3" | json /dev/stdin "d['link_list']")" "[{'pid': 1, 'tag': 3}]"
    expect "main monitors the sleeper" "$(json "$TMP/main.json" "d['monitoring']")" "[$SLEEPER]"
    get "http://$DASH/api/processes/$SLEEPER" >"$TMP/sleeper.json"
    expect "the sleeper is monitored by main" "$(json "$TMP/sleeper.json" "d['monitored_by']")" "[1]"
    expect "a pid that does not exist: 404" \
        "$(get -o /dev/null -w '%{http_code}' "http://$DASH/api/processes/99999")" 404
    expect "a bad query: 400" "$(get -o /dev/null -w '%{http_code}' "http://$DASH/api/processes?sort=x")" 400
    expect "the page carries its CSP" \
        "$(get -D - -o /dev/null "http://$DASH/" | grep -c "^Content-Security-Policy: default-src 'none'")" 1
    expect "a foreign Host is refused (DNS rebinding)" \
        "$(get -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "http://$DASH/api/processes")" 403
    expect "the dashboard serves /metrics too" \
        "$(get "http://$DASH/metrics" | grep -c '^lunatic_process_environment_processes{node_id="0"} ')" 1

    # ---- SIGUSR1 -------------------------------------------------------------------------
    kill -USR1 "$LPID"
    if wait_for "$TMP/err" 'receive \[7\]' 5 && grep -qE "^lunatic: $((N + 6)) processes " "$TMP/err" &&
        grep -qE '^ +1 +[0-9]+ worker-1 +receive \[7\]' "$TMP/err"; then
        ok "SIGUSR1 prints the process table on stderr"
    else
        bad "SIGUSR1 prints the process table on stderr" "$(tail -n 20 "$TMP/err")"
    fi

    # ---- bad clients --------------------------------------------------------------------
    scrape
    ticks1=$(metric 'obs_test_ticks_total{node_id="0"}')
    python3 tests/obs/badclients.py "$PROM" >"$TMP/bad.out" 2>&1
    while read -r line; do
        case $line in
            ok\ \ \ *) ok "bad clients: ${line#ok   }" ;;
            FAIL*) bad "bad clients: ${line#FAIL }" ;;
        esac
    done <"$TMP/bad.out"
    grep -qE '^[0-9]+ passed, [0-9]+ failed' "$TMP/bad.out" || bad "badclients.py ran" "$(tail -n 5 "$TMP/bad.out")"
    scrape
    ticks2=$(metric 'obs_test_ticks_total{node_id="0"}')
    if kill -0 "$LPID" 2>/dev/null && [ -n "$ticks2" ] && [ "$ticks2" -gt $((ticks1 + 100)) ]; then
        ok "the guest kept working meanwhile ($ticks1 -> $ticks2 ticks)"
    else
        bad "the guest kept working meanwhile" "'$ticks1' -> '$ticks2'"
    fi

    # ---- the workers end ------------------------------------------------------------------
    echo stop >&3
    if wait_for "$TMP/out" '^stopped' 10; then
        scrape
        expect "after stop: processes alive" "$(metric 'lunatic_process_environment_processes{node_id="0"}')" 6
        expect "after stop: no link left" "$(metric 'lunatic_process_links_alive{node_id="0"}')" 0
        expect "after stop: $N more normal exits" \
            "$(metric 'lunatic_process_exited_total{node_id="0",reason="normal"}')" $((normal1 + N))
        expect "after stop: their names are gone" "$(metric 'lunatic_registry_registered{node_id="0"}')" 6
        expect "after stop: the API agrees" \
            "$(get "http://$DASH/api/processes" | json /dev/stdin "(d['totals']['processes'], [p for p in d['processes'] if p['names'] and p['names'][0].startswith('worker')])")" \
            "(6, [])"
        get "http://$DASH/api/processes/1" >"$TMP/main.json"
        expect "after stop: main has no links" "$(json "$TMP/main.json" "d['link_list']")" "[]"
    else
        bad "the guest stopped its workers" "$(tail -n 5 "$TMP/err")"
    fi
    finish "first run"
fi

# ---- metrics off ---------------------------------------------------------------------
if LUNATIC_METRICS=off start --prometheus-http 127.0.0.1:0 "$GUEST" 2; then
    sleep 0.2
    scrape
    expect "LUNATIC_METRICS=off: none of the runtime's metrics" "$(grep -c '^lunatic_' "$TMP/m")" 0
    if [ -n "$(metric 'obs_test_ticks_total{node_id="0"}')" ]; then
        ok "LUNATIC_METRICS=off: the guest's metrics stay"
    else
        bad "LUNATIC_METRICS=off: the guest's metrics stay" "$(head -c 300 "$TMP/m")"
    fi
    finish "metrics off"
fi

# ---- log levels and the rate limit of failure reports (README, "Logging") --------------
STORM=$B/obs-tests/storm.wasm
if [ ! -e "$STORM" ] || [ tests/obs/storm.c -nt "$STORM" ] || [ sdk/lunatic_guest.h -nt "$STORM" ]; then
    scripts/wasm-cc -O2 -Wall -Wextra -Werror -I sdk -o "$STORM" tests/obs/storm.c 2>"$TMP/cc.err" ||
        bad "build tests/obs/storm.c" "$(head -n 10 "$TMP/cc.err")"
fi
# storm MODE N [LEVEL]: runs it with LUNATIC_LOG=LEVEL (unset: the default);
# its stderr in $TMP/log
storm() {
    if [ -n "${3:-}" ]; then
        LUNATIC_LOG=$3 timeout 60 "$LUNATIC" run "$STORM" "$1" "$2" >"$TMP/log.out" 2>"$TMP/log"
    else
        env -u LUNATIC_LOG -u RUST_LOG timeout 60 "$LUNATIC" run "$STORM" "$1" "$2" >"$TMP/log.out" 2>"$TMP/log"
    fi
    local st=$?
    [ $st = 0 ] && grep -qx done "$TMP/log.out" || bad "storm $1 $2 ${3:-} ran" "exit $st: $(head -c 300 "$TMP/log")"
}
storm fail 300
n=$(grep -c 'failed, notifying' "$TMP/log")
dropped=$(sed -n 's/^lunatic: \([0-9]*\) more process failures were not reported.*/\1/p' "$TMP/log")
if [ "$n" -ge 100 ] && [ "$n" -le 130 ] && [ -n "$dropped" ] && [ $((n + dropped)) = 301 ]; then
    ok "301 failures at once: $n reported, then one line for the $dropped not reported"
else
    bad "failures are rate limited" "$n reported, '$dropped' said dropped: $(head -n 3 "$TMP/log")"
fi
storm fail 300 debug
expect "LUNATIC_LOG=debug reports every failure" "$(grep -c 'failed, notifying' "$TMP/log")" 301
storm kill 300
expect "300 kills are not logged at the default level" "$(grep -c 'was killed' "$TMP/log")" 0
storm kill 300 info
expect "LUNATIC_LOG=info logs them" "$(grep -c '^\[info\] Process [0-9]* was killed, notifying: 0 links$' "$TMP/log")" 300

# ---- usage errors ----------------------------------------------------------------------
"$LUNATIC" run --prometheus-http nonsense "$GUEST" </dev/null >/dev/null 2>"$TMP/err"
st=$?
if [ $st = 2 ] && grep -q "^lunatic: --prometheus-http: address 'nonsense'" "$TMP/err"; then
    ok "a bad address is a usage error"
else
    bad "a bad address is a usage error" "exit $st: $(head -c 200 "$TMP/err")"
fi
"$LUNATIC" run --dashboard </dev/null >/dev/null 2>"$TMP/err"
expect "--dashboard without a value is a usage error" "$?" 2

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
