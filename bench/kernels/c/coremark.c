/* coremark: a CoreMark-like mixed workload of our own (not CoreMark's code): linked-list
 * search, reversal and merge sort; small int16 matrix operations; a state machine that
 * classifies number-like tokens; everything folded into a CRC-16.
 * Usage: coremark [SCALE]; prints one checksum line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t crc16_byte(uint16_t crc, uint8_t b) { /* CRC-16/CCITT, bit by bit */
    crc ^= (uint16_t)(b << 8);
    for (int i = 0; i < 8; i++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    return crc;
}
static uint16_t crc16_u32(uint16_t crc, uint32_t v) {
    for (int i = 0; i < 4; i++) crc = crc16_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* ---- linked list ---- */
struct node { struct node *next; int16_t key; int16_t val; };

#define NNODES 256
static struct node pool[NNODES];

static struct node *list_build(uint32_t seed) {
    struct node *head = NULL;
    for (int i = 0; i < NNODES; i++) {
        seed = seed * 1664525u + 1013904223u;
        pool[i].key = (int16_t)(seed >> 20);
        pool[i].val = (int16_t)(seed >> 8);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static struct node *list_find(struct node *l, int16_t key) {
    while (l && l->key != key) l = l->next;
    return l;
}

static struct node *list_reverse(struct node *l) {
    struct node *prev = NULL;
    while (l) { struct node *n = l->next; l->next = prev; prev = l; l = n; }
    return prev;
}

static int cmp_key(const struct node *a, const struct node *b) { return a->key - b->key; }
static int cmp_val(const struct node *a, const struct node *b) { return a->val - b->val; }

/* bottom-up merge sort of a singly linked list, stable */
static struct node *list_sort(struct node *l, int (*cmp)(const struct node *, const struct node *)) {
    for (int width = 1;; width *= 2) {
        struct node *p = l, *tail = NULL, *out = NULL;
        int merges = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int ps = 0, qs = width;
            while (ps < width && q) { ps++; q = q->next; }
            while (ps > 0 || (qs > 0 && q)) {
                struct node *e;
                if (ps == 0) { e = q; q = q->next; qs--; }
                else if (qs == 0 || !q || cmp(p, q) <= 0) { e = p; p = p->next; ps--; }
                else { e = q; q = q->next; qs--; }
                if (tail) tail->next = e; else out = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        l = out;
        if (merges <= 1) return l;
    }
}

static uint16_t bench_list(uint16_t crc, uint32_t seed) {
    struct node *l = list_build(seed);
    int found = 0, missed = 0;
    for (int i = 0; i < 64; i++) {
        struct node *n = list_find(l, (int16_t)((seed >> (i & 15)) & 0xfff));
        if (n) { found++; crc = crc16_u32(crc, (uint16_t)n->val); } else missed++;
    }
    l = list_reverse(l);
    l = list_sort(l, cmp_val);
    crc = crc16_u32(crc, (uint16_t)l->val);
    l = list_sort(l, cmp_key);
    for (struct node *n = l; n; n = n->next) crc = crc16_byte(crc, (uint8_t)n->key);
    return crc16_u32(crc, (uint32_t)(found * 256 + missed));
}

/* ---- matrices ---- */
#define MN 16
static uint16_t bench_matrix(uint16_t crc, uint32_t seed) {
    static int16_t a[MN][MN], b[MN][MN];
    static int32_t c[MN][MN], v[MN];
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            seed = seed * 1664525u + 1013904223u;
            a[i][j] = (int16_t)((seed >> 16) & 0x3ff) - 512;
            b[i][j] = (int16_t)((seed >> 6) & 0x3ff) - 512;
        }
    int16_t k = (int16_t)(seed & 0xff);
    for (int i = 0; i < MN; i++) for (int j = 0; j < MN; j++) a[i][j] = (int16_t)(a[i][j] + k); /* add const */
    for (int i = 0; i < MN; i++) for (int j = 0; j < MN; j++) c[i][j] = a[i][j] * (int32_t)k;  /* mul const */
    for (int i = 0; i < MN; i++) { /* matrix times vector */
        int32_t s = 0;
        for (int j = 0; j < MN; j++) s += a[i][j] * b[j][0];
        v[i] = s;
    }
    int32_t total = 0;
    for (int i = 0; i < MN; i++) /* matrix times matrix */
        for (int j = 0; j < MN; j++) {
            int32_t s = 0;
            for (int q = 0; q < MN; q++) s += a[i][q] * b[q][j];
            c[i][j] += s;
            total += (s >> 2) & 0xf; /* bit extraction */
        }
    for (int i = 0; i < MN; i++) crc = crc16_u32(crc, (uint32_t)(v[i] ^ c[i][i]));
    return crc16_u32(crc, (uint32_t)total);
}

/* ---- state machine ---- */
enum state { S_START, S_INT, S_SIGN, S_DOT, S_FRAC, S_EXP, S_EXPSIGN, S_EXPINT, S_BAD, NSTATES };

static uint16_t bench_state(uint16_t crc, uint32_t seed) {
    static const char alphabet[] = "0123456789+-.eE, x";
    char text[512];
    for (int i = 0; i < 511; i++) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t r = (seed >> 16) % 40;
        text[i] = r < 18 ? alphabet[r] : (r < 30 ? (char)('0' + r % 10) : (r < 34 ? ',' : '.'));
    }
    text[511] = 0;
    uint32_t finals[NSTATES] = {0}, transitions = 0;
    const char *p = text;
    while (*p) {
        enum state s = S_START;
        for (; *p && *p != ','; p++) {
            char ch = *p;
            int digit = ch >= '0' && ch <= '9';
            enum state n = S_BAD;
            switch (s) {
            case S_START: n = digit ? S_INT : (ch == '+' || ch == '-') ? S_SIGN : ch == '.' ? S_DOT : S_BAD; break;
            case S_SIGN: n = digit ? S_INT : ch == '.' ? S_DOT : S_BAD; break;
            case S_INT: n = digit ? S_INT : ch == '.' ? S_FRAC : (ch == 'e' || ch == 'E') ? S_EXP : S_BAD; break;
            case S_DOT: n = digit ? S_FRAC : S_BAD; break;
            case S_FRAC: n = digit ? S_FRAC : (ch == 'e' || ch == 'E') ? S_EXP : S_BAD; break;
            case S_EXP: n = digit ? S_EXPINT : (ch == '+' || ch == '-') ? S_EXPSIGN : S_BAD; break;
            case S_EXPSIGN: case S_EXPINT: n = digit ? S_EXPINT : S_BAD; break;
            default: n = S_BAD;
            }
            if (n != s) transitions++;
            s = n;
        }
        finals[s]++;
        if (*p) p++;
    }
    for (int i = 0; i < NSTATES; i++) crc = crc16_u32(crc, finals[i]);
    return crc16_u32(crc, transitions);
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 10; /* the default takes about 0.4 s natively */
    if (scale < 1) scale = 1;
    uint16_t crc = 0xffff;
    for (int r = 0; r < scale * 1000; r++) {
        uint32_t seed = 0x3415u + (uint32_t)r * 0x9e3779b9u;
        crc = bench_list(crc, seed);
        crc = bench_matrix(crc, seed ^ 0x55aa);
        crc = bench_state(crc, seed ^ 0xa5a5);
    }
    printf("coremark %04x\n", crc);
    return 0;
}
