# gen.awk - writes a C program of N small, distinct functions (awk -v N=400)
# whose wasm build has about 70 KB of code, the size of a typical Rust
# service's own code; main calls them all and prints a checksum.
BEGIN {
    print "#include <stdio.h>"
    print "#include <stdint.h>"
    for (i = 0; i < N; i++) {
        printf "__attribute__((noinline)) uint32_t f%d(uint32_t x) {\n", i
        printf "    uint32_t a = x * %d + %d, b = a ^ (a >> %d);\n", 2 * i + 3, i * 7 + 1, i % 13 + 1
        printf "    for (int k = 0; k < %d; k++) { b = b * 31 + (a >> (k & 7)); if (b & %d) a += b; else a ^= b << 3; }\n", i % 5 + 2, i + 1
        printf "    switch (b %% 5) { case 0: return a + %d; case 1: return b - a; case 2: return a * b + %d; case 3: return a ^ %d; default: return b; }\n", i, i * 3, i * 11
        print "}"
    }
    print "int main(void) {"
    print "    uint32_t s = 1;"
    for (i = 0; i < N; i++)
        printf "    s = f%d(s);\n", i
    print "    printf(\"checksum %u\\n\", s);"
    print "    return 0;"
    print "}"
}
