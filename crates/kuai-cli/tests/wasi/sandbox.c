// dir: sandbox
// Covers: the capability sandbox. Every way out of /sandbox (.., absolute paths, symlinks
// pointing out, new symlinks, rename/link/mkdir/unlink across the boundary) is refused;
// paths that stay inside still work; fd_prestat_get/fd_prestat_dir_name; NUL and empty paths.
#include "wasi_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* path_open with an explicit path length, so a path may contain NUL. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t fd_out);

static int pre;

/* Opens path under the preopen (following symlinks); must be refused. */
static void refused_open(const char *path, __wasi_oflags_t oflags) {
    __wasi_fd_t fd;
    char what[160];
    snprintf(what, sizeof what, "open %s%s refused", path,
             oflags & __WASI_OFLAGS_CREAT ? " (create)" : "");
    __wasi_errno_t r = wt_open_at(pre, path, oflags, WT_RIGHTS_RW, 0, &fd);
    if (r == 0) {
        FAIL(what, "opened it");
        (void)__wasi_fd_close(fd);
    } else OK("%s: %s", what, wt_errname(r));
}

/* Opens path under the preopen for reading; must work. */
static void allowed_open(const char *path) {
    __wasi_fd_t fd;
    char what[160];
    snprintf(what, sizeof what, "open %s allowed", path);
    __wasi_errno_t r = wt_open_at(pre, path, 0, WT_RIGHTS_READ, 0, &fd);
    if (r != 0) FAIL(what, "%s", wt_errname(r));
    else {
        OK("%s", what);
        (void)__wasi_fd_close(fd);
    }
}

