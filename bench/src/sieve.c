/* sieve: sieve of Eratosthenes over a byte array, repeated. Memory loads and
 * stores in tight loops with a data-dependent stride. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 4000000
#define ROUNDS 12

int main(void)
{
    uint8_t *composite = malloc(LIMIT + 1);
    uint32_t count = 0, last = 0;
    uint64_t sum = 0;
    for (int r = 0; r < ROUNDS; r++) {
        memset(composite, 0, LIMIT + 1);
        count = 0;
        sum = 0;
        for (uint32_t i = 2; i <= LIMIT; i++) {
            if (composite[i])
                continue;
            count++;
            sum += i;
            last = i;
            for (uint64_t j = (uint64_t)i * i; j <= LIMIT; j += i)
                composite[j] = 1;
        }
    }
    printf("primes<=%d: %u sum=%llu last=%u\n", LIMIT, (unsigned)count,
           (unsigned long long)sum, (unsigned)last);
    free(composite);
    return 0;
}
