// Covers: a run with no preopened directory: fd_prestat_get finds nothing and every
// filesystem access fails (libc paths and raw path_open on fd 3).
#include "wasi_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    wt_init();
    __wasi_prestat_t ps;
    int n = 0;
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        n++;
    }
    CHECK_EQ(n, 0, "no preopens");
    EXPECT_WASI_ERR(__wasi_fd_prestat_get(3, &ps), "fd_prestat_get(3)");
    struct stat st;
    EXPECT_ERR(open("data.txt", O_RDONLY), "open data.txt");
    EXPECT_ERR(open("/", O_RDONLY), "open /");
    EXPECT_ERR(open(".", O_RDONLY), "open .");
    EXPECT_ERR(open("/sandbox/data.txt", O_RDONLY), "open /sandbox/data.txt");
    EXPECT_ERR(open("new.txt", O_CREAT | O_WRONLY, 0644), "create new.txt");
    EXPECT_ERR(stat("/", &st), "stat /");
    EXPECT_ERR(mkdir("/tmp-dir", 0755), "mkdir /tmp-dir");
    CHECK(opendir("/") == NULL, "opendir / fails");
    __wasi_fd_t fd;
    EXPECT_WASI_ERR(__wasi_path_open(3, 0, "data.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
                    "path_open relative to fd 3");
    EXPECT_WASI_ERR(__wasi_path_create_directory(3, "x"), "path_create_directory on fd 3");
    return wt_finish();
}
