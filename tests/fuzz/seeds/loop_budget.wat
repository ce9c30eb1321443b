;; long-running loops and recursion: stopped by fuel, resumed on yield
(module
  (memory 1)
  (func $spin (export "spin") (local i32)
    (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br $l)))
  (func $rec (export "rec") (param i32) (result i32)
    (call $rec (i32.add (local.get 0) (i32.const 1))))
  (func (export "fill") (local i32)
    (loop $l
      (memory.fill (i32.const 0) (local.get 0) (i32.const 65536))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const 100)))))
  (func (export "count") (result i32) (local i32)
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get 0) (i32.const 500)))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br $l)))
    (local.get 0)))
