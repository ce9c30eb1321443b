(module
  (import "wasi_snapshot_preview1" "fd_foo" (func (param i32) (result i32)))
  (func (export "_start")))
