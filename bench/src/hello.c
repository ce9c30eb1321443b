/* hello.c - a trivial program; run.sh times it to measure each runner's
 * fixed start-up cost. Not part of the benchmark geomean. */
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
