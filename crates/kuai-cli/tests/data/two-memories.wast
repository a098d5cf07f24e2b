;; Two memories (the multi-memory feature): a v128 stored in memory 1 and loaded back.
(module
  (memory 1)
  (memory $m 1)
  (func (export "roundtrip") (param i32) (result i32)
    (v128.store $m (local.get 0) (i32x4.splat (i32.const 7)))
    (i32x4.extract_lane 3 (v128.load $m (local.get 0)))))
(assert_return (invoke "roundtrip" (i32.const 16)) (i32.const 7))
(assert_trap (invoke "roundtrip" (i32.const 65530)) "out of bounds memory access")
