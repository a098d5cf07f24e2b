// exit: 3
// Covers: returning 3 from main becomes exit status 3 (through libc's exit and proc_exit).
#include "wasi_test.h"

static void at_exit_handler(void) { printf("atexit handler ran\n"); }

int main(void) {
    wt_init();
    CHECK(atexit(at_exit_handler) == 0, "atexit registered");
    printf("returning 3 from main\n");
    return 3;
}
