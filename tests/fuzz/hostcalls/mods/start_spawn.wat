;; A start function that spawns: ABI.md 2.3 forbids it (the spawn traps,
;; so spawning this module fails).
(module
  (import "lunatic::process" "spawn"
    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "run")
  (func $s (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1)
                        (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 16))))
  (start $s)
  (func (export "run")))
