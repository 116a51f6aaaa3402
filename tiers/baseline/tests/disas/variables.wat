;; Locals (tee, many locals zeroed by a loop), globals, drop and the operand stack under
;; register pressure.
(module
  (global $g (mut i64) (i64.const 0))
  (func (param i32) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (global.set $g (i64.extend_i32_s (local.tee 0 (i32.add (local.get 0) (i32.const 1)))))
    (i64.add (global.get $g) (local.get 3)))
  (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.add (local.get 1) (i32.add (local.get 2) (i32.add (local.get 3)
    (i32.add (local.get 4) (i32.add (local.get 5) (i32.add (local.get 6) (i32.add (local.get 7)
    (i32.add (local.get 8) (i32.add (local.get 9) (local.get 10)))))))))))))
