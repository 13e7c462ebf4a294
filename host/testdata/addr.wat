;; addr: echoes get_source_addr as the response body.
(module
  (import "http_handler" "get_source_addr" (func $get_source_addr (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "handle_request") (result i64)
    (local $n i32)
    (local.set $n (call $get_source_addr (i32.const 0) (i32.const 256)))
    (if (i32.gt_u (local.get $n) (i32.const 256)) (then unreachable))
    (call $write_body (i32.const 1) (i32.const 0) (local.get $n))
    (i64.const 0)))
