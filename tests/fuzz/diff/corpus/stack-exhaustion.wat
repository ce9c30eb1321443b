;; Unbounded recursion: both engines stop it, we with "call stack
;; exhausted", V8 with a RangeError; run_ours.c and run_node.mjs both
;; print "trap stack" (compare.sh: how deep each got is the engine's own
;; limit). The instance stays usable after it.
(module
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (global $depth (mut i32) (i32.const 0))
  (func $deep (export "deep") (param i64 f64) (result i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (call $deep (local.get 0) (local.get 1)))
  (func (export "after") (result i32)
    (call $log (i32.gt_u (global.get $depth) (i32.const 1000)))
    (i32.const 42)))
