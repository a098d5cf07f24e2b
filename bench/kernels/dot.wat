;; Dot product of two 4096-element i32 vectors in memory, `reps` times, with scalar code
;; (`dot_scalar`) and with SIMD (`dot_simd`); both return the same wrapping sum.
;;   kuai run bench/kernels/dot.wat --invoke dot_simd 2000
(module
  (memory 1)
  ;; a[i] = i at 0, b[i] = 3 - i at 16384 (4096 i32 each).
  (func $init
    (local $i i32)
    (loop $l
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
      (i32.store offset=16384 (i32.shl (local.get $i) (i32.const 2)) (i32.sub (i32.const 3) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 4096)))))
  (func (export "dot_scalar") (param $reps i32) (result i32)
    (local $i i32) (local $sum i32)
    (call $init)
    (loop $rep
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $sum (i32.add (local.get $sum)
          (i32.mul (i32.load (local.get $i)) (i32.load offset=16384 (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 16384))))
      (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
      (br_if $rep (local.get $reps)))
    (local.get $sum))
  (func (export "dot_simd") (param $reps i32) (result i32)
    (local $i i32) (local $acc v128)
    (call $init)
    (loop $rep
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.mul (v128.load (local.get $i)) (v128.load offset=16384 (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 16384))))
      (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
      (br_if $rep (local.get $reps)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc))))))
