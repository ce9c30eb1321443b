#!/usr/bin/env bash
# t-dashboard.sh - the dashboard in a real browser: `lunatic run --dashboard
# 127.0.0.1:0` runs tests/obs/guest.c, and tests/obs/dashboard.py drives
# Debian's chromium (headless, through the DevTools protocol on a pipe) on
# its page: the rendered table shows the named processes in their states,
# clicking shows links and monitors, sorting and filtering work, and the
# page follows processes that exit. Needs chromium and python3
# (scripts/setup.sh installs them). Last line: "N passed, M failed".
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

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in python3 "$CHROMIUM"; do
    command -v "$tool" >/dev/null || { bad "$tool is missing (sh scripts/setup.sh)"; echo "$pass passed, $fail failed"; exit 1; }
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

mkfifo "$TMP/in"
"$LUNATIC" run --dashboard 127.0.0.1:0 "$GUEST" 5 <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
LPID=$!
exec 3>"$TMP/in"
for ((i = 0; i < 300; i++)); do grep -q '^ready' "$TMP/out" && break; sleep 0.05; done
DASH=$(sed -n 's|^lunatic: dashboard at http://\([^/]*\)/$|\1|p' "$TMP/err")
if [ -z "$DASH" ] || ! grep -q '^ready' "$TMP/out"; then
    bad "the guest started with a dashboard" "$(head -c 500 "$TMP/err")"
else
    CHROMIUM=$CHROMIUM timeout -k 5 90 python3 tests/obs/dashboard.py "http://$DASH/" "$TMP/in" "$TMP/out" >"$TMP/py.out" 2>&1
    while read -r line; do
        case $line in
            ok\ \ \ *) ok "${line#ok   }" ;;
            FAIL*) bad "${line#FAIL }" ;;
        esac
    done <"$TMP/py.out"
    grep -qE '^[0-9]+ passed, [0-9]+ failed' "$TMP/py.out" || bad "dashboard.py ran to its end" "$(tail -n 5 "$TMP/py.out")"
fi
echo quit >&3
exec 3>&-
for ((i = 0; i < 200; i++)); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$LPID" 2>/dev/null && { bad "lunatic ended after quit"; kill -9 "$LPID"; }
wait "$LPID"
st=$?
LPID=""
if [ $st = 0 ]; then ok "the guest ended normally"; else bad "the guest ended normally" "exit $st"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
