;; Fibonacci numbers, recursively and iteratively.
;;
;;   kuai run examples/fib.wat --invoke fib 30        prints 832040
;;   kuai run examples/fib.wat --invoke fib_iter 90   prints 2880067194370816120
(module
  ;; fib(n) = n for n < 2, else fib(n - 1) + fib(n - 2): exponential, a call benchmark.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; The same numbers in a loop, as i64 (exact up to n = 92).
  (func $fib_iter (export "fib_iter") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $next i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $next (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $next))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $step)))
    (local.get $a))
)
