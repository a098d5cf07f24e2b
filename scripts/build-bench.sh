#!/bin/sh
# Compiles every bench/kernels/c/NAME.c to bench/kernels/NAME.wasm with clang-19 against
# Debian's wasi-libc (install both with scripts/install-wasi-toolchain.sh). The .wasm files
# are committed, so scripts/bench.sh needs no C-to-wasm toolchain; it builds the native
# versions itself.
#
#   scripts/build-bench.sh           # all kernels
#   scripts/build-bench.sh fib sort  # only these
#
# WebAssembly 2.0: -mbulk-memory for every kernel (memcpy/memmove/memset become
# memory.copy/memory.fill), -msimd128 for simd.c only.
set -eu
cd "$(dirname "$0")/.."
src=bench/kernels/c
out=bench/kernels
CC=${CC:-clang-19}
# Same flags as scripts/build-wasi-tests.sh (clang finds the sysroot /usr/{include,lib}/wasm32-wasi
# for this target), plus --strip-all: names are not needed and small files are.
CFLAGS="--target=wasm32-wasi -O2 -Wall -Wextra -Werror -mbulk-memory -Wl,--strip-all -Wl,--compress-relocations"

if [ $# -gt 0 ]; then
    names="$*"
else
    names=$(for f in "$src"/*.c; do basename "$f" .c; done)
fi

for name in $names; do
    extra=""
    [ "$name" = simd ] && extra="-msimd128"
    echo "$CC $CFLAGS $extra -o $out/$name.wasm $src/$name.c"
    # shellcheck disable=SC2086
    $CC $CFLAGS $extra -o "$out/$name.wasm" "$src/$name.c"
done
