#!/usr/bin/env python3
"""Runs a WASI command module's `_start` on wasm3, through the PyPI package pywasm3.

    python3 scripts/bench/wasm3_run.py MODULE.wasm [ARGS...]   # like `wasmtime run`
    python3 scripts/bench/wasm3_run.py --noop                  # start-up only: an empty module

pywasm3 0.5.0 has no WASI of its own (only Module.link_function), so this file provides
the small part of WASI preview1 a C program built against wasi-libc needs when it only
computes and prints: arguments, environment (empty), stdout/stderr writes, exit, clocks
and random bytes. Anything else (files, sockets) is out of scope. Exit status: the guest's
proc_exit code, 0 when _start returns, 134 on a trap. `--noop` runs an empty module, to
measure the Python and wasm3 start-up that scripts/bench.sh subtracts.
"""
import os
import struct
import sys
import time

import wasm3

WASI = "wasi_snapshot_preview1"
ESUCCESS, EBADF, EINVAL, ENOSYS, ESPIPE = 0, 8, 28, 52, 70
STACK_BYTES = 1 << 20  # wasm3's value stack; the C stack lives in linear memory

# (module (func (export "_start")))
EMPTY_MODULE = bytes.fromhex(
    "0061736d01000000" "010401600000" "03020100" "070a01065f73746172740000" "0a040102000b"
)


class ProcExit(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def link_wasi(module, runtime, argv):
    """Links the WASI functions the module imports (link_function skips the others)."""
    args = [a.encode() + b"\0" for a in argv]
    out = {1: sys.stdout.buffer, 2: sys.stderr.buffer}

    def mem():
        return runtime.get_memory(0)  # fetched per call: memory.grow can move it

    def args_sizes_get(argc_ptr, size_ptr):
        m = mem()
        struct.pack_into("<I", m, argc_ptr, len(args))
        struct.pack_into("<I", m, size_ptr, sum(len(a) for a in args))
        return ESUCCESS

    def args_get(argv_ptr, buf_ptr):
        m = mem()
        for i, a in enumerate(args):
            struct.pack_into("<I", m, argv_ptr + 4 * i, buf_ptr)
            m[buf_ptr:buf_ptr + len(a)] = a
            buf_ptr += len(a)
        return ESUCCESS

    def environ_sizes_get(count_ptr, size_ptr):
        m = mem()
        struct.pack_into("<I", m, count_ptr, 0)
        struct.pack_into("<I", m, size_ptr, 0)
        return ESUCCESS

    def environ_get(_environ_ptr, _buf_ptr):
        return ESUCCESS

    def fd_write(fd, iovs, iovs_len, nwritten_ptr):
        if fd not in out:
            return EBADF
        m = mem()
        total = 0
        for i in range(iovs_len):
            base, length = struct.unpack_from("<II", m, iovs + 8 * i)
            out[fd].write(m[base:base + length])
            total += length
        struct.pack_into("<I", m, nwritten_ptr, total)
        return ESUCCESS

    def fd_fdstat_get(fd, stat_ptr):
        if fd not in (0, 1, 2):
            return EBADF
        # filetype CHARACTER_DEVICE, no flags, all rights
        struct.pack_into("<BxHxxxxQQ", mem(), stat_ptr, 2, 0, (1 << 64) - 1, (1 << 64) - 1)
        return ESUCCESS

    def fd_close(fd):
        return ESUCCESS if fd in (0, 1, 2) else EBADF

    def fd_seek(fd, _offset, _whence, _newoffset_ptr):
        return ESPIPE if fd in (0, 1, 2) else EBADF

    def fd_prestat_get(_fd, _ptr):
        return EBADF  # no preopened directories

    def fd_prestat_dir_name(_fd, _ptr, _len):
        return EBADF

    def clock_time_get(clock_id, _precision, time_ptr):
        ns = time.time_ns() if clock_id == 0 else time.monotonic_ns()
        struct.pack_into("<Q", mem(), time_ptr, ns)
        return ESUCCESS

    def random_get(buf, length):
        mem()[buf:buf + length] = os.urandom(length)
        return ESUCCESS

    def sched_yield():
        return ESUCCESS

    def proc_exit(code):
        raise ProcExit(code)

    # wasm3 signatures: v = none, i = i32, I = i64
    for name, sig, fn in [
        ("args_sizes_get", "i(ii)", args_sizes_get),
        ("args_get", "i(ii)", args_get),
        ("environ_sizes_get", "i(ii)", environ_sizes_get),
        ("environ_get", "i(ii)", environ_get),
        ("fd_write", "i(iiii)", fd_write),
        ("fd_fdstat_get", "i(ii)", fd_fdstat_get),
        ("fd_close", "i(i)", fd_close),
        ("fd_seek", "i(iIii)", fd_seek),
        ("fd_prestat_get", "i(ii)", fd_prestat_get),
        ("fd_prestat_dir_name", "i(iii)", fd_prestat_dir_name),
        ("clock_time_get", "i(iIi)", clock_time_get),
        ("random_get", "i(ii)", random_get),
        ("sched_yield", "i()", sched_yield),
        ("proc_exit", "v(i)", proc_exit),
    ]:
        module.link_function(WASI, name, sig, fn)


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] == "--noop":
        wasm, argv = EMPTY_MODULE, ["noop"]
    else:
        with open(sys.argv[1], "rb") as f:
            wasm = f.read()
        argv = sys.argv[1:]
    env = wasm3.Environment()
    runtime = env.new_runtime(STACK_BYTES)
    module = env.parse_module(wasm)
    runtime.load(module)
    link_wasi(module, runtime, argv)
    code = 0
    try:
        runtime.find_function("_start")()
    except ProcExit as e:
        code = e.code
    except RuntimeError as e:  # a trap, or something wasm3 cannot run
        sys.stdout.flush()
        print(f"wasm3: {e}", file=sys.stderr)
        code = 134
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
