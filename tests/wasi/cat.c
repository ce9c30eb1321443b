/* cat.c - prints the files named on the command line (through --dir
 * preopens when they are absolute); exits 1 on the first failure. */
#include "common.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            printf("%s: cannot open\n", argv[i]);
            return 1;
        }
        int c;
        while ((c = fgetc(f)) != EOF)
            putchar(c);
        fclose(f);
    }
    return 0;
}
