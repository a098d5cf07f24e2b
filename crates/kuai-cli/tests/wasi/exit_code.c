// exit: 7
// Covers: proc_exit with a non-zero code; output printed before it must not be lost.
#include "wasi_test.h"

int main(void) {
    wt_init();
    OK("printed before proc_exit(7)");
    fflush(stdout);
    __wasi_proc_exit(7);
    OK("unreachable after proc_exit");
    return 0;
}
