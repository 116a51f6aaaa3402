;; options: count_calls hotness=1000
;; Code that counts its calls: one increment of the slot's counter in the prologue, before
;; the entry's hotness spending; a loop header spends hotness but counts no call.
(module
  (func $leaf (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func $loop (param i32)
    (loop $l
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))
