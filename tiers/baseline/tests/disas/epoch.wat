;; options: epoch hotness=1000
;; Code that checks the epoch: at the entry (after the parameters are stored, before the
;; hotness spending) and at each loop header (after its hotness spending), five
;; instructions each; the stubs after the body call the `epoch` libcall and raise a
;; failed status.
(module
  (func $sum (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc)))
