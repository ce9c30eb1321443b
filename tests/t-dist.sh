#!/usr/bin/env bash
# t-dist.sh - clusters on loopback (ABI.md §3.5): lunatic nodes (`lunatic
# node`, and `lunatic run --name` with tests/dist/cluster.c as the main
# process of node a) and Erlang nodes (tests/dist/oracle.erl), over a
# private EPMD on a free port, and once without EPMD. Covered: a mesh of
# three nodes and lookups by tag; remote spawn, send and request/reply; the
# host-call flow of lunatic-rs's spawn_node; messages reaching a node whose
# workers all spin; links and monitors across
# nodes on a crash, on kill -9 of a node and on kill -STOP (within the tick
# time), with pending requests and spawns failing fast; a node that
# restarts (a pid of its previous life gets noproc); a 64 MiB message that
# does not hold up small ones; memory limits (account.h) on both sides of
# a connection; --deny and limits reaching remote children; an Erlang node sending to, linking to and
# monitoring lunatic processes; the same over TLS; a wrong cookie, an
# untrusted certificate and the start-up errors refused with one line.
#
# Every process this script starts is recorded and killed by pid at the
# end; every wait is bounded. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in erl erlc epmd openssl; do
    if ! command -v $tool >/dev/null; then
        bad "$tool is missing (sh scripts/setup.sh installs it)"
        echo "$pass passed, $fail failed"
        exit 1
    fi
done
if [ ! -x "$LUNATIC" ]; then
    bad "no $LUNATIC (run make first)"
    echo "$pass passed, $fail failed"
    exit 1
fi

# A port nothing listens on (a refused connection means free).
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
            echo $p
            return
        fi
    done
    echo 0
}

# ---- build the guest and the oracle ------------------------------------------
OUT=$B/dist-tests
mkdir -p "$OUT"
W=$OUT/cluster.wasm
if [ ! -e "$W" ] || [ tests/dist/cluster.c -nt "$W" ] || [ sdk/lunatic_guest.h -nt "$W" ]; then
    if ! scripts/wasm-cc -O2 -Wall -Wextra -Werror -I sdk -o "$W" tests/dist/cluster.c 2>"$TMP/cc.err"; then
        bad "build tests/dist/cluster.c" "$(head -n 20 "$TMP/cc.err")"
        echo "$pass passed, $fail failed"
        exit 1
    fi
fi
if ! erlc -o "$TMP" tests/dist/oracle.erl 2>"$TMP/erlc.err"; then
    bad "build tests/dist/oracle.erl" "$(head -n 20 "$TMP/erlc.err")"
fi

# ---- a private EPMD ------------------------------------------------------------
# (another program may take the port between the look and the bind: then
# epmd exits, and the next port is tried)
for _ in 1 2 3; do
    EPMD_PORT=$(free_port)
    epmd -address 127.0.0.1 -port "$EPMD_PORT" >"$TMP/epmd.log" 2>&1 &
    EPMD_PID=$!
    PIDS+=($EPMD_PID)
    for _ in $(seq 100); do
        epmd -port "$EPMD_PORT" -names >/dev/null 2>&1 && break
        kill -0 $EPMD_PID 2>/dev/null || break
        sleep 0.05
    done
    kill -0 $EPMD_PID 2>/dev/null && break
done
export ERL_EPMD_PORT=$EPMD_PORT
COOKIE=t-dist-$RANDOM

