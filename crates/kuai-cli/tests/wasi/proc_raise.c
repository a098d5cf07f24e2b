// exit: 138
// Covers: proc_raise (deprecated in preview1 and absent from wasi-libc's headers, so imported
// by hand). Kuai implements it: a signal ignored by default (chld) returns SUCCESS and the
// program goes on; a signal whose default action ends a process (usr1) ends the guest, and
// `kuai run` exits with 128 + 10. wasmtime returns ENOTSUP for both and exits 0 (see README).
#include "wasi_test.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

int main(void) {
    wt_init();
    int32_t r = raw_proc_raise(16); /* WASI signal chld: ignored by default */
    OK("proc_raise(chld) -> %s", wt_errname(r));
    r = raw_proc_raise(99); /* no such signal */
    OK("proc_raise(99) -> %s", wt_errname(r));
    printf("calling proc_raise(usr1)\n");
    fflush(stdout);
    raw_proc_raise(10); /* WASI signal usr1: terminates */
    printf("still running after proc_raise(usr1)\n");
    return wt_finish();
}
