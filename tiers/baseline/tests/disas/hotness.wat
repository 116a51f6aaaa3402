;; options: hotness=1000
;; Code that counts its hotness: the entry's and each loop header's spending, the outermost
;; loop's OSR request check, and the out-of-line reports (the inner loop's names the outer
;; loop; a report from a loop moves the activation into an OSR entry when it gets one).
(module
  (func (param i32) (result i64) (local $i i32) (local $acc i64)
    (loop $outer
      (loop $inner
        (local.set $acc (i64.add (local.get $acc) (i64.const 1)))
        (br_if $inner (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
      (br_if $outer (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $acc)))
