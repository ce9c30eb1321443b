#!/usr/bin/env bash
# t-net.sh - lunatic::networking: the C guests of tests/net (TCP, UDP, DNS,
# TLS) under `lunatic run`, misbehaving native peers (tests/net/peer.c)
# against a guest echo server, descriptor counts, and `ulimit -n`
# exhaustion. Everything binds 127.0.0.1 on port 0, every run has a time
# limit, and only processes this script started are stopped. Certificates
# are made here with openssl. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
OUT=$B/net-tests
SRC=$ROOT/tests/net
TIMEOUT=${TIMEOUT:-60}
TMP=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -x "$LUNATIC" ]; then
    bad "no $LUNATIC (run make first)"
    echo "$pass passed, $fail failed"
    exit 1
fi

# ---- build ---------------------------------------------------------------------
mkdir -p "$OUT"
for c in "$SRC"/*.c; do
    n=$(basename "$c" .c)
    [ "$n" = peer ] && continue
    if [ ! -e "$OUT/$n.wasm" ] || [ "$c" -nt "$OUT/$n.wasm" ] || [ "$SRC/net_test.h" -nt "$OUT/$n.wasm" ] ||
        [ "$ROOT/sdk/lunatic_guest.h" -nt "$OUT/$n.wasm" ]; then
        "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror -I "$ROOT/sdk" -I "$SRC" -o "$OUT/$n.wasm" "$c" \
            2>"$TMP/cc.err" || bad "build $n" "$(head -n 20 "$TMP/cc.err")"
    fi
done
cc -O2 -Wall -Wextra -o "$OUT/peer" "$SRC/peer.c" 2>"$TMP/cc.err" || bad "build peer" "$(cat "$TMP/cc.err")"
for e in echo_server http_server; do
    "$ROOT/scripts/wasm-cc" -O2 -Wall -Wextra -Werror -I "$ROOT/sdk" -o "$OUT/$e.wasm" "$ROOT/examples/$e.c" \
        2>"$TMP/cc.err" || bad "build examples/$e.c" "$(head -n 20 "$TMP/cc.err")"
done

# run NAME WASM ARGS...: runs a guest that ends with "all checks passed"
run() {
    local name=$1; shift
    timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ $rc = 0 ] && grep -q '^all checks passed$' "$TMP/out" && ! grep -q '^FAIL' "$TMP/out"; then
        ok "$name ($(grep -c '^ok' "$TMP/out") checks)"
    else
        bad "$name (exit $rc)" "$(grep -v '^ok' "$TMP/out" | head -n 20)" "$(tail -n 8 "$TMP/err")"
    fi
}

run "tcp: echo, one process per connection, 50 clients" "$OUT/tcp.wasm" echo 50
run "tcp: 1,000 concurrent clients" "$OUT/tcp.wasm" echo 1000
run "tcp: echo served while 16 processes spin on every worker" "$OUT/tcp.wasm" busy
run "tcp: peek never consumes" "$OUT/tcp.wasm" peek
run "tcp: a stream cloned and moved to another process" "$OUT/tcp.wasm" move
run "tcp: read, peek and write timeouts" "$OUT/tcp.wasm" timeouts
run "tcp: errors, IPv6, peer addresses" "$OUT/tcp.wasm" errors
run "udp: send/receive, connected or not, options, moved" "$OUT/udp_dns.wasm" udp
run "dns: localhost, literals, failures, 50 at once" "$OUT/udp_dns.wasm" dns
run "--deny net: no socket, no DNS, for children too" --deny net "$OUT/deny.wasm" denied
run "without --deny net the same calls work" "$OUT/deny.wasm" allowed

# connect timeout: a native listener with a full backlog never answers
"$OUT/peer" blackhole >"$TMP/bh" &
pids+=($!)
for _ in $(seq 50); do [ -s "$TMP/bh" ] && break; sleep 0.1; done
run "tcp: connect timeout" "$OUT/tcp.wasm" connect-timeout "$(cat "$TMP/bh")"

# traps: a bad address type, an unknown stream id
for t in bad-addr:"unsupported address type 5" bad-id:"unknown tcp stream id 12345"; do
    timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/tcp.wasm" "${t%%:*}" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc = 134 ] && grep -q "${t#*:}" "$TMP/err" && ! grep -q 'not reached' "$TMP/out"; then
        ok "trap: ${t#*:}"
    else
        bad "trap: ${t#*:} (exit $rc)" "$(cat "$TMP/err")"
    fi
done

# ---- misbehaving peers against a guest echo server -------------------------------
# The server reports each connection as it ends; a slow client must not hold
# up the others.
timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/tcp.wasm" server 5 >"$TMP/srv" 2>"$TMP/srv.err" &
srv=$!
pids+=($srv)
for _ in $(seq 100); do grep -q '^port ' "$TMP/srv" && break; sleep 0.05; done
port=$(sed -n 's/^port //p' "$TMP/srv")
if [ -z "$port" ]; then
    bad "echo server for native peers started" "$(cat "$TMP/srv.err")"
else
    timeout 20 "$OUT/peer" slowloris "$port" 3 &
    slow=$!
    t0=$(date +%s%N)
    if timeout 20 "$OUT/peer" halfclose "$port" >"$TMP/half"; then
        ms=$((($(date +%s%N) - t0) / 1000000))
        if [ $ms -lt 2500 ]; then ok "half-close: echo then EOF ($(cat "$TMP/half")), ${ms} ms beside a slowloris client"
        else bad "half-close waited for the slowloris client (${ms} ms)"; fi
    else
        bad "half-close" "$(cat "$TMP/half")"
    fi
    timeout 20 "$OUT/peer" reset "$port" || bad "reset peer ran"
    timeout 20 "$OUT/peer" neverread "$port" >/dev/null || bad "neverread peer ran"
    timeout 20 "$OUT/peer" halfclose "$port" >/dev/null || bad "a client after the others"
    wait $slow
    wait $srv
    rc=$?
    conns=$(grep -c '^conn: ' "$TMP/srv")
    if [ $rc = 0 ] && [ "$conns" = 5 ] && grep -q '^conn: 4 bytes, eof$' "$TMP/srv" &&
        grep -q '^conn: 1 bytes, eof$' "$TMP/srv" &&
        grep -Eq '^conn: [0-9]+ bytes, (read|write) error: Connection reset by peer \(os error 104\)$' "$TMP/srv" &&
        grep -Eq '^conn: [0-9]+ bytes, (read|write) error: (Connection reset by peer \(os error 104\)|Broken pipe \(os error 32\))$' "$TMP/srv" &&
        [ "$(grep -c '^conn: 4 bytes, eof$' "$TMP/srv")" = 2 ]; then
        ok "reset, half-close, slowloris and never-reading peers each end only their own process"
    else
        bad "misbehaving peers (exit $rc, $conns connections)" "$(cat "$TMP/srv")" "$(tail -n 5 "$TMP/srv.err")"
    fi
fi

# ---- the examples -------------------------------------------------------------------
# example NAME PEER-MODE: starts examples/NAME on a free port and runs a
# native client against it
example() {
    timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/$1.wasm" 0 >"$TMP/ex" 2>"$TMP/ex.err" &
    local pid=$!
    pids+=($pid)
    local port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/ex")
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -n "$port" ] && timeout 20 "$OUT/peer" "$2" "$port" >"$TMP/peer.out" 2>&1 &&
        timeout 20 "$OUT/peer" "$2" "$port" >>"$TMP/peer.out" 2>&1; then
        ok "examples/$1.c: $(head -n 1 "$TMP/peer.out"), twice"
    else
        bad "examples/$1.c" "$(cat "$TMP/ex" "$TMP/peer.out" "$TMP/ex.err")"
    fi
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
example echo_server echo
example http_server http

# ---- descriptors ------------------------------------------------------------------
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/tcp.wasm" cycles 10000 >"$TMP/cyc" 2>"$TMP/cyc.err" &
cyc=$!
pids+=($cyc)
for _ in $(seq 100); do grep -q phase1 "$TMP/cyc" && break; sleep 0.05; done
before=$(fds $cyc)
for _ in $(seq 600); do grep -q phase2 "$TMP/cyc" && break; sleep 0.05; done
after=$(fds $cyc)
wait $cyc
rc=$?
if [ $rc = 0 ] && grep -q '^ok   10000 connect' "$TMP/cyc" && [ -n "$before" ] && [ "$before" = "$after" ]; then
    ok "10,000 connect/accept/close cycles: $before descriptors before and after"
else
    bad "descriptor count over 10,000 cycles (exit $rc, $before before, $after after)" "$(cat "$TMP/cyc")"
fi

(ulimit -n 64 && timeout -k 5 "$TIMEOUT" "$LUNATIC" run "$OUT/tcp.wasm" emfile 200) >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 0 ] && grep -q '^all checks passed$' "$TMP/out"; then
    ok "ulimit -n 64: out of descriptors is an error, then works again"
else
    bad "ulimit -n exhaustion (exit $rc)" "$(cat "$TMP/out")" "$(tail -n 5 "$TMP/err")"
fi

# ---- TLS --------------------------------------------------------------------------
C=$TMP/certs
mkdir -p "$C"
mkcert() { # NAME SUBJECT SAN: a key and a certificate signed by the CA
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/$1.key" \
        -out "$C/$1.csr" -subj "$2" 2>/dev/null &&
        printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$3" >"$C/$1.ext" &&
        openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
            -out "$C/$1.pem" -days 2 -extfile "$C/$1.ext" 2>/dev/null
}
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/ca.key" \
        -out "$C/ca.pem" -days 2 -subj "/CN=lunatic test CA" 2>/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/other.key" \
        -out "$C/other.pem" -days 2 -subj "/CN=another CA" 2>/dev/null &&
    mkcert server /CN=localhost DNS:localhost && mkcert wrong /CN=lunatic.test DNS:lunatic.test; then
    run "tls: echo, wrong host, untrusted CA, bad certificates, a mute client" --dir "$C" "$OUT/tls.wasm" "$C"
else
    bad "openssl made the test certificates"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
