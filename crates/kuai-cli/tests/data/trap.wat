;; Traps on division by zero: `kuai run trap.wat --invoke div 1 0`.
(module
  (func $div (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1))))
