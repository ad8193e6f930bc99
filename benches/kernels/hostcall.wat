;; Host-call kernel (wazero benches): Wasm calls an imported host function n times and sums
;; the results: acc += env.f(i) for i in [0, n), acc wrapping at 2^32. The host function is
;; f(x) = 3x + 1 (a Python function on the Python runtimes, a C function through a function
;; pointer in native.c's `hostcall_k`), so time / n is the cost of one Wasm -> host call plus
;; a trivial host body. Result is i32 (read it as unsigned).
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (func (export "hostcall") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $f (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))
