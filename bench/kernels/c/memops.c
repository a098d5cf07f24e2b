/* memops: memcpy/memmove/memset-heavy buffer shuffling with lengths from 1 byte to 64 KiB.
 * Built with -mbulk-memory, clang turns these calls into memory.copy / memory.fill.
 * Usage: memops [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF (1u << 20)
#define MAXLEN (1u << 16)

static uint32_t rng(uint32_t *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }

/* a length from 1 to MAXLEN, spread over the powers of two */
static uint32_t length(uint32_t *x) {
    uint32_t r = rng(x);
    return 1 + (r >> 5) % (2u << (r % 16));
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 52; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint8_t *buf = malloc(BUF), *aux = malloc(BUF), *tmp = malloc(MAXLEN);
    if (!buf || !aux || !tmp) return 1;
    uint32_t x = 0x6a09e667u;
    for (uint32_t i = 0; i < BUF; i++) { buf[i] = (uint8_t)(i * 7 + (i >> 9)); aux[i] = (uint8_t)(i >> 3); }
    uint32_t acc = 0;
    for (int r = 0; r < scale * 100000; r++) {
        uint32_t len = length(&x);
        uint32_t a = rng(&x) % (BUF - len), b = rng(&x) % (BUF - len);
        switch (rng(&x) % 6) {
        case 0: memmove(buf + a, buf + b, len); break;                 /* overlapping, either direction */
        case 1: memcpy(aux + a, buf + b, len); break;
        case 2: memcpy(buf + a, aux + b, len); break;
        case 3: memset(buf + a, (int)(r & 0xff), len); break;
        case 4: /* swap two blocks through tmp */
            if (len <= MAXLEN && (a + len <= b || b + len <= a)) {
                memcpy(tmp, buf + a, len);
                memmove(buf + a, buf + b, len);
                memcpy(buf + b, tmp, len);
            }
            break;
        default: { /* rotate a block left by k bytes with three moves */
            uint32_t k = len / 3 + 1;
            if (k < len) {
                memcpy(tmp, aux + a, k);
                memmove(aux + a, aux + a + k, len - k);
                memcpy(aux + a + len - k, tmp, k);
            }
        }
        }
        buf[a] ^= (uint8_t)r;
        acc = acc * 31u + buf[b] + aux[(a + b) % BUF];
    }
    uint32_t h1 = 2166136261u, h2 = 2166136261u;
    for (uint32_t i = 0; i < BUF; i += 4) {
        uint32_t w1, w2;
        memcpy(&w1, buf + i, 4);
        memcpy(&w2, aux + i, 4);
        h1 = (h1 ^ w1) * 16777619u;
        h2 = (h2 ^ w2) * 16777619u;
    }
    printf("memops %u %08x %08x\n", acc, h1, h2);
    free(buf); free(aux); free(tmp);
    return 0;
}
