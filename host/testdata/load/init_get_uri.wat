;; _initialize calls get_uri, which needs a request
(module
  (import "http_handler" "get_uri" (func $get_uri (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_initialize") (drop (call $get_uri (i32.const 0) (i32.const 64))))
  (func (export "handle_request") (result i64) (i64.const 0)))
