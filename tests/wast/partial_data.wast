;; A failed instantiation that already wrote into an imported table keeps
;; its instance alive: the data segments before the failing one must be
;; written, also when data is deferred (WAST_DEFER=1).
(module $T
  (type $t (func (result i32)))
  (table (export "t") 1 funcref)
  (func (export "call0") (result i32) (call_indirect (type $t) (i32.const 0))))
(register "T" $T)
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.load8_u (i32.const 0)))
    (data (i32.const 0) "h")
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 104))
