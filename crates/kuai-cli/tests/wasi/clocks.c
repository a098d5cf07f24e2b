// Covers: clock_res_get and clock_time_get for all four clock ids (cpu-time ones optional),
// poll_oneoff clock subscriptions (relative, absolute, several at once), libc nanosleep,
// usleep, clock_gettime, clock_getres, time, gettimeofday.
#include "wasi_test.h"
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull
/* 2020-01-01T00:00:00Z in ns: any sane realtime clock is past it. */
#define Y2020 1577836800000000000ull

static const char *clock_names[] = {"realtime", "monotonic", "process_cputime",
                                    "thread_cputime"};

static uint64_t mono(void) {
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) return 0;
    return t;
}

/* Sleep through poll_oneoff with one clock subscription; returns the errno. */
static __wasi_errno_t poll_clock(__wasi_clockid_t id, uint64_t timeout, int abs,
                                 __wasi_event_t *ev, __wasi_size_t *n) {
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 0x1234567890abcdefull;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = id;
    sub.u.u.clock.timeout = timeout;
    sub.u.u.clock.precision = 0;
    sub.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return __wasi_poll_oneoff(&sub, ev, 1, n);
}

int main(void) {
    wt_init();
    char what[128];

    /* realtime and monotonic must work. The cpu-time clocks are optional in practice:
     * wasmtime refuses them with EBADF, so either outcome prints the same line. */
    for (__wasi_clockid_t id = 0; id < 4; id++) {
        __wasi_timestamp_t res = 0, t1 = 0, t2 = 0;
        int optional = id >= 2;
        __wasi_errno_t r = __wasi_clock_res_get(id, &res);
        snprintf(what, sizeof what, "clock_res_get %s%s", clock_names[id],
                 optional ? " (sane, or refused as unsupported)" : "");
        if (r) {
            if (optional && (r == __WASI_ERRNO_BADF || r == __WASI_ERRNO_NOTSUP ||
                             r == __WASI_ERRNO_INVAL || r == __WASI_ERRNO_NOSYS))
                OK("%s", what);
            else FAIL(what, "%s", wt_errname(r));
            continue;
        }
        CHECK(res > 0 && res <= 1000 * MS, what);

        r = __wasi_clock_time_get(id, 1, &t1);
        snprintf(what, sizeof what, "clock_time_get %s", clock_names[id]);
        if (r) FAIL(what, "%s", wt_errname(r));
        else CHECK(t1 > 0, what);
        /* precision is only a hint: any value must be accepted */
        r = __wasi_clock_time_get(id, UINT64_MAX, &t2);
        snprintf(what, sizeof what, "clock_time_get %s with precision u64::MAX", clock_names[id]);
        if (r) FAIL(what, "%s", wt_errname(r));
        else CHECK(t2 >= t1 || id == 0, what);
    }
    /* (An out-of-range clock id is left out: wasmtime traps on it instead of EINVAL.) */

    __wasi_timestamp_t rt = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt);
    CHECK(rt > Y2020, "realtime is after 2020");

    /* monotonic never goes backwards over a busy loop */
    int backwards = 0;
    uint64_t prev = mono(), first = prev;
    volatile uint64_t sink = 0;
    for (int i = 0; i < 20000; i++) {
        for (int j = 0; j < 50; j++) sink += (uint64_t)j * i;
        uint64_t now = mono();
        if (now < prev) backwards++;
        prev = now;
    }
    CHECK(backwards == 0 && prev >= first, "monotonic non-decreasing over 20000 reads");

    /* a supported process cpu-time clock does not go backwards while busy */
    __wasi_timestamp_t c0 = 0, c1 = 0;
    __wasi_errno_t rc = __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &c0);
    for (int i = 0; i < 3000000; i++) sink += (uint64_t)i * 7;
    if (rc == 0) rc = __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &c1);
    CHECK(rc != 0 || c1 >= c0, "process_cputime non-decreasing over busy loop (if supported)");

    /* poll_oneoff: relative 20 ms on monotonic */
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    uint64_t t0 = mono();
    __wasi_errno_t r = poll_clock(__WASI_CLOCKID_MONOTONIC, 20 * MS, 0, &ev, &n);
    uint64_t el = mono() - t0;
    CHECK_WASI(r, "poll_oneoff relative 20 ms");
    CHECK_EQ(n, 1, "poll_oneoff relative: one event");
    CHECK(ev.userdata == 0x1234567890abcdefull, "poll_oneoff relative: userdata echoed");
    CHECK_EQ(ev.type, __WASI_EVENTTYPE_CLOCK, "poll_oneoff relative: event type clock");
    CHECK_EQ(ev.error, 0, "poll_oneoff relative: event error 0");
    if (el >= 20 * MS) OK("poll_oneoff relative waited >= 20 ms");
    else FAIL("poll_oneoff relative waited >= 20 ms", "only %llu ns", (unsigned long long)el);

    /* poll_oneoff: absolute deadline on monotonic, 20 ms ahead */
    t0 = mono();
    r = poll_clock(__WASI_CLOCKID_MONOTONIC, t0 + 20 * MS, 1, &ev, &n);
    el = mono() - t0;
    CHECK_WASI(r, "poll_oneoff absolute monotonic");
    CHECK(n == 1 && ev.type == __WASI_EVENTTYPE_CLOCK && ev.error == 0,
          "poll_oneoff absolute: one clock event without error");
    if (el >= 20 * MS) OK("poll_oneoff absolute waited until the deadline");
    else FAIL("poll_oneoff absolute waited until the deadline", "only %llu ns",
              (unsigned long long)el);

    /* absolute deadline already in the past fires at once */
    t0 = mono();
    r = poll_clock(__WASI_CLOCKID_MONOTONIC, 1, 1, &ev, &n);
    el = mono() - t0;
    CHECK(r == 0 && n == 1 && ev.error == 0, "poll_oneoff absolute in the past fires");
    CHECK(el < 1000 * MS, "poll_oneoff absolute in the past returns promptly");

    /* relative timeout 0 fires at once */
    r = poll_clock(__WASI_CLOCKID_MONOTONIC, 0, 0, &ev, &n);
    CHECK(r == 0 && n == 1 && ev.error == 0, "poll_oneoff relative 0 fires");

    /* realtime relative clock */
    t0 = mono();
    r = poll_clock(__WASI_CLOCKID_REALTIME, 10 * MS, 0, &ev, &n);
    el = mono() - t0;
    REPORT_WASI(r, "poll_oneoff relative 10 ms on realtime");
    if (r == 0) CHECK(el >= 10 * MS, "poll_oneoff realtime waited >= 10 ms");

    /* two clock subscriptions: only the shorter one fires */
    __wasi_subscription_t subs[2];
    __wasi_event_t evs[2];
    memset(subs, 0, sizeof subs);
    for (int i = 0; i < 2; i++) {
        subs[i].userdata = 100 + i;
        subs[i].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    }
    subs[0].u.u.clock.timeout = 5000 * MS;
    subs[1].u.u.clock.timeout = 5 * MS;
    t0 = mono();
    r = __wasi_poll_oneoff(subs, evs, 2, &n);
    el = mono() - t0;
    CHECK_WASI(r, "poll_oneoff two clocks");
    CHECK(n == 1 && evs[0].userdata == 101, "poll_oneoff two clocks: only the 5 ms one fired");
    CHECK(el >= 5 * MS && el < 4000 * MS, "poll_oneoff two clocks: waited about 5 ms");

    /* zero subscriptions */
    REPORT_WASI(__wasi_poll_oneoff(subs, evs, 0, &n), "poll_oneoff with 0 subscriptions");

    /* libc wrappers */
    struct timespec ts, ts2;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime CLOCK_MONOTONIC");
    CHECK(clock_gettime(CLOCK_REALTIME, &ts2) == 0 && ts2.tv_sec > 1577836800,
          "clock_gettime CLOCK_REALTIME after 2020");
    CHECK(clock_getres(CLOCK_MONOTONIC, &ts2) == 0 && (ts2.tv_sec > 0 || ts2.tv_nsec > 0),
          "clock_getres CLOCK_MONOTONIC positive");
    CHECK(time(NULL) > 1577836800, "time() after 2020");
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1577836800 && tv.tv_usec < 1000000,
          "gettimeofday sane");

    t0 = mono();
    struct timespec req = {0, 15 * 1000000};
    CHECK(nanosleep(&req, NULL) == 0, "nanosleep 15 ms returns 0");
    el = mono() - t0;
    CHECK(el >= 15 * MS, "nanosleep slept >= 15 ms");

    t0 = mono();
    CHECK(usleep(10000) == 0, "usleep 10 ms returns 0");
    el = mono() - t0;
    CHECK(el >= 10 * MS, "usleep slept >= 10 ms");

    t0 = mono();
    CHECK(sleep(0) == 0, "sleep(0) returns 0");
    (void)sink;
    return wt_finish();
}
