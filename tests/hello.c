/* hello.c - the README's example: `lunatic run hello.wasm`.
 * Build: clang --target=wasm32-wasi --sysroot=/usr -O2 -o hello.wasm hello.c */
#include <stdio.h>

int main(void)
{
    printf("Hello, world!\n");
    return 0;
}
