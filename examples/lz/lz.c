/*
 * lz.c - a small LZ77-family file compressor and decompressor.
 *
 * Written as an end-to-end example for the Kuai WebAssembly runtime, but it
 * is plain portable C11 and builds and runs natively just the same.
 *
 *   lz c INPUT OUTPUT    compress INPUT into OUTPUT
 *   lz d INPUT OUTPUT    decompress INPUT into OUTPUT, verifying its CRC-32
 *   lz t INPUT           compress and decompress INPUT in memory, then report
 *
 * INPUT or OUTPUT may be "-" for standard input or standard output. Files are
 * read whole into memory; nothing is written unless the operation succeeded,
 * so a corrupt input never leaves a half-written output behind.
 *
 * ------------------------------------------------------------------------
 * The compressed format ("KLZ1"). All integers are little-endian.
 *
 *   offset  size  field
 *   0       4     magic: the bytes 'K' 'L' 'Z' '1'
 *   4       8     length of the original data, in bytes
 *   12      4     CRC-32 of the original data (the zlib / PNG / Ethernet CRC)
 *   16      ...   a stream of sequences that rebuilds the original data
 *
 * A sequence is a run of literal bytes followed by a match, a copy of bytes
 * that were already produced:
 *
 *   token     1 byte: high nibble = literal count L (15 means "15 or more")
 *                     low nibble  = match length M - 4 (15 means "19 or more")
 *   L extra   varint, only if the high nibble is 15: L - 15
 *   literals  L bytes, appended to the output as they are
 *   offset    varint: the match starts this many bytes back in the output
 *             (1 <= offset <= bytes produced so far)
 *   M extra   varint, only if the low nibble is 15: M - 19
 *
 * Matches are at least 4 bytes long and may overlap the bytes they produce
 * (offset < M): offset 1 with M = 1000 repeats the last byte 1000 times.
 *
 * The stream ends when the output reaches the original length right after a
 * sequence's literals: that last sequence has no offset and no match, and its
 * low nibble is 0. The compressor always ends with such a literals-only
 * sequence, even an empty one, so an empty file compresses to the 16-byte
 * header and the single token byte 0x00 (17 bytes).
 *
 * A varint is unsigned LEB128: 7 bits per byte, lowest bits first, the top
 * bit set on every byte except the last. 0..127 take one byte, 128..16383 two.
 *
 * ------------------------------------------------------------------------
 * The compressor finds matches with hash chains, as zlib does: the first 4
 * bytes at every position are hashed, head[] holds the latest position for
 * each hash and prev[] links each position to the previous one with the same
 * hash, within a 256 KiB window. At each position it walks up to MAX_CHAIN
 * candidates and keeps the longest match, then looks one byte ahead ("lazy
 * matching"): if the match starting at the next byte is longer, the current
 * byte goes out as a literal instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC       "KLZ1"
#define HEADER_SIZE 16
#define MIN_MATCH   4                     /* shortest match the format encodes */
#define WINDOW_BITS 18                    /* how far back the compressor looks */
#define WINDOW_SIZE ((size_t)1 << WINDOW_BITS)
#define WINDOW_MASK (WINDOW_SIZE - 1)
#define MAX_OFFSET  (WINDOW_SIZE - 1)
#define HASH_BITS   16
#define HASH_SIZE   ((size_t)1 << HASH_BITS)
#define MAX_CHAIN   48                    /* candidates tried per position */
#define NICE_LEN    128                   /* a match this long ends the search */

/* ---------------------------------------------------------------- errors */

static const char *progname = "lz";

/* Prints "lz: MESSAGE" on stderr and exits with status 1. */
_Noreturn static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ------------------------------------------------------ growable buffers */

typedef struct {
    unsigned char *data;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
} Buf;