int main(void) {
    wt_init();
    char buf[256];
    struct stat st;

    /* --- preopens --- */
    int npre = 0;
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        __wasi_errno_t r = __wasi_fd_prestat_get(fd, &ps);
        if (r != 0) {
            printf("fd_prestat_get(%u) ends the list: %s\n", (unsigned)fd, wt_errname(r));
            break;
        }
        npre++;
        size_t n = ps.u.dir.pr_name_len;
        CHECK_WASI(__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n), "fd_prestat_dir_name");
        printf("preopen fd %u: tag %d name [%.*s] (len %zu)\n", (unsigned)fd, ps.tag, (int)n,
               buf, n);
        if (n > 1)
            REPORT_WASI(__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n - 1),
                        "fd_prestat_dir_name with a buffer one byte short");
    }
    CHECK_EQ(npre, 1, "exactly one preopen");
    pre = wt_preopen("/sandbox");
    CHECK(pre >= 3, "preopen /sandbox found");
    {
        int fd = open("/sandbox/data.txt", O_RDONLY);
        __wasi_prestat_t ps;
        EXPECT_WASI_ERR(__wasi_fd_prestat_get(fd, &ps), "fd_prestat_get on a regular file fd");
        EXPECT_WASI_ERR(__wasi_fd_prestat_get(1, &ps), "fd_prestat_get on stdout");
        close(fd);
    }

    /* --- reading out --- */
    EXPECT_ERR(open("/sandbox/../outside/secret.txt", O_RDONLY),
               "libc open /sandbox/../outside/secret.txt");
    EXPECT_ERR(open("/etc/passwd", O_RDONLY), "libc open /etc/passwd (no preopen covers it)");
    EXPECT_ERR(open("/sandbox/link-out/secret.txt", O_RDONLY),
               "libc open /sandbox/link-out/secret.txt");
    refused_open("../outside/secret.txt", 0);
    refused_open("..", 0);
    refused_open("/etc/passwd", 0);
    refused_open("/sandbox/data.txt", 0);
    refused_open("link-out/secret.txt", 0);
    refused_open("link-out", 0);
    refused_open("abs-link/passwd", 0);
    refused_open("abs-link", 0);
    refused_open("link-out/../sandbox/data.txt", 0);
    refused_open("link-out/new.txt", __WASI_OFLAGS_CREAT);
    refused_open("../created-outside.txt", __WASI_OFLAGS_CREAT);
    CHECK_EQ(mkdir("/sandbox/sub", 0755), 0, "mkdir sub");
    refused_open("sub/../../outside/secret.txt", 0);
    refused_open("sub/../../sandbox/data.txt", 0);

    /* --- paths that stay inside --- */
    allowed_open(".");
    allowed_open("./data.txt");
    allowed_open("sub/../data.txt");
    allowed_open("sub/./../sub/../data.txt");
    allowed_open("sub/");

    /* --- symlinks that point out can be read, not followed --- */
    __wasi_size_t got = 0;
    CHECK_WASI(__wasi_path_readlink(pre, "link-out", (uint8_t *)buf, sizeof buf, &got),
               "readlink link-out allowed");
    printf("link-out -> [%.*s]\n", (int)got, buf);
    /* wasmtime refuses to read a symlink whose target is absolute (EPERM) */
    __wasi_errno_t r = __wasi_path_readlink(pre, "abs-link", (uint8_t *)buf, sizeof buf, &got);
    if (r == 0) OK("readlink abs-link -> SUCCESS [%.*s]", (int)got, buf);
    else OK("readlink abs-link -> %s", wt_errname(r));
    __wasi_filestat_t fs;
    CHECK_WASI(__wasi_path_filestat_get(pre, 0, "link-out", &fs),
               "path_filestat_get link-out without following");
    CHECK_EQ(fs.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "link-out is a symlink");
    EXPECT_WASI_ERR(__wasi_path_filestat_get(pre, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                             "link-out", &fs),
                    "path_filestat_get link-out following");
    EXPECT_WASI_ERR(__wasi_path_filestat_get(pre, 0, "../outside/secret.txt", &fs),
                    "path_filestat_get ../outside/secret.txt");
    EXPECT_WASI_ERR(__wasi_path_filestat_get(pre, 0, "link-out/secret.txt", &fs),
                    "path_filestat_get link-out/secret.txt");
    EXPECT_WASI_ERR(__wasi_path_filestat_set_times(pre, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                                   "link-out/secret.txt", 0, 0,
                                                   __WASI_FSTFLAGS_MTIM_NOW),
                    "path_filestat_set_times link-out/secret.txt");
    EXPECT_WASI_ERR(__wasi_path_readlink(pre, "../outside", (uint8_t *)buf, sizeof buf, &got),
                    "path_readlink ../outside");
    EXPECT_ERR(stat("/sandbox/abs-link/passwd", &st), "libc stat /sandbox/abs-link/passwd");
    EXPECT_ERR(chdir("/sandbox/link-out"), "chdir /sandbox/link-out");

    /* --- new symlinks pointing out --- */
    REPORT_WASI(__wasi_path_symlink("../outside/secret.txt", pre, "new-out"),
                "path_symlink new-out -> ../outside/secret.txt");
    refused_open("new-out", 0);
    REPORT_WASI(__wasi_path_symlink("/etc/passwd", pre, "new-abs"),
                "path_symlink new-abs -> /etc/passwd");
    refused_open("new-abs", 0);
    EXPECT_WASI_ERR(__wasi_path_symlink("data.txt", pre, "../outside/evil-link"),
                    "path_symlink placed at ../outside/evil-link");
    EXPECT_WASI_ERR(__wasi_path_symlink("data.txt", pre, "link-out/evil-link"),
                    "path_symlink placed at link-out/evil-link");

    /* --- moving, linking, creating and deleting across the boundary --- */
    EXPECT_WASI_ERR(__wasi_path_rename(pre, "data.txt", pre, "../escaped"),
                    "rename data.txt to ../escaped");
    EXPECT_WASI_ERR(__wasi_path_rename(pre, "data.txt", pre, "link-out/escaped"),
                    "rename data.txt to link-out/escaped");
    EXPECT_WASI_ERR(__wasi_path_rename(pre, "../outside/secret.txt", pre, "stolen.txt"),
                    "rename ../outside/secret.txt into the sandbox");
    CHECK(stat("/sandbox/data.txt", &st) == 0 && st.st_size == 14, "data.txt still in place");
    EXPECT_WASI_ERR(__wasi_path_create_directory(pre, "../x"), "mkdir ../x");
    EXPECT_WASI_ERR(__wasi_path_create_directory(pre, "link-out/x"), "mkdir link-out/x");
    EXPECT_WASI_ERR(__wasi_path_create_directory(pre, "/x"), "mkdir /x");
    EXPECT_WASI_ERR(__wasi_path_link(pre, 0, "../outside/secret.txt", pre, "stolen"),
                    "link ../outside/secret.txt to stolen");
    EXPECT_WASI_ERR(__wasi_path_link(pre, 0, "link-out/secret.txt", pre, "stolen2"),
                    "link link-out/secret.txt to stolen2");
    EXPECT_WASI_ERR(__wasi_path_link(pre, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link-out", pre,
                                     "stolen3"),
                    "link link-out (following) to stolen3");
    EXPECT_WASI_ERR(__wasi_path_link(pre, 0, "data.txt", pre, "../outside/linked"),
                    "link data.txt to ../outside/linked");
    EXPECT_WASI_ERR(__wasi_path_unlink_file(pre, "../outside/secret.txt"),
                    "unlink ../outside/secret.txt");
    EXPECT_WASI_ERR(__wasi_path_unlink_file(pre, "link-out/secret.txt"),
                    "unlink link-out/secret.txt");
    EXPECT_WASI_ERR(__wasi_path_remove_directory(pre, "../outside"), "rmdir ../outside");
    EXPECT_WASI_ERR(__wasi_path_remove_directory(pre, "."), "rmdir . (the preopen itself)");
    CHECK_WASI(__wasi_path_unlink_file(pre, "link-out"), "unlink the link-out symlink itself");
    CHECK(lstat("/sandbox/link-out", &st) != 0, "link-out is gone");

    /* --- malformed paths --- */
    __wasi_fd_t out = 0;
    REPORT_WASI(raw_path_open(pre, 0, (int32_t)(uintptr_t) "data.txt\0x", 10, 0,
                              WT_RIGHTS_RW, WT_RIGHTS_RW, 0, (int32_t)(uintptr_t)&out),
                "path_open with a NUL inside the path");
    REPORT_WASI(raw_path_open(pre, 0, (int32_t)(uintptr_t) "data.txt", 0, 0, WT_RIGHTS_RW,
                              WT_RIGHTS_RW, 0, (int32_t)(uintptr_t)&out),
                "path_open with an empty path");
    {
        __wasi_fd_t fd;
        EXPECT_WASI_ERR(wt_open_at(1, "data.txt", 0, WT_RIGHTS_RW, 0, &fd),
                        "path_open relative to stdout");
        EXPECT_WASI_ERR(wt_open_at(99, "data.txt", 0, WT_RIGHTS_RW, 0, &fd),
                        "path_open relative to fd 99");
    }
    return wt_finish();
}
