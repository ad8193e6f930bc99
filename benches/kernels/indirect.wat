;; Indirect-call-heavy kernel (wazero benches): acc = table[(i ^ (i >>> 3)) & 7](acc, i)
;; for i in [0, n): one call_indirect (type check + table bounds check) per iteration.
;; Same algorithm as `indirect_k` in native.c. Result is i32 (read it as unsigned).
(module
  (type $t (func (param i32 i32) (result i32)))
  (table 8 8 funcref)
  (elem (i32.const 0) $f0 $f1 $f2 $f3 $f4 $f5 $f6 $f7)
  (func $f0 (type $t) (i32.add (local.get 0) (local.get 1)))
  (func $f1 (type $t) (i32.xor (local.get 0) (local.get 1)))
  (func $f2 (type $t) (i32.sub (local.get 0) (local.get 1)))
  (func $f3 (type $t) (i32.add (i32.mul (local.get 0) (i32.const 3)) (local.get 1)))
  (func $f4 (type $t) (i32.xor (i32.rotl (local.get 0) (i32.const 5)) (local.get 1)))
  (func $f5 (type $t) (i32.add (i32.shr_u (local.get 0) (i32.const 1)) (local.get 1)))
  (func $f6 (type $t) (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2))))
  (func $f7 (type $t) (i32.xor (i32.mul (local.get 0) (i32.const 0x9E3779B1)) (local.get 1)))
  (func (export "indirect") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (call_indirect (type $t)
            (local.get $acc) (local.get $i)
            (i32.and (i32.xor (local.get $i) (i32.shr_u (local.get $i) (i32.const 3)))
                     (i32.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc)))
