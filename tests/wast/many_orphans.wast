;; More failed instantiations that wrote into an imported table than the
;; 64 the engine once kept: each one's function must stay callable (the
;; 65th used to be freed while the table still pointed at it).
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
    (func $f (result i32) (i32.const 1))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 1))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 2))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 2))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 3))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 3))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 4))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 4))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 5))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 5))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 6))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 6))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 7))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 7))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 8))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 8))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 9))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 9))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 10))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 10))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 11))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 11))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 12))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 12))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 13))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 13))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 14))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 14))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 15))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 15))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 16))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 16))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 17))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 17))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 18))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 18))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 19))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 19))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 20))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 20))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 21))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 21))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 22))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 22))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 23))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 23))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 24))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 24))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 25))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 25))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 26))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 26))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 27))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 27))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 28))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 28))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 29))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 29))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 30))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 30))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 31))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 31))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 32))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 32))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 33))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 33))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 34))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 34))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 35))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 35))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 36))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 36))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 37))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 37))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 38))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 38))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 39))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 39))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 40))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 40))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 41))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 41))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 42))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 42))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 43))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 43))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 44))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 44))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 45))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 45))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 46))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 46))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 47))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 47))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 48))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 48))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 49))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 49))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 50))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 50))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 51))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 51))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 52))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 52))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 53))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 53))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 54))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 54))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 55))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 55))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 56))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 56))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 57))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 57))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 58))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 58))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 59))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 59))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 60))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 60))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 61))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 61))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 62))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 62))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 63))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 63))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 64))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 64))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 65))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 65))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 66))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 66))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 67))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 67))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 68))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 68))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 69))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 69))
(assert_trap
  (module
    (type $t (func (result i32)))
    (import "T" "t" (table 1 funcref))
    (memory 1)
    (elem (i32.const 0) $f)
    (func $f (result i32) (i32.const 70))
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $T "call0") (i32.const 70))
