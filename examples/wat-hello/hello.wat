;; hello, written by hand in the WebAssembly text format: the whole plugin is
;; a few hundred bytes, instantiates in microseconds, and shows the raw ABI.
(module
  (import "http_handler" "set_header_value"
    (func $set_header_value (param $kind i32) (param $name i32) (param $name_len i32)
                            (param $value i32) (param $value_len i32)))
  (import "http_handler" "write_body"
    (func $write_body (param $kind i32) (param $body i32) (param $body_len i32)))

  (memory (export "memory") 1)

  (data (i32.const 0) "content-type")                 ;; 12 bytes at 0
  (data (i32.const 16) "text/plain; charset=utf-8")   ;; 25 bytes at 16
  (data (i32.const 48) "hello from wat\n")            ;; 15 bytes at 48

  ;; handle_request() -> i64: ctx<<32 | next. Returning 0 means "answered".
  (func (export "handle_request") (result i64)
    (call $set_header_value (i32.const 1) ;; kind 1: response headers
      (i32.const 0) (i32.const 12) (i32.const 16) (i32.const 25))
    (call $write_body (i32.const 1) (i32.const 48) (i32.const 15)) ;; kind 1: response body
    (i64.const 0))

  ;; handle_response(req_ctx, is_error): never called, next is never used.
  (func (export "handle_response") (param i32 i32)))
