;; Answers "version v1\n"; bench/run.sh rewrites v1 to v2 to build a second
;; version for the hot-swap measurement.
(module
  (import "http_handler" "set_header_value"
    (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "version v1\n")
  (data (i32.const 32) "content-type")
  (data (i32.const 48) "text/plain")
  (func (export "handle_request") (result i64)
    (call $set_header_value (i32.const 1) (i32.const 32) (i32.const 12) (i32.const 48) (i32.const 10))
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 11))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
