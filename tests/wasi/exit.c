/* exit.c - exits with argv[1] after printing to both streams; "abort"
 * calls abort() (a trap under WASI), "trap" executes unreachable. */
#include "common.h"

static volatile int zero;

__attribute__((noinline)) static int depth(int n)
{
    if (n == zero)
        __builtin_trap();
    return n > 0 ? depth(n - 1) + 1 : 0;
}

int main(int argc, char **argv)
{
    printf("to stdout\n");
    fprintf(stderr, "to stderr\n");
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "trap"))
        return depth(3);
    if (argc > 1 && !strcmp(argv[1], "return"))
        return 7;
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
