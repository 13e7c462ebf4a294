;; ctx: answers without next but with a non-zero ctx. x-mode 'b' returns
;; 16<<32|16, whose low 32 bits are not 1: next must not run. Otherwise writes
;; "ok" and returns 7<<32|0. handle_response must never run: it traps.
(module
  (import "http_handler" "get_header_values" (func $get_header_values (param i32 i32 i32 i32 i32) (result i64)))
  (import "http_handler" "write_body" (func $write_body (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x100) "x-mode")
  (data (i32.const 0x110) "ok")
  (func $mode (result i32)
    (local $r i64)
    (local.set $r (call $get_header_values (i32.const 0) (i32.const 0x100) (i32.const 6) (i32.const 0x800) (i32.const 64)))
    (if (result i32) (i64.eqz (i64.shr_u (local.get $r) (i64.const 32)))
      (then (i32.const 0))
      (else (i32.load8_u (i32.const 0x800)))))
  (func (export "handle_request") (result i64)
    (call $write_body (i32.const 1) (i32.const 0x110) (i32.const 2))
    (if (i32.eq (call $mode) (i32.const 0x62)) ;; 'b'
      (then (return (i64.const 0x1000000010))))
    (i64.const 0x700000000))
  (func (export "handle_response") (param i32 i32) unreachable))
