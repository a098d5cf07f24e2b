// dir: sandbox
// stdin: ping\n
// Covers: poll_oneoff with fd_read on stdin and on a regular file, fd_write on stdout and on
// a file, clock subscriptions mixed with fd ones, bad fds, libc poll().
#include "wasi_test.h"
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#define MS 1000000ull

static void sub_fd(__wasi_subscription_t *s, uint64_t ud, __wasi_eventtype_t type, int fd) {
    memset(s, 0, sizeof *s);
    s->userdata = ud;
    s->u.tag = type;
    if (type == __WASI_EVENTTYPE_FD_READ) s->u.u.fd_read.file_descriptor = fd;
    else s->u.u.fd_write.file_descriptor = fd;
}

static void sub_clock(__wasi_subscription_t *s, uint64_t ud, uint64_t ns) {
    memset(s, 0, sizeof *s);
    s->userdata = ud;
    s->u.tag = __WASI_EVENTTYPE_CLOCK;
    s->u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s->u.u.clock.timeout = ns;
}

static uint64_t mono(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

int main(void) {
    wt_init();
    int file = open("/sandbox/data.txt", O_RDONLY);
    CHECK(file >= 0, "open data.txt");
    int wfile = open("/sandbox/w.txt", O_CREAT | O_WRONLY, 0644);
    CHECK(wfile >= 0, "open w.txt for writing");

    /* Four fd subscriptions plus a 10 s clock. Readiness may arrive over several calls
     * (stdin is a pipe), so poll until every fd one has fired, dropping fired ones. */
    enum { STDIN_R = 1, FILE_R, STDOUT_W, FILE_W, CLOCK };
    const char *names[] = {"", "stdin fd_read", "file fd_read", "stdout fd_write",
                           "file fd_write", "clock"};
    int fired[6] = {0}, errs[6] = {0};
    __wasi_eventtype_t types[6] = {0};
    uint64_t file_nbytes = 0;
    int rounds = 0, clock_fired = 0;
    while (rounds < 50) {
        __wasi_subscription_t subs[5];
        __wasi_event_t evs[5];
        __wasi_size_t ns = 0, nev = 0;
        if (!fired[STDIN_R]) sub_fd(&subs[ns++], STDIN_R, __WASI_EVENTTYPE_FD_READ, 0);
        if (!fired[FILE_R]) sub_fd(&subs[ns++], FILE_R, __WASI_EVENTTYPE_FD_READ, file);
        if (!fired[STDOUT_W]) sub_fd(&subs[ns++], STDOUT_W, __WASI_EVENTTYPE_FD_WRITE, 1);
        if (!fired[FILE_W]) sub_fd(&subs[ns++], FILE_W, __WASI_EVENTTYPE_FD_WRITE, wfile);
        if (ns == 0) break;
        sub_clock(&subs[ns++], CLOCK, 10000 * MS);
        rounds++;
        __wasi_errno_t r = __wasi_poll_oneoff(subs, evs, ns, &nev);
        if (r != 0) {
            FAIL("poll_oneoff with fd subscriptions", "%s", wt_errname(r));
            break;
        }
        for (__wasi_size_t i = 0; i < nev; i++) {
            uint64_t u = evs[i].userdata;
            if (u < 1 || u > 5) continue;
            if (u == CLOCK) {
                clock_fired = 1;
                continue;
            }
            fired[u]++;
            errs[u] = evs[i].error;
            types[u] = evs[i].type;
            if (u == FILE_R) file_nbytes = evs[i].fd_readwrite.nbytes;
        }
        if (clock_fired) break;
    }
    CHECK(!clock_fired, "no fd subscription needed the 10 s clock");
    for (int u = STDIN_R; u <= FILE_W; u++) {
        __wasi_eventtype_t want =
            u <= FILE_R ? __WASI_EVENTTYPE_FD_READ : __WASI_EVENTTYPE_FD_WRITE;
        char what[64];
        snprintf(what, sizeof what, "%s fired once, right type, no error", names[u]);
        if (fired[u] == 1 && types[u] == want && errs[u] == 0) OK("%s", what);
        else FAIL(what, "fired=%d type=%d error=%s", fired[u], types[u], wt_errname(errs[u]));
    }
    CHECK(file_nbytes >= 1 && file_nbytes <= 14, "file fd_read nbytes is 1..14 (wasmtime says 1)");

    /* the stdin data is really there */
    char buf[64];
    ssize_t n = read(0, buf, sizeof buf);
    CHECK(n == 5 && memcmp(buf, "ping\n", 5) == 0, "read stdin after poll gives ping");

    /* stdin at EOF still polls readable */
    __wasi_subscription_t s2[2];
    __wasi_event_t e2[2];
    __wasi_size_t nev = 0;
    sub_fd(&s2[0], 7, __WASI_EVENTTYPE_FD_READ, 0);
    sub_clock(&s2[1], 8, 10000 * MS);
    uint64_t t0 = mono();
    CHECK_WASI(__wasi_poll_oneoff(s2, e2, 2, &nev), "poll stdin at EOF");
    CHECK(nev >= 1 && e2[0].userdata == 7 && e2[0].error == 0, "stdin at EOF is readable");
    CHECK(mono() - t0 < 5000 * MS, "poll stdin at EOF returned before the clock");
    CHECK_EQ(read(0, buf, sizeof buf), 0, "read stdin at EOF gives 0");

    /* only a clock: fires alone */
    sub_clock(&s2[0], 9, 5 * MS);
    CHECK_WASI(__wasi_poll_oneoff(s2, e2, 1, &nev), "poll a lone 5 ms clock");
    CHECK(nev == 1 && e2[0].userdata == 9 && e2[0].type == __WASI_EVENTTYPE_CLOCK,
          "the lone clock fired");

    /* a bad fd: reported in the event or as the call's error */
    sub_fd(&s2[0], 11, __WASI_EVENTTYPE_FD_READ, 99);
    sub_clock(&s2[1], 12, 5000 * MS);
    __wasi_errno_t r = __wasi_poll_oneoff(s2, e2, 2, &nev);
    if (r != 0) OK("poll fd_read on fd 99 -> call fails with %s", wt_errname(r));
    else if (nev >= 1 && e2[0].userdata == 11)
        OK("poll fd_read on fd 99 -> event error %s", wt_errname(e2[0].error));
    else FAIL("poll fd_read on fd 99", "r=%s nev=%u ud=%llu", wt_errname(r), (unsigned)nev,
              (unsigned long long)e2[0].userdata);
    sub_fd(&s2[0], 13, __WASI_EVENTTYPE_FD_WRITE, 99);
    r = __wasi_poll_oneoff(s2, e2, 2, &nev);
    if (r != 0) OK("poll fd_write on fd 99 -> call fails with %s", wt_errname(r));
    else if (nev >= 1 && e2[0].userdata == 13)
        OK("poll fd_write on fd 99 -> event error %s", wt_errname(e2[0].error));
    else FAIL("poll fd_write on fd 99", "r=%s nev=%u", wt_errname(r), (unsigned)nev);

    /* fd_write subscription on a read-only fd */
    sub_fd(&s2[0], 14, __WASI_EVENTTYPE_FD_WRITE, file);
    sub_clock(&s2[1], 15, 5000 * MS);
    r = __wasi_poll_oneoff(s2, e2, 2, &nev);
    if (r != 0) OK("poll fd_write on a read-only file -> call fails with %s", wt_errname(r));
    else OK("poll fd_write on a read-only file -> %u event(s), first ud %llu error %s",
            (unsigned)nev, (unsigned long long)e2[0].userdata, wt_errname(e2[0].error));

    /* libc poll() on top. As above, readiness may be reported over several calls
     * (wasmtime often reports only stdout first), so poll the not-yet-seen ones again. */
    int seen_in = 0, seen_out = 0, calls = 0, bad = 0;
    while ((!seen_in || !seen_out) && calls < 50) {
        struct pollfd pfd[2];
        int np = 0;
        if (!seen_in) pfd[np++] = (struct pollfd){file, POLLIN, 0};
        if (!seen_out) pfd[np++] = (struct pollfd){1, POLLOUT, 0};
        calls++;
        int pr = poll(pfd, np, 5000);
        if (pr <= 0) {
            bad++;
            break;
        }
        for (int i = 0; i < np; i++) {
            if (pfd[i].fd == file && (pfd[i].revents & POLLIN)) seen_in = 1;
            if (pfd[i].fd == 1 && (pfd[i].revents & POLLOUT)) seen_out = 1;
            if (pfd[i].revents & (POLLERR | POLLNVAL)) bad++;
        }
    }
    CHECK(seen_in && seen_out && bad == 0, "poll(): file POLLIN and stdout POLLOUT reported");
    t0 = mono();
    CHECK_EQ(poll(NULL, 0, 20), 0, "poll() with no fds and 20 ms timeout");
    CHECK(mono() - t0 >= 20 * MS, "poll() with no fds waited 20 ms");
    close(file);
    close(wfile);
    return wt_finish();
}
