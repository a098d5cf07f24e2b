// dir: sandbox
// Covers: 64 MiB written in 1 MiB chunks and read back (pattern + FNV-1a checksum), 64-bit
// offsets: a sparse pwrite past 4 GiB, fd_filestat_get size, fd_seek/fd_tell past 4 GiB.
#include "wasi_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define CHUNKS 64

static uint8_t chunk[MIB];
static uint8_t back[MIB];

static uint8_t pattern(uint64_t off) {
    uint64_t x = off * 0x9E3779B97F4A7C15ull;
    return (uint8_t)((x >> 56) ^ (off >> 20) ^ off);
}

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int main(void) {
    wt_init();
    int fd = open("/sandbox/big.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0, "open big.bin");

    uint32_t wsum = 2166136261u;
    int wok = 1;
    for (uint64_t c = 0; c < CHUNKS; c++) {
        for (uint32_t i = 0; i < MIB; i++) chunk[i] = pattern(c * MIB + i);
        wsum = fnv1a(wsum, chunk, MIB);
        if (write_all(fd, chunk, MIB) != 0) {
            wok = 0;
            break;
        }
    }
    CHECK(wok, "wrote 64 MiB in 1 MiB chunks");
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)CHUNKS * MIB, "size is 64 MiB");

    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "seek back to 0");
    uint32_t rsum = 2166136261u;
    long bad_chunks = 0;
    int rok = 1;
    for (uint64_t c = 0; c < CHUNKS; c++) {
        if (read_all(fd, back, MIB) != 0) {
            rok = 0;
            break;
        }
        rsum = fnv1a(rsum, back, MIB);
        for (uint32_t i = 0; i < MIB; i++)
            if (back[i] != pattern(c * MIB + i)) {
                bad_chunks++;
                break;
            }
    }
    CHECK(rok, "read 64 MiB back");
    CHECK_EQ(bad_chunks, 0, "every chunk matches the pattern");
    CHECK_EQ(rsum, wsum, "read checksum equals written checksum");
    printf("checksum fnv1a32 = %08x\n", (unsigned)rsum);
    uint8_t one;
    CHECK_EQ(read(fd, &one, 1), 0, "read at 64 MiB is EOF");

    /* pread at a chunk boundary straddle */
    uint8_t straddle[8];
    CHECK_EQ(pread(fd, straddle, 8, 5 * MIB - 4), 8, "pread across a chunk boundary");
    int sok = 1;
    for (int i = 0; i < 8; i++) sok &= straddle[i] == pattern(5 * MIB - 4 + i);
    CHECK(sok, "straddling bytes match");

    /* past 4 GiB: needs 64-bit offsets end to end; sparse on the host */
    const uint64_t far = (4ull << 30) + 10;
    ssize_t w = pwrite(fd, "far away", 8, (off_t)far);
    if (w == 8) {
        OK("pwrite 8 bytes at 4 GiB + 10");
        CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == far + 8,
              "size is 4 GiB + 18");
        char got[9] = {0};
        CHECK_EQ(pread(fd, got, 8, (off_t)far), 8, "pread 8 bytes at 4 GiB + 10");
        CHECK(memcmp(got, "far away", 8) == 0, "read back 'far away'");
        uint8_t hole[16];
        memset(hole, 0xFF, sizeof hole);
        CHECK_EQ(pread(fd, hole, 16, (off_t)(3ull << 30)), 16, "pread inside the hole");
        int z = 1;
        for (int i = 0; i < 16; i++) z &= hole[i] == 0;
        CHECK(z, "the hole reads as zeros");
        __wasi_filesize_t pos = 0;
        CHECK_WASI(__wasi_fd_seek(fd, (int64_t)far + 4, __WASI_WHENCE_SET, &pos),
                   "fd_seek to 4 GiB + 14");
        CHECK(pos == far + 4, "fd_seek result is 4 GiB + 14");
        CHECK_WASI(__wasi_fd_tell(fd, &pos), "fd_tell past 4 GiB");
        CHECK(pos == far + 4, "fd_tell is 4 GiB + 14");
        char tail[8] = {0};
        CHECK_EQ(read(fd, tail, 8), 4, "read the last 4 bytes");
        CHECK(memcmp(tail, "away", 4) == 0, "last 4 bytes are 'away'");
        CHECK_EQ(ftruncate(fd, 0), 0, "truncate the sparse file to 0");
    } else {
        printf("pwrite at 4 GiB + 10 not possible on this host: %s\n", wt_errname(errno));
    }
    CHECK_EQ(close(fd), 0, "close big.bin");
    CHECK_EQ(unlink("/sandbox/big.bin"), 0, "unlink big.bin");
    return wt_finish();
}
