;; A WASI reactor: `_initialize` sets up state that its exports use.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $ready (i32.const 40)))
  (func (export "answer") (param i32) (result i32) (i32.add (global.get $ready) (local.get 0)))
  (func (export "quit") (param i32) (call $exit (local.get 0))))
