;; wasmi 2.0.0 (eager compilation) traps "integer divide by zero" on `(invoke "" (i32.const 0))`;
;; wasmtime 50 (Python) and wazero return normally. Expected: no trap (local 2 = select(1, 0, 1) = 1,
;; so the i32.rem_s computes -129 rem 1). Found by the differential target (minimised + reduced).
(module
  (type (;0;) (func (param i32)))
  (global (;0;) (mut i32) i32.const 1000)
  (export "" (func 0))
  (func (;0;) (type 0) (param i32)
    (local f64 i32 i32)
    global.get 0
    if
    end
    global.get 0
    i32.const 1
    i32.sub
    global.set 0
    i32.const -129
    i32.const 0
    local.set 2
    i32.const 1
    local.get 2
    local.get 2
    i32.eqz
    select
    local.set 2
    local.set 3
    block
      block
      end
    end
    local.get 3
    local.get 2
    i32.rem_s
    drop
  )
)
