;; Blocks, loops, if/else, br_if on a fused comparison, br_table, return, select.
(module
  (func (param i32) (result i32)
    (block $out (result i32)
      (i32.const 1)
      (br_if $out (i32.lt_s (local.get 0) (i32.const 0)))
      (drop)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 10))
        (else (i32.const 20)))))
  (func (param i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get 0)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $acc))
  (func (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 1)))
      (return (i32.const 2)))
    (i32.const 3))
  (func (param i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (i32.gt_u (local.get 0) (local.get 1)))))
