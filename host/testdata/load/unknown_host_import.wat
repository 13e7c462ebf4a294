;; imports a host function the ABI does not have
(module
  (import "http_handler" "nope" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64) (i64.const 0)))
