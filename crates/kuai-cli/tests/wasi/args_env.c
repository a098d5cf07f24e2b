// args: one two "three four" "" x=y
// env: ALPHA=1
// env: BETA=two words
// env: GAMMA=
// env: DELTA=a=b=c
// Covers: args_sizes_get, args_get, environ_sizes_get, environ_get, libc argv/environ/getenv.
#include "wasi_test.h"

extern char **environ;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    wt_init();

    /* --- arguments through libc --- */
    CHECK_EQ(argc, 6, "argc is 6");
    size_t l0 = strlen(argv[0]);
    CHECK(l0 >= 13 && strcmp(argv[0] + l0 - 13, "args_env.wasm") == 0,
          "argv[0] ends with args_env.wasm");
    for (int i = 1; i < argc; i++) printf("argv[%d] = [%s]\n", i, argv[i]);
    CHECK(argv[argc] == NULL, "argv[argc] is NULL");
    CHECK(argc > 3 && strcmp(argv[3], "three four") == 0, "quoted argument kept whole");
    CHECK(argc > 4 && argv[4][0] == 0, "empty quoted argument kept");

    /* --- arguments through the raw calls --- */
    __wasi_size_t n = 0, bufsize = 0;
    CHECK_WASI(__wasi_args_sizes_get(&n, &bufsize), "args_sizes_get");
    CHECK_EQ(n, argc, "args_sizes_get count equals argc");
    size_t want = 0;
    for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
    CHECK_EQ(bufsize, want, "args_sizes_get buffer size equals sum of lengths + NULs");
    {
        uint8_t **ptrs = calloc(n + 1, sizeof *ptrs);
        uint8_t *buf = malloc(bufsize + 1);
        CHECK_WASI(__wasi_args_get(ptrs, buf), "args_get");
        int same = 1;
        for (__wasi_size_t i = 0; i < n && i < (__wasi_size_t)argc; i++) {
            if (strcmp((char *)ptrs[i], argv[i]) != 0) same = 0;
            if (ptrs[i] < buf || ptrs[i] >= buf + bufsize) same = 0;
        }
        CHECK(same, "args_get strings match argv and lie in the buffer");
        CHECK(bufsize > 0 && buf[bufsize - 1] == 0, "args_get buffer ends with NUL");
        free(ptrs);
        free(buf);
    }

    /* --- environment through libc, printed sorted --- */
    size_t envc = 0;
    for (char **e = environ; *e; e++) envc++;
    CHECK_EQ(envc, 4, "exactly the 4 passed variables are visible");
    char **sorted = malloc((envc + 1) * sizeof *sorted);
    memcpy(sorted, environ, envc * sizeof *sorted);
    qsort(sorted, envc, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < envc; i++) printf("env[%zu] = [%s]\n", i, sorted[i]);
    free(sorted);

    const char *beta = getenv("BETA");
    CHECK(beta && strcmp(beta, "two words") == 0, "getenv BETA keeps the space");
    const char *gamma = getenv("GAMMA");
    CHECK(gamma && gamma[0] == 0, "getenv GAMMA is empty but set");
    const char *delta = getenv("DELTA");
    CHECK(delta && strcmp(delta, "a=b=c") == 0, "getenv DELTA splits at the first =");
    CHECK(getenv("PATH") == NULL, "host PATH is not inherited");
    CHECK(getenv("MISSING") == NULL, "getenv MISSING is NULL");

    /* --- environment through the raw calls --- */
    __wasi_size_t en = 0, ebuf = 0;
    CHECK_WASI(__wasi_environ_sizes_get(&en, &ebuf), "environ_sizes_get");
    CHECK_EQ(en, 4, "environ_sizes_get count is 4");
    want = 0;
    for (char **e = environ; *e; e++) want += strlen(*e) + 1;
    CHECK_EQ(ebuf, want, "environ_sizes_get buffer size equals sum of lengths + NULs");
    {
        uint8_t **ptrs = calloc(en + 1, sizeof *ptrs);
        uint8_t *buf = malloc(ebuf + 1);
        CHECK_WASI(__wasi_environ_get(ptrs, buf), "environ_get");
        int found = 0;
        for (__wasi_size_t i = 0; i < en; i++)
            for (char **e = environ; *e; e++)
                if (strcmp((char *)ptrs[i], *e) == 0) {
                    found++;
                    break;
                }
        CHECK_EQ(found, en, "environ_get strings match environ");
        free(ptrs);
        free(buf);
    }
    return wt_finish();
}
