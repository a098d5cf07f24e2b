// Covers: sched_yield (raw and libc).
#include "wasi_test.h"
#include <sched.h>

int main(void) {
    wt_init();
    CHECK_WASI(__wasi_sched_yield(), "sched_yield");
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= __wasi_sched_yield() == 0;
    CHECK(ok, "sched_yield 1000 times");
    CHECK_EQ(sched_yield(), 0, "libc sched_yield");
    return wt_finish();
}
