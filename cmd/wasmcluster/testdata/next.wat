;; Middleware: tags the request with x-wasm: seen and calls next (returns 1).
(module
  (import "http_handler" "set_header_value"
    (func $set_header_value (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-wasm")
  (data (i32.const 16) "seen")
  (func (export "handle_request") (result i64)
    ;; kind 0 = request headers
    (call $set_header_value (i32.const 0) (i32.const 0) (i32.const 6) (i32.const 16) (i32.const 4))
    (i64.const 1)) ;; ctx 0, next 1
  (func (export "handle_response") (param i32 i32)))
