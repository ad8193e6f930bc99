;; SIMD kernels (wazero benches), f32x4 over linear memory.
;; a = f32[n] at 0, b = f32[n] at 4n (n a multiple of 4, 8n <= 16 MiB), both initialised by
;; $init: a[i] = ((7i mod 17) - 8) / 4, b[i] = ((5i mod 13) - 6) / 8.
;; * dot(n, reps): `reps` times acc += a[i..i+4] * b[i..i+4] (one f32x4.mul + f32x4.add per 4
;;   elements, a latency-bound reduction; lanes keep accumulating across reps, so no rep can be
;;   hoisted). Returns (l0 + l1) + (l2 + l3).
;; * axpy(n, reps): `reps` times b[i..i+4] += 0.75 * a[i..i+4] (load, mul, add, store: a
;;   throughput-bound streaming loop). Returns the scalar checksum s = s * 0.5 + b[i] in order.
;; native.c's `simd_dot_k` / `simd_axpy_k` do the same f32 arithmetic in the same order (plain
;; loops with 4 lanes, which gcc -O2 vectorises), so results compare bit for bit.
(module
  (memory (export "memory") 256 256)
  (func $init (param $n i32)
    (local $i i32) (local $b i32)
    (local.set $b (i32.shl (local.get $n) (i32.const 2)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (f32.store (i32.shl (local.get $i) (i32.const 2))
        (f32.mul (f32.convert_i32_s
                   (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 7)) (i32.const 17))
                            (i32.const 8)))
                 (f32.const 0.25)))
      (f32.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))
        (f32.mul (f32.convert_i32_s
                   (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 5)) (i32.const 13))
                            (i32.const 6)))
                 (f32.const 0.125)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func (export "dot") (param $n i32) (param $reps i32) (result f32)
    (local $i i32) (local $r i32) (local $b i32) (local $acc v128)
    (local.set $b (i32.shl (local.get $n) (i32.const 2)))
    (call $init (local.get $n))
    (block $dr (loop $lr
      (br_if $dr (i32.ge_u (local.get $r) (local.get $reps)))
      (local.set $i (i32.const 0))
      (block $di (loop $li
        (br_if $di (i32.ge_u (local.get $i) (local.get $b)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load (local.get $i))
                       (v128.load (i32.add (local.get $b) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $li)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
  (func (export "axpy") (param $n i32) (param $reps i32) (result f32)
    (local $i i32) (local $r i32) (local $b i32) (local $k v128) (local $s f32)
    (local.set $b (i32.shl (local.get $n) (i32.const 2)))
    (local.set $k (f32x4.splat (f32.const 0.75)))
    (call $init (local.get $n))
    (block $dr (loop $lr
      (br_if $dr (i32.ge_u (local.get $r) (local.get $reps)))
      (local.set $i (i32.const 0))
      (block $di (loop $li
        (br_if $di (i32.ge_u (local.get $i) (local.get $b)))
        (v128.store (i32.add (local.get $b) (local.get $i))
          (f32x4.add (v128.load (i32.add (local.get $b) (local.get $i)))
                     (f32x4.mul (local.get $k) (v128.load (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $li)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    ;; scalar checksum over b, in order
    (local.set $i (i32.const 0))
    (block $dc (loop $lc
      (br_if $dc (i32.ge_u (local.get $i) (local.get $b)))
      (local.set $s (f32.add (f32.mul (local.get $s) (f32.const 0.5))
                             (f32.load (i32.add (local.get $b) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $lc)))
    (local.get $s)))
