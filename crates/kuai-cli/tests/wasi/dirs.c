// dir: sandbox
// Covers: path_create_directory, path_remove_directory, path_unlink_file, path_rename,
// path_link, path_symlink, path_readlink, path_filestat_get with/without SYMLINK_FOLLOW,
// fd_readdir (1000 entries, tiny buffers, cookie resumption), libc opendir/readdir/
// rewinddir/telldir/seekdir, chdir/getcwd emulation.
#include "wasi_test.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define NFILES 1000
#define HDR sizeof(__wasi_dirent_t)

static uint8_t rbuf[65536];

static int touch(const char *path, const char *content) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) return -1;
    ssize_t n = write(fd, content, strlen(content));
    close(fd);
    return n == (ssize_t)strlen(content) ? 0 : -1;
}

/* Parses one complete entry at buf[off]; returns its total size or 0 if incomplete. */
static size_t entry_at(const uint8_t *buf, size_t used, size_t off, __wasi_dirent_t *d,
                       char *name) {
    if (off + HDR > used) return 0;
    memcpy(d, buf + off, HDR);
    if (off + HDR + d->d_namlen > used) return 0;
    memcpy(name, buf + off + HDR, d->d_namlen);
    name[d->d_namlen] = 0;
    return HDR + d->d_namlen;
}

/* Lists dirfd with fd_readdir in buffers of bufsize bytes, resuming from the last complete
 * entry's d_next cookie. Fills seen[] for names fNNNN; returns the number of entries. */
static int list_raw(int dirfd, size_t bufsize, char seen[NFILES], int *dots, int *bad) {
    __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
    int count = 0, guard = 0;
    for (;;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(dirfd, rbuf, bufsize, cookie, &used) != 0 || ++guard > 100000)
            return -1;
        size_t off = 0, sz;
        __wasi_dirent_t d;
        char name[300];
        int progressed = 0;
        while ((sz = entry_at(rbuf, used, off, &d, name)) != 0) {
            off += sz;
            count++;
            progressed = 1;
            cookie = d.d_next;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) (*dots)++;
            else if (name[0] == 'f' && strlen(name) == 5 && d.d_type == __WASI_FILETYPE_REGULAR_FILE)
                seen[atoi(name + 1) % NFILES]++;
            else (*bad)++;
        }
        if (used < bufsize) return count; /* end of directory */
        if (!progressed) return -2;       /* buffer too small for one entry */
    }
}

