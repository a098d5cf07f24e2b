/* scan: a tokenizer over generated JSON-like text: counts tokens by class, sums integers,
 * adds decimals as fixed-point (millionths) and hashes identifiers and strings.
 * Usage: scan [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TEXT (1u << 20)

static uint32_t rng(uint32_t *x) { *x ^= *x << 13; *x ^= *x >> 17; *x ^= *x << 5; return *x; }

static const char *const keys[] = {"id", "name", "value", "price", "tags", "enabled", "x", "y", "count", "label"};

static uint32_t put(char *t, uint32_t n, uint32_t cap, const char *s) {
    while (*s && n < cap) t[n++] = *s++;
    return n;
}

static uint32_t put_uint(char *t, uint32_t n, uint32_t cap, uint32_t v) {
    char d[12];
    int k = 0;
    do { d[k++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (k && n < cap) t[n++] = d[--k];
    return n;
}

/* Records like {"id": 12, "name": "ab cd", "price": -3.25, "tags": [true, null, 7]} */
static uint32_t generate(char *t, uint32_t cap, uint32_t seed) {
    uint32_t x = seed, n = 0;
    n = put(t, n, cap, "[\n");
    while (n + 1024 < cap) { /* a record is far shorter than 1024 bytes */
        n = put(t, n, cap, " {");
        uint32_t fields = 2 + rng(&x) % 6;
        for (uint32_t f = 0; f < fields; f++) {
            uint32_t r = rng(&x);
            n = put(t, n, cap, f ? ", \"" : "\"");
            n = put(t, n, cap, keys[r % 10]);
            n = put(t, n, cap, "\": ");
            switch ((r >> 8) % 6) {
            case 0: n = put_uint(t, n, cap, r >> 12); break;
            case 1:
                if (r & 0x10000) n = put(t, n, cap, "-");
                n = put_uint(t, n, cap, (r >> 17) % 10000);
                n = put(t, n, cap, ".");
                n = put_uint(t, n, cap, 10 + (r >> 4) % 90);
                break;
            case 2: {
                n = put(t, n, cap, "\"");
                uint32_t len = 3 + (r >> 12) % 12;
                for (uint32_t k = 0; k < len; k++) {
                    uint32_t c = rng(&x) % 30;
                    t[n++] = c < 26 ? (char)('a' + c) : (c == 26 ? ' ' : (c == 27 ? '\\' : (c == 28 ? 'n' : '_')));
                    if (c == 27) t[n++] = '"'; /* an escaped quote */
                }
                n = put(t, n, cap, "\"");
                break;
            }
            case 3: n = put(t, n, cap, (r >> 12) & 1 ? "true" : "false"); break;
            case 4: n = put(t, n, cap, "null"); break;
            default:
                n = put(t, n, cap, "[");
                for (uint32_t k = 0; k < 1 + (r >> 12) % 5; k++) {
                    if (k) n = put(t, n, cap, ", ");
                    n = put_uint(t, n, cap, rng(&x) % 1000);
                }
                n = put(t, n, cap, "]");
            }
        }
        n = put(t, n, cap, "},\n");
    }
    n = put(t, n, cap, " {}\n]\n");
    return n;
}

struct counts { uint32_t punct, ints, decimals, strings, words, lines, hash; int64_t isum, dsum; };

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

static void scan(const char *t, uint32_t n, struct counts *c) {
    uint32_t i = 0;
    while (i < n) {
        char ch = t[i];
        if (ch == ' ' || ch == '\t' || ch == '\r') { i++; continue; }
        if (ch == '\n') { c->lines++; i++; continue; }
        if (ch == '"') { /* string with backslash escapes */
            uint32_t h = 5381;
            i++;
            while (i < n && t[i] != '"') {
                if (t[i] == '\\' && i + 1 < n) i++;
                h = h * 33u + (uint8_t)t[i++];
            }
            i++;
            c->strings++; c->hash ^= h;
            continue;
        }
        if (is_digit(ch) || (ch == '-' && i + 1 < n && is_digit(t[i + 1]))) {
            int neg = ch == '-';
            if (neg) i++;
            int64_t whole = 0;
            while (i < n && is_digit(t[i])) whole = whole * 10 + (t[i++] - '0');
            if (i < n && t[i] == '.') { /* fixed point, 6 fractional digits */
                i++;
                int64_t frac = 0, scale = 100000;
                while (i < n && is_digit(t[i])) { frac += (t[i++] - '0') * scale; scale /= 10; }
                int64_t v = whole * 1000000 + frac;
                c->dsum += neg ? -v : v;
                c->decimals++;
            } else {
                c->isum += neg ? -whole : whole;
                c->ints++;
            }
            continue;
        }
        if (is_alpha(ch)) {
            uint32_t h = 2166136261u;
            while (i < n && (is_alpha(t[i]) || is_digit(t[i]))) h = (h ^ (uint8_t)t[i++]) * 16777619u;
            c->words++; c->hash += h;
            continue;
        }
        c->punct++; c->hash = c->hash * 3u + (uint8_t)ch;
        i++;
    }
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 55; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    char *text = malloc(TEXT);
    if (!text) return 1;
    struct counts c = {0};
    for (int r = 0; r < scale; r++) {
        uint32_t n = generate(text, TEXT, 0xfeedbeefu + (uint32_t)(r % 4));
        for (int k = 0; k < 4; k++) scan(text, n, &c);
    }
    printf("scan %u %u %u %u %u %u %lld %lld %08x\n", c.punct, c.ints, c.decimals, c.strings, c.words,
           c.lines, (long long)c.isum, (long long)c.dsum, c.hash);
    free(text);
    return 0;
}
