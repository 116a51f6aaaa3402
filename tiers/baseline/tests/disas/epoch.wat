;; options: epoch hotness=1000
;; Code that checks the epoch: the runtime stops it by a signal from the end of the
;; prologue on, so neither the entry nor a loop header tests the interrupt word; only a
;; libcall's return does (`memory.grow` in `$grow`), whose stub calls `epoch_preserving`
;; (the libcall's result stays in its register) and goes on.
(module
  (memory 1)
  (func $sum (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))
  (func $grow (param $n i32) (result i32)
    (loop $l
      (drop (memory.grow (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (memory.grow (i32.const 0))))
