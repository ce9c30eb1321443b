/* hello.c - the README's example: a WASI program run by `lunatic run`.
 * It greets, echoes its arguments and reads the clock, to show that a C
 * program built for wasm32-wasi behaves as it does natively. */
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
    printf("Hello, world!\n");
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("monotonic clock is running: %s\n", ts.tv_sec || ts.tv_nsec ? "yes" : "no");
    return 0;
}
