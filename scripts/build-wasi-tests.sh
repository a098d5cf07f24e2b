#!/bin/sh
# Compiles every crates/kuai-cli/tests/wasi/*.c to the .wasm beside it with clang-19
# (install it with scripts/install-wasi-toolchain.sh). Same flags for every program.
#
#   scripts/build-wasi-tests.sh            # all programs
#   scripts/build-wasi-tests.sh files      # only files.c
set -eu
cd "$(dirname "$0")/.."
dir=crates/kuai-cli/tests/wasi
CC=${CC:-clang-19}
# Debian's wasi-libc lives in /usr/{include,lib}/wasm32-wasi, which clang finds for this target.
CFLAGS="--target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug"

if [ $# -gt 0 ]; then
    names="$*"
else
    names=$(for f in "$dir"/*.c; do basename "$f" .c; done)
fi

for name in $names; do
    echo "$CC $CFLAGS -o $dir/$name.wasm $dir/$name.c"
    # shellcheck disable=SC2086
    $CC $CFLAGS -o "$dir/$name.wasm" "$dir/$name.c"
done
