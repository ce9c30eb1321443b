/* matmul: dense double-precision matrix multiply C = A*B (i-k-j loop order),
 * repeated with C fed back into A. Floating-point loads, multiplies, adds. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "common.h"

#define N 320
#define ROUNDS 6

int main(void)
{
    double *a = malloc(sizeof(double) * N * N);
    double *b = malloc(sizeof(double) * N * N);
    double *c = malloc(sizeof(double) * N * N);
    bench_seed(42);
    for (int i = 0; i < N * N; i++) {
        a[i] = (double)(bench_rand32() % 2001) / 1000.0 - 1.0;
        b[i] = (double)(bench_rand32() % 2001) / 1000.0 - 1.0;
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N * N; i++)
            c[i] = 0.0;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double aik = a[i * N + k];
                const double *brow = b + k * N;
                double *crow = c + i * N;
                for (int j = 0; j < N; j++)
                    crow[j] += aik * brow[j];
            }
        /* normalise C into A so values stay bounded */
        double mx = 0.0;
        for (int i = 0; i < N * N; i++) {
            double v = c[i] < 0 ? -c[i] : c[i];
            if (v > mx)
                mx = v;
        }
        for (int i = 0; i < N * N; i++)
            a[i] = c[i] / mx;
    }
    double tr = 0.0, sum = 0.0;
    for (int i = 0; i < N; i++)
        tr += a[i * N + i];
    for (int i = 0; i < N * N; i++)
        sum += a[i];
    printf("matmul %dx%d: trace=%.9f sum=%.9f\n", N, N, tr, sum);
    free(a); free(b); free(c);
    return 0;
}