# start_node NAME ARGS...: a `lunatic node` NAME@127.0.0.1 (log in
# $TMP/NAME.log); its pid in NODE_PID. Waits until it listens (it says so
# in its debug log) or fails (10 s).
start_node() {
    local name=$1
    shift
    LUNATIC_LOG=debug "$LUNATIC" node --name "$name@127.0.0.1" --cookie "$COOKIE" "$@" \
        >"$TMP/$name.log" 2>&1 &
    NODE_PID=$!
    PIDS+=($NODE_PID)
    disown $NODE_PID # the nodes this script kills -9 are not reported as jobs
    for _ in $(seq 200); do
        grep -q "is up" "$TMP/$name.log" && return 0
        kill -0 $NODE_PID 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

stop_node() {
    kill "$1" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return; sleep 0.05; done
    kill -9 "$1" 2>/dev/null
}

# run_a FILE ARGS... MODE: the guest as the main process of node a.
run_a() {
    local file=$1
    shift
    timeout -k 5 60 "$LUNATIC" run --name a@127.0.0.1 --cookie "$COOKIE" --tag role=a "$@" \
        >"$file" 2>"$file.err"
    echo $? >"$file.rc"
}

# expect NAME FILE LINE...: FILE has every LINE (whole lines).
expect() {
    local name=$1 file=$2
    shift 2
    local missing=()
    for l in "$@"; do grep -qFx -- "$l" "$file" || missing+=("want: $l"); done
    if [ ${#missing[@]} -eq 0 ]; then
        ok "$name"
    else
        bad "$name" "${missing[@]}" "got:" "$(cat "$file")" "stderr: $(tail -n 5 "$file.err" 2>/dev/null)"
    fi
}

wait_for() { # FILE TEXT SECONDS
    for _ in $(seq $(($3 * 20))); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- three nodes: mesh, spawn, the lunatic-rs flow, links ----------------------
B=0 C=0
start_node b --tag role=b --tag zone=x && B=$NODE_PID || bad "node b starts" "$(cat "$TMP/b.log")"
start_node c --tag role=c --peer b@127.0.0.1 && C=$NODE_PID || bad "node c starts" "$(cat "$TMP/c.log")"

run_a "$TMP/mesh" --peer b@127.0.0.1 "$W" mesh
expect "mesh: three nodes, this one listed, lookups by tag" "$TMP/mesh" \
    "nodes 3" "self listed yes" "get_nodes(.., 1) copies 1" \
    "lookup role=b: 1 node, role=c: 1 node, role=a is self: yes" \
    "lookup all: 3, role=b&zone=x: 1, nothing: 0" "distinct ids: yes" "module id set: yes" \
    "lookup consumed: 3 then -1"

run_a "$TMP/spawn" --peer c@127.0.0.1 "$W" spawn
expect "remote spawn (c's peer b found through the mesh), send both ways, request/reply, error codes" \
    "$TMP/spawn" "spawned on b, pid carries b's id: yes" "distributed::send: 0" "echo: hello" \
    "request/reply: 0 ping" "echo: via message::send" \
    "spawn on an unknown node: 1 (Node 65534 not found)" "send to an unknown node: 1" \
    "spawn of an unknown module: 2" "request to an unknown node: 9027"

run_a "$TMP/rust" --peer b@127.0.0.1 "$W" rustflow
expect "lunatic-rs flow: spawn_node with a config, capture, init, tagged requests" "$TMP/rust" \
    "spawn_node_config: 0" "init ok arg=42 grow_refused=1" "request 1: 0 -> 22" \
    "request 2: 0 -> 42" "request 3: 0 -> 62"

run_a "$TMP/busy" --peer b@127.0.0.1 "$W" busy
expect "messages from another node arrive while every worker of the node runs a spinning process" \
    "$TMP/busy" "round trips while 4 processes spin on b: 20 of 20, worst under 1 s: yes"

run_a "$TMP/links" --peer b@127.0.0.1 "$W" links
expect "links and monitors across nodes" "$TMP/links" \
    "crash on b: LinkDied tag 77, ProcessDied of it: yes" \
    "after unlink: LinkDied none, ProcessDied yes" "after stop_monitoring: no ProcessDied" \
    "remote kill: ProcessDied yes" \
    "link to a pid that does not exist: LinkDied tag 79" \
    "monitor of a pid that does not exist: ProcessDied yes" \
    "local death seen on b: LinkDied tag 55, ProcessDied of it: yes"

run_a "$TMP/big" --peer b@127.0.0.1 "$W" bigmsg
expect "a 64 MiB message does not stall small messages on the same connection" "$TMP/big" \
    "64 MiB message arrived intact: yes" "20 round trips finished before it: yes"

run_a "$TMP/limits" --peer b@127.0.0.1 --max-memory 64M "$W" limits
expect "memory limits across nodes: a message sent is the receiver's; one that does not fit kills it" \
    "$TMP/limits" "16 sends of 8 MiB under a 64 MiB limit: 16 sent" \
    "16 requests of 8 MiB under a 64 MiB limit: 16 answered" \
    "32 MiB to a process on b with a 16 MiB limit: it died: yes" "b serves on: 0 after"
grep -q "mailbox limit exceeded" "$TMP/b.log" && ok "b's log names the reason: mailbox limit exceeded" ||
    bad "b's log names the reason: mailbox limit exceeded" "$(tail -n 5 "$TMP/b.log")"

run_a "$TMP/deny" --peer b@127.0.0.1 --deny net,compile --max-memory 64M "$W" deny
expect "capabilities only narrow across nodes: --deny net and the memory limit reach a child on b" \
    "$TMP/deny" "child on b with the caller's config: udp_bind 1 grow 1" \
    "a config granting compile_module: 1 refused"

# b's and c's processes crashed as the tests wanted; the nodes themselves
# must still be alive
if kill -0 $B 2>/dev/null && kill -0 $C 2>/dev/null; then ok "nodes b and c outlive their processes' crashes"
else bad "nodes b and c outlive their processes' crashes"; fi
stop_node $C

# ---- node down: kill -9, kill -STOP ----------------------------------------------
watch_node() { # how: kill signal; limit: ms
    local how=$1 limit=$2 f=$TMP/watch-$1
    start_node b --tag role=b --tick-time 2 && B=$NODE_PID
    run_a "$f" --tick-time 2 --peer b@127.0.0.1 "$W" watch &
    local runner=$!
    PIDS+=($runner)
    if ! wait_for "$f" ready 20; then
        bad "watch ($how): the guest got ready" "$(cat "$f" "$f.err" 2>/dev/null)"
        return
    fi
    local t0
    t0=$(ms)
    kill -"$how" $B
    wait_for "$f" "pending spawn" 20
    local dt=$(($(ms) - t0))
    wait $runner
    if [ "$how" = STOP ]; then
        kill -CONT $B
    fi
    stop_node $B
    if [ $dt -le "$limit" ]; then ok "kill -$how of node b seen in $dt ms (limit $limit)"
    else bad "kill -$how of node b seen in $dt ms (limit $limit)"; fi
}
watch_node 9 1500
expect "kill -9: links and monitors fire, a pending request ends at once" "$TMP/watch-9" \
    "LinkDied tag 31, ProcessDied of it: yes" "pending request: 9027, ended before its timeout"
watch_node STOP 4500
expect "kill -STOP: node-down within the tick time; pending request and spawn end with 9027" \
    "$TMP/watch-STOP" "LinkDied tag 31, ProcessDied of it: yes" \
    "pending request: 9027, ended before its timeout" "pending spawn: 9027, ended before its timeout"

# ---- a node that restarts ------------------------------------------------------------
start_node b --tag role=b && B=$NODE_PID
run_a "$TMP/stale" --peer b@127.0.0.1 "$W" stale &
runner=$!
PIDS+=($runner)
if wait_for "$TMP/stale" ready 20; then
    kill -9 $B
    start_node b --tag role=b && B=$NODE_PID
fi
wait $runner
expect "restart: reconnection; a pid of the old life gets noproc, never the new process" "$TMP/stale" \
    "old process reached: yes" "b is back with a new id: yes" \
    "the new process has the old one's number: yes" "distributed::send to the old pid: 1" \
    "monitor of the old pid: ProcessDied yes" "link to the old pid: LinkDied tag 9" \
    "the new process got only what was sent to it: yes"
stop_node $B

# ---- an Erlang node -------------------------------------------------------------------
# erl_oracle FILE NODE ERL-ARGS...: runs oracle:interop against NODE.
erl_oracle() {
    local file=$1 node=$2
    shift 2
    timeout -k 5 60 erl -noshell -pa "$TMP" -setcookie "$COOKIE" -start_epmd false \
        -kernel inet_dist_use_interface '{127,0,0,1}' "$@" -run oracle interop "$node" \
        >"$file" 2>&1
}
erl_check() { # NAME FILE
    local n fails
    n=$(grep -c '^ok ' "$2")
    fails=$(grep -c '^FAIL' "$2")
    if [ "$n" -ge 21 ] && [ "$fails" -eq 0 ]; then ok "$1 ($n checks)"
    else bad "$1" "$(grep -v '^ok ' "$2" | head -n 20)"; fi
}
timeout -k 5 60 "$LUNATIC" run --name a@127.0.0.1 --cookie "$COOKIE" "$W" erl >"$TMP/erl-a" 2>&1 &
runner=$!
PIDS+=($runner)
wait_for "$TMP/erl-a" "echo up" 20
erl_oracle "$TMP/erl" a@127.0.0.1 -name oracle@127.0.0.1
wait $runner
erl_check "Erlang sends to, links to and monitors lunatic processes" "$TMP/erl"

# ---- errors at start: one line, exit 1 ------------------------------------------------
start_node b --tag role=b && B=$NODE_PID
"$LUNATIC" node --name b@127.0.0.1 --cookie "$COOKIE" >"$TMP/dup" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "already registered with EPMD" "$TMP/dup" && [ "$(wc -l <"$TMP/dup")" = 1 ]; then
    ok "a name already taken: one line, exit 1"
else bad "a name already taken: exit $rc" "$(cat "$TMP/dup")"; fi
ERL_EPMD_PORT=$(free_port) "$LUNATIC" node --name e@127.0.0.1 --cookie x >"$TMP/noepmd" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "cannot reach EPMD" "$TMP/noepmd" && [ "$(wc -l <"$TMP/noepmd")" = 1 ]; then
    ok "EPMD unreachable: one line, exit 1"
else bad "EPMD unreachable: exit $rc" "$(cat "$TMP/noepmd")"; fi
timeout -k 5 30 "$LUNATIC" run --name d@127.0.0.1 --cookie wrong --peer b@127.0.0.1 "$W" mesh >"$TMP/cookie" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^lunatic: b@127.0.0.1: .*wrong cookie" "$TMP/cookie"; then
    ok "a wrong cookie is refused: exit 1"
else bad "a wrong cookie is refused: exit $rc" "$(cat "$TMP/cookie")"; fi
grep -q "refused a connection from d@127.0.0.1: wrong cookie" "$TMP/b.log" &&
    ok "the node that refused it says so" || bad "the node that refused it says so" "$(tail -n 5 "$TMP/b.log")"
stop_node $B

# ---- without EPMD ----------------------------------------------------------------------
PB=$(free_port)
ERL_EPMD_PORT=$(free_port) start_node b --tag role=b --no-epmd --port "$PB" && B=$NODE_PID
ERL_EPMD_PORT=$(free_port) run_a "$TMP/static" --no-epmd --peer "b@127.0.0.1:$PB" "$W" spawn
expect "without EPMD (static ports): remote spawn, send, request/reply" "$TMP/static" \
    "spawned on b, pid carries b's id: yes" "echo: hello" "request/reply: 0 ping"
stop_node $B

# ---- TLS --------------------------------------------------------------------------------
T=$TMP/tls
mkdir -p "$T"
(
    cd "$T" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -out ca.pem -days 2 -subj "/CN=lunatic test CA" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout node.key \
        -out node.csr -subj "/CN=node" &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >ext &&
    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem \
        -days 2 -extfile ext &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key \
        -out rogue.pem -days 2 -subj "/CN=rogue" -addext "subjectAltName=IP:127.0.0.1"
) >"$TMP/openssl.log" 2>&1 || bad "make test certificates" "$(tail -n 5 "$TMP/openssl.log")"
TLS=(--tls-cert "$T/node.pem" --tls-key "$T/node.key" --tls-ca "$T/ca.pem")

start_node b --tag role=b "${TLS[@]}" && B=$NODE_PID
run_a "$TMP/tls-spawn" --peer b@127.0.0.1 "${TLS[@]}" "$W" spawn
expect "TLS: remote spawn, send, request/reply" "$TMP/tls-spawn" \
    "spawned on b, pid carries b's id: yes" "echo: hello" "request/reply: 0 ping" \
    "echo: via message::send"
run_a "$TMP/tls-links" --peer b@127.0.0.1 "${TLS[@]}" "$W" links
expect "TLS: links and monitors across nodes" "$TMP/tls-links" \
    "crash on b: LinkDied tag 77, ProcessDied of it: yes" \
    "local death seen on b: LinkDied tag 55, ProcessDied of it: yes"
timeout -k 5 30 "$LUNATIC" run --name d@127.0.0.1 --cookie "$COOKIE" --peer b@127.0.0.1 \
    --tls-cert "$T/rogue.pem" --tls-key "$T/rogue.key" --tls-ca "$T/ca.pem" "$W" mesh >"$TMP/rogue" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "^lunatic: b@127.0.0.1: .*" "$TMP/rogue"; then
    ok "TLS: an untrusted certificate is refused: exit 1"
else bad "TLS: an untrusted certificate is refused: exit $rc" "$(cat "$TMP/rogue")"; fi
"$LUNATIC" node --name f@127.0.0.1 --cookie x --tls-cert "$T/none.pem" --tls-key "$T/node.key" \
    --tls-ca "$T/ca.pem" >"$TMP/nocert" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "cannot load the certificate" "$TMP/nocert"; then
    ok "TLS: a certificate that cannot be loaded: one line, exit 1"
else bad "TLS: a certificate that cannot be loaded: exit $rc" "$(cat "$TMP/nocert")"; fi
stop_node $B

# Erlang's TLS distribution checks the host name in the certificate
# against the node name's host: localhost here.
cat >"$T/dist.conf" <<EOF
[{server, [{certfile, "$T/node.pem"}, {keyfile, "$T/node.key"}, {cacertfile, "$T/ca.pem"},
           {verify, verify_peer}, {fail_if_no_peer_cert, true}]},
 {client, [{certfile, "$T/node.pem"}, {keyfile, "$T/node.key"}, {cacertfile, "$T/ca.pem"},
           {verify, verify_peer}]}].
EOF
timeout -k 5 60 "$LUNATIC" run --name a@localhost --cookie "$COOKIE" "${TLS[@]}" "$W" erl \
    >"$TMP/tls-erl-a" 2>&1 &
runner=$!
PIDS+=($runner)
wait_for "$TMP/tls-erl-a" "echo up" 20
erl_oracle "$TMP/tls-erl" a@localhost -sname oracle@localhost -proto_dist inet_tls \
    -ssl_dist_optfile "$T/dist.conf"
wait $runner
erl_check "TLS (inet_tls_dist): Erlang sends to, links to and monitors lunatic processes" "$TMP/tls-erl"

# every node's and run's output: no sanitizer report (ASan/UBSan and TSan
# builds: BUILD=build-asan, BUILD=build-tsan)
reports=$(grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer" "$TMP"/* 2>/dev/null)
if [ -z "$reports" ]; then ok "no sanitizer reports in any node's output"
else bad "sanitizer reports in:" $reports "$(grep -h -A12 -E "ERROR: |runtime error:|WARNING: Thread" $reports | head -n 60)"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
