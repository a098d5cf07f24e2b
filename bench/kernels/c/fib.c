/* fib: call-heavy recursion (doubly recursive Fibonacci and Takeuchi's function).
 * Usage: fib [SCALE]   prints one checksum line; work grows linearly with SCALE. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static int32_t tak(int32_t x, int32_t y, int32_t z) {
    if (y >= x) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 200; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint32_t acc = 0;
    for (int r = 0; r < scale; r++) {
        /* the argument depends on the round so nothing can be hoisted out of the loop */
        acc = acc * 31u + fib(30 + (uint32_t)(r & 1));
        acc = acc * 31u + (uint32_t)tak(18 + (r & 1), 12, 6);
    }
    printf("fib %u\n", acc);
    return 0;
}
