// tcp: yes
// Covers: sock_accept on the preopened TCP listener (fd 3, given with --tcplisten), waiting
// with poll_oneoff/sched_yield on EAGAIN, sock_recv, sock_send, sock_shutdown, fd_fdstat_get
// on sockets, sock_* on a non-socket. The harness's client sends "hello\n" and expects
// "HELLO\n" back, then end of stream.
#include "wasi_test.h"
#include <ctype.h>

#define LISTENER 3
#define MS 1000000ull

/* Waits up to 100 ms for the listener to become readable (a pending connection). */
static void wait_readable(__wasi_fd_t fd) {
    __wasi_subscription_t subs[2];
    __wasi_event_t evs[2];
    __wasi_size_t n = 0;
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = fd;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 100 * MS;
    if (__wasi_poll_oneoff(subs, evs, 2, &n) != 0) (void)__wasi_sched_yield();
}

int main(void) {
    wt_init();
    __wasi_fdstat_t st;
    CHECK_WASI(__wasi_fd_fdstat_get(LISTENER, &st), "fd_fdstat_get listener fd 3");
    CHECK_EQ(st.fs_filetype, __WASI_FILETYPE_SOCKET_STREAM, "listener is a stream socket");
    __wasi_prestat_t ps;
    EXPECT_WASI_ERR(__wasi_fd_prestat_get(LISTENER, &ps), "fd_prestat_get on the listener");

    /* non-blocking accept: retry on EAGAIN for up to ~30 s */
    __wasi_fd_t conn = 0;
    __wasi_errno_t r = __WASI_ERRNO_AGAIN;
    int tries = 0;
    for (; tries < 300; tries++) {
        r = __wasi_sock_accept(LISTENER, __WASI_FDFLAGS_NONBLOCK, &conn);
        if (r != __WASI_ERRNO_AGAIN) break;
        wait_readable(LISTENER);
    }
    CHECK_WASI(r, "sock_accept a connection");
    if (r != 0) return wt_finish();
    CHECK(conn != LISTENER && conn > 2, "accepted connection has its own fd");
    CHECK_WASI(__wasi_fd_fdstat_get(conn, &st), "fd_fdstat_get connection");
    CHECK_EQ(st.fs_filetype, __WASI_FILETYPE_SOCKET_STREAM, "connection is a stream socket");
    /* back to blocking for the exchange */
    CHECK_WASI(__wasi_fd_fdstat_set_flags(conn, 0), "fd_fdstat_set_flags clear NONBLOCK");

    /* receive until the newline */
    char line[256];
    size_t have = 0;
    int rounds = 0;
    while (have < sizeof line && rounds++ < 1000) {
        __wasi_iovec_t iov = {(uint8_t *)line + have, sizeof line - have};
        __wasi_size_t got = 0;
        __wasi_roflags_t flags = 0;
        r = __wasi_sock_recv(conn, &iov, 1, 0, &got, &flags);
        if (r == __WASI_ERRNO_AGAIN) {
            wait_readable(conn);
            continue;
        }
        if (r != 0 || got == 0) break;
        have += got;
        if (memchr(line, '\n', have)) break;
    }
    CHECK_WASI(r, "sock_recv");
    CHECK(have == 6 && memcmp(line, "hello\n", 6) == 0, "received 'hello\\n'");

    for (size_t i = 0; i < have; i++) line[i] = (char)toupper((unsigned char)line[i]);
    size_t sent = 0;
    while (sent < have) {
        __wasi_ciovec_t ciov = {(const uint8_t *)line + sent, have - sent};
        __wasi_size_t put = 0;
        r = __wasi_sock_send(conn, &ciov, 1, 0, &put);
        if (r == __WASI_ERRNO_AGAIN) {
            (void)__wasi_sched_yield();
            continue;
        }
        if (r != 0) break;
        sent += put;
    }
    CHECK_WASI(r, "sock_send");
    CHECK_EQ(sent, have, "sent every byte back upper-cased");
    CHECK_WASI(__wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR), "sock_shutdown WR");
    CHECK_WASI(__wasi_fd_close(conn), "fd_close connection");

    /* socket calls on things that are not sockets */
    __wasi_iovec_t iov = {(uint8_t *)line, sizeof line};
    __wasi_size_t got = 0;
    __wasi_roflags_t rfl = 0;
    EXPECT_WASI_ERR(__wasi_sock_recv(1, &iov, 1, 0, &got, &rfl), "sock_recv on stdout");
    EXPECT_WASI_ERR(__wasi_sock_shutdown(1, __WASI_SDFLAGS_RD), "sock_shutdown on stdout");
    EXPECT_WASI_ERR(__wasi_sock_accept(1, 0, &conn), "sock_accept on stdout");
    EXPECT_WASI_ERR(__wasi_sock_accept(99, 0, &conn), "sock_accept on fd 99");
    return wt_finish();
}
