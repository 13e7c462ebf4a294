;; echo_stream: copies the request body to the response in 32 KiB chunks,
;; writing each chunk as soon as it is read (a streaming echo).
(module
  (import "http_handler" "read_body" (func $read_body (param i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "handle_request") (result i64)
    (local $r i64)
    (loop $more
      (local.set $r (call $read_body (i32.const 0) (i32.const 0x1000) (i32.const 0x8000)))
      (call $write_body (i32.const 1) (i32.const 0x1000) (i32.wrap_i64 (local.get $r)))
      (br_if $more (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
