#!/bin/sh
# Builds lz.wasm (a WASI preview1 command) from lz.c with clang-19 and Debian's
# wasi-libc (scripts/install-wasi-toolchain.sh installs both). Same flags as the
# WASI test programs: -O2, warnings as errors, debug info stripped.
#
#   examples/lz/build.sh                 # writes examples/lz/lz.wasm
#   CC=/path/to/clang examples/lz/build.sh
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-19}
CFLAGS="--target=wasm32-wasi -std=c11 -O2 -Wall -Wextra -Werror -Wl,--strip-debug"
echo "$CC $CFLAGS -o lz.wasm lz.c"
# shellcheck disable=SC2086
$CC $CFLAGS -o lz.wasm lz.c
