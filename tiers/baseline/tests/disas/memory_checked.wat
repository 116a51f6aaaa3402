;; options: bounds_checks
;; The same accesses without a guard region: each is checked against the memory's bound.
(module
  (memory 1)
  (func (param i32) (result i64)
    (i32.store8 offset=3 (local.get 0) (i32.load16_s (local.get 0)))
    (i64.load32_u offset=16 (local.get 0))))
