;; hammer: detects an instance used by two requests at once. mem[0] is a busy
;; flag set on entry to handle_request (trap if already set) and cleared when
;; the request ends: at the end of handle_request (x-mode != 'n', answers
;; "d") or at the end of handle_response (x-mode 'n', next=1, ctx = this
;; instance's request counter, checked in handle_response).
(module
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x110) "d")
  (data (i32.const 0x100) "x-mode")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (if (i32.load (i32.const 0)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 1))
    (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))
    (if (i32.eq (call $mode) (i32.const 0x6e)) ;; 'n'
      (then (return (i64.or
        (i64.shl (i64.extend_i32_u (i32.load (i32.const 4))) (i64.const 32))
        (i64.const 1)))))
    (call $write_body (i32.const 1) (i32.const 0x110) (i32.const 1))
    (if (i32.ne (i32.load (i32.const 0)) (i32.const 1)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 0))
    (i64.const 0))
  (func (export "handle_response") (param $ctx i32) (param $is_error i32)
    (if (i32.ne (i32.load (i32.const 0)) (i32.const 1)) (then unreachable))
    (if (i32.ne (i32.load (i32.const 4)) (local.get $ctx)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 0))))
