;; A module for the driver to compile and spawn: exports that return,
;; trap, block in a host call, take parameters, and spin for a while.
(module
  (import "lunatic::process" "sleep_ms" (func $sleep (param i64)))
  (memory (export "memory") 1)
  (func (export "run"))
  (func (export "trap") unreachable)
  (func (export "sleep") (call $sleep (i64.const 3)))
  (func (export "args") (param i32 i64))
  (func (export "spin") (local i32)
    (loop (br_if 0 (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1)))
                             (i32.const 3000000))))))
