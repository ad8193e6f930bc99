;; Memory-bound copy kernels (wazero benches). Plain loads/stores only: no bulk-memory
;; instructions (memory.copy/fill), which the engine does not support yet.
;; src = [0, n), dst = [n, 2n), n a multiple of 8, 2n <= 16 MiB.
;; Both exports: init src with one i64.store per 8 bytes (v = i * 0x0101010101010101 +
;; 0x0123456789abcdef), copy src -> dst `reps` times, return the checksum s = s*31 + word over
;; dst's 64-bit words. copy_bytes copies with i32.load8_u/i32.store8, copy_words with
;; i64.load/i64.store; both return the same value. Same algorithm as copy8_k/copy64_k in native.c.
(module
  (memory (export "memory") 256 256)
  (func $init (param $n i32)
    (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i64.store (local.get $i)
        (i64.add (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 0x0101010101010101))
                 (i64.const 0x0123456789abcdef)))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $l))))
  (func $checksum (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 31))
                             (i64.load (i32.add (local.get $n) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $l)))
    (local.get $s))
  (func (export "copy_bytes") (param $n i32) (param $reps i32) (result i64)
    (local $r i32) (local $j i32)
    (call $init (local.get $n))
    (block $dr (loop $lr
      (br_if $dr (i32.ge_u (local.get $r) (local.get $reps)))
      (local.set $j (i32.const 0))
      (block $dj (loop $lj
        (br_if $dj (i32.ge_u (local.get $j) (local.get $n)))
        (i32.store8 (i32.add (local.get $n) (local.get $j)) (i32.load8_u (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    (call $checksum (local.get $n)))
  (func (export "copy_words") (param $n i32) (param $reps i32) (result i64)
    (local $r i32) (local $j i32)
    (call $init (local.get $n))
    (block $dr (loop $lr
      (br_if $dr (i32.ge_u (local.get $r) (local.get $reps)))
      (local.set $j (i32.const 0))
      (block $dj (loop $lj
        (br_if $dj (i32.ge_u (local.get $j) (local.get $n)))
        (i64.store (i32.add (local.get $n) (local.get $j)) (i64.load (local.get $j)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $lj)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr)))
    (call $checksum (local.get $n))))