int main(void) {
    wt_init();
    int pre = wt_preopen("/sandbox");
    struct stat st;
    char path[64], buf[256];

    /* --- mkdir / rmdir --- */
    CHECK_EQ(mkdir("/sandbox/d", 0755), 0, "mkdir d");
    EXPECT_ERR(mkdir("/sandbox/d", 0755), "mkdir d again");
    CHECK(stat("/sandbox/d", &st) == 0 && S_ISDIR(st.st_mode), "stat d is a directory");
    CHECK_EQ(touch("/sandbox/d/a", "aaa"), 0, "create d/a");
    EXPECT_ERR(rmdir("/sandbox/d"), "rmdir non-empty d");
    EXPECT_ERR(rmdir("/sandbox/d/a"), "rmdir a file");
    EXPECT_ERR(rmdir("/sandbox/nothere"), "rmdir missing");
    EXPECT_ERR(mkdir("/sandbox/no/such/parent", 0755), "mkdir with missing parent");
    CHECK_WASI(__wasi_path_create_directory(pre, "raw"), "path_create_directory raw");
    EXPECT_WASI_ERR(__wasi_path_create_directory(pre, "raw"), "path_create_directory existing");
    CHECK_WASI(__wasi_path_remove_directory(pre, "raw"), "path_remove_directory raw");
    EXPECT_WASI_ERR(__wasi_path_remove_directory(pre, "raw"), "path_remove_directory again");
    EXPECT_WASI_ERR(__wasi_path_remove_directory(pre, "data.txt"),
                    "path_remove_directory on a file");

    /* --- 1000 files, listed by libc --- */
    CHECK_EQ(mkdir("/sandbox/many", 0755), 0, "mkdir many");
    int made = 0;
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "/sandbox/many/f%04d", i);
        made += touch(path, "") == 0;
    }
    CHECK_EQ(made, NFILES, "created 1000 files");
    DIR *dir = opendir("/sandbox/many");
    CHECK(dir != NULL, "opendir many");
    char seen[NFILES] = {0};
    int count = 0, dots = 0, other = 0;
    struct dirent *de;
    long mark = -1;
    char marked[32] = "";
    while (dir && (de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            dots++;
            continue;
        }
        count++;
        if (de->d_name[0] == 'f' && strlen(de->d_name) == 5 && de->d_type == DT_REG)
            seen[atoi(de->d_name + 1) % NFILES]++;
        else other++;
        if (count == 500) {
            mark = telldir(dir);
            de = readdir(dir);
            if (de) snprintf(marked, sizeof marked, "%s", de->d_name);
            seekdir(dir, mark);
        }
    }
    CHECK_EQ(count, NFILES, "readdir found 1000 files");
    int all = 1;
    for (int i = 0; i < NFILES; i++) all &= seen[i] == 1;
    CHECK(all && other == 0, "readdir saw each name once, all regular files");
    printf("readdir: . and .. entries seen: %d\n", dots);
    if (dir) {
        rewinddir(dir);
        int again = 0;
        while ((de = readdir(dir)) != NULL) again++;
        CHECK_EQ(again, NFILES + dots, "rewinddir then readdir sees the same count");
        seekdir(dir, mark);
        de = readdir(dir);
        CHECK(de && strcmp(de->d_name, marked) == 0, "seekdir to a telldir mark resumes there");
        CHECK_EQ(closedir(dir), 0, "closedir");
    }

    /* --- the same through fd_readdir with small buffers and cookies --- */
    int mfd = open("/sandbox/many", O_RDONLY | O_DIRECTORY);
    CHECK(mfd >= 0, "open many as a directory");
    static const size_t sizes[] = {65536, 64, HDR + 5};
    for (size_t k = 0; k < 3; k++) {
        memset(seen, 0, sizeof seen);
        int rdots = 0, bad = 0;
        int n = list_raw(mfd, sizes[k], seen, &rdots, &bad);
        all = 1;
        for (int i = 0; i < NFILES; i++) all &= seen[i] == 1;
        snprintf(buf, sizeof buf, "fd_readdir with %zu-byte buffer lists all 1000 once",
                 sizes[k]);
        if (n == NFILES + dots && all && bad == 0 && rdots == dots) OK("%s", buf);
        else FAIL(buf, "n=%d all=%d bad=%d dots=%d", n, all, bad, rdots);
    }
    /* a buffer smaller than one entry is filled to the brim and truncated */
    __wasi_size_t used = 0;
    CHECK_WASI(__wasi_fd_readdir(mfd, rbuf, 10, 0, &used), "fd_readdir with 10-byte buffer");
    CHECK_EQ(used, 10, "10-byte buffer comes back full");
    CHECK_WASI(__wasi_fd_readdir(mfd, rbuf, HDR + 2, 0, &used),
               "fd_readdir with header+2 buffer");
    CHECK_EQ(used, HDR + 2, "header+2 buffer comes back full");
    /* resuming from the third entry's cookie gives the fourth entry first */
    {
        __wasi_size_t u1 = 0, u2 = 0;
        static uint8_t other_buf[4096];
        CHECK_WASI(__wasi_fd_readdir(mfd, rbuf, 4096, 0, &u1), "fd_readdir from cookie 0");
        __wasi_dirent_t d;
        char n3[300], n4[300], r1[300];
        size_t off = 0;
        for (int i = 0; i < 3; i++) off += entry_at(rbuf, u1, off, &d, n3);
        __wasi_dircookie_t c3 = d.d_next;
        entry_at(rbuf, u1, off, &d, n4);
        CHECK_WASI(__wasi_fd_readdir(mfd, other_buf, 4096, c3, &u2),
                   "fd_readdir from the third entry's cookie");
        entry_at(other_buf, u2, 0, &d, r1);
        CHECK(strcmp(r1, n4) == 0, "resumed listing starts at the fourth entry");
        CHECK_WASI(__wasi_fd_readdir(mfd, other_buf, 4096, 0x7fffffffffffull, &u2),
                   "fd_readdir from a cookie past the end");
        CHECK_EQ(u2, 0, "cookie past the end gives no entries");
    }
    /* an empty directory lists only what the runtime adds (./..) */
    CHECK_EQ(mkdir("/sandbox/empty", 0755), 0, "mkdir empty");
    int efd = open("/sandbox/empty", O_RDONLY | O_DIRECTORY);
    memset(seen, 0, sizeof seen);
    int edots = 0, ebad = 0;
    CHECK_EQ(list_raw(efd, 4096, seen, &edots, &ebad), dots, "empty dir lists only . and ..");
    close(efd);
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "/sandbox/many/f%04d", i);
        made -= unlink(path) == 0;
    }
    CHECK_EQ(made, 0, "unlinked 1000 files");
    CHECK_EQ(list_raw(mfd, 4096, seen, &edots, &ebad), dots, "many is empty again");
    close(mfd);
    CHECK_EQ(rmdir("/sandbox/many"), 0, "rmdir many");

    /* --- rename --- */
    CHECK_EQ(rename("/sandbox/d/a", "/sandbox/d/b"), 0, "rename d/a to d/b");
    EXPECT_ERR(stat("/sandbox/d/a", &st), "stat d/a after rename");
    CHECK(stat("/sandbox/d/b", &st) == 0 && st.st_size == 3, "d/b has the 3 bytes");
    CHECK_EQ(rename("/sandbox/d", "/sandbox/e"), 0, "rename directory d to e");
    CHECK(stat("/sandbox/e/b", &st) == 0, "e/b exists");
    CHECK_EQ(touch("/sandbox/e/c", "c"), 0, "create e/c");
    CHECK_EQ(rename("/sandbox/e/c", "/sandbox/e/b"), 0, "rename over an existing file");
    CHECK(stat("/sandbox/e/b", &st) == 0 && st.st_size == 1, "e/b is now the 1-byte file");
    CHECK_EQ(mkdir("/sandbox/full", 0755), 0, "mkdir full");
    CHECK_EQ(touch("/sandbox/full/x", "x"), 0, "create full/x");
    CHECK_EQ(mkdir("/sandbox/e2", 0755), 0, "mkdir e2");
    EXPECT_ERR(rename("/sandbox/e2", "/sandbox/full"), "rename dir onto a non-empty dir");
    EXPECT_ERR(rename("/sandbox/e/b", "/sandbox/e2"), "rename file onto a dir");
    EXPECT_ERR(rename("/sandbox/e2", "/sandbox/e/b"), "rename dir onto a file");
    EXPECT_ERR(rename("/sandbox/e/none", "/sandbox/e/z"), "rename a missing file");
    EXPECT_ERR(rename("/sandbox/e", "/sandbox/e/inside"), "rename a dir into itself");
    CHECK_EQ(rename("/sandbox/e2", "/sandbox/empty"), 0, "rename dir onto an empty dir");
    CHECK_WASI(__wasi_path_rename(pre, "e/b", pre, "e/b2"), "path_rename e/b to e/b2");
    CHECK_WASI(__wasi_path_rename(pre, "e/b2", pre, "e/b"), "path_rename back");

    /* --- unlink --- */
    EXPECT_ERR(unlink("/sandbox/e"), "unlink a directory");
    EXPECT_ERR(unlink("/sandbox/e/none"), "unlink a missing file");
    EXPECT_WASI_ERR(__wasi_path_unlink_file(pre, "full"), "path_unlink_file a directory");
    CHECK_WASI(__wasi_path_unlink_file(pre, "full/x"), "path_unlink_file full/x");
    CHECK_EQ(rmdir("/sandbox/full"), 0, "rmdir full once empty");

    /* --- hard links --- */
    CHECK_EQ(link("/sandbox/e/b", "/sandbox/e/hard"), 0, "link e/b to e/hard");
    CHECK(stat("/sandbox/e/b", &st) == 0 && st.st_nlink == 2, "e/b nlink is 2");
    CHECK(stat("/sandbox/e/hard", &st) == 0 && st.st_nlink == 2, "e/hard nlink is 2");
    EXPECT_ERR(link("/sandbox/e/b", "/sandbox/e/hard"), "link onto an existing name");
    EXPECT_ERR(link("/sandbox/e", "/sandbox/e-hard"), "hard link a directory");
    CHECK_WASI(__wasi_path_link(pre, 0, "e/b", pre, "e/hard2"), "path_link e/b to e/hard2");
    __wasi_filestat_t fs;
    CHECK_WASI(__wasi_path_filestat_get(pre, 0, "e/hard2", &fs), "path_filestat_get e/hard2");
    CHECK_EQ(fs.nlink, 3, "nlink is 3");
    CHECK_EQ(unlink("/sandbox/e/hard"), 0, "unlink e/hard");
    CHECK(stat("/sandbox/e/b", &st) == 0 && st.st_nlink == 2, "nlink back to 2");

    /* --- symlinks --- */
    CHECK_EQ(symlink("b", "/sandbox/e/sym"), 0, "symlink e/sym -> b");
    ssize_t n = readlink("/sandbox/e/sym", buf, sizeof buf);
    CHECK(n == 1 && buf[0] == 'b', "readlink e/sym is b");
    CHECK(lstat("/sandbox/e/sym", &st) == 0 && S_ISLNK(st.st_mode), "lstat e/sym is a symlink");
    CHECK(stat("/sandbox/e/sym", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 1,
          "stat e/sym follows to the 1-byte file");
    CHECK_WASI(__wasi_path_filestat_get(pre, 0, "e/sym", &fs), "path_filestat_get no-follow");
    CHECK_EQ(fs.filetype, __WASI_FILETYPE_SYMBOLIC_LINK, "no-follow filetype symlink");
    CHECK_EQ(fs.size, 1, "no-follow size is the target length 1");
    CHECK_WASI(__wasi_path_filestat_get(pre, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "e/sym", &fs),
               "path_filestat_get follow");
    CHECK_EQ(fs.filetype, __WASI_FILETYPE_REGULAR_FILE, "follow filetype regular");
    CHECK_EQ(symlink("../data.txt", "/sandbox/e/up"), 0, "symlink e/up -> ../data.txt");
    int fd = open("/sandbox/e/up", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0,
          "open through e/up reads data.txt");
    close(fd);
    EXPECT_ERR(symlink("x", "/sandbox/e/sym"), "symlink onto an existing name");
    EXPECT_ERR(readlink("/sandbox/e/b", buf, sizeof buf), "readlink a regular file");
    EXPECT_ERR(readlink("/sandbox/e/nothere", buf, sizeof buf), "readlink a missing path");
    {
        char small[4];
        __wasi_size_t got = 0;
        CHECK_EQ(symlink("0123456789", "/sandbox/e/long"), 0, "symlink e/long -> 0123456789");
        __wasi_errno_t r = __wasi_path_readlink(pre, "e/long", (uint8_t *)small, 4, &got);
        if (r == 0 && got <= 4)
            OK("path_readlink into a 4-byte buffer -> SUCCESS, %u bytes '%.*s'", (unsigned)got,
               (int)got, small);
        else OK("path_readlink into a 4-byte buffer -> %s", wt_errname(r));
    }
    CHECK_EQ(symlink("nowhere", "/sandbox/dangle"), 0, "symlink dangle -> nowhere");
    CHECK(lstat("/sandbox/dangle", &st) == 0 && S_ISLNK(st.st_mode), "lstat dangling symlink");
    EXPECT_ERR(stat("/sandbox/dangle", &st), "stat dangling symlink");
    EXPECT_ERR(open("/sandbox/dangle", O_RDONLY), "open dangling symlink");
    CHECK_EQ(symlink("loop2", "/sandbox/loop1"), 0, "symlink loop1 -> loop2");
    CHECK_EQ(symlink("loop1", "/sandbox/loop2"), 0, "symlink loop2 -> loop1");
    EXPECT_ERR(open("/sandbox/loop1", O_RDONLY), "open a symlink loop");
    EXPECT_ERR(open("/sandbox/e/sym", O_RDONLY | O_NOFOLLOW), "O_NOFOLLOW open of a symlink");
    CHECK_EQ(unlink("/sandbox/e/sym"), 0, "unlink a symlink");
    CHECK(stat("/sandbox/e/b", &st) == 0, "target survives unlinking the symlink");
    CHECK_EQ(unlink("/sandbox/dangle"), 0, "unlink a dangling symlink");

    /* --- cwd emulation in wasi-libc --- */
    CHECK_EQ(chdir("/sandbox/e"), 0, "chdir /sandbox/e");
    CHECK(getcwd(buf, sizeof buf) && strcmp(buf, "/sandbox/e") == 0, "getcwd is /sandbox/e");
    CHECK(stat("b", &st) == 0 && st.st_size == 1, "relative stat b");
    CHECK(stat("../data.txt", &st) == 0 && st.st_size == 14, "relative stat ../data.txt");
    EXPECT_ERR(chdir("/sandbox/data.txt"), "chdir to a file");
    return wt_finish();
}
