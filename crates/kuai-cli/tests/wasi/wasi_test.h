/* Shared helpers for Kuai's WASI preview1 test programs.
 *
 * Every check prints one line: "ok <what>" when it passed, "FAIL <what>: <detail>" when it
 * did not. wt_finish() returns the exit status for main: 1 if any check failed, else 0.
 * Errors are printed by errno *name* (wasi-libc's errno values are WASI's errno values), so
 * the recorded output pins the exact error the reference runtime gave.
 */
#ifndef WASI_TEST_H
#define WASI_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int wt_failures;

static const char *const wt_errno_names[] = {
    "SUCCESS", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN",
    "EALREADY", "EBADF", "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED",
    "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDESTADDRREQ", "EDOM", "EDQUOT", "EEXIST",
    "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR", "EINVAL",
    "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP",
    "ENAMETOOLONG", "ENETDOWN", "ENETRESET", "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV",
    "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK", "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC",
    "ENOSYS", "ENOTCONN", "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP",
    "ENOTTY", "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO",
    "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH", "ESTALE",
    "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE",
};

/* Name of a WASI errno (also of a wasi-libc errno value). */
static inline const char *wt_errname(int e) {
    static char other[24];
    if (e >= 0 && (size_t)e < sizeof wt_errno_names / sizeof wt_errno_names[0])
        return wt_errno_names[e];
    snprintf(other, sizeof other, "errno(%d)", e);
    return other;
}

/* Line-buffer stdout so a trap or proc_exit loses nothing already printed. */
static inline void wt_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

static inline int wt_finish(void) {
    fflush(stdout);
    return wt_failures ? 1 : 0;
}

#define OK(...)                                                                                \
    do {                                                                                       \
        printf("ok ");                                                                         \
        printf(__VA_ARGS__);                                                                   \
        printf("\n");                                                                          \
    } while (0)

#define FAIL(what, ...)                                                                        \
    do {                                                                                       \
        wt_failures++;                                                                         \
        printf("FAIL %s: ", what);                                                             \
        printf(__VA_ARGS__);                                                                   \
        printf("\n");                                                                          \
    } while (0)

/* Plain condition; on failure the detail is the current errno's name. */
#define CHECK(cond, what)                                                                      \
    do {                                                                                       \
        int wt_e_ = errno;                                                                     \
        if (cond) OK("%s", what);                                                              \
        else FAIL(what, "condition '%s' false (errno %s)", #cond, wt_errname(wt_e_));         \
    } while (0)

/* Integer equality. */
#define CHECK_EQ(got, want, what)                                                              \
    do {                                                                                       \
        long long wt_g_ = (long long)(got), wt_w_ = (long long)(want);                         \
        if (wt_g_ == wt_w_) OK("%s", what);                                                    \
        else FAIL(what, "got %lld, want %lld", wt_g_, wt_w_);                                  \
    } while (0)

/* A raw __wasi_* call that must succeed. */
#define CHECK_WASI(call, what)                                                                 \
    do {                                                                                       \
        __wasi_errno_t wt_r_ = (call);                                                         \
        if (wt_r_ == 0) OK("%s", what);                                                        \
        else FAIL(what, "%s", wt_errname(wt_r_));                                             \
    } while (0)

/* A raw __wasi_* call that must fail: prints "ok <what>: ENAME" with whatever errno came. */
#define EXPECT_WASI_ERR(call, what)                                                            \
    do {                                                                                       \
        __wasi_errno_t wt_r_ = (call);                                                         \
        if (wt_r_ != 0) OK("%s: %s", what, wt_errname(wt_r_));                                 \
        else FAIL(what, "unexpectedly succeeded");                                             \
    } while (0)

/* A libc call that must fail with -1 (or any negative / NULL-ish value tested by caller). */
#define EXPECT_ERR(expr, what)                                                                 \
    do {                                                                                       \
        errno = 0;                                                                             \
        long long wt_v_ = (long long)(expr);                                                   \
        if (wt_v_ < 0) OK("%s: %s", what, wt_errname(errno));                                  \
        else FAIL(what, "unexpectedly succeeded (%lld)", wt_v_);                               \
    } while (0)

/* A raw call whose outcome (success or which errno) is recorded, not judged. */
#define REPORT_WASI(call, what)                                                                \
    do {                                                                                       \
        __wasi_errno_t wt_r_ = (call);                                                         \
        OK("%s -> %s", what, wt_errname(wt_r_));                                               \
    } while (0)

/* The fd of the preopened directory whose guest name is `name`, or -1. */
static inline int wt_preopen(const char *name) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        if (ps.tag != __WASI_PREOPENTYPE_DIR) continue;
        size_t n = ps.u.dir.pr_name_len;
        char buf[256];
        if (n >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n) != 0) continue;
        buf[n] = 0;
        if (strcmp(buf, name) == 0) return (int)fd;
    }
    return -1;
}

/* Raw path_open relative to dirfd with a NUL-terminated path. */
static inline __wasi_errno_t wt_open_at(int dirfd, const char *path, __wasi_oflags_t oflags,
                                        __wasi_rights_t rights, __wasi_fdflags_t fdflags,
                                        __wasi_fd_t *out) {
    return __wasi_path_open((__wasi_fd_t)dirfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags,
                            rights, rights, fdflags, out);
}

#define WT_RIGHTS_RW                                                                          \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK |                  \
     __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)
#define WT_RIGHTS_READ                                                                        \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |                   \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR)

#endif
