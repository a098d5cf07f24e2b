// stdin: hello wasi\nsecond line\n\\ backslash\nno newline at end
// Covers: fd_read on stdin (scatter iovecs, EOF), fd_write on stdout/stderr (gather iovecs),
// fd_fdstat_get on 0/1/2, EBADF for fds that were never opened, libc stdio.
#include "wasi_test.h"
#include <ctype.h>
#include <unistd.h>

static char in[65536];

int main(void) {
    wt_init();

    /* first read through fd_read with two iovecs: 4 bytes then the rest */
    char head[4];
    __wasi_iovec_t iov[2] = {{(uint8_t *)head, sizeof head}, {(uint8_t *)in, 8}};
    __wasi_size_t got = 0;
    CHECK_WASI(__wasi_fd_read(0, iov, 2, &got), "fd_read stdin with 2 iovecs");
    CHECK(got > 0 && got <= 12, "fd_read stdin filled at most the 12 bytes offered");
    size_t total = 0;
    char all[65536 + 12];
    memcpy(all, head, got < 4 ? got : 4);
    if (got > 4) memcpy(all + 4, in, got - 4);
    total = got;

    /* then libc read() until EOF */
    for (;;) {
        ssize_t n = read(0, all + total, sizeof all - total);
        if (n < 0) {
            FAIL("read stdin", "%s", wt_errname(errno));
            break;
        }
        if (n == 0) break;
        total += (size_t)n;
    }
    ssize_t again = read(0, all, 16);
    CHECK_EQ(again, 0, "read after EOF returns 0");

    printf("stdin bytes: %zu\n", total);
    printf("--- upper-cased stdin ---\n");
    for (size_t i = 0; i < total; i++) putchar(toupper((unsigned char)all[i]));
    printf("\n--- end ---\n");
    fflush(stdout);

    /* gather write straight to fd 1 (stdout is flushed above). A runtime may write fewer
     * bytes than offered (wasmtime writes only the first iovec), so loop like a caller must. */
    const char *p1 = "gather: ", *p2 = "one ", *p3 = "two\n";
    __wasi_ciovec_t civ[3] = {{(const uint8_t *)p1, strlen(p1)},
                              {(const uint8_t *)p2, strlen(p2)},
                              {(const uint8_t *)p3, strlen(p3)}};
    size_t want = strlen(p1) + strlen(p2) + strlen(p3), done = 0;
    __wasi_size_t put = 0;
    __wasi_ciovec_t *cur = civ;
    size_t left = 3;
    int calls_ok = 1;
    while (left > 0) {
        __wasi_errno_t r = __wasi_fd_write(1, cur, left, &put);
        if (r != 0 || put == 0) {
            calls_ok = 0;
            break;
        }
        done += put;
        while (left > 0 && put >= cur->buf_len) {
            put -= cur->buf_len;
            cur++;
            left--;
        }
        if (left > 0) {
            cur->buf += put;
            cur->buf_len -= put;
        }
    }
    CHECK(calls_ok, "fd_write stdout with 3 iovecs (resuming after short writes)");
    CHECK_EQ(done, want, "fd_write stdout wrote every byte in the end");
    CHECK_WASI(__wasi_fd_write(1, civ, 0, &put), "fd_write stdout with 0 iovecs");
    CHECK_EQ(put, 0, "fd_write with 0 iovecs wrote 0 bytes");

    /* stderr is not compared, but writing to it must work */
    fprintf(stderr, "this line goes to stderr\n");
    const char *err = "raw stderr line\n";
    __wasi_ciovec_t eiov = {(const uint8_t *)err, strlen(err)};
    CHECK_WASI(__wasi_fd_write(2, &eiov, 1, &put), "fd_write stderr");
    CHECK_EQ(put, strlen(err), "fd_write stderr wrote every byte");

    __wasi_fdstat_t st;
    CHECK_WASI(__wasi_fd_fdstat_get(0, &st), "fd_fdstat_get stdin");
    CHECK_WASI(__wasi_fd_fdstat_get(1, &st), "fd_fdstat_get stdout");
    CHECK_WASI(__wasi_fd_fdstat_get(2, &st), "fd_fdstat_get stderr");
    CHECK((st.fs_flags & ~(__WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK)) == 0,
          "stderr fdflags hold no sync flags");

    /* no preopens: fd 3 and beyond are not open */
    EXPECT_WASI_ERR(__wasi_fd_fdstat_get(3, &st), "fd_fdstat_get fd 3 (not open)");
    EXPECT_WASI_ERR(__wasi_fd_write(3, civ, 1, &put), "fd_write fd 3 (not open)");
    EXPECT_WASI_ERR(__wasi_fd_read(1234, iov, 1, &got), "fd_read fd 1234 (not open)");
    EXPECT_WASI_ERR(__wasi_fd_close(77), "fd_close fd 77 (not open)");

    /* libc stdio on top */
    CHECK(fputs("fputs line\n", stdout) >= 0, "fputs stdout");
    CHECK(printf("%s %d %05.1f\n", "printf", 42, 3.14159) == 16, "printf returns 16");
    CHECK(fflush(stdout) == 0, "fflush stdout");
    return wt_finish();
}
