;; Runaway code for the interrupt, timeout, thread and CLI tests (Rust and Python).
(module
  (import "env" "host" (func $host))
  (func (export "spin") (loop $l (br $l)))
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func (export "count") (param $n i64) (result i64)
    (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 6364136223846793005))
                                 (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $l)))
    (local.get $acc))
  (func $seven (result i32) (i32.const 7))
  (func (export "call_host") (result i32) (call $host) (call $seven))
  (func $deep (export "deep") (call $deep))
  (func (export "answer") (result i32) (i32.const 42)))
