#!/usr/bin/env bash
# The layering rule: each layer of src/ includes only its own headers and
# those of the layers below it. From the bottom:
#   wasm (the engine) < wasi < rt (the process runtime) < dist (the
#   distribution layer: nodes, connections, signals across nodes) < api
#   (lunatic::* host modules) < obs (observability: the Prometheus exporter,
#   process snapshots as JSON and tables, the dashboard's HTTP server) <
#   embed (include/lunatic.h, the embedding API) < cli
# dist calls rt, and rt reaches it only through the hooks of rt/remote.h;
# api (lunatic::distributed) and embed (lunatic_node_start) call dist.
# obs reads the runtime (its metrics store and snapshots) and is offered
# to embedders and the CLI through the embedding API, so it sits between
# the runtime's layers and embed; it needs nothing from api but may use it.
# One check per source file; ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
rank() {
    case $1 in
    wasm) echo 0 ;; wasi) echo 1 ;; rt) echo 2 ;; dist) echo 3 ;; api) echo 4 ;; obs) echo 5 ;;
    embed | lunatic.h) echo 6 ;; cli) echo 7 ;; *) echo 99 ;;
    esac
}
pass=0; fail=0
for f in src/*/*.[ch]; do
    layer=${f#src/}; layer=${layer%%/*}
    mine=$(rank "$layer")
    bad=""
    while read -r inc; do
        dir=${inc%%/*}
        [ "$dir" = "$inc" ] && dir=$inc   # a header without a directory
        case $inc in lunatic.h) dir=lunatic.h ;; */*) ;; *) continue ;; esac
        r=$(rank "$dir")
        [ "$r" -gt "$mine" ] && bad="$bad $inc"
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
    if [ -n "$bad" ]; then
        echo "FAIL $f ($layer) includes a higher layer:$bad"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done
echo "$pass passed, $fail failed"
