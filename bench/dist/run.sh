#!/usr/bin/env bash
# bench/dist/run.sh - cross-node benchmarks, lunatic<->lunatic against
# Erlang<->Erlang in the same run, on loopback with a private EPMD: round
# trip of a 64-byte message, throughput of 64-byte messages one way, and
# spawn on a remote node (each waiting for the new pid). Both sides run the
# same shapes (bench/dist/dist.c, bench/dist/dist.erl); each node is its
# own OS process. Best of RUNS runs per shape and runtime, then a table
# with ratios (> 1: ours better).
#
# Environment: LUNATIC (default build/lunatic), RUNS (3), RTT_N (20000),
# TPUT_N (200000), SPAWN_N (2000), TLS=1 for TLS distribution on both
# sides, OUT (build/bench/dist).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
LUNATIC=${LUNATIC:-build/lunatic}
RUNS=${RUNS:-3}
RTT_N=${RTT_N:-20000}
TPUT_N=${TPUT_N:-200000}
SPAWN_N=${SPAWN_N:-2000}
OUT=${OUT:-build/bench/dist}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

scripts/wasm-cc -O2 -Wall -Wextra -I sdk -o "$OUT/dist.wasm" bench/dist/dist.c || exit 2
erlc -o "$OUT" bench/dist/dist.erl || exit 2

free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
    done
}
export ERL_EPMD_PORT=$(free_port)
epmd -address 127.0.0.1 -port "$ERL_EPMD_PORT" &
PIDS+=($!)
sleep 0.3
COOKIE=bench$RANDOM

LTLS=() ETLS=()
if [ "${TLS:-}" = 1 ]; then
    T=$OUT/tls
    mkdir -p "$T"
    (cd "$T" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout n.key -out n.csr -subj /CN=n &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext &&
        openssl x509 -req -in n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out n.pem -days 2 -extfile ext) >/dev/null 2>&1
    LTLS=(--tls-cert "$T/n.pem" --tls-key "$T/n.key" --tls-ca "$T/ca.pem")
    cat >"$T/dist.conf" <<EOF
[{server, [{certfile, "$T/n.pem"}, {keyfile, "$T/n.key"}, {cacertfile, "$T/ca.pem"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]},
 {client, [{certfile, "$T/n.pem"}, {keyfile, "$T/n.key"}, {cacertfile, "$T/ca.pem"}, {verify, verify_peer}]}].
EOF
    ETLS=(-proto_dist inet_tls -ssl_dist_optfile "$T/dist.conf")
fi

# metric FILE NAME
metric() { awk -v m="$2" '$1 == m { print $2 }' "$1" | tail -n 1; }
best() { # min|max values...
    local how=$1
    shift
    printf '%s\n' "$@" | grep -v '^$' | sort -g | { if [ "$how" = min ]; then head -n 1; else tail -n 1; fi; }
}

ours() { # shape n -> stdout of the guest
    "$ROOT/$LUNATIC" node --name b@localhost --cookie "$COOKIE" --tag role=b "${LTLS[@]}" \
        >"$OUT/logs/b.log" 2>&1 &
    local bp=$!
    PIDS+=($bp)
    sleep 0.3
    timeout 300 "$ROOT/$LUNATIC" run --name a@localhost --cookie "$COOKIE" --peer b@localhost \
        "${LTLS[@]}" "$OUT/dist.wasm" "$1" "$2"
    kill $bp
    wait $bp 2>/dev/null
}

erlang() { # shape n
    local flags=(-noshell -pa "$OUT" -setcookie "$COOKIE" -start_epmd false
                 -kernel inet_dist_use_interface '{127,0,0,1}' "${ETLS[@]}")
    erl "${flags[@]}" -sname e2@localhost >"$OUT/logs/e2.log" 2>&1 &
    local ep=$!
    PIDS+=($ep)
    sleep 1
    timeout 300 erl "${flags[@]}" -sname e1@localhost -run dist main "$1" "$2" e2@localhost
    kill $ep
    wait $ep 2>/dev/null
}

declare -A R
for shape in rtt tput spawn; do
    case $shape in rtt) n=$RTT_N m=rtt_us how=min ;; tput) n=$TPUT_N m=tput_mps how=max ;;
                   spawn) n=$SPAWN_N m=spawn_us how=min ;; esac
    o=() e=()
    for r in $(seq "$RUNS"); do
        ours $shape $n >"$OUT/logs/ours-$shape-$r" 2>&1
        o+=("$(metric "$OUT/logs/ours-$shape-$r" $m)")
        erlang $shape $n >"$OUT/logs/erl-$shape-$r" 2>&1
        e+=("$(metric "$OUT/logs/erl-$shape-$r" $m)")
        echo "$shape run $r: ours ${o[-1]:-?} erlang ${e[-1]:-?} ($m)" >&2
    done
    R[$shape.ours]=$(best $how "${o[@]}")
    R[$shape.erl]=$(best $how "${e[@]}")
done

ratio() { # lower-is-better? ours erl
    awk -v l="$1" -v o="$2" -v e="$3" 'BEGIN { if (o == "" || e == "" || o == 0 || e == 0) print "-";
        else printf "%.2f", l == 1 ? e / o : o / e }'
}
echo
echo "| shape (loopback${TLS:+, TLS}) | Erlang<->Erlang | lunatic<->lunatic | ratio (>1: ours better) |"
echo "|---|---|---|---|"
echo "| round trip, 64-byte message | ${R[rtt.erl]} µs | ${R[rtt.ours]} µs | $(ratio 1 "${R[rtt.ours]}" "${R[rtt.erl]}") |"
echo "| throughput, 64-byte messages | ${R[tput.erl]} msg/s | ${R[tput.ours]} msg/s | $(ratio 0 "${R[tput.ours]}" "${R[tput.erl]}") |"
echo "| spawn on the remote node | ${R[spawn.erl]} µs | ${R[spawn.ours]} µs | $(ratio 1 "${R[spawn.ours]}" "${R[spawn.erl]}") |"
echo "(best of $RUNS runs each; $(date -u '+%Y-%m-%d %H:%M UTC'))"
