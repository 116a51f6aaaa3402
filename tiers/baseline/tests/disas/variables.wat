;; Locals (tee, many locals zeroed by a loop, copies of locals in registers), globals, drop
;; and the operand stack under register pressure.
(module
  (global $g (mut i64) (i64.const 0))
  (func (param i32) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (global.set $g (i64.extend_i32_s (local.tee 0 (i32.add (local.get 0) (i32.const 1)))))
    (i64.add (global.get $g) (local.get 3)))
  (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.add (local.get 1) (i32.add (local.get 2) (i32.add (local.get 3)
    (i32.add (local.get 4) (i32.add (local.get 5) (i32.add (local.get 6) (i32.add (local.get 7)
    (i32.add (local.get 8) (i32.add (local.get 9) (local.get 10))))))))))))
  ;; Copies: the set value's register serves the reads after it (an address, a compare, a
  ;; store's value, the right operand of an add); setting the local again while the old
  ;; value is on the stack hands the old copy to that entry; the loop header forgets
  ;; every copy.
  (memory 1)
  (func (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (local.get 0) (i32.const 8)))
    (i32.store (local.get 1) (i32.load (local.get 1)))
    (local.get 1)
    (local.set 1 (i32.const 3))
    (drop (i32.lt_u (local.get 1) (local.get 0)))
    (loop $l
      (br_if $l (i32.eqz (local.get 1))))
    (i32.add (local.get 1))))
