;; Echoes the plugin configuration (get_config) as the response body.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $len i32)
    ;; buffer of 60000 bytes at offset 1024; longer configs are not written
    (local.set $len (call $get_config (i32.const 1024) (i32.const 60000)))
    (if (i32.gt_u (local.get $len) (i32.const 60000)) (then unreachable))
    (call $write_body (i32.const 1) (i32.const 1024) (local.get $len))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
