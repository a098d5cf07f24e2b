/* intloop: tight integer loops: a sieve of Eratosthenes, Collatz chain lengths and
 * bit counting. Usage: intloop [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N 2000000u

static uint32_t sieve(uint8_t *composite, uint32_t n) {
    memset(composite, 0, n);
    uint32_t count = 0, sum = 0;
    for (uint32_t i = 2; i < n; i++) {
        if (composite[i]) continue;
        count++;
        sum += i;
        for (uint32_t j = i * 2; j < n; j += i) composite[j] = 1;
    }
    return count * 2654435761u ^ sum;
}

static uint32_t collatz(uint32_t from, uint32_t to) {
    uint32_t total = 0, longest = 0, arg = 0;
    for (uint32_t start = from; start < to; start++) {
        uint64_t x = start;
        uint32_t steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            steps++;
        }
        total += steps;
        if (steps > longest) { longest = steps; arg = start; }
    }
    return total ^ (longest << 20) ^ arg;
}

/* Counts bits two ways: the builtin (i32.popcnt in wasm) and Kernighan's loop. */
static uint32_t bits(uint32_t seed, uint32_t n) {
    uint32_t x = seed, a = 0, b = 0;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        a += (uint32_t)__builtin_popcount(x);
        uint32_t y = x & 0x00ff00ffu;
        while (y) { y &= y - 1; b++; }
        a += (uint32_t)__builtin_ctz(x | 0x80000000u) + (uint32_t)__builtin_clz(x | 1u);
    }
    return a * 31u + b;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 7; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint8_t *composite = malloc(SIEVE_N);
    if (!composite) return 1;
    uint32_t acc = 0;
    for (int r = 0; r < scale; r++) {
        acc = acc * 31u + sieve(composite, SIEVE_N - (uint32_t)r);
        acc = acc * 31u + collatz(1 + (uint32_t)r * 1000u, 300000u + (uint32_t)r * 1000u);
        acc = acc * 31u + bits(0x9e3779b9u + (uint32_t)r, 3000000u);
    }
    free(composite);
    printf("intloop %u\n", acc);
    return 0;
}
