;; status503: loads fine but answers every request 503.
(module
  (import "http_handler" "set_status_code" (func $set_status_code (param i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (call $set_status_code (i32.const 503))
    (i64.const 0)))
