# build.sh - sourced by run.sh and tests/t-fuzz-diff.sh, with root (the
# repository) and b (the build directory) set: builds $b/fuzz-diff-ours
# from run_ours.c and $b/liblunatic.a (with ASan+UBSan when that archive
# has them) unless it is up to date, and sets runner to its path.
# Returns 1 when it cannot.
runner=$b/fuzz-diff-ours
if [ ! -f "$b/liblunatic.a" ]; then
    echo "no $b/liblunatic.a: run make first" >&2
    return 1
fi
if [ ! -x "$runner" ] || [ "$root/tests/fuzz/diff/run_ours.c" -nt "$runner" ] ||
        [ "$b/liblunatic.a" -nt "$runner" ]; then
    _flags=(-std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$root/src" -D_GNU_SOURCE)
    if nm "$b/liblunatic.a" 2>/dev/null | grep -q '__asan_report'; then
        _flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    fi
    "${CC:-cc}" "${_flags[@]}" -o "$runner" "$root/tests/fuzz/diff/run_ours.c" \
        "$b/liblunatic.a" -lm -lpthread || return 1
fi
