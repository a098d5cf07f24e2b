#!/usr/bin/env python3
"""Prototype host for QuickJS-NG's qjs-wasi-reactor.wasm on wasmtime (Python embedding).

The reference for the Rust host Kuai needs; HOST.md describes the calling sequence.

    prototype_host.py [--dir HOST::GUEST]... [--env NAME=VALUE]... MODULE ARG0 [ARG...]

ARG0 ARG... become the argv given to qjs_init_argv (ARG0 is the program name, ignored
by QuickJS), e.g.

    prototype_host.py --dir /tmp/w::/work qjs-wasi-reactor.wasm qjs --std /work/check.js

Exit status: 0 when qjs_init_argv returned 0; 1 when it returned non-zero (QuickJS has
already printed the exception to stderr); the guest's code when it called proc_exit
(e.g. std.exit(n)); 2 for usage errors; 70 for a trap.

Needs the `wasmtime` package (`pip install wasmtime`; recorded with 49.0.0).
"""

import struct
import sys

import wasmtime


def usage(msg):
    print(f"prototype_host.py: {msg}", file=sys.stderr)
    print(__doc__.split("\n\n")[2], file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    dirs, envs = [], []
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        opt = argv[i]
        if opt == "--":
            i += 1
            break
        if opt in ("--dir", "--env"):
            if i + 1 >= len(argv):
                usage(f"{opt} needs a value")
            val = argv[i + 1]
            i += 2
        elif opt.startswith(("--dir=", "--env=")):
            opt, val = opt.split("=", 1)
            i += 1
        else:
            usage(f"unknown option {opt}")
        if opt == "--dir":
            host, sep, guest = val.partition("::")
            dirs.append((host, guest if sep else host))
        else:
            name, sep, value = val.partition("=")
            if not sep:
                usage("--env needs NAME=VALUE")
            envs.append((name, value))
    rest = argv[i:]
    if len(rest) < 2:
        usage("need MODULE and ARG0")
    return dirs, envs, rest[0], rest[1:]


def main(argv):
    dirs, envs, module_path, qjs_argv = parse_args(argv)

    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, module_path)

    # 1. WASI preview1: the module imports only wasi_snapshot_preview1 functions.
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    wasi = wasmtime.WasiConfig()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    wasi.inherit_stdin()
    for host, guest in dirs:
        wasi.preopen_dir(host, guest)
    if envs:
        wasi.env = envs
    # (argv is not needed: the module does not import args_get / args_sizes_get.)
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)

    instance = linker.instantiate(store, module)
    ex = instance.exports(store)
    memory = ex["memory"]

    def call(name, *args):
        return ex[name](store, *args)

    def u32(v):
        return v & 0xFFFFFFFF

    try:
        # 2. Reactor initialisation: wasi-libc's _initialize runs the C constructors. Call it
        #    exactly once, before any other export.
        call("_initialize")

        # 3. Build a C argv in guest memory with the guest's own malloc:
        #    each argument a NUL-terminated UTF-8 string, then an array of argc+1 u32
        #    pointers (little endian), the last one NULL.
        ptrs = []
        for arg in qjs_argv:
            data = arg.encode("utf-8") + b"\0"
            p = u32(call("malloc", len(data)))
            if p == 0:
                raise MemoryError("guest malloc returned NULL")
            memory.write(store, data, p)
            ptrs.append(p)
        argv_ptr = u32(call("malloc", 4 * (len(ptrs) + 1)))
        if argv_ptr == 0:
            raise MemoryError("guest malloc returned NULL")
        memory.write(store, struct.pack(f"<{len(ptrs) + 1}I", *ptrs, 0), argv_ptr)

        # 4. qjs_init_argv(argc, argv): parses the qjs options, creates the runtime and
        #    context, and evaluates the script file / -e expression synchronously. It
        #    returns 0 on success, -1 on failure (bad options, or the script threw: the
        #    exception has been printed to stderr and the runtime already freed).
        rc = call("qjs_init_argv", len(ptrs), argv_ptr)

        # 5. Clean up. qjs_destroy frees the JS runtime (safe to call after a failure);
        #    the argv strings belong to the host and are freed after it (QuickJS may keep
        #    pointers into them until then: scriptArgs, "--opt=value" splits in place).
        call("qjs_destroy")
        for p in ptrs:
            call("free", p)
        call("free", argv_ptr)
    except wasmtime.ExitTrap as e:
        # proc_exit(code), e.g. from std.exit(code) or a fatal error inside QuickJS.
        sys.stdout.flush()
        return e.code
    except wasmtime.Trap as e:
        print(f"prototype_host.py: trap: {e}", file=sys.stderr)
        return 70
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
