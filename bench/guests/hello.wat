;; Answers every request itself: 200, content-type text/plain, "hello from wat\n".
(module
  (import "http_handler" "set_header_value"
    (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from wat\n")
  (data (i32.const 32) "content-type")
  (data (i32.const 48) "text/plain")
  (func (export "handle_request") (result i64)
    ;; kind 1 = response headers / response body
    (call $set_header_value (i32.const 1) (i32.const 32) (i32.const 12) (i32.const 48) (i32.const 10))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 15))
    (i64.const 0)) ;; next = 0: the guest answered
  (func (export "handle_response") (param i32 i32)))
