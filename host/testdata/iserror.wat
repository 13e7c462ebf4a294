;; iserror: next=1 (x-mode 'b': with buffer_response). handle_response logs
;; "is_error=1" or "is_error=0" at info level, and when buffered also sets
;; response header x-is-error to the same digit.
(module
  (import "http_handler" "enable_features" (func $enable_features (param i32) (result i32)))
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "set_header_value" (func $set_header_value (param i32 i32 i32 i32 i32)))
  (import "http_handler" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $buffered (mut i32) (i32.const 0))
  (data (i32.const 0x110) "is_error=0") ;; 10; digit at 0x119
  (data (i32.const 0x120) "x-is-error") ;; 10
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (global.set $buffered (i32.eq (call $mode) (i32.const 0x62)))
    (if (global.get $buffered) (then (drop (call $enable_features (i32.const 2)))))
    (i64.const 1))
  (func (export "handle_response") (param $ctx i32) (param $is_error i32)
    (i32.store8 (i32.const 0x119) (i32.add (i32.const 48) (local.get $is_error)))
    (call $log (i32.const 0) (i32.const 0x110) (i32.const 10))
    (if (global.get $buffered)
      (then (call $set_header_value (i32.const 1) (i32.const 0x120) (i32.const 10) (i32.const 0x119) (i32.const 1))))))
