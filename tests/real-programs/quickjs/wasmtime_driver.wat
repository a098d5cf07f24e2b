;; Lets the wasmtime CLI act as a host for qjs-wasi-reactor.wasm (reference recordings
;; and WASI traces), with no embedding code:
;;
;;   wasmtime run --dir DIR::/work --preload qjs=qjs-wasi-reactor.wasm wasmtime_driver.wat \
;;       --std -m /work/check.js alpha beta
;;
;; wasmtime instantiates the preloaded reactor (calling its _initialize) and links this
;; command against its exports. _start copies the command's own WASI argv into the
;; reactor's memory (buffers from the reactor's malloc) and calls qjs_init_argv(argc, argv),
;; then qjs_destroy; a non-zero result becomes exit status 1. argv[0] is the driver's
;; name, which QuickJS ignores. Same sequence as prototype_host.py (see HOST.md).
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "qjs" "memory" (memory $mem 0))
  (import "qjs" "malloc" (func $malloc (param i32) (result i32)))
  (import "qjs" "qjs_init_argv" (func $qjs_init_argv (param i32 i32) (result i32)))
  (import "qjs" "qjs_destroy" (func $qjs_destroy))
  ;; WASI host functions write into the calling instance's exported "memory": export the
  ;; reactor's memory as ours so args_get fills the reactor's memory directly.
  (export "memory" (memory $mem))
  (func (export "_start")
    (local $sizes i32) (local $argc i32) (local $argv i32) (local $buf i32) (local $rc i32)
    (local.set $sizes (call $malloc (i32.const 8)))
    (if (call $args_sizes_get (local.get $sizes) (i32.add (local.get $sizes) (i32.const 4)))
      (then (call $proc_exit (i32.const 71))))
    (local.set $argc (i32.load (local.get $sizes)))
    ;; argv: argc + 1 pointers, the last NULL
    (local.set $argv (call $malloc (i32.shl (i32.add (local.get $argc) (i32.const 1)) (i32.const 2))))
    (local.set $buf (call $malloc (i32.load offset=4 (local.get $sizes))))
    (if (call $args_get (local.get $argv) (local.get $buf))
      (then (call $proc_exit (i32.const 71))))
    (i32.store (i32.add (local.get $argv) (i32.shl (local.get $argc) (i32.const 2))) (i32.const 0))
    (local.set $rc (call $qjs_init_argv (local.get $argc) (local.get $argv)))
    (call $qjs_destroy)
    (if (local.get $rc) (then (call $proc_exit (i32.const 1))))))
