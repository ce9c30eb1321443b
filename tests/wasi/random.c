/* random.c - random bytes: right lengths, not constant, not repeated. */
#include <unistd.h>

#include "common.h"

int main(void)
{
    unsigned char a[256], b[256], big[257];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK(getentropy(a, sizeof a) == 0);
    CHECK(getentropy(b, sizeof b) == 0);
    int zeros = 0;
    for (int i = 0; i < 256; i++)
        zeros += a[i] == 0;
    printf("two draws differ: %d\n", memcmp(a, b, sizeof a) != 0);
    printf("not all zero: %d\n", zeros < 32);
    errno = 0;
    SHOW("getentropy too long", getentropy(big, sizeof big) == 0);
    return 0;
}
