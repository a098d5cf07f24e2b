// exit: 134
// Covers: a wasm trap (unreachable) ends the run with a failure status (134 under wasmtime,
// like SIGABRT); stdout written before the trap is kept.
#include "wasi_test.h"

int main(void) {
    wt_init();
    printf("about to trap\n");
    fflush(stdout);
    __builtin_trap();
    printf("unreachable after trap\n");
    return 0;
}
