;; tiny_module.wat - a hand-written guest for modules.c and config.c; its
;; bytes are in tiny_module.h (regenerate: see that file).
;; hello(to, n): sends "hello from module" + n (4 bytes LE) to `to`, tag 55.
;; boom(): traps.
(module
  (import "lunatic::message" "create_data" (func $create (param i64 i64)))
  (import "lunatic::message" "write_data" (func $write (param i32 i32) (result i32)))
  (import "lunatic::message" "send" (func $send (param i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from module")
  (func (export "hello") (param $to i64) (param $n i32)
    (call $create (i64.const 55) (i64.const 0))
    (drop (call $write (i32.const 16) (i32.const 17)))
    (i32.store (i32.const 0) (local.get $n))
    (drop (call $write (i32.const 0) (i32.const 4)))
    (drop (call $send (local.get $to))))
  (func (export "boom") unreachable))
