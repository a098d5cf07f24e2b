;; A register-bound loop: sum of 3*i for i < n, wrapping (4 bytecode instructions an iteration).
;;   kuai run bench/kernels/loop.wat --invoke loop 100000000
(module
  (func (export "loop") (param $n i32) (result i32) (local $sum i32) (local $i i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $i) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum)))
