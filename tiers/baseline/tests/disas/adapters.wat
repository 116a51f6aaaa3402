;; adapters
;; The register entries of interpreted and host functions: the stack check, the
;; parameters from their registers (and the stack) into cells, the call of the callee's
;; array entry, a failed status raised, the results back into registers or the results
;; area.
(module
  (func (param i32 i64) (result i32) (i32.const 0))
  (func (param f32 f64) (result f64) (f64.const 0))
  (func (param i64 i64 i64 i64 i64 i64 i64) (result i64 f64) (i64.const 0) (f64.const 0))
  (func))
