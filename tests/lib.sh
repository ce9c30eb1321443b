# lib.sh - sourced by the test scripts: moves to the repository root (ROOT),
# names the build directory (B, from BUILD, default build) and the runtime
# in it (LUNATIC), and counts results with ok/bad; a script ends by printing
# "$pass passed, $fail failed", the line tests/run-all.sh sums.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
LUNATIC=$B/lunatic
pass=0 fail=0

# ok NAME / bad NAME [DETAIL...]: one passed or failed check
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '     %s\n' "$@"; }