/* Makes room for at least `extra` more bytes after b->len. */
static void buf_reserve(Buf *b, size_t extra)
{
    if (b->data != NULL && extra <= b->cap - b->len)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            die("out of memory");
        cap *= 2;
    }
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        die("out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

static void buf_free(Buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------ integer encoding */

static uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load64(const unsigned char *p)
{
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static void store32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void store64(unsigned char *p, uint64_t v)
{
    store32(p, (uint32_t)v);
    store32(p + 4, (uint32_t)(v >> 32));
}

/* Appends v as a varint (at most 10 bytes). */
static void put_varint(Buf *b, uint64_t v)
{
    buf_reserve(b, 10);
    while (v >= 0x80) {
        b->data[b->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (unsigned char)v;
}

/* Reads a varint at *pp (not past end) into *v and advances *pp.
 * Returns 0 if the input ends inside it or it does not fit in 64 bits. */
static int get_varint(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
    const unsigned char *p = *pp;
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (p == end || shift > 63)
            return 0;
        unsigned byte = *p++;
        if (shift == 63 && byte > 1)
            return 0;
        x |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            break;
    }
    *pp = p;
    *v = x;
    return 1;
}

/* ---------------------------------------------------------------- CRC-32 */

/* The reflected CRC-32 with polynomial 0x04C11DB7 (0xEDB88320 reversed),
 * initial value and final xor 0xFFFFFFFF: crc32("123456789") = cbf43926. */
static uint32_t crc_table[256];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ compressor */

typedef struct {
    size_t len;    /* 0 when there is no match of at least MIN_MATCH bytes */
    size_t offset; /* distance back to the start of the match */
} Match;

typedef struct {
    const unsigned char *in;
    size_t n;
    /* Positions are stored plus one, so that 0 means "none". */
    uint32_t *head; /* HASH_SIZE entries: latest position with each hash */
    uint32_t *prev; /* WINDOW_SIZE entries: previous position, same hash */
} Matcher;

/* Hashes the 4 bytes at p (Knuth's multiplicative hash). */
static size_t hash4(const unsigned char *p)
{
    return (size_t)((load32(p) * 2654435761u) >> (32 - HASH_BITS));
}

/* Adds position pos (which has at least MIN_MATCH bytes after it). */
static void matcher_insert(Matcher *m, size_t pos)
{
    size_t h = hash4(m->in + pos);
    m->prev[pos & WINDOW_MASK] = m->head[h];
    m->head[h] = (uint32_t)(pos + 1);
}

/* Finds the longest earlier match for the bytes at pos, among the positions
 * inserted so far. pos must have at least MIN_MATCH bytes after it. */
static Match matcher_find(const Matcher *m, size_t pos)
{
    const unsigned char *cur = m->in + pos;
    size_t avail = m->n - pos; /* a match cannot run past the end */
    Match best = {0, 0};
    uint32_t cand = m->head[hash4(cur)];

    for (int depth = MAX_CHAIN; cand != 0 && depth > 0; depth--) {
        size_t c = cand - 1;
        size_t dist = pos - c;
        if (dist > MAX_OFFSET)
            break; /* the rest of the chain is older still */
        const unsigned char *p = m->in + c;
        /* Only a candidate that also matches the byte just past the best
         * length so far can beat it: check that byte first. */
        if (p[best.len] == cur[best.len]) {
            size_t len = 0;
            while (len < avail && p[len] == cur[len])
                len++;
            if (len > best.len) {
                best.len = len;
                best.offset = dist;
                if (len >= NICE_LEN || len == avail)
                    break;
            }
        }
        /* c is inside the window, so prev[] still holds its own link. */
        cand = m->prev[c & WINDOW_MASK];
    }
    if (best.len < MIN_MATCH)
        best.len = 0; /* also covers hash collisions that matched nothing */
    return best;
}

/* Appends one sequence: nlit literals, then a match (mlen = 0: none). */
static void emit_sequence(Buf *out, const unsigned char *lit, size_t nlit, size_t offset, size_t mlen)
{
    size_t mcode = mlen ? mlen - MIN_MATCH : 0;
    unsigned token = (unsigned)((nlit < 15 ? nlit : 15) << 4 | (mcode < 15 ? mcode : 15));

    buf_reserve(out, 1 + nlit);
    out->data[out->len++] = (unsigned char)token;
    if (nlit >= 15)
        put_varint(out, nlit - 15);
    buf_reserve(out, nlit);
    memcpy(out->data + out->len, lit, nlit);
    out->len += nlit;
    if (mlen) {
        put_varint(out, offset);
        if (mcode >= 15)
            put_varint(out, mcode - 15);
    }
}

/* Compresses in[0..n) into out (header included). */
static void lz_compress(const unsigned char *in, size_t n, Buf *out)
{
    if ((uint64_t)n >= UINT32_MAX)
        die("input too large (the compressor handles up to 4 GiB)");

    Matcher m = {in, n, calloc(HASH_SIZE, sizeof(uint32_t)), calloc(WINDOW_SIZE, sizeof(uint32_t))};
    if (m.head == NULL || m.prev == NULL)
        die("out of memory");

    out->len = 0;
    buf_reserve(out, HEADER_SIZE + n / 2 + 64);
    memcpy(out->data, MAGIC, 4);
    store64(out->data + 4, (uint64_t)n);
    store32(out->data + 12, crc32(in, n));
    out->len = HEADER_SIZE;

    size_t pos = 0;       /* next byte to encode */
    size_t lit_start = 0; /* first byte not yet written to out */
    Match pending = {0, 0};
    int have_pending = 0; /* pending is the match at pos, found by lookahead */

    while (pos + MIN_MATCH <= n) {
        Match cur = have_pending ? pending : matcher_find(&m, pos);
        have_pending = 0;
        matcher_insert(&m, pos);
        if (cur.len == 0) {
            pos++;
            continue;
        }
        /* Lazy matching: prefer a longer match one byte later. */
        if (cur.len < NICE_LEN && pos + 1 + MIN_MATCH <= n) {
            Match next = matcher_find(&m, pos + 1);
            if (next.len > cur.len) {
                pending = next;
                have_pending = 1;
                pos++;
                continue;
            }
        }
        emit_sequence(out, in + lit_start, pos - lit_start, cur.offset, cur.len);
        /* Index the positions the match covers, for later matches. */
        size_t stop = pos + cur.len;
        for (pos++; pos < stop && pos + MIN_MATCH <= n; pos++)
            matcher_insert(&m, pos);
        pos = lit_start = stop;
    }
    /* The final, literals-only sequence (possibly empty). */
    emit_sequence(out, in + lit_start, n - lit_start, 0, 0);

    free(m.head);
    free(m.prev);
}

/* ---------------------------------------------------------- decompressor */

/* Reads the varint that extends a length whose nibble was 15 and adds it. */
static int get_extra(const unsigned char **pp, const unsigned char *end, uint64_t *len)
{
    uint64_t extra;
    if (!get_varint(pp, end, &extra) || extra > UINT64_MAX - *len)
        return 0;
    *len += extra;
    return 1;
}

/* Decompresses in[0..n) into out and checks the CRC.
 * Returns NULL on success, or a description of what is wrong with the input. */
static const char *lz_decompress(const unsigned char *in, size_t n, Buf *out)
{
    if (n < 4 || memcmp(in, MAGIC, 4) != 0)
        return "not a compressed file (bad magic)";
    if (n < HEADER_SIZE)
        return "truncated header";
    uint64_t total64 = load64(in + 4);
    uint32_t want_crc = load32(in + 12);
    if (total64 > SIZE_MAX)
        return "original size too large for this machine";
    size_t total = (size_t)total64;

    const unsigned char *ip = in + HEADER_SIZE, *end = in + n;
    out->len = 0;
    /* Allocate the whole output up front when its length is plausible; a
     * corrupt header must not make us allocate gigabytes for nothing, so past
     * a 64:1 ratio the buffer grows as the data actually arrives. */
    buf_reserve(out, total / 64 <= n ? total : 0);

    for (;;) {
        if (ip == end)
            return "truncated data";
        unsigned token = *ip++;

        uint64_t nlit = token >> 4;
        if (nlit == 15 && !get_extra(&ip, end, &nlit))
            return "corrupt literal length";
        if (nlit > (uint64_t)(end - ip))
            return "truncated data";
        if (nlit > total - out->len)
            return "data longer than the header says";
        buf_reserve(out, (size_t)nlit);
        memcpy(out->data + out->len, ip, (size_t)nlit);
        out->len += (size_t)nlit;
        ip += nlit;

        if (out->len == total) {
            if (token & 0x0F)
                return "corrupt final sequence";
            break;
        }

        uint64_t offset, mlen = token & 0x0F;
        if (!get_varint(&ip, end, &offset))
            return "truncated data";
        if (offset == 0 || offset > out->len)
            return "match offset out of range";
        if (mlen == 15 && !get_extra(&ip, end, &mlen))
            return "corrupt match length";
        mlen += MIN_MATCH;
        if (mlen > total - out->len)
            return "data longer than the header says";

        buf_reserve(out, (size_t)mlen);
        unsigned char *dst = out->data + out->len;
        const unsigned char *src = dst - offset;
        if (offset >= mlen) {
            memcpy(dst, src, (size_t)mlen);
        } else {
            /* Overlapping: each byte may be one this copy just wrote. */
            for (size_t i = 0; i < (size_t)mlen; i++)
                dst[i] = src[i];
        }
        out->len += (size_t)mlen;
    }

    if (ip != end)
        return "trailing bytes after the compressed data";
    if (crc32(out->data, out->len) != want_crc)
        return "CRC mismatch";
    return NULL;
}

/* ------------------------------------------------------------------- I/O */

/* Reads a whole file ("-": standard input). */
static Buf read_file(const char *path)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));

    Buf b = {NULL, 0, 0};
    for (;;) {
        buf_reserve(&b, 64 * 1024);
        size_t got = fread(b.data + b.len, 1, b.cap - b.len, f);
        b.len += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        die("%s: read error: %s", path, strerror(errno));
    if (!is_stdin)
        fclose(f);
    return b;
}

/* Writes data[0..n) to a file, replacing it ("-": standard output). */
static void write_file(const char *path, const unsigned char *data, size_t n)
{
    int is_stdout = strcmp(path, "-") == 0;
    FILE *f = is_stdout ? stdout : fopen(path, "wb");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    if (fwrite(data, 1, n, f) != n || fflush(f) != 0)
        die("%s: write error: %s", path, strerror(errno));
    if (!is_stdout && fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------ main */

_Noreturn static void usage(void)
{
    fprintf(stderr,
            "usage: %s c INPUT OUTPUT   compress\n"
            "       %s d INPUT OUTPUT   decompress (and verify the CRC-32)\n"
            "       %s t INPUT          round-trip self-test in memory\n"
            "INPUT or OUTPUT may be - for standard input or output.\n",
            progname, progname, progname);
    exit(2);
}

/* The ratio original/compressed with three decimals, without floating point. */
static void print_ratio(size_t original, size_t compressed)
{
    uint64_t milli = ((uint64_t)original * 1000 + compressed / 2) / compressed;
    printf("%" PRIu64 ".%03" PRIu64, milli / 1000, milli % 1000);
}

int main(int argc, char **argv)
{
    crc32_init();
    if (argc < 3 || strlen(argv[1]) != 1)
        usage();

    char mode = argv[1][0];
    if ((mode == 'c' || mode == 'd') && argc == 4) {
        Buf in = read_file(argv[2]), out = {NULL, 0, 0};
        if (mode == 'c') {
            lz_compress(in.data, in.len, &out);
        } else {
            const char *err = lz_decompress(in.data, in.len, &out);
            if (err != NULL)
                die("%s: %s", argv[2], err);
        }
        write_file(argv[3], out.data, out.len);
        buf_free(&in);
        buf_free(&out);
        return 0;
    }
    if (mode == 't' && argc == 3) {
        Buf in = read_file(argv[2]), packed = {NULL, 0, 0}, unpacked = {NULL, 0, 0};
        lz_compress(in.data, in.len, &packed);
        const char *err = lz_decompress(packed.data, packed.len, &unpacked);
        if (err != NULL)
            die("%s: self-test failed: %s", argv[2], err);
        if (unpacked.len != in.len || memcmp(unpacked.data, in.data, in.len) != 0)
            die("%s: self-test failed: round trip changed the data", argv[2]);
        printf("original %zu bytes, compressed %zu bytes, ratio ", in.len, packed.len);
        print_ratio(in.len, packed.len);
        printf(", crc %08" PRIx32 ", ok\n", crc32(in.data, in.len));
        buf_free(&in);
        buf_free(&packed);
        buf_free(&unpacked);
        return 0;
    }
    usage();
}
