;; config: echoes the guest config as the response body. It first asks with
;; buf_limit 0 for the length, then checks that a buf_limit one short writes
;; nothing (buffer rule), then reads it for real.
(module
  (import "http_handler" "get_config" (func $get_config (param i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "handle_request") (result i64)
    (local $n i32)
    (local.set $n (call $get_config (i32.const 0x1000) (i32.const 0)))
    (if (i32.gt_u (local.get $n) (i32.const 0x10000)) (then unreachable))
    (if (i32.gt_u (local.get $n) (i32.const 0))
      (then
        (if (i32.ne (call $get_config (i32.const 0x1000) (i32.sub (local.get $n) (i32.const 1))) (local.get $n))
          (then unreachable))
        (if (i32.ne (i32.load8_u (i32.const 0x1000)) (i32.const 0)) (then unreachable))))
    (if (i32.ne (call $get_config (i32.const 0x1000) (local.get $n)) (local.get $n)) (then unreachable))
    (call $write_body (i32.const 1) (i32.const 0x1000) (local.get $n))
    (i64.const 0)))
