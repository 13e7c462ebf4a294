;; next: passes every request to next (ctx=7, next=1).
(module
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0x700000001))
  (func (export "handle_response") (param i32 i32)))
