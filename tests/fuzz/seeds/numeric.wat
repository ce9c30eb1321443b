;; traps and conversions on zero arguments
(module
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (f64.div (local.get 0) (local.get 0))))
  (func (export "sat") (param f32) (result i64) (i64.trunc_sat_f32_u (f32.sqrt (f32.neg (local.get 0)))))
  (func (export "sel") (param i32) (result i64)
    (select (i64.const 1) (i64.extend_i32_s (i32.extend8_s (local.get 0))) (local.get 0)))
  (func (export "br_table") (param i32) (result i32)
    (block $a (result i32) (block $b (result i32)
      (br_table $a $b $a (i32.const 5) (local.get 0))))))
