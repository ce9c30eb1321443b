/* args.c - command line arguments and environment variables. */
#include "common.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    printf("argc: %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: '%s'\n", i, argv[i]);
    const char *v = getenv("WASI_T_ONE");
    printf("WASI_T_ONE: %s\n", v ? v : "(unset)");
    v = getenv("WASI_T_UNSET");
    printf("WASI_T_UNSET: %s\n", v ? v : "(unset)");
    char *mine[64];
    int n = 0;
    for (char **e = environ; *e && n < 64; e++)
        if (!strncmp(*e, "WASI_T_", 7))
            mine[n++] = *e;
    qsort(mine, (size_t)n, sizeof mine[0], cmp);
    for (int i = 0; i < n; i++)
        printf("env: %s\n", mine[i]);
    return 0;
}
