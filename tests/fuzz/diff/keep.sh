#!/usr/bin/env bash
# keep.sh IN.wasm DIR/NAME [SET] - keeps a module for tests/t-fuzz-diff.sh:
# copies it to DIR/NAME.wasm and writes V8's transcript (run_node.mjs,
# comments dropped) as DIR/NAME.expected, the behaviour our engine must
# show; with an argument set (run_ours.c's -a) other than 0, also
# DIR/NAME.args ("-a SET"), which the replay passes to both runners. Says
# whether ours ($BUILD/fuzz-diff-ours) agrees now (for a find being fixed,
# it does not until the fix).
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) b=$BUILD ;; *) b=$root/$BUILD ;; esac
in=$1 out=$2 set=${3:-0}
. "$root/tests/fuzz/diff/build.sh" || exit 2
mkdir -p "$(dirname "$out")"
cp "$in" "$out.wasm"
args=()
rm -f "$out.args"
if [ "$set" != 0 ]; then
    args=(-a "$set")
    echo "-a $set" >"$out.args"
fi
node "$root/tests/fuzz/diff/run_node.mjs" "${args[@]}" "$out.wasm" | sed 's/ #.*//' >"$out.expected" || exit 1
if "$runner" "${args[@]}" "$out.wasm" | sed 's/ #.*//' | cmp -s - "$out.expected"; then
    echo "$out: ours agrees ($(wc -l <"$out.expected") lines)"
else
    echo "$out: ours DIFFERS:"
    "$runner" "${args[@]}" "$out.wasm" | sed 's/ #.*//' | diff "$out.expected" - | head -n 10
fi
