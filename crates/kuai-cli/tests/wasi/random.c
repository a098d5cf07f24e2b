// Covers: random_get of 0, 16 and 100000 bytes, distinct draws, libc getentropy/arc4random.
#include "wasi_test.h"
#include <unistd.h>

static uint8_t big[100000];

int main(void) {
    wt_init();
    uint8_t a[16], b[16], guard[4] = {0xAA, 0xAA, 0xAA, 0xAA};

    CHECK_WASI(__wasi_random_get(guard, 0), "random_get of 0 bytes");
    CHECK(guard[0] == 0xAA && guard[3] == 0xAA, "random_get of 0 bytes writes nothing");

    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    CHECK_WASI(__wasi_random_get(a, sizeof a), "random_get of 16 bytes");
    CHECK_WASI(__wasi_random_get(b, sizeof b), "random_get of 16 more bytes");
    CHECK(memcmp(a, b, sizeof a) != 0, "two 16-byte draws differ");
    static const uint8_t zero[16];
    CHECK(memcmp(a, zero, sizeof a) != 0, "16-byte draw is not all zero");

    CHECK_WASI(__wasi_random_get(big, sizeof big), "random_get of 100000 bytes");
    int seen[256] = {0}, distinct = 0;
    for (size_t i = 0; i < sizeof big; i++) seen[big[i]]++;
    for (int v = 0; v < 256; v++) distinct += seen[v] > 0;
    CHECK_EQ(distinct, 256, "100000 random bytes hit all 256 values");
    int lopsided = 0;
    for (int v = 0; v < 256; v++)
        if (seen[v] < 200 || seen[v] > 600) lopsided++;
    CHECK_EQ(lopsided, 0, "every byte value occurs 200..600 times (expected ~390)");
    CHECK(memcmp(big + sizeof big - 16, zero, 16) != 0, "the last 16 bytes were filled too");

    uint8_t e[256];
    memset(e, 0, sizeof e);
    CHECK(getentropy(e, sizeof e) == 0, "getentropy of 256 bytes");
    CHECK(memcmp(e + 240, zero, 16) != 0, "getentropy filled the buffer");
    EXPECT_ERR(getentropy(e, 257), "getentropy of 257 bytes refused by libc");

    uint32_t r1 = arc4random(), r2 = arc4random(), r3 = arc4random();
    CHECK(!(r1 == r2 && r2 == r3), "arc4random gives varying values");
    uint32_t u = arc4random_uniform(10);
    CHECK(u < 10, "arc4random_uniform(10) < 10");
    return wt_finish();
}
