/* alloc.c - allocates (and touches) argv[1] MiB one MiB at a time;
 * prints how many it got. Under `lunatic run --max-memory` the limit
 * stops it. */
#include "common.h"

int main(int argc, char **argv)
{
    int want = argc > 1 ? atoi(argv[1]) : 1, got = 0;
    for (; got < want; got++) {
        char *volatile p = malloc(1 << 20);
        if (!p)
            break;
        memset(p, 1, 1 << 20);
    }
    printf("allocated %d of %d MiB\n", got, want);
    return 0;
}
