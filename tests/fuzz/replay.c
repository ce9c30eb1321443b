/*
 * replay.c - runs the fuzz harness (harness.h) over the files named on the
 * command line, one at a time, without libFuzzer. Used by
 * tests/t-fuzz-regress.sh to replay the regression inputs and the seed
 * corpus; each file is run in-process, so the script runs one file per
 * invocation to attribute a crash to its input.
 */
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0, k;
        uint8_t *buf = malloc(cap);
        while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
            n += k;
            if (n == cap) {
                uint8_t *nb = realloc(buf, cap *= 2);
                if (!nb)
                    free(buf);
                buf = nb;
            }
        }
        fclose(f);
        if (!buf) {
            fprintf(stderr, "%s: out of memory\n", argv[i]);
            return 2;
        }
        fuzz_one(buf, n);
        free(buf);
    }
    return 0;
}
