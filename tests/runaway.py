"""WebAssembly text shared by the thread, interrupt, limit and CLI tests."""

import os

#: `spin` loops forever; `fib` is exponential recursion without any loop (only function
#: entries can stop it); `count(n)` is a CPU-bound loop of n iterations; `answer` returns 42;
#: `call_host` calls the imported `env.host`, then a function returning 7; `deep` recurses
#: without end.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "runaway.wat")) as _f:
    RUNAWAY_WAT = _f.read()

#: The same without imports (for the CLI, which links none).
SPIN_WAT = r"""
(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "answer") (result i32) (i32.const 42)))
"""
