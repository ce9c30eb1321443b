/* fib: naive doubly recursive Fibonacci. Measures call/return overhead. */
#include <stdio.h>
#include <stdint.h>

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(void)
{
    volatile uint32_t n = 37;   /* volatile: keep the compiler from folding it */
    uint32_t r = fib(n);
    printf("fib(%u) = %u\n", (unsigned)n, (unsigned)r);
    return 0;
}
