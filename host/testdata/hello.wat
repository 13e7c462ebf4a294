;; hello: answers "hello" itself (next=0). The minimal guest used by tests
;; and benchmarks.
(module
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 5))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
