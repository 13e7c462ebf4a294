;; initlog: writes "guest initialized" to stderr in _initialize, once per
;; instance, so a test can count instantiations from the log; answers "ok".
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (data (i32.const 16) "guest initialized\n")
  ;; iovec at 64: {ptr 16, len 18}
  (data (i32.const 64) "\10\00\00\00\12\00\00\00")
  (func (export "_initialize")
    (drop (call $fd_write (i32.const 2) (i32.const 64) (i32.const 1) (i32.const 80))))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0) (i32.const 2))
    (i64.const 0))
  (func (export "handle_response") (param i32 i32)))
