/* matmul: double-precision matrix multiply, C = A * B, repeated with B <- C scaled.
 * Usage: matmul [SCALE]; prints one checksum line (a hash of the result's bits and the
 * trace to 6 decimals; IEEE arithmetic in a fixed order gives the same bits everywhere). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 120

static void multiply(const double *a, const double *b, double *c) {
    memset(c, 0, sizeof(double) * N * N);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < N; k++) {
            double aik = a[i * N + k];
            for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
        }
    }
}

static uint64_t bits_of(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 155; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N),
           *c = malloc(sizeof(double) * N * N);
    if (!a || !b || !c) return 1;
    uint32_t x = 88172645u;
    for (int i = 0; i < N * N; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        a[i] = (double)(int32_t)(x % 2001u - 1000u) / 1024.0;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        b[i] = (double)(int32_t)(x % 2001u - 1000u) / 1024.0;
    }
    uint64_t h = 1469598103934665603ull;
    double trace = 0;
    for (int r = 0; r < scale * 10; r++) {
        multiply(a, b, c);
        /* keep the values bounded: B <- C / (max |c|) */
        double m = 0;
        for (int i = 0; i < N * N; i++) {
            double v = c[i] < 0 ? -c[i] : c[i];
            if (v > m) m = v;
        }
        for (int i = 0; i < N * N; i++) b[i] = c[i] / m;
        h = (h ^ bits_of(c[(r * 7919) % (N * N)])) * 1099511628211ull;
    }
    for (int i = 0; i < N; i++) trace += c[i * N + i];
    for (int i = 0; i < N * N; i++) h = (h ^ bits_of(c[i])) * 1099511628211ull;
    printf("matmul %016llx %.6f\n", (unsigned long long)h, trace);
    free(a); free(b); free(c);
    return 0;
}
