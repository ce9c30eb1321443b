(module
  (func $crash (export "crash") (result i32)
    (i32.div_u (i32.const 1) (i32.const 0)))
  (func (export "_start") (drop (call $crash))))
