;; Integer arithmetic with immediates, shifts, division (with its traps), bit counts,
;; conversions and float arithmetic, rounding and comparison.
(module
  (func (param i32 i32) (result i32)
    (i32.add (i32.mul (local.get 0) (i32.const 3))
      (i32.rotl (i32.shl (local.get 1) (i32.const 2)) (local.get 0))))
  (func (param i64 i64) (result i64)
    (i64.add (i64.div_s (local.get 0) (local.get 1)) (i64.rem_u (local.get 0) (local.get 1))))
  (func (param i32) (result i32)
    (i32.add (i32.popcnt (local.get 0)) (i32.add (i32.clz (local.get 0)) (i32.ctz (local.get 0)))))
  (func (param f64 f32) (result i32)
    (f64.lt (f64.add (f64.sqrt (local.get 0)) (f64.promote_f32 (f32.floor (local.get 1))))
      (f64.const 2.5)))
  (func (param f64) (result i32)
    (i32.trunc_f64_s (local.get 0)))
  (func (param i64) (result f32)
    (f32.convert_i64_u (local.get 0))))
