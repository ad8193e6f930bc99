#!/usr/bin/env python3
"""Generate the compile-only workload: a module with thousands of functions (wazero benches).

    python benches/gen_compile_module.py --funcs 3000 --seed 1 -o big.wat

Every function is ``(param i32 i32) (result i32)`` with six i32 locals and a random straight
sequence of statements drawn from MVP-only templates (integer arithmetic, shifts/rotates,
i64 widening multiply, guarded division, select, if/else, a short counted loop, a store +
load pair, and calls to the first LEAVES functions, which call nothing). No bulk memory, no
SIMD, no reference types, no imports. The exported ``check()`` calls every function once and
folds the results; the generator evaluates the same program in Python, so the harness can
verify that the compiled code actually computes the right value (printed, and written to
``<out>.expected`` as a decimal unsigned 32-bit integer).

The generator is deterministic for a given (funcs, seed, min/max statements).
"""

import argparse
import random
import sys

M32 = 0xFFFFFFFF
LEAVES = 64
NLOCALS = 6  # locals 0,1 are the params; 2..5 declared; local 5 is also the loop counter


def rotl(x, k):
    k &= 31
    return ((x << k) | (x >> (32 - k))) & M32 if k else x


def s32(x):
    return x - (1 << 32) if x & 0x80000000 else x


def _loop(L, d, a, n):
    for _ in range(n):  # a may equal d: evaluate step by step, like the Wasm loop
        L[d] = (L[d] + L[a]) & M32
    L[5] = 0


