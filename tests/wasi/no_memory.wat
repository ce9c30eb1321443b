;; fd_write without a memory: FAULT (21), never a crash; exits with it.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "_start")
    (call $exit (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0)))))
