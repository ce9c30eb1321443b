/* stdio.c - copies stdin to stdout, reports the byte count on stderr and
 * exits with argv[1] (default 0). */
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        CHECK(write(1, buf, (size_t)n) == n);
        total += n;
    }
    CHECK(n == 0);
    fprintf(stderr, "copied %ld bytes\n", total);
    return argc > 1 ? atoi(argv[1]) : 0;
}
