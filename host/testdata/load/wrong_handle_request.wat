;; handle_request returns i32 instead of i64
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i32) (i32.const 0)))
