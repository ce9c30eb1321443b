#!/bin/sh
# Installs what building and testing lunatic needs on a fresh Debian 12
# machine (run as root). Safe to run again.
set -e
export DEBIAN_FRONTEND=noninteractive
# libclang-rt-14-dev: clang's sanitizer runtimes (tests/tsan.sh builds with
# clang -fsanitize=thread; clang only recommends the package). nodejs: V8,
# the reference tests/t-fuzz-diff.sh compares the engine with.
pkgs="build-essential clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev wabt libjansson-dev libssl-dev openssl libsqlite3-dev nodejs"
# The observability tests (tests/t-obs.sh, t-dashboard.sh): curl and python3
# as clients, promtool (package prometheus) to validate /metrics, and a real
# browser for the dashboard.
pkgs="$pkgs curl python3 prometheus chromium"
# The distribution layer and its tests (tests/t-dist.sh): erlang-dev for
# erl_interface (ei), erlang-base and erlang-ssl for epmd and the erl nodes
# the cluster tests talk to (plain and TLS).
pkgs="$pkgs erlang-dev erlang-base erlang-ssl"
# Benchmarks compare against these peers; pass --bench to install them too.
[ "${1:-}" = "--bench" ] && pkgs="$pkgs erlang-base hyperfine wrk"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    apt-get install -y -qq $missing >/dev/null
fi
