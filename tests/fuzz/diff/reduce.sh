#!/usr/bin/env bash
# reduce.sh IN.wasm OUT.wasm [OURS-OPTIONS [NODE-OPTIONS]] - shrinks a
# module on which our engine and node disagree with binaryen's wasm-reduce,
# keeping only reductions after which both still accept it and disagree
# (compare.sh says "differ"). Our side is $BUILD/fuzz-diff-ours (built by
# run.sh), with OURS-OPTIONS (e.g. "-a 2 -d") and node's with
# NODE-OPTIONS (e.g. "-a 2") as the find's why.txt gives them.
set -u
root=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) b=$BUILD ;; *) b=$root/$BUILD ;; esac
in=$1 out=$2 opts=${3:-} nopts=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/test.sh" <<EOS
#!/usr/bin/env bash
# prints "differ" (exit 1) while the two engines disagree on t.wasm
cd "$work"
timeout 20 "$b/fuzz-diff-ours" $opts t.wasm >o.txt 2>/dev/null || echo timeout >>o.txt
timeout 20 node "$root/tests/fuzz/diff/run_node.mjs" $nopts t.wasm >n.txt 2>/dev/null || echo timeout >>n.txt
# a module that one side rejects is another find: keep both valid
if grep -q '^invalid' o.txt n.txt; then echo invalid; exit 0; fi
if bash "$root/tests/fuzz/diff/compare.sh" o.txt n.txt >/dev/null; then echo agree; exit 0; fi
echo differ; exit 1
EOS
chmod +x "$work/test.sh"
cp "$in" "$work/t.wasm"
if "$work/test.sh" >/dev/null; then echo "they agree on $in" >&2; exit 1; fi
# what run.sh allows (reference types included: a module without them
# stays without); wasm-reduce's default, --enable-all, would let
# reductions bring in features we do not support
feats="--enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
       --enable-bulk-memory --enable-multivalue --enable-reference-types"
(cd "$work" && wasm-reduce "$in" "--command=$work/test.sh" -t t.wasm -w w.wasm \
    -b "$(dirname "$(command -v wasm-opt)")" -ef "$(echo $feats)" >reduce.log 2>&1) || { tail -n 20 "$work/reduce.log" >&2; exit 1; }
cp "$work/w.wasm" "$out"
ls -l "$in" "$out"
