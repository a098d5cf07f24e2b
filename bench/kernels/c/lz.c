/* lz: an LZ77-style compressor (hash chains of 4-byte prefixes, greedy longest match) and
 * its decompressor, round-tripping generated text; checks the round trip and prints the
 * compressed sizes and a hash of the compressed bytes. Usage: lz [SCALE]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT 262144u
#define WINDOW 32768u
#define HBITS 14
#define MAXCHAIN 16
#define MINMATCH 4
#define MAXMATCH 258

static const char *const words[] = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "web", "assembly",
    "module", "function", "memory", "table", "global", "import", "export", "stack", "value",
    "interpreter", "compile", "runtime", "benchmark", "kernel", "and", "of", "to", "in", "a",
    "is", "with", "for", "block", "loop", "branch", "call", "return", "local", "const", "i32",
};

static uint32_t rng(uint32_t *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }

static uint32_t make_text(uint8_t *t, uint32_t n, uint32_t seed) {
    uint32_t x = seed, len = 0;
    const uint32_t nwords = sizeof words / sizeof words[0];
    while (len < n) {
        uint32_t r = rng(&x);
        const char *w = words[(r & 0xffff) % nwords];
        if ((r >> 16) % 23 == 0) { /* now and then a number */
            char num[12];
            int k = 0;
            uint32_t v = r >> 20;
            do { num[k++] = (char)('0' + v % 10); v /= 10; } while (v);
            while (k && len < n) t[len++] = (uint8_t)num[--k];
        } else {
            for (; *w && len < n; w++) t[len++] = (uint8_t)*w;
        }
        if (len < n) t[len++] = (r >> 28) == 0 ? '\n' : ((r >> 28) == 1 ? ',' : ' ');
    }
    return len;
}

static inline uint32_t hash4(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HBITS);
}

/* Output format: a token byte. Low bit 0: literal run of (tok >> 1) + 1 bytes follows.
 * Low bit 1: match of length ((tok >> 1) + MINMATCH) if tok >> 1 < 127, else an extra length
 * byte adds to it; then a 2-byte little-endian distance. */
static uint32_t compress(const uint8_t *in, uint32_t n, uint8_t *out, int32_t *head, int32_t *prev) {
    for (uint32_t i = 0; i < (1u << HBITS); i++) head[i] = -1;
    uint32_t o = 0, i = 0, lit_start = 0;
    while (i < n) {
        uint32_t best_len = 0, best_dist = 0;
        if (i + MINMATCH <= n) {
            uint32_t h = hash4(in + i);
            int32_t cand = head[h];
            int chain = MAXCHAIN;
            while (cand >= 0 && i - (uint32_t)cand <= WINDOW - 1 && chain--) {
                uint32_t c = (uint32_t)cand, l = 0, lim = n - i < MAXMATCH ? n - i : MAXMATCH;
                while (l < lim && in[c + l] == in[i + l]) l++;
                if (l > best_len) { best_len = l; best_dist = i - c; if (l == lim) break; }
                cand = prev[c % WINDOW];
            }
            prev[i % WINDOW] = head[h];
            head[h] = (int32_t)i;
        }
        if (best_len >= MINMATCH) {
            while (lit_start < i) { /* flush pending literals */
                uint32_t run = i - lit_start > 128 ? 128 : i - lit_start;
                out[o++] = (uint8_t)((run - 1) << 1);
                memcpy(out + o, in + lit_start, run);
                o += run; lit_start += run;
            }
            uint32_t extra = best_len - MINMATCH;
            if (extra < 127) {
                out[o++] = (uint8_t)(extra << 1 | 1);
            } else {
                out[o++] = (uint8_t)(127 << 1 | 1);
                out[o++] = (uint8_t)(extra - 127);
            }
            out[o++] = (uint8_t)best_dist;
            out[o++] = (uint8_t)(best_dist >> 8);
            /* index the positions inside the match */
            for (uint32_t k = 1; k < best_len && i + k + MINMATCH <= n; k++) {
                uint32_t h = hash4(in + i + k);
                prev[(i + k) % WINDOW] = head[h];
                head[h] = (int32_t)(i + k);
            }
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    while (lit_start < n) {
        uint32_t run = n - lit_start > 128 ? 128 : n - lit_start;
        out[o++] = (uint8_t)((run - 1) << 1);
        memcpy(out + o, in + lit_start, run);
        o += run; lit_start += run;
    }
    return o;
}

static uint32_t decompress(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap) {
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint8_t tok = in[i++];
        if (!(tok & 1)) {
            uint32_t run = (uint32_t)(tok >> 1) + 1;
            if (o + run > cap || i + run > n) return 0;
            memcpy(out + o, in + i, run);
            i += run; o += run;
        } else {
            uint32_t len = (uint32_t)(tok >> 1) + MINMATCH;
            if ((tok >> 1) == 127) len += in[i++];
            uint32_t dist = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
            i += 2;
            if (dist == 0 || dist > o || o + len > cap) return 0;
            for (uint32_t k = 0; k < len; k++, o++) out[o] = out[o - dist]; /* may overlap */
        }
    }
    return o;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 105; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint8_t *text = malloc(TEXT), *packed = malloc(TEXT + TEXT / 64 + 16), *back = malloc(TEXT);
    int32_t *head = malloc(sizeof(int32_t) << HBITS), *prev = malloc(sizeof(int32_t) * WINDOW);
    if (!text || !packed || !back || !head || !prev) return 1;
    uint32_t total = 0, h = 2166136261u;
    for (int r = 0; r < scale; r++) {
        uint32_t n = make_text(text, TEXT - (uint32_t)r * 17u, 0x1234567u + (uint32_t)r);
        uint32_t c = compress(text, n, packed, head, prev);
        uint32_t d = decompress(packed, c, back, TEXT);
        if (d != n || memcmp(text, back, n) != 0) { printf("lz round trip failed in round %d\n", r); return 1; }
        total += c;
        for (uint32_t k = 0; k < c; k++) h = (h ^ packed[k]) * 16777619u;
    }
    printf("lz %u %u %08x\n", TEXT, total, h);
    free(text); free(packed); free(back); free(head); free(prev);
    return 0;
}