def gen_stmt(rng, fidx):
    """Returns (wat_text, eval_fn(locals, call)) for one statement."""
    d = rng.randrange(2, 5)  # destination local (never the loop counter 5, never the params)
    a, b = rng.randrange(0, 5), rng.randrange(0, 5)
    k = rng.randrange(0, 1 << 16)
    g = f"(local.get {a})"
    h = f"(local.get {b})"
    kind = rng.randrange(12 if fidx >= LEAVES else 11)
    if kind == 0:
        op = rng.choice(["add", "sub", "mul", "xor", "and", "or"])
        fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
              "xor": lambda x, y: x ^ y, "and": lambda x, y: x & y, "or": lambda x, y: x | y}[op]
        return (f"(local.set {d} (i32.{op} {g} {h}))",
                lambda L, C: L.__setitem__(d, fn(L[a], L[b]) & M32))
    if kind == 1:
        op = rng.choice(["add", "mul", "xor"])
        fn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "xor": lambda x, y: x ^ y}[op]
        return (f"(local.set {d} (i32.{op} {g} (i32.const {k})))",
                lambda L, C: L.__setitem__(d, fn(L[a], k) & M32))
    if kind == 2:
        s = rng.randrange(1, 32)
        op = rng.choice(["shl", "shr_u", "shr_s", "rotl"])
        fn = {"shl": lambda x: (x << s) & M32, "shr_u": lambda x: x >> s,
              "shr_s": lambda x: (s32(x) >> s) & M32, "rotl": lambda x: rotl(x, s)}[op]
        return (f"(local.set {d} (i32.{op} {g} (i32.const {s})))",
                lambda L, C: L.__setitem__(d, fn(L[a])))
    if kind == 3:  # i64 widening multiply, keep the high half
        return (f"(local.set {d} (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u {g}) "
                f"(i64.extend_i32_u {h})) (i64.const 32))))",
                lambda L, C: L.__setitem__(d, ((L[a] * L[b]) >> 32) & M32))
    if kind == 4:  # guarded unsigned division / remainder
        op = rng.choice(["div_u", "rem_u"])
        fn = (lambda x, y: x // y) if op == "div_u" else (lambda x, y: x % y)
        return (f"(local.set {d} (i32.{op} {g} (i32.or {h} (i32.const 1))))",
                lambda L, C: L.__setitem__(d, fn(L[a], L[b] | 1)))
    if kind == 5:  # select on a signed compare
        c = rng.randrange(0, 5)
        return (f"(local.set {d} (select {g} {h} (i32.gt_s (local.get {c}) (i32.const {k}))))",
                lambda L, C: L.__setitem__(d, L[a] if s32(L[c]) > k else L[b]))
    if kind == 6:  # if/else on an unsigned compare
        k2 = rng.randrange(0, 1 << 16)
        return (f"(if (i32.lt_u {g} {h}) (then (local.set {d} (i32.add (local.get {d}) "
                f"(i32.const {k})))) (else (local.set {d} (i32.xor (local.get {d}) (i32.const {k2})))))",
                lambda L, C: L.__setitem__(d, ((L[d] + k) & M32) if L[a] < L[b] else (L[d] ^ k2)))
    if kind == 7:  # short counted loop: d += a, n times
        n = rng.randrange(1, 5)
        return (f"(local.set 5 (i32.const {n})) (loop (local.set {d} (i32.add (local.get {d}) {g})) "
                f"(local.set 5 (i32.sub (local.get 5) (i32.const 1))) (br_if 0 (local.get 5)))",
                lambda L, C: _loop(L, d, a, n))
    if kind == 8:  # store then load back the same (aligned, in-bounds) address
        return (f"(i32.store (i32.and {g} (i32.const 0xFFFC)) {h}) "
                f"(local.set {d} (i32.load (i32.and {g} (i32.const 0xFFFC))))",
                lambda L, C: L.__setitem__(d, L[b]))
    if kind == 9:  # eqz/clz-free compare chain producing a 0/1
        return (f"(local.set {d} (i32.add (local.get {d}) (i32.eq {g} {h})))",
                lambda L, C: L.__setitem__(d, (L[d] + (1 if L[a] == L[b] else 0)) & M32))
    if kind == 10:  # nested block with br_if
        return (f"(block (br_if 0 (i32.and {g} (i32.const 1))) (local.set {d} (i32.sub {h} (i32.const {k}))))",
                lambda L, C: None if L[a] & 1 else L.__setitem__(d, (L[b] - k) & M32))
    # kind 11: call a leaf function
    t = rng.randrange(0, LEAVES)
    return (f"(local.set {d} (call $f{t} {g} {h}))",
            lambda L, C: L.__setitem__(d, C(t, L[a], L[b])))


def generate(funcs, seed, min_stmts, max_stmts):
    rng = random.Random(seed)
    bodies, evals = [], []
    for i in range(funcs):
        stmts = [gen_stmt(rng, i) for _ in range(rng.randrange(min_stmts, max_stmts + 1))]
        bodies.append(stmts)
        evals.append([s[1] for s in stmts])

    memo = {}

    def call(i, x, y):
        key = (i, x, y)
        if key in memo:
            return memo[key]
        L = [x, y, 0, 0, 0, 0]
        for ev in evals[i]:
            ev(L, call)
        r = L[2] ^ L[3] ^ L[4]
        memo[key] = r
        return r

    acc = 0
    for i in range(funcs):
        acc = (acc * 31 + call(i, (i * 2654435761) & M32, (i + 12345) & M32)) & M32

    out = ["(module", "  (memory 1 1)"]
    for i, stmts in enumerate(bodies):
        out.append(f"  (func $f{i} (param i32 i32) (result i32) (local i32 i32 i32 i32)")
        for text, _ in stmts:
            out.append("    " + text)
        out.append("    (i32.xor (i32.xor (local.get 2) (local.get 3)) (local.get 4)))")
    out.append('  (func (export "check") (result i32) (local $acc i32)')
    for i in range(funcs):
        out.append(f"    (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) "
                   f"(call $f{i} (i32.const {s32((i * 2654435761) & M32)}) (i32.const {(i + 12345) & M32}))))")
    out.append("    (local.get $acc)))")
    return "\n".join(out) + "\n", acc


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--funcs", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-stmts", type=int, default=30)
    p.add_argument("--max-stmts", type=int, default=90)
    p.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    wat, expected = generate(a.funcs, a.seed, a.min_stmts, a.max_stmts)
    with open(a.out, "w") as f:
        f.write(wat)
    with open(a.out + ".expected", "w") as f:
        f.write(f"{expected}\n")
    print(expected)


if __name__ == "__main__":
    sys.exit(main())
