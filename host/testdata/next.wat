;; next: a pure pass-through middleware (next=1, no context).
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 1))
  (func (export "handle_response") (param i32 i32)))
