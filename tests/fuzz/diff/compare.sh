#!/usr/bin/env bash
# compare.sh OURS NODE - compares two transcripts of run_ours.c /
# run_node.mjs (see run_ours.c) and prints one verdict line:
#
#   same        equal line by line (text after " #" is ignored)
#   invalid     both rejected the module
#   timeout     both ran out of time (our fuel or a timeout; node's timeout)
#   stack-cut   both exhausted the call stack in the same call and agreed
#               up to that call (how deep each gets is the engine's own
#               limit: the log lines of that call and everything after it
#               are not compared)
#   differ: ... anything else, with the first differing line
#
# Exit status 0 unless the verdict is "differ".
set -u
mapfile -t a < <(sed 's/ #.*//' "$1")
mapfile -t b < <(sed 's/ #.*//' "$2")
last_a=${a[${#a[@]}-1]:-} last_b=${b[${#b[@]}-1]:-}
if [ "${a[0]:-}" = invalid ] && [ "${b[0]:-}" = invalid ]; then echo invalid; exit 0; fi
if [ "$last_a" = timeout ] && [ "$last_b" = timeout ]; then echo timeout; exit 0; fi

# cut_at_stack NAME: the index of the "call" line of the call that ended in
# "trap stack" in array NAME, or -1
cut_at_stack() {
    local -n arr=$1
    local i c=-1
    for ((i = 0; i < ${#arr[@]}; i++)); do
        case ${arr[i]} in
        "call "*) c=$i ;;
        "trap stack") echo $c; return ;;
        esac
    done
    echo -1
}
verdict=same
ca=$(cut_at_stack a) cb=$(cut_at_stack b)
if [ "$ca" -ge 0 ] && [ "$cb" -ge 0 ]; then
    a=("${a[@]:0:ca+1}") b=("${b[@]:0:cb+1}")
    verdict=stack-cut
fi
n=${#a[@]}; [ ${#b[@]} -gt "$n" ] && n=${#b[@]}
for ((i = 0; i < n; i++)); do
    if [ "${a[i]-<end>}" != "${b[i]-<end>}" ]; then
        echo "differ: line $((i + 1)): ours '${a[i]-<end>}' node '${b[i]-<end>}'"
        exit 1
    fi
done
echo $verdict
