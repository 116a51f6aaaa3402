;; Loads and stores of every width under the guard region (no checks), constants stored as
;; immediates (but a 64-bit one beyond 32 bits), memory.size, memory.grow and memory.fill.
(module
  (memory 1)
  (func (param i32) (result i64)
    (i32.store8 offset=3 (local.get 0) (i32.load16_s (local.get 0)))
    (f64.store (local.get 0) (f64.load offset=8 (local.get 0)))
    (i64.load32_u offset=16 (local.get 0)))
  (func (result i32)
    (drop (memory.grow (i32.const 1)))
    (memory.fill (i32.const 0) (i32.const 7) (i32.const 16))
    (memory.size))
  (func (param i32)
    (i32.store8 (local.get 0) (i32.const 0x1ff))
    (i32.store16 (local.get 0) (i32.const -2))
    (i32.store (local.get 0) (i32.const 3))
    (i64.store (local.get 0) (i64.const -4))
    (i64.store (local.get 0) (i64.const 0x100000000))))
