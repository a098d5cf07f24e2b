// dir: sandbox
// Covers: path_open (create/trunc/excl/directory), fd_read/fd_write, fd_pread/fd_pwrite,
// fd_seek/fd_tell, fd_filestat_get, fd_filestat_set_size, fd_filestat_set_times,
// path_filestat_set_times, fd_advise, fd_allocate, fd_sync/fd_datasync, O_APPEND,
// fd_fdstat_get/fd_fdstat_set_flags/fd_fdstat_set_rights, fd_renumber, fd_close, errors.
#include "wasi_test.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S 1000000000ull

static int slurp(int fd, char *buf, size_t cap) {
    if (lseek(fd, 0, SEEK_SET) != 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

static long long fsize(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

int main(void) {
    wt_init();
    char buf[8192];
    int pre = wt_preopen("/sandbox");
    CHECK(pre >= 3, "found preopen /sandbox");

    /* --- create, write, read --- */
    int fd = open("/sandbox/f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0, "open f.txt O_CREAT|O_RDWR|O_TRUNC");
    CHECK_EQ(write(fd, "hello world\n", 12), 12, "write 12 bytes");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 12, "offset is 12 after write");
    CHECK_EQ(slurp(fd, buf, sizeof buf), 12, "read back 12 bytes");
    CHECK(strcmp(buf, "hello world\n") == 0, "read back the same bytes");
    CHECK_EQ(read(fd, buf, 10), 0, "read at EOF returns 0");

    /* --- pread / pwrite leave the offset alone --- */
    CHECK_EQ(pwrite(fd, "WORLD", 5, 6), 5, "pwrite 5 bytes at 6");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 12, "pwrite kept the offset");
    memset(buf, 0, sizeof buf);
    CHECK_EQ(pread(fd, buf, 5, 6), 5, "pread 5 bytes at 6");
    CHECK(memcmp(buf, "WORLD", 5) == 0, "pread sees the pwrite");
    CHECK_EQ(pread(fd, buf, 100, 10), 2, "pread near EOF is short");
    CHECK_EQ(pread(fd, buf, 100, 50), 0, "pread past EOF returns 0");
    {
        char a[3], b[20];
        __wasi_iovec_t iov[2] = {{(uint8_t *)a, 3}, {(uint8_t *)b, sizeof b}};
        __wasi_size_t n = 0;
        CHECK_WASI(__wasi_fd_pread(fd, iov, 2, 0, &n), "fd_pread with 2 iovecs");
        CHECK(n >= 3 && n <= 12 && memcmp(a, "hel", 3) == 0, "fd_pread filled the first iovec");
    }

    /* --- seek and tell --- */
    CHECK_EQ(lseek(fd, -1, SEEK_END), 11, "lseek SEEK_END -1");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11, "lseek SEEK_CUR 0");
    CHECK_EQ(lseek(fd, -3, SEEK_CUR), 8, "lseek SEEK_CUR -3");
    __wasi_filesize_t pos = 0;
    CHECK_WASI(__wasi_fd_tell(fd, &pos), "fd_tell");
    CHECK_EQ(pos, 8, "fd_tell is 8");
    EXPECT_ERR(lseek(fd, -100, SEEK_SET), "lseek to a negative offset");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8, "failed lseek kept the offset");
    /* (whence 7 is left out: wasmtime traps on out-of-range enum values instead of EINVAL) */
    CHECK_EQ(lseek(fd, 20, SEEK_SET), 20, "lseek past EOF");
    CHECK_EQ(write(fd, "!", 1), 1, "write past EOF");
    CHECK_EQ(fsize(fd), 21, "file grew to 21");
    CHECK_EQ(pread(fd, buf, 8, 12), 8, "pread the gap");
    CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0, "gap reads as zeros");

    /* --- filestat and truncation --- */
    __wasi_filestat_t fs;
    CHECK_WASI(__wasi_fd_filestat_get(fd, &fs), "fd_filestat_get");
    CHECK_EQ(fs.filetype, __WASI_FILETYPE_REGULAR_FILE, "filestat filetype regular");
    CHECK_EQ(fs.size, 21, "filestat size 21");
    CHECK_EQ(fs.nlink, 1, "filestat nlink 1");
    CHECK_EQ(ftruncate(fd, 5), 0, "ftruncate shrink to 5");
    CHECK_EQ(fsize(fd), 5, "size is 5");
    CHECK_EQ(slurp(fd, buf, sizeof buf), 5, "read 5 bytes after shrink");
    CHECK(strcmp(buf, "hello") == 0, "content is hello");
    CHECK_WASI(__wasi_fd_filestat_set_size(fd, 4096), "fd_filestat_set_size extend to 4096");
    CHECK_EQ(fsize(fd), 4096, "size is 4096");
    CHECK_EQ(slurp(fd, buf, sizeof buf), 4096, "read 4096 bytes");
    int zeros = 1;
    for (int i = 5; i < 4096; i++) zeros &= buf[i] == 0;
    CHECK(zeros && memcmp(buf, "hello", 5) == 0, "extension is zero-filled");

    /* --- timestamps --- */
    __wasi_timestamp_t at = 1600000000ull * S + 123456789, mt = 1500000000ull * S + 987654321;
    CHECK_WASI(__wasi_fd_filestat_set_times(
                   fd, at, mt, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
               "fd_filestat_set_times explicit");
    CHECK_WASI(__wasi_fd_filestat_get(fd, &fs), "fd_filestat_get after set_times");
    CHECK_EQ(fs.atim, at, "atim read back exactly");
    CHECK_EQ(fs.mtim, mt, "mtim read back exactly");
    CHECK_WASI(__wasi_fd_filestat_set_times(fd, 0, 1400000000ull * S, __WASI_FSTFLAGS_MTIM),
               "fd_filestat_set_times mtim only");
    CHECK_WASI(__wasi_fd_filestat_get(fd, &fs), "fd_filestat_get again");
    CHECK(fs.atim == at && fs.mtim == 1400000000ull * S, "only mtim changed");
    CHECK_WASI(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
               "fd_filestat_set_times MTIM_NOW");
    CHECK_WASI(__wasi_fd_filestat_get(fd, &fs), "fd_filestat_get after MTIM_NOW");
    CHECK(fs.mtim > 1577836800ull * S, "MTIM_NOW set a current time");
    EXPECT_WASI_ERR(__wasi_fd_filestat_set_times(fd, 1, 1,
                                                 __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
                    "fd_filestat_set_times ATIM with ATIM_NOW");
    CHECK_WASI(__wasi_path_filestat_set_times(pre, 0, "f.txt", 1300000000ull * S + 1,
                                              1200000000ull * S + 2,
                                              __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
               "path_filestat_set_times explicit");
    CHECK_WASI(__wasi_path_filestat_get(pre, 0, "f.txt", &fs), "path_filestat_get f.txt");
    CHECK_EQ(fs.atim, 1300000000ull * S + 1, "path atim read back exactly");
    CHECK_EQ(fs.mtim, 1200000000ull * S + 2, "path mtim read back exactly");
    CHECK_EQ(fs.size, 4096, "path_filestat_get size 4096");
    EXPECT_WASI_ERR(__wasi_path_filestat_set_times(pre, 0, "nope.txt", 0, 0,
                                                   __WASI_FSTFLAGS_MTIM_NOW),
                    "path_filestat_set_times on a missing file");

    /* --- advice, allocation, sync --- */
    static const __wasi_advice_t advice[] = {
        __WASI_ADVICE_NORMAL, __WASI_ADVICE_SEQUENTIAL, __WASI_ADVICE_RANDOM,
        __WASI_ADVICE_WILLNEED, __WASI_ADVICE_DONTNEED, __WASI_ADVICE_NOREUSE};
    int adv_ok = 1;
    for (size_t i = 0; i < sizeof advice / sizeof advice[0]; i++)
        adv_ok &= __wasi_fd_advise(fd, 0, 4096, advice[i]) == 0;
    CHECK(adv_ok, "fd_advise with each of the 6 advice values");
    REPORT_WASI(__wasi_fd_allocate(fd, 0, 8192), "fd_allocate 8192 bytes");
    CHECK(fsize(fd) == 4096 || fsize(fd) == 8192, "size after fd_allocate is 4096 or 8192");
    CHECK_EQ(fsync(fd), 0, "fsync");
    CHECK_EQ(fdatasync(fd), 0, "fdatasync");
    CHECK_EQ(close(fd), 0, "close f.txt");

    /* --- O_APPEND and toggling it --- */
    fd = open("/sandbox/app.txt", O_CREAT | O_WRONLY | O_APPEND, 0644);
    CHECK(fd >= 0, "open app.txt O_APPEND");
    CHECK_EQ(write(fd, "abc", 3), 3, "append abc");
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "seek to 0 on append fd");
    CHECK_EQ(write(fd, "def", 3), 3, "append def");
    __wasi_fdstat_t fst;
    CHECK_WASI(__wasi_fd_fdstat_get(fd, &fst), "fd_fdstat_get app.txt");
    CHECK(fst.fs_flags & __WASI_FDFLAGS_APPEND, "fdstat shows APPEND");
    CHECK_EQ(fst.fs_filetype, __WASI_FILETYPE_REGULAR_FILE, "fdstat filetype regular");
    CHECK_WASI(__wasi_fd_fdstat_set_flags(fd, 0), "fd_fdstat_set_flags clear APPEND");
    CHECK_WASI(__wasi_fd_fdstat_get(fd, &fst), "fd_fdstat_get after clearing");
    CHECK(!(fst.fs_flags & __WASI_FDFLAGS_APPEND), "fdstat no longer shows APPEND");
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "seek to 0");
    CHECK_EQ(write(fd, "XY", 2), 2, "write XY at 0");
    CHECK_WASI(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), "set APPEND again");
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0, "seek to 0 again");
    CHECK_EQ(write(fd, "gh", 2), 2, "append gh");
    close(fd);
    fd = open("/sandbox/app.txt", O_RDONLY);
    CHECK_EQ(slurp(fd, buf, sizeof buf), 8, "app.txt has 8 bytes");
    CHECK(strcmp(buf, "XYcdefgh") == 0, "app.txt is XYcdefgh");
    REPORT_WASI(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC), "fd_fdstat_set_flags SYNC");

    /* --- read-only fd --- */
    EXPECT_ERR(write(fd, "x", 1), "write to an O_RDONLY fd");
    EXPECT_ERR(ftruncate(fd, 0), "ftruncate an O_RDONLY fd");
    CHECK_WASI(__wasi_fd_fdstat_get(fd, &fst), "fd_fdstat_get O_RDONLY fd");
    CHECK(fst.fs_rights_base & __WASI_RIGHTS_FD_READ, "O_RDONLY fd has FD_READ right");
    REPORT_WASI(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ, 0),
                "fd_fdstat_set_rights to FD_READ only");
    close(fd);

    /* --- open errors --- */
    EXPECT_ERR(open("/sandbox/app.txt", O_CREAT | O_EXCL | O_WRONLY, 0644),
               "O_CREAT|O_EXCL on an existing file");
    EXPECT_ERR(open("/sandbox/missing.txt", O_RDONLY), "open a missing file");
    EXPECT_ERR(open("/sandbox/app.txt", O_RDONLY | O_DIRECTORY), "O_DIRECTORY on a file");
    EXPECT_ERR(open("/sandbox/app.txt/x", O_RDONLY), "open through a file as if a dir");
    EXPECT_ERR(open("/sandbox", O_WRONLY), "open a directory for writing");
    {
        __wasi_fd_t out;
        EXPECT_WASI_ERR(__wasi_path_open(pre, 0, "app.txt",
                                         __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
                                         WT_RIGHTS_RW, 0, 0, &out),
                        "path_open CREAT|EXCL on an existing file");
        EXPECT_WASI_ERR(__wasi_path_open(pre, 0, "app.txt", __WASI_OFLAGS_DIRECTORY,
                                         WT_RIGHTS_RW, 0, 0, &out),
                        "path_open DIRECTORY on a file");
        CHECK_WASI(__wasi_path_open(pre, 0, "app.txt", __WASI_OFLAGS_TRUNC,
                                    WT_RIGHTS_RW, 0, 0, &out),
                   "path_open TRUNC");
        __wasi_filestat_t tfs;
        CHECK_WASI(__wasi_fd_filestat_get(out, &tfs), "fd_filestat_get after TRUNC");
        CHECK_EQ(tfs.size, 0, "TRUNC emptied the file");
        CHECK_WASI(__wasi_fd_close(out), "fd_close");
    }

    /* --- directories are not files --- */
    int dfd = open("/sandbox", O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0, "open /sandbox O_DIRECTORY");
    EXPECT_ERR(read(dfd, buf, 10), "read from a directory fd");
    EXPECT_ERR(write(dfd, "x", 1), "write to a directory fd");
    CHECK_WASI(__wasi_fd_fdstat_get(dfd, &fst), "fd_fdstat_get directory");
    CHECK_EQ(fst.fs_filetype, __WASI_FILETYPE_DIRECTORY, "fdstat filetype directory");
    close(dfd);

    /* --- closed fds --- */
    fd = open("/sandbox/data.txt", O_RDONLY);
    CHECK(fd >= 0, "open data.txt");
    CHECK_EQ(slurp(fd, buf, sizeof buf), 14, "data.txt has 14 bytes");
    CHECK(strcmp(buf, "hello sandbox\n") == 0, "data.txt is 'hello sandbox\\n'");
    CHECK_EQ(close(fd), 0, "close data.txt");
    EXPECT_ERR(read(fd, buf, 1), "read a closed fd");
    EXPECT_ERR(write(fd, "x", 1), "write a closed fd");
    EXPECT_ERR(lseek(fd, 0, SEEK_SET), "lseek a closed fd");
    EXPECT_ERR(close(fd), "close a closed fd");
    EXPECT_WASI_ERR(__wasi_fd_filestat_get(fd, &fs), "fd_filestat_get a closed fd");
    EXPECT_WASI_ERR(__wasi_fd_sync(fd), "fd_sync a closed fd");

    /* --- fd_renumber --- */
    int a = open("/sandbox/ra.txt", O_CREAT | O_RDWR, 0644);
    int b = open("/sandbox/rb.txt", O_CREAT | O_RDWR, 0644);
    CHECK(a >= 0 && b >= 0, "open ra.txt and rb.txt");
    CHECK(write(a, "A", 1) == 1 && write(b, "B", 1) == 1, "write A and B");
    CHECK_WASI(__wasi_fd_renumber(a, b), "fd_renumber ra over rb");
    CHECK_EQ(slurp(b, buf, sizeof buf), 1, "read through the renumbered fd");
    CHECK(buf[0] == 'A', "renumbered fd now reads ra.txt");
    EXPECT_WASI_ERR(__wasi_fd_fdstat_get(a, &fst), "old fd after fd_renumber");
    EXPECT_WASI_ERR(__wasi_fd_renumber(a, b), "fd_renumber from a closed fd");
    REPORT_WASI(__wasi_fd_renumber(b, b), "fd_renumber fd onto itself");
    /* preview1 has no dup2: wasmtime 49 refuses an unused target (wasmtime 36 allowed it) */
    REPORT_WASI(__wasi_fd_renumber(b, 200), "fd_renumber to an unused fd 200");
    return wt_finish();
}
