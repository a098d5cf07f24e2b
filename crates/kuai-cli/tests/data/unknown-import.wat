(module
  (import "env" "missing" (func $missing (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $missing))))
