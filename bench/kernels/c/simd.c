/* simd: array kernels written with wasm_simd128.h intrinsics when built with -msimd128
 * (__wasm_simd128__ defined), in plain C otherwise, with the same results on both paths:
 * an i32 dot product, an f32 dot product over four lanes, u8 saturating adds, i16 clamping
 * and a byte swap of 32-bit words. Usage: simd [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define N 4096 /* elements per array; a multiple of 16 */

static int32_t ia[N], ib[N];
static float fa[N], fb[N];
static uint8_t ua[N], ub[N], uc[N];
static int16_t sa[N], sc[N];
static uint32_t wa[N], wc[N];

#ifdef __wasm_simd128__
#define PATH "simd128"

static uint32_t dot_i32(void) {
    v128_t acc = wasm_i32x4_splat(0);
    for (int i = 0; i < N; i += 4)
        acc = wasm_i32x4_add(acc, wasm_i32x4_mul(wasm_v128_load(ia + i), wasm_v128_load(ib + i)));
    return (uint32_t)(wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
                      wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3));
}

static float dot_f32(void) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < N; i += 4)
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(fa + i), wasm_v128_load(fb + i)));
    return (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
           (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
}

static uint32_t add_sat_u8(void) {
    v128_t sum = wasm_i32x4_splat(0);
    for (int i = 0; i < N; i += 16) {
        v128_t c = wasm_u8x16_add_sat(wasm_v128_load(ua + i), wasm_v128_load(ub + i));
        wasm_v128_store(uc + i, c);
        sum = wasm_i32x4_add(sum, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(c)));
    }
    return wasm_i32x4_extract_lane(sum, 0) + wasm_i32x4_extract_lane(sum, 1) +
           wasm_i32x4_extract_lane(sum, 2) + wasm_i32x4_extract_lane(sum, 3);
}

static void clamp_i16(int16_t lo, int16_t hi) {
    v128_t vlo = wasm_i16x8_splat(lo), vhi = wasm_i16x8_splat(hi);
    for (int i = 0; i < N; i += 8)
        wasm_v128_store(sc + i, wasm_i16x8_min(wasm_i16x8_max(wasm_v128_load(sa + i), vlo), vhi));
}

static void bswap32(void) {
    for (int i = 0; i < N; i += 4)
        wasm_v128_store(wc + i, wasm_i8x16_shuffle(wasm_v128_load(wa + i), wasm_v128_load(wa + i),
                                                   3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
}

#else
#define PATH "scalar"

static uint32_t dot_i32(void) {
    uint32_t acc = 0;
    for (int i = 0; i < N; i++) acc += (uint32_t)ia[i] * (uint32_t)ib[i];
    return acc;
}

static float dot_f32(void) { /* four partial sums, lane by lane like the SIMD path */
    float acc[4] = {0, 0, 0, 0};
    for (int i = 0; i < N; i += 4)
        for (int k = 0; k < 4; k++) acc[k] = acc[k] + fa[i + k] * fb[i + k];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

static uint32_t add_sat_u8(void) {
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) {
        uint32_t c = (uint32_t)ua[i] + ub[i];
        uc[i] = (uint8_t)(c > 255 ? 255 : c);
        sum += uc[i];
    }
    return sum;
}

static void clamp_i16(int16_t lo, int16_t hi) {
    for (int i = 0; i < N; i++) {
        int16_t v = sa[i] < lo ? lo : sa[i];
        sc[i] = v > hi ? hi : v;
    }
}

static void bswap32(void) {
    for (int i = 0; i < N; i++) {
        uint32_t v = wa[i];
        wc[i] = v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
    }
}
#endif

static uint32_t rng(uint32_t *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 140; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint32_t x = 0x01234567u;
    for (int i = 0; i < N; i++) {
        ia[i] = (int32_t)rng(&x); ib[i] = (int32_t)rng(&x);
        fa[i] = (float)(int32_t)(rng(&x) % 2001u - 1000u) / 64.0f;
        fb[i] = (float)(int32_t)(rng(&x) % 2001u - 1000u) / 128.0f;
        ua[i] = (uint8_t)rng(&x); ub[i] = (uint8_t)rng(&x);
        sa[i] = (int16_t)rng(&x); wa[i] = rng(&x);
    }
    uint32_t acc = 0;
    for (int r = 0; r < scale * 1000; r++) {
        acc = acc * 31u + dot_i32();
        float f = dot_f32();
        uint32_t fbits;
        memcpy(&fbits, &f, 4);
        acc = acc * 31u + fbits;
        acc = acc * 31u + add_sat_u8();
        clamp_i16((int16_t)(-1000 - (r & 1023)), (int16_t)(1000 + (r & 511)));
        bswap32();
        /* feed results back so every round's input differs */
        int k = (int)(acc % N);
        ia[k] ^= (int32_t)acc; fa[k] = fa[(k + 1) % N]; ua[k] = uc[(k + 7) % N];
        sa[k] = (int16_t)(sc[k] + sc[(k + 3) % N]); wa[k] = wc[(k + 5) % N] ^ acc;
        acc += (uint32_t)sc[r % N] + wc[(r * 3) % N];
    }
    printf("simd %u\n", acc);
    (void)PATH;
    return 0;
}
